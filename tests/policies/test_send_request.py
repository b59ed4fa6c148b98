from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from engine.context import Response
from engine.errors import PolicyRuntimeError
from policies.authentication_basic import basic_authorization
from tests.policies.support import FakeServices, HttpClient, build, codes, context, lint, run
from tests.support.gateway import Backend


@pytest.fixture
async def services() -> AsyncIterator[FakeServices]:
    http = HttpClient()
    try:
        yield FakeServices(http)
    finally:
        await http.close()


def call(backend: Backend, extra: str = "", attrs: str = "") -> str:
    return f"""<send-request mode="new" response-variable-name="answer" timeout="10" {attrs}>
        <set-url>@("{backend.url}/lookup?id=" + context.Request.Headers.GetValueOrDefault("X-Id", "0"))</set-url>
        <set-method>POST</set-method>
        <set-header name="X-Trace" exists-action="override"><value>@(context.Request.Method)</value></set-header>
        <set-body>@("{{\\"from\\": \\"" + context.Request.Url.Path + "\\"}}")</set-body>
        <authentication-basic username="svc" password="pw" />
        {extra}
    </send-request>"""


class TestSchema:
    def test_url_required_unless_copy(self) -> None:
        assert codes('<send-request response-variable-name="r" />') == ["policy-missing-child"]
        assert codes('<send-request mode="copy" response-variable-name="r" />') == []

    def test_variable_required(self) -> None:
        assert codes("<send-request><set-url>http://x</set-url></send-request>") == ["policy-missing-attribute"]

    def test_children_validated_by_their_policies(self) -> None:
        xml = '<send-request response-variable-name="r"><set-url>http://x</set-url><set-header /></send-request>'
        assert "policy-missing-attribute" in codes(xml)

    def test_certificate_child_is_supported(self) -> None:
        xml = '<send-request response-variable-name="r"><set-url>http://x</set-url><authentication-certificate thumbprint="abc" /></send-request>'
        assert [d.code for d in lint(xml).sorted()] == []


class TestRun:
    async def test_new_request_built_from_children(self, backend: Backend, services: FakeServices) -> None:
        ctx = context(method="GET", url="http://b.test/orders/1", headers={"X-Id": "42"}, services=services)
        await run(build(call(backend)), ctx)
        answer = ctx.variables["answer"]
        assert isinstance(answer, Response) and answer.status_code == 200
        echoed = json.loads(answer.body.content)
        assert (echoed["method"], echoed["path"], echoed["query"]) == ("POST", "/lookup", "id=42")
        assert echoed["headers"]["x-trace"] == "GET"
        assert echoed["headers"]["authorization"] == basic_authorization("svc", "pw")
        assert json.loads(echoed["body"]) == {"from": "/orders/1"}
        assert ctx.request.method == "GET"  # the caller's request is untouched

    async def test_copy_mode(self, backend: Backend, services: FakeServices) -> None:
        ctx = context(method="PUT", url="http://b.test/x", headers={"X-Copied": "yes"}, body="payload", services=services)
        xml = f'<send-request mode="copy" response-variable-name="r"><set-url>{backend.url}/copy</set-url></send-request>'
        await run(build(xml), ctx)
        echoed = json.loads(ctx.variables["r"].body.content)
        assert (echoed["method"], echoed["path"], echoed["body"]) == ("PUT", "/copy", "payload")
        assert echoed["headers"]["x-copied"] == "yes"

    async def test_response_status_and_headers_kept(self, backend: Backend, services: FakeServices) -> None:
        ctx = context(services=services)
        xml = f"""<send-request response-variable-name="r"><set-url>{backend.url}/s</set-url>
            <set-header name="X-Test-Status" exists-action="override"><value>404</value></set-header>
            <set-header name="X-Test-Response-Header" exists-action="override"><value>X-From: backend</value></set-header>
        </send-request>"""
        await run(build(xml), ctx)
        assert ctx.variables["r"].status_code == 404
        assert ctx.variables["r"].headers.get("X-From") == "backend"

    async def test_timeout(self, backend: Backend, services: FakeServices) -> None:
        slow = '<set-header name="X-Test-Delay" exists-action="override"><value>2</value></set-header>'
        ctx = context(services=services)
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(call(backend, slow).replace('timeout="10"', 'timeout="1"')), ctx)
        assert caught.value.reason == "Timeout"
        assert "answer" not in ctx.variables

    async def test_ignore_error_stores_null(self, services: FakeServices) -> None:
        ctx = context(services=services)
        xml = f'<send-request response-variable-name="r" ignore-error="true"><set-url>{Backend.unused_url()}/x</set-url></send-request>'
        await run(build(xml), ctx)
        assert "r" in ctx.variables and ctx.variables["r"] is None

    async def test_connection_failure(self, services: FakeServices) -> None:
        ctx = context(services=services)
        xml = f'<send-request response-variable-name="r"><set-url>{Backend.unused_url()}/x</set-url></send-request>'
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(xml), ctx)
        assert caught.value.reason == "BackendConnectionFailure"

    async def test_relative_url_is_refused(self, services: FakeServices) -> None:
        ctx = context(services=services)
        with pytest.raises(PolicyRuntimeError, match="not an absolute"):
            await run(build('<send-request response-variable-name="r"><set-url>/relative</set-url></send-request>'), ctx)

    async def test_concurrent_calls(self, backend: Backend, services: FakeServices) -> None:
        steps = build(call(backend))
        contexts = [context(headers={"X-Id": str(i)}, services=services) for i in range(5)]
        await asyncio.gather(*(run(steps, ctx) for ctx in contexts))
        queries = sorted(json.loads(c.variables["answer"].body.content)["query"] for c in contexts)
        assert queries == [f"id={i}" for i in range(5)]


def test_end_to_end(api_gateway, backend) -> None:
    policy = """<policies><inbound><base />
        <send-request mode="new" response-variable-name="profile" timeout="5">
            <set-url>@("{{backend-url}}/profile/" + context.Request.Headers.GetValueOrDefault("X-User", "anon"))</set-url>
            <set-method>GET</set-method>
        </send-request>
        <return-response response-variable-name="profile">
            <set-header name="X-Profile-Status" exists-action="override"><value>@(((IResponse)context.Variables["profile"]).StatusCode.ToString())</value></set-header>
        </return-response>
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        answer = gw.request("GET", "/echo/anything", headers={"X-User": "ann"})
    assert answer.status == 200
    assert answer.json()["path"] == "/profile/ann"
    assert answer.headers.get("x-profile-status") == "200"
    assert backend.calls == 1
