from __future__ import annotations

import pytest

from engine.errors import PolicyRuntimeError
from tests.policies.support import build, codes, context, run


class TestSchema:
    def test_text_required(self) -> None:
        assert codes("<set-method />") == ["policy-missing-text"]

    def test_sections(self) -> None:
        assert codes("<set-method>POST</set-method>", "on-error") == []
        assert "policy-not-allowed-in-section" in codes("<set-method>POST</set-method>", "outbound")


class TestRun:
    async def test_literal(self) -> None:
        ctx = context(method="GET")
        await run(build("<set-method>PUT</set-method>"), ctx)
        assert ctx.request.method == "PUT"

    async def test_expression(self) -> None:
        ctx = context(method="GET", headers={"X-Method": "DELETE"})
        await run(build('<set-method>@(context.Request.Headers.GetValueOrDefault("X-Method", "GET"))</set-method>'), ctx)
        assert ctx.request.method == "DELETE"

    async def test_invalid_method_from_expression_fails(self) -> None:
        ctx = context()
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build('<set-method>@("NOT A METHOD")</set-method>'), ctx)
        assert "not a valid HTTP method" in caught.value.message


def test_end_to_end(api_gateway, backend) -> None:
    policy = "<policies><inbound><base /><set-method>POST</set-method></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    with api_gateway(policy) as gw:
        echoed = gw.request("GET", "/echo/x").json()
    assert echoed["method"] == "POST"
