"""On-demand request traces: an admin-issued token, every policy's input and output on the admin port."""

from __future__ import annotations

import json

from engine.gateway.request_trace import TraceTokens
from tests.gateway.conftest import document
from tests.support.gateway import http_request, simple_config

POLICY = document(
    inbound="""<base /><set-header name="X-Added" exists-action="override"><value>@("v" + (1 + 1))</value></set-header>
      <trace source="audit" severity="information"><message>hello</message></trace>""",
    outbound='<base /><set-status code="201" reason="Made" />',
)


def test_a_traced_request_shows_each_policy_and_its_effect(gateway) -> None:
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": POLICY}) as gw:
        issued = http_request(gw.admin_url, "POST", "/trace/tokens?minutes=5").json()
        assert issued["header"] == "Apim-Debug-Authorization"
        answer = gw.request("GET", "/echo/x", headers={"Apim-Debug-Authorization": issued["token"],
                                                       "Authorization": "Bearer secret"})
        assert answer.status == 201
        location = answer.headers.get("Ocp-Apim-Trace-Location")
        assert location is not None and location.startswith("/trace/")
        trace = http_request(gw.admin_url, "GET", location).json()
        untraced = gw.request("GET", "/echo/x")
        assert untraced.headers.get("Ocp-Apim-Trace-Location") is None
        forged = gw.request("GET", "/echo/x", headers={"Apim-Debug-Authorization": "9999999999.00"})
        assert forged.headers.get("Ocp-Apim-Trace-Location") is None
        assert http_request(gw.admin_url, "GET", "/trace/unknown").status == 404

    assert (trace["api"], trace["status"], trace["method"]) == ("echo", 201, "GET")
    steps = {entry["policy"]: entry for entry in trace["policies"] if "policy" in entry}
    header = steps["set-header"]
    assert header["section"] == "inbound" and "X-Added" not in header["input"]["request"]["headers"]
    assert header["output"]["request"]["headers"]["X-Added"] == "v2"
    assert header["input"]["request"]["headers"]["authorization"] == "***"  # secrets masked
    assert "apim-debug-authorization" not in header["input"]["request"]["headers"]  # not passed on
    assert "apim-debug-authorization" not in steps["forward-request"]["input"]["request"]["headers"]
    status = steps["set-status"]
    assert (status["input"]["response"]["status"], status["output"]["response"]["status"]) == (200, 201)
    assert any(entry.get("value") == "'v2'" or entry.get("value") == "v2" for entry in trace["policies"])
    assert trace["traces"] == [{"source": "audit", "severity": "information", "message": "hello"}]
    assert "forward-request" in steps and "duration_ms" in steps["forward-request"]
    json.dumps(trace)


def test_tokens_expire_and_are_bound_to_their_secret() -> None:
    tokens = TraceTokens(b"k" * 32)
    token, expires = tokens.issue(1, now=1000.0)
    assert expires == 1060.0 and tokens.valid(token, now=1059.0) and not tokens.valid(token, now=1061.0)
    assert not TraceTokens(b"x" * 32).valid(token, now=1000.0)
    assert not tokens.valid("garbage") and not tokens.valid(token.replace(".", ".0"), now=1000.0)


def test_issuing_tokens_and_reading_traces_need_the_admin_token_when_one_is_configured(gateway) -> None:
    admin = {"Authorization": "Bearer s3cret"}
    with gateway(simple_config(api_policy="api.xml", server={"admin-token": "s3cret"}), {"api.xml": POLICY}) as gw:
        assert http_request(gw.admin_url, "POST", "/trace/tokens").status == 401
        issued = http_request(gw.admin_url, "POST", "/trace/tokens", headers=admin)
        assert issued.status == 200
        answer = gw.request("GET", "/echo/x", headers={"Apim-Debug-Authorization": issued.json()["token"]})
        location = answer.headers.get("Ocp-Apim-Trace-Location")
        assert location is not None
        for path in (location, "/trace/unknown"):  # whether a trace exists is not told either
            refused = http_request(gw.admin_url, "GET", path)
            assert refused.status == 401 and refused.json()["error"] == "unauthorized"
            assert refused.headers.get("WWW-Authenticate", "").startswith("Bearer")
            assert http_request(gw.admin_url, "GET", path, headers={"Authorization": "Bearer nope"}).status == 401
            assert http_request(gw.admin_url, "HEAD", path).status == 401
        allowed = http_request(gw.admin_url, "GET", location, headers=admin)
        assert allowed.status == 200 and allowed.json()["api"] == "echo"
        assert http_request(gw.admin_url, "GET", "/trace/unknown", headers=admin).status == 404
        for probe in ("/metrics", "/health", "/ready"):  # scrapers and probes need no token
            assert http_request(gw.admin_url, "GET", probe).status == 200
