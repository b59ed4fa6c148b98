"""The gateway's own policies, end to end (constant attributes; expressions in test_expressions.py)."""

from __future__ import annotations

import pytest

from policies.retry import wait_seconds
from tests.gateway.conftest import document
from tests.support.gateway import simple_config


def one_api(gateway, policy: str, **config):
    return gateway(simple_config(api_policy="api.xml", **config), {"api.xml": policy})


class TestSetHeader:
    def test_request_headers_in_inbound(self, gateway) -> None:
        policy = document(inbound="""<base />
            <set-header name="X-New" exists-action="override"><value>1</value><value>2</value></set-header>
            <set-header name="X-Keep" exists-action="skip"><value>replaced</value></set-header>
            <set-header name="X-Add" exists-action="append"><value>second</value></set-header>
            <set-header name="X-Gone" exists-action="delete" />
            <set-header name="Cookie" exists-action="override"><value>a=1</value><value>b=2</value></set-header>
            <set-header name="Content-Length" exists-action="delete" />""")
        with one_api(gateway, policy) as gw:
            sent = {"X-Keep": "original", "X-Add": "first", "X-Gone": "bye"}
            echoed = gw.request("POST", "/echo/x", headers=sent, body="abc").json()
            headers = echoed["headers"]
            assert headers["x-new"] == "1,2"  # one line, comma-joined
            assert headers["x-keep"] == "original"
            assert headers["x-add"] == "first,second"
            assert "x-gone" not in headers
            assert [v for n, v in echoed["header_lines"] if n.lower() == "cookie"] == ["a=1", "b=2"]  # separate lines
            assert echoed["body"] == "abc"  # Content-Length cannot be deleted

    def test_response_headers_in_outbound(self, gateway) -> None:
        policy = document(outbound="""<base />
            <set-header name="X-Powered" exists-action="override"><value>policygate</value></set-header>
            <set-header name="Set-Cookie" exists-action="append"><value>a=1</value><value>b=2</value></set-header>
            <set-header name="Server" exists-action="delete" />""")
        with one_api(gateway, policy) as gw:
            answer = gw.get("/echo/x")
            assert answer.headers.get("X-Powered") == "policygate"
            assert answer.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
            # The backend's Server line is gone; Granian names itself when a response has none (docs/gateway.md).
            assert answer.headers.get("Server") == {"hypercorn": None, "granian": "granian", "native": None}[gw.server.http_server]
            assert "x-powered" not in answer.json()["headers"]  # not sent to the backend


class TestStatusAndResponses:
    def test_set_status_in_outbound(self, gateway) -> None:
        with one_api(gateway, document(outbound='<base /><set-status code="202" reason="Later" />')) as gw:
            assert gw.get("/echo/x").status == 202

    def test_return_response_ends_pipeline(self, gateway, backend) -> None:
        policy = document(inbound="""<base />
            <return-response>
              <set-status code="403" reason="Nope" />
              <set-header name="X-Why" exists-action="override"><value>policy</value></set-header>
            </return-response>
            <set-header name="X-Never" exists-action="override"><value>1</value></set-header>""")
        with one_api(gateway, policy) as gw:
            answer = gw.get("/echo/x")
            assert answer.status == 403
            assert answer.headers.get("X-Why") == "policy"
            assert answer.body == b""
            assert backend.calls == 0

    def test_return_response_default_is_empty_200(self, gateway, backend) -> None:
        with one_api(gateway, document(inbound="<base /><return-response />")) as gw:
            answer = gw.get("/echo/x")
            assert (answer.status, answer.body) == (200, b"")
            assert backend.calls == 0

    def test_mock_response_with_and_without_example(self, gateway, backend) -> None:
        config = simple_config(operations={
            "example": {"method": "GET", "url-template": "/example", "policy": "example.xml",
                        "examples": {200: {"application/json": {"id": 1, "name": "Rex"}}}},
            "empty": {"method": "GET", "url-template": "/empty", "policy": "empty.xml"},
        })
        policies = {
            "example.xml": document(inbound='<base /><mock-response status-code="200" content-type="application/json" />'),
            "empty.xml": document(inbound='<base /><mock-response status-code="404" />'),
        }
        with gateway(config, policies) as gw:
            example = gw.get("/echo/example")
            assert example.status == 200
            assert example.json() == {"id": 1, "name": "Rex"}
            assert example.headers.get("Content-Type") == "application/json"
            empty = gw.get("/echo/empty")
            assert (empty.status, empty.body) == (404, b"")
            assert backend.calls == 0


