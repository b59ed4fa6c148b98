from __future__ import annotations

import logging

import pytest

from tests.policies.support import build, codes, context, run


def test_schema() -> None:
    assert codes('<trace source="s"><message>m</message></trace>') == []
    assert codes('<trace source="s" />') == ["policy-missing-child"]
    assert codes('<trace><message>m</message></trace>') == ["policy-missing-attribute"]
    assert codes('<trace source="s" severity="debug"><message>m</message></trace>') == ["policy-bad-value"]
    assert codes('<trace source="@(&quot;x&quot;)"><message>m</message></trace>') == ["policy-expression-not-allowed"]


async def test_records_message_with_metadata(caplog: pytest.LogCaptureFixture) -> None:
    ctx = context(headers={"X-User": "ann"})
    xml = """<trace source="audit" severity="information">
        <message>@("user " + context.Request.Headers.GetValueOrDefault("X-User", "?"))</message>
        <metadata name="api" value="orders" />
    </trace>"""
    with caplog.at_level(logging.INFO, logger="policygate.trace"):
        await run(build(xml), ctx)
    assert ctx.traces == [("audit", "information", "user ann [api=orders]")]
    assert "audit: user ann [api=orders]" in caplog.text


async def test_legacy_text_message_and_default_severity() -> None:
    ctx = context()
    await run(build('<trace source="OnError">\n  On Error\n</trace>', "on-error"), ctx)
    assert ctx.traces == [("OnError", "verbose", "On Error")]


def test_end_to_end(api_gateway, backend, caplog: pytest.LogCaptureFixture) -> None:
    policy = """<policies><inbound><base /><trace source="e2e" severity="error"><message>@(context.Request.Method)</message></trace></inbound>
      <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with caplog.at_level(logging.ERROR, logger="policygate.trace"), api_gateway(policy) as gw:
        assert gw.request("PATCH", "/echo/x").status == 200
    assert any(r.name == "policygate.trace" and "e2e: PATCH" in r.getMessage() for r in caplog.records)
