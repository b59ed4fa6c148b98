from __future__ import annotations

import pytest

from engine.context import Operation
from engine.gateway.pipeline import run_preflight
from engine.policy import Flow
from policies.cors import RESPONSE_HEADERS, CorsRules, apply_response_headers, is_preflight, parse_origin
from tests.policies.support import build, codes, context, response, run

POLICY = """<cors allow-credentials="true">
    <allowed-origins><origin>https://app.example.com</origin><origin>http://localhost:8080</origin></allowed-origins>
    <allowed-methods preflight-result-max-age="300"><method>GET</method><method>PUT</method></allowed-methods>
    <allowed-headers><header>Content-Type</header><header>X-Request-Id</header></allowed-headers>
    <expose-headers><header>X-Total-Count</header></expose-headers>
</cors>"""

WILDCARD = """<cors>
    <allowed-origins><origin>*</origin></allowed-origins>
    <allowed-headers><header>*</header></allowed-headers>
</cors>"""


def preflight(origin: str, method: str, headers: str | None = None):
    pairs = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        pairs["Access-Control-Request-Headers"] = headers
    return context(method="OPTIONS", headers=pairs)


class TestSchema:
    def test_required_children(self) -> None:
        assert codes("<cors />").count("policy-missing-child") == 2

    def test_wildcard_must_be_alone_and_origins_valid(self) -> None:
        xml = "<cors><allowed-origins><origin>*</origin><origin>ftp://x</origin></allowed-origins><allowed-headers><header>*</header></allowed-headers></cors>"
        assert codes(xml) == ["policy-bad-value", "policy-bad-value"]

    def test_once_per_section_and_inbound_only(self) -> None:
        assert "policy-repeated" in codes(WILDCARD + WILDCARD)
        assert "policy-not-allowed-in-section" in codes(WILDCARD, "outbound")

    def test_no_expressions(self) -> None:
        xml = '<cors allow-credentials="@(true)"><allowed-origins><origin>*</origin></allowed-origins><allowed-headers><header>*</header></allowed-headers></cors>'
        assert codes(xml) == ["policy-expression-not-allowed"]


class TestRules:
    def test_parse_origin_fills_default_ports(self) -> None:
        assert parse_origin("https://A.example.com") == ("https", "a.example.com", 443)
        assert parse_origin("http://x:8080/") == ("http", "x", 8080)
        assert parse_origin("null") is None

    def test_origin_matching_with_default_ports(self) -> None:
        rules = CorsRules(False, frozenset({("https", "app.example.com", 443)}), False, frozenset({"GET"}), False,
                          frozenset(), ())
        assert rules.origin_allowed("https://app.example.com:443")
        assert rules.origin_allowed("https://APP.example.com")
        assert not rules.origin_allowed("http://app.example.com")
        assert not rules.origin_allowed("https://app.example.com:8443")

    def test_is_preflight_needs_request_method_header(self) -> None:
        assert is_preflight(preflight("https://a.b", "GET").request)
        assert not is_preflight(context(method="OPTIONS", headers={"Origin": "https://a.b"}).request)
        assert not is_preflight(preflight("https://a.b", "GET").request, operation_method="OPTIONS")


class TestPreflight:
    async def test_matching_preflight_is_answered(self) -> None:
        ctx = preflight("https://app.example.com", "PUT", "content-type, x-request-id")
        assert await run(build(POLICY), ctx) is Flow.END
        headers = ctx.response.headers
        assert ctx.response.status_code == 200
        assert headers.get("Access-Control-Allow-Origin") == "https://app.example.com"
        assert headers.get("Access-Control-Allow-Credentials") == "true"
        assert headers.get("Access-Control-Allow-Methods") == "PUT"
        assert headers.get("Access-Control-Allow-Headers") == "content-type,x-request-id"
        assert headers.get("Access-Control-Max-Age") == "300"
        assert headers.get("Vary") == "Origin"

    @pytest.mark.parametrize(
        ("origin", "method", "requested"),
        [("https://evil.example", "GET", None), ("https://app.example.com", "DELETE", None),
         ("https://app.example.com", "GET", "X-Other")],
    )
    async def test_unmatched_preflight_falls_through_then_empty_200(self, origin, method, requested) -> None:
        ctx = preflight(origin, method, requested)
        steps = build(POLICY)
        assert await run(steps, ctx) is None  # terminate-unmatched-request defaults to false
        await run_preflight(steps, ctx)
        assert ctx.response.status_code == 200
        assert "Access-Control-Allow-Origin" not in ctx.response.headers

    async def test_unmatched_preflight_terminated(self) -> None:
        ctx = preflight("https://evil.example", "GET")
        steps = build(POLICY.replace('allow-credentials="true"', 'terminate-unmatched-request="true"'))
        assert await run(steps, ctx) is Flow.END
        assert ctx.response.status_code == 200 and "Access-Control-Allow-Origin" not in ctx.response.headers

    async def test_default_methods_are_get_and_post(self) -> None:
        steps = build(WILDCARD)
        assert await run(steps, preflight("https://x.test", "POST")) is Flow.END
        assert await run(steps, preflight("https://x.test", "PATCH")) is None

    async def test_wildcard_answers_star(self) -> None:
        ctx = preflight("https://x.test", "GET", "X-Anything")
        await run(build(WILDCARD), ctx)
        assert ctx.response.headers.get("Access-Control-Allow-Origin") == "*"
        assert "Vary" not in ctx.response.headers

    async def test_options_operation_is_not_a_preflight(self) -> None:
        ctx = preflight("https://app.example.com", "GET")
        ctx.operation = Operation(id="opts", method="OPTIONS")
        assert await run(build(POLICY), ctx) is None


