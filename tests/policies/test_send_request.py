from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import pytest

from engine.context import Response
from engine.errors import PolicyRuntimeError
from policies.authentication_basic import basic_authorization
from tests.policies.support import FakeServices, HttpClient, build, codes, context, lint, run
from tests.support.gateway import Backend
from tests.support.raw_http_server import connections, serving


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


@pytest.fixture(scope="module")
def raw_backend() -> Iterator[str]:
    with serving() as port:
        yield f"http://127.0.0.1:{port}"


def fetch(url: str, method: str = "GET", timeout: int = 5) -> str:
    return f'<send-request response-variable-name="r" timeout="{timeout}"><set-url>{url}</set-url><set-method>{method}</set-method></send-request>'


class TestOwnClient:
    """send-request goes through the gateway's own HTTP/1.1 client, against a raw backend process
    (tests/support/raw_http_server.py) that frames its answers every way and misbehaves on purpose."""

    async def test_connections_are_kept_and_a_dropped_idle_one_is_retried(self, raw_backend: str, services: FakeServices) -> None:
        before = await asyncio.to_thread(connections, raw_backend)
        bodies = []
        for _ in range(3):
            ctx = context(services=services)
            await run(build(fetch(f"{raw_backend}/ok")), ctx)
            bodies.append(ctx.variables["r"].body.content)
        assert bodies == [f"c{before + 1} r{n}".encode() for n in (1, 2, 3)]  # one keep-alive connection
        first, again = context(services=services), context(services=services)
        await run(build(fetch(f"{raw_backend}/stale")), first)
        await run(build(fetch(f"{raw_backend}/stale")), again)  # dropped unanswered: sent once more, on a new one
        assert again.variables["r"].body.content == f"c{before + 3} r1".encode()
        with pytest.raises(PolicyRuntimeError, match="ended prematurely") as caught:  # a POST is not sent twice
            await run(build(fetch(f"{raw_backend}/stale", "POST")), context(services=services))
        assert caught.value.reason == "BackendConnectionFailure"

    async def test_request_framing(self, raw_backend: str, services: FakeServices) -> None:
        ctx = context(method="PUT", url="http://b.test/x", headers={"X-Copied": "yes", "Connection": "X-Copied, keep-alive"},
                      body="payload", services=services)
        await run(build(f'<send-request mode="copy" response-variable-name="r"><set-url>{raw_backend}/echo</set-url></send-request>'), ctx)
        echoed = json.loads(ctx.variables["r"].body.content)
        names = [line.split(":", 1)[0].lower() for line in echoed["headers"]]
        assert echoed["method"] == "PUT" and echoed["length"] == len("payload")
        assert names.count("host") == 1 and "Content-Length: 7" in echoed["headers"]
        assert "x-copied" not in names and "connection" not in names  # hop-by-hop, named by Connection
        for method, length in (("DELETE", ["Content-Length: 0"]), ("GET", [])):
            ctx = context(services=services)
            await run(build(fetch(f"{raw_backend}/echo", method)), ctx)
            lines = json.loads(ctx.variables["r"].body.content)["headers"]
            assert [line for line in lines if line.lower().startswith(("content-length", "transfer-encoding"))] == length

    @pytest.mark.parametrize(("path", "method", "body"), [
        ("/until-close", "GET", b"part 0;part 1;part 2;part 3;part 4;"),
        ("/interim", "GET", b"final"),
        ("/head", "HEAD", b""),
        ("/large-chunked?mb=1", "GET", bytes(range(256)) * 4096),
    ])
    async def test_answers_framed_every_way_are_read_whole(self, raw_backend: str, services: FakeServices,
                                                           path: str, method: str, body: bytes) -> None:
        ctx = context(services=services)
        await run(build(fetch(f"{raw_backend}{path}", method)), ctx)
        assert ctx.variables["r"].status_code == 200 and ctx.variables["r"].body.content == body

    @pytest.mark.parametrize(("path", "reason", "message"), [
        ("/malformed", "BackendConnectionFailure", "The server returned an invalid or unrecognized response."),
        ("/truncated?length=5000", "BackendConnectionFailure", "The response ended prematurely."),
        ("/trickle?ms=20", "Timeout", "timed out after 1 seconds"),
        ("/large?mb=65", "ResponseTooLarge", "larger than 67108864 bytes"),  # refused by its Content-Length
        ("/large-chunked?mb=65", "ResponseTooLarge", "larger than 67108864 bytes"),  # refused once over the limit
    ])
    async def test_failures(self, raw_backend: str, services: FakeServices, path: str, reason: str, message: str) -> None:
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(fetch(f"{raw_backend}{path}", timeout=1)), context(services=services))
        assert caught.value.reason == reason and message in caught.value.message
        ctx = context(services=services)
        await run(build(fetch(f"{raw_backend}/ok")), ctx)  # the broken connection was not kept
        assert ctx.variables["r"].status_code == 200
