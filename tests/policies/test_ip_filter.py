from __future__ import annotations

import pytest

from engine.errors import PolicyRuntimeError
from policies.ip_filter import parse_ip
from tests.policies.support import build, codes, context, run

ALLOW = """<ip-filter action="allow">
    <address>13.66.201.169</address>
    <address-range from="10.0.0.0" to="10.0.0.255" />
    <address>2001:db8::1</address>
    <address-range from="fd00::" to="fd00::ffff" />
</ip-filter>"""


class TestSchema:
    def test_needs_an_address(self) -> None:
        assert codes('<ip-filter action="allow" />') == ["policy-missing-child"]

    def test_bad_addresses_and_ranges(self) -> None:
        assert codes('<ip-filter action="allow"><address>1.2.3</address></ip-filter>') == ["policy-bad-value"]
        assert codes('<ip-filter action="forbid"><address-range from="10.0.0.9" to="10.0.0.1" /></ip-filter>') == [
            "policy-bad-value"
        ]
        assert codes('<ip-filter action="forbid"><address-range from="10.0.0.1" to="::1" /></ip-filter>') == [
            "policy-bad-value"
        ]

    def test_named_values_are_not_checked_as_addresses(self) -> None:
        assert codes('<ip-filter action="allow"><address>{{office-ip}}</address></ip-filter>') == []

    def test_action_values(self) -> None:
        assert codes('<ip-filter action="deny"><address>1.2.3.4</address></ip-filter>') == ["policy-bad-value"]


class TestRun:
    @pytest.mark.parametrize("ip", ["13.66.201.169", "10.0.0.0", "10.0.0.255", "2001:db8::1", "fd00::abcd", "::ffff:10.0.0.7"])
    async def test_allowed(self, ip: str) -> None:
        assert await run(build(ALLOW), context(ip=ip)) is None

    @pytest.mark.parametrize("ip", ["13.66.201.170", "10.0.1.0", "2001:db8::2", "fd00::1:0"])
    async def test_not_allowed(self, ip: str) -> None:
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(ALLOW), context(ip=ip))
        error = caught.value
        assert (error.status, error.reason) == (403, "CallerIpNotAllowed")
        assert error.message == f"Caller IP address {ip} is not allowed. Access denied."

    async def test_forbid(self) -> None:
        steps = build('<ip-filter action="forbid"><address-range from="192.168.0.0" to="192.168.255.255" /></ip-filter>')
        assert await run(steps, context(ip="10.1.1.1")) is None
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(steps, context(ip="192.168.4.4"))
        assert (caught.value.status, caught.value.reason) == (403, "CallerIpBlocked")

    async def test_unparsable_caller(self) -> None:
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(ALLOW), context(ip="not-an-ip"))
        assert caught.value.reason == "FailedToParseCallerIP"

    async def test_expression_address(self) -> None:
        steps = build('<ip-filter action="allow"><address>@(context.Request.Headers.GetValueOrDefault("X-Allowed", "0.0.0.0"))</address></ip-filter>')
        assert await run(steps, context(ip="1.1.1.1", headers={"X-Allowed": "1.1.1.1"})) is None

    def test_parse_ip_normalises(self) -> None:
        assert str(parse_ip("[::1]")) == "::1"
        assert str(parse_ip("::ffff:127.0.0.1")) == "127.0.0.1"


def test_end_to_end(api_gateway, backend) -> None:
    allow_loopback = '<ip-filter action="allow"><address-range from="127.0.0.0" to="127.255.255.255" /><address>::1</address></ip-filter>'
    forbid_loopback = '<ip-filter action="forbid"><address-range from="127.0.0.0" to="127.255.255.255" /></ip-filter>'
    template = "<policies><inbound><base />{}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    with api_gateway(template.format(allow_loopback)) as gw:
        assert gw.request("GET", "/echo/x").status == 200
    with api_gateway(template.format(forbid_loopback)) as gw:
        answer = gw.request("GET", "/echo/x")
    assert answer.status == 403
    assert answer.json()["message"].startswith("Caller IP address 127.")