class TestActualRequest:
    async def test_allowed_origin_gets_headers_on_response(self) -> None:
        ctx = context(headers={"Origin": "https://app.example.com"})
        assert await run(build(POLICY), ctx) is None
        ctx.response = response(headers={"Vary": "Accept-Encoding"})
        apply_response_headers(ctx)
        headers = ctx.response.headers
        assert headers.get("Access-Control-Allow-Origin") == "https://app.example.com"
        assert headers.get("Access-Control-Allow-Credentials") == "true"
        assert headers.get("Access-Control-Expose-Headers") == "X-Total-Count"
        assert headers.get_list("Vary") == ["Accept-Encoding", "Origin"]

    async def test_unmatched_origin_proceeds_without_headers(self) -> None:
        ctx = context(headers={"Origin": "https://evil.example"})
        assert await run(build(POLICY), ctx) is None
        apply_response_headers(ctx)
        assert "Access-Control-Allow-Origin" not in ctx.response.headers

    async def test_unmatched_terminated(self) -> None:
        ctx = context(headers={"Origin": "https://evil.example"})
        steps = build(POLICY.replace('allow-credentials="true"', 'terminate-unmatched-request="true"'))
        assert await run(steps, ctx) is Flow.END
        assert ctx.response.status_code == 200 and ctx.response.body is not None and ctx.response.body.content == b""

    async def test_no_origin_is_not_cors(self) -> None:
        ctx = context()
        assert await run(build(POLICY), ctx) is None
        assert RESPONSE_HEADERS.get(ctx) is None


class TestEndToEnd:
    POLICIES = f"<policies><inbound>{POLICY}<base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"

    def test_preflight_runs_only_cors(self, api_gateway, backend) -> None:
        with api_gateway(self.POLICIES) as gw:
            answer = gw.request("OPTIONS", "/echo/items", headers={
                "Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "Content-Type"})
            refused = gw.request("OPTIONS", "/echo/items", headers={
                "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
        assert answer.status == 200
        assert answer.headers.get("access-control-allow-origin") == "https://app.example.com"
        assert answer.headers.get("access-control-allow-methods") == "PUT"
        assert answer.headers.get("access-control-max-age") == "300"
        assert refused.status == 200 and refused.headers.get("access-control-allow-origin") is None
        assert backend.calls == 0

    def test_actual_request_gets_cors_headers(self, api_gateway, backend) -> None:
        with api_gateway(self.POLICIES) as gw:
            allowed = gw.request("GET", "/echo/items", headers={"Origin": "http://localhost:8080"})
            other = gw.request("GET", "/echo/items", headers={"Origin": "https://evil.example"})
        assert allowed.status == 200
        assert allowed.headers.get("access-control-allow-origin") == "http://localhost:8080"
        assert allowed.headers.get("access-control-expose-headers") == "X-Total-Count"
        assert "Origin" in allowed.headers.get_all("vary")
        assert other.status == 200 and other.headers.get("access-control-allow-origin") is None
        assert backend.calls == 2

    def test_error_responses_carry_cors_headers(self, api_gateway, backend) -> None:
        policy = self.POLICIES.replace("<base /></inbound>", '<base /><check-header name="X-Key" failed-check-httpcode="401" failed-check-error-message="no key" ignore-case="true" /></inbound>')
        with api_gateway(policy) as gw:
            answer = gw.request("GET", "/echo/items", headers={"Origin": "https://app.example.com"})
        assert answer.status == 401
        assert answer.headers.get("access-control-allow-origin") == "https://app.example.com"
