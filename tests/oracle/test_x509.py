"""context.Request.Certificate against Mono's X509Certificate2 (tests/oracle/x509.jsonl, made by
scripts/oracle/x509.py): the same certificates, each member through the expression engine."""

from __future__ import annotations

import base64
import json
import ssl
from pathlib import Path
from typing import Any

import pytest

from engine.context import Context, Request
from engine.expr import compile_expression

TABLE = Path(__file__).with_name("x509.jsonl")
ROWS = [json.loads(line) for line in TABLE.read_text().splitlines()]


def _expected(row: dict[str, Any], member: str) -> str:
    override = row.get("dotnet", {}).get(member)
    return str(override["value"]) if override else str(row["mono"][member])


@pytest.mark.parametrize("row", ROWS, ids=[r["case"] for r in ROWS])
def test_certificate_members_print_as_dotnet(row: dict[str, Any]) -> None:
    pem = ssl.DER_cert_to_PEM_cert(base64.b64decode(row["der"]))
    ctx = Context(request=Request(tls={"client_cert_chain": (pem,)}))
    found = {member: compile_expression(f"@(context.Request.Certificate.{member}.ToString())").evaluate(ctx)
             for member in row["mono"]}
    assert found == {member: _expected(row, member) for member in row["mono"]}


def test_the_table_covers_the_formats() -> None:
    assert len(ROWS) >= 7 and all(len(r["mono"]) >= 14 for r in ROWS)
    assert all(o["reason"] for r in ROWS for o in r.get("dotnet", {}).values())
