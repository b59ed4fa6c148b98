"""`serve --log-format json --log-level`: application logs as JSON lines; <trace> at its severity."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from engine.gateway.logs import JsonFormatter
from tests.gateway.conftest import document
from tests.support.gateway import http_request, write_config
from tests.support.serving import serve_process

ROOT = Path(__file__).resolve().parents[2]
TRACES = document(inbound="""<base />
  <trace source="audit" severity="information"><message>@("seen " + context.Request.Url.Path)</message></trace>
  <trace source="noise" severity="verbose"><message>only at debug</message></trace>
  <trace source="alarm" severity="error"><message>bad</message><metadata name="k" value="v" /></trace>""")


def test_trace_entries_reach_the_json_log_at_their_severity(tmp_path: Path, backend) -> None:
    config = write_config(tmp_path, {"apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False, "policy": "a.xml"}}},
                          {"a.xml": TRACES}, backend)
    with serve_process(config, "--log-format", "json", "--log-level", "info") as served:
        assert http_request(served.url, "GET", "/a/x").status == 200
    stderr = served.stderr
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    traces = {r["source"]: r for r in records if r["logger"] == "policygate.trace"}
    assert set(traces) == {"audit", "alarm"}  # verbose is DEBUG: below --log-level info
    assert traces["audit"]["level"] == "info" and "seen /x" in traces["audit"]["message"]
    assert traces["alarm"]["level"] == "error" and "[k=v]" in traces["alarm"]["message"]
    assert traces["audit"]["request_id"] == traces["alarm"]["request_id"] != ""
    assert (traces["audit"]["api"], traces["audit"]["severity"]) == ("a", "information")
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)


def test_json_records_carry_tracebacks_as_a_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed here" and "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")
