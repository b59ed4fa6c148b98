from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from policies import send_one_way_request
from tests.policies.support import FakeServices, HttpClient, build, codes, context, run
from tests.support.gateway import Backend


@pytest.fixture
async def services() -> AsyncIterator[FakeServices]:
    http = HttpClient()
    try:
        yield FakeServices(http)
    finally:
        await send_one_way_request.drain()
        await http.close()


def test_schema() -> None:
    assert codes("<send-one-way-request />") == ["policy-missing-child"]
    assert codes('<send-one-way-request mode="copy" />') == []
    assert codes('<send-one-way-request response-variable-name="x"><set-url>http://x</set-url></send-one-way-request>') == [
        "policy-unknown-attribute"
    ]


async def test_returns_before_the_call_finishes(backend: Backend, services: FakeServices) -> None:
    xml = f"""<send-one-way-request mode="new" timeout="10">
        <set-url>{backend.url}/hook</set-url>
        <set-method>POST</set-method>
        <set-header name="X-Test-Delay" exists-action="override"><value>0.5</value></set-header>
        <set-body>@(context.Request.Method)</set-body>
    </send-one-way-request>"""
    ctx = context(method="PATCH", services=services)
    steps = build(xml)
    assert await run(steps, ctx) is None
    assert send_one_way_request.in_flight() == 1  # still sending: the step did not wait for it
    await send_one_way_request.drain()
    assert backend.calls == 1
    assert backend.requests[0].method == "POST" and backend.requests[0].body == b"PATCH"


async def test_failures_are_logged_not_raised(services: FakeServices, caplog: pytest.LogCaptureFixture) -> None:
    xml = f"<send-one-way-request><set-url>{Backend.unused_url()}/x</set-url></send-one-way-request>"
    with caplog.at_level(logging.WARNING, logger="policygate.send_one_way_request"):
        assert await run(build(xml), context(services=services)) is None
        await send_one_way_request.drain()
    assert "failed" in caplog.text


async def test_build_failure_is_logged(services: FakeServices, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="policygate.send_one_way_request"):
        await run(build("<send-one-way-request><set-url>not a url</set-url></send-one-way-request>"), context(services=services))
    assert "not sent" in caplog.text
    assert send_one_way_request.in_flight() == 0


def test_end_to_end(api_gateway, backend) -> None:
    policy = """<policies><inbound><base />
        <send-one-way-request mode="copy"><set-url>{{backend-url}}/audit</set-url></send-one-way-request>
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        answer = gw.request("POST", "/echo/orders", body="order-1")
        deadline = time.monotonic() + 5
        while backend.calls < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert answer.status == 200
    paths = sorted(r.path for r in backend.requests)
    assert paths == ["/audit", "/orders"]
    assert all(r.body == b"order-1" for r in backend.requests)