class TestRouting:
    def test_rewrite_uri_with_parameters_and_unmatched_query(self, gateway) -> None:
        config = simple_config(operations={
            "get": {"method": "GET", "url-template": "/get/{id}?a={b}", "policy": "copy.xml"},
            "put": {"method": "GET", "url-template": "/put/{id}?a={b}", "policy": "nocopy.xml"},
        })
        policies = {
            "copy.xml": document(inbound='<base /><rewrite-uri template="/items/{id}?from={b}" />'),
            "nocopy.xml": document(inbound='<base /><rewrite-uri template="/items/{id}" copy-unmatched-params="false" />'),
        }
        with gateway(config, policies) as gw:
            echoed = gw.get("/echo/get/7?a=x&c=d").json()
            assert (echoed["path"], echoed["query"]) == ("/items/7", "from=x&c=d")
            echoed = gw.get("/echo/put/7?a=x&c=d").json()
            assert (echoed["path"], echoed["query"]) == ("/items/7", "")

    def test_set_backend_service_keeps_operation_path(self, gateway, backend) -> None:
        policy = document(inbound=f'<base /><set-backend-service base-url="{backend.url}/v2" />')
        config = simple_config(api_policy="api.xml")
        config["apis"]["echo"]["service-url"] = "http://127.0.0.1:1/unused"
        with gateway(config, {"api.xml": policy}) as gw:
            echoed = gw.get("/echo/pets/1?x=1").json()
            assert (echoed["path"], echoed["query"]) == ("/v2/pets/1", "x=1")

    def test_set_backend_service_by_id(self, gateway, backend) -> None:
        config = simple_config(api_policy="api.xml", backends={"main": {"url": "{{backend-url}}/by-id"}})
        config["apis"]["echo"]["service-url"] = "http://127.0.0.1:1"
        with gateway(config, {"api.xml": document(inbound='<base /><set-backend-service backend-id="main" />')}) as gw:
            assert gw.get("/echo/a").json()["path"] == "/by-id/a"

    def test_no_forward_request_means_no_backend_call(self, gateway, backend) -> None:
        policy = document(backend="", outbound='<set-header name="X-Out" exists-action="override"><value>ran</value></set-header>')
        with one_api(gateway, policy) as gw:
            answer = gw.get("/echo/x")
            assert answer.status == 200 and answer.headers.get("X-Out") == "ran"
            assert backend.calls == 0


class TestControlFlow:
    def test_choose_first_true_branch(self, gateway) -> None:
        policy = document(inbound="""<base />
            <choose>
              <when condition="false"><set-header name="X-Branch" exists-action="override"><value>one</value></set-header></when>
              <when condition="true"><set-header name="X-Branch" exists-action="override"><value>two</value></set-header></when>
              <when condition="true"><set-header name="X-Branch" exists-action="override"><value>three</value></set-header></when>
              <otherwise><set-header name="X-Branch" exists-action="override"><value>other</value></set-header></otherwise>
            </choose>""")
        with one_api(gateway, policy) as gw:
            assert gw.get("/echo/x").json()["headers"]["x-branch"] == "two"

    def test_choose_otherwise(self, gateway) -> None:
        policy = document(inbound="""<base /><choose>
              <when condition="false"><return-response><set-status code="500" /></return-response></when>
              <otherwise><set-variable name="v" value="x" /><return-response><set-status code="299" /></return-response></otherwise>
            </choose>""")
        with one_api(gateway, policy) as gw:
            assert gw.get("/echo/x").status == 299

    def test_retry_runs_children_count_plus_one_times(self, gateway, backend) -> None:
        policy = document(backend='<retry condition="true" count="2" interval="0"><forward-request /></retry>')
        with one_api(gateway, policy) as gw:
            answer = gw.request("POST", "/echo/x", body="payload")
            assert answer.status == 200
            assert backend.calls == 3
            assert [r.body for r in backend.requests] == [b"payload"] * 3  # the body is resent

    def test_retry_stops_when_condition_is_false(self, gateway, backend) -> None:
        policy = document(backend='<retry condition="false" count="5" interval="1"><forward-request /></retry>')
        with one_api(gateway, policy) as gw:
            assert gw.get("/echo/x").status == 200
            assert backend.calls == 1

    def test_wait_runs_children(self, gateway) -> None:
        policy = document(inbound="""<base /><wait for="all">
              <choose><when condition="true"><set-variable name="a" value="1" /></when></choose>
              <choose><when condition="true"><set-header name="X-Wait" exists-action="override"><value>done</value></set-header></when></choose>
            </wait>""")
        with one_api(gateway, policy) as gw:
            assert gw.get("/echo/x").json()["headers"]["x-wait"] == "done"


@pytest.mark.parametrize(
    ("k", "interval", "delta", "max_interval", "first_fast", "expected"),
    [
        (0, 5, None, None, False, 5.0),  # fixed
        (3, 5, None, None, False, 5.0),
        (0, 1, 2, None, False, 1.0),  # linear: interval + k*delta
        (3, 1, 2, None, False, 7.0),
        (0, 10, 10, 100, False, 10.0),  # exponential: interval + (2^k - 1)*delta, capped
        (1, 10, 10, 100, False, 20.0),
        (3, 10, 10, 100, False, 80.0),
        (4, 10, 10, 100, False, 100.0),
        (0, 10, None, None, True, 0.0),  # first fast retry
        (1, 10, None, None, True, 10.0),
    ],
)
def test_retry_wait_formulas(k, interval, delta, max_interval, first_fast, expected) -> None:
    class Mid:
        @staticmethod
        def uniform(low: float, high: float) -> float:
            return (low + high) / 2  # the midpoint of APIM's 0.8..1.2 jitter band is delta itself

    assert wait_seconds(k, interval, delta, max_interval, first_fast, Mid()) == pytest.approx(expected)  # type: ignore[arg-type]


def test_exponential_jitter_stays_in_band() -> None:
    for _ in range(50):
        assert 10 + 0.8 * 30 <= wait_seconds(2, 10, 10, 1000, False) <= 10 + 1.2 * 30
