from __future__ import annotations

import pytest

from engine.errors import PolicyRuntimeError
from tests.policies.support import build, codes, context, run

POLICY = """<check-header name="X-Api-Role" failed-check-httpcode="403"
    failed-check-error-message="Role not allowed" ignore-case="{ignore}">
    <value>Admin</value><value>Reader</value></check-header>"""


class TestSchema:
    def test_all_attributes_required(self) -> None:
        found = codes('<check-header name="X" />')
        assert found.count("policy-missing-attribute") == 3

    def test_status_must_be_an_http_code(self) -> None:
        xml = '<check-header name="X" failed-check-httpcode="99" failed-check-error-message="m" ignore-case="true" />'
        assert codes(xml) == ["policy-bad-value"]

    def test_inbound_only(self) -> None:
        xml = '<check-header name="X" failed-check-httpcode="401" failed-check-error-message="m" ignore-case="true" />'
        assert "policy-not-allowed-in-section" in codes(xml, "outbound")


class TestRun:
    async def test_allowed_value_passes(self) -> None:
        ctx = context(headers={"X-Api-Role": "Reader"})
        assert await run(build(POLICY.format(ignore="false")), ctx) is None

    async def test_missing_header(self) -> None:
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(POLICY.format(ignore="false")), context())
        error = caught.value
        assert (error.reason, error.status, error.message) == ("HeaderNotFound", 403, "Role not allowed")

    async def test_value_not_allowed(self) -> None:
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(POLICY.format(ignore="false")), context(headers={"X-Api-Role": "admin"}))
        assert caught.value.reason == "HeaderValueNotAllowed"

    async def test_ignore_case_applies_to_values(self) -> None:
        ctx = context(headers={"x-api-role": "ADMIN"})
        assert await run(build(POLICY.format(ignore="true")), ctx) is None

    async def test_presence_only_without_values(self) -> None:
        xml = '<check-header name="Authorization" failed-check-httpcode="401" failed-check-error-message="No" ignore-case="false" />'
        assert await run(build(xml), context(headers={"Authorization": "anything"})) is None
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build(xml), context())
        assert caught.value.status == 401

    async def test_any_header_line_may_match(self) -> None:
        ctx = context(headers=[("X-Api-Role", "Guest"), ("X-Api-Role", "Reader")])
        assert await run(build(POLICY.format(ignore="false")), ctx) is None


def test_end_to_end(api_gateway, backend) -> None:
    policy = f"<policies><inbound><base />{POLICY.format(ignore='true')}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    with api_gateway(policy) as gw:
        denied = gw.request("GET", "/echo/x", headers={"X-Api-Role": "Hacker"})
        allowed = gw.request("GET", "/echo/x", headers={"X-Api-Role": "admin"})
    assert denied.status == 403
    assert denied.json() == {"statusCode": 403, "message": "Role not allowed"}
    assert allowed.status == 200
    assert backend.calls == 1
