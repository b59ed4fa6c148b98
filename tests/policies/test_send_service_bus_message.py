"""send-service-bus-message through the real gateway, against a Service Bus stand-in speaking its REST
"Send Message" API (tests/support/servicebus_server.py) and the test token server (IMDS), both their
own processes, with a real echo backend."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConfigError, PolicyLoadError
from engine.gateway.config import parse_settings
from tests.policies.conftest import GatewayFactory, TokenServer
from tests.policies.support import codes
from tests.support.control import ControlledServer
from tests.support.gateway import Backend

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "orders-ns.servicebus.windows.net"
AUDIENCE = "https://servicebus.azure.net"


class ServiceBus(ControlledServer):
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.servicebus_server", "orders", "audit"],
                                        cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def messages(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/messages", timeout=5) as answer:
            found: list[dict[str, Any]] = json.loads(answer.read())["messages"]
            return found


@pytest.fixture
def bus() -> Iterator[ServiceBus]:
    server = ServiceBus()
    yield server
    server.process.terminate()
    server.process.wait(5)


def settings(bus: ServiceBus, tokens: TokenServer, **service_bus: Any) -> dict[str, Any]:
    return {"identity": tokens.imds(), "service-bus": {"endpoints": {NAMESPACE: bus.url}, **service_bus}}


ON_ERROR = """<on-error>
        <return-response>
            <set-status code="502" reason="Not sent" />
            <set-body>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</set-body>
        </return-response>
    </on-error>"""


def document(inbound: str, on_error: str = ON_ERROR) -> str:
    return f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend>" \
           f"<outbound><base /></outbound>{on_error}</policies>"


ORDERS = f"""<send-service-bus-message queue-name="orders" namespace="{NAMESPACE}">
    <message-properties>
        <message-property name="MessageId">@(context.Request.Headers.GetValueOrDefault("X-Order-Id", ""))</message-property>
        <message-property name="TimeToLive">60</message-property>
        <message-property name="sessionid">s-1</message-property>
        <message-property name="Customer">@(context.Request.Url.Query.GetValueOrDefault("customer", ""))</message-property>
        <message-property name="Priority">High</message-property>
    </message-properties>
    <payload>@(context.Request.Body.As&lt;string&gt;(preserveContent: true))</payload>
</send-service-bus-message>
<send-service-bus-message topic-name="@(&quot;au&quot; + &quot;dit&quot;)" client-id="audit-identity">
    <message-properties>
        <message-property name="ContentType">text/csv</message-property>
    </message-properties>
    <payload>@(context.Request.Method + ",{{{{audit-tag}}}}")</payload>
</send-service-bus-message>"""


def test_queue_and_topic_messages_with_properties(api_gateway: GatewayFactory, backend: Backend, bus: ServiceBus,
                                                  tokens: TokenServer) -> None:
    config = settings(bus, tokens, namespace=NAMESPACE)  # the topic's policy has no namespace attribute
    with api_gateway(document(ORDERS), **config, **{"named-values": {"audit-tag": "v1"}}) as gateway:
        for n in (1, 2):
            answer = gateway.request("POST", f"/echo/orders?customer=c{n}", body=f'{{"id": {n}}}',
                                     headers={"X-Order-Id": f"o-{n}", "Content-Type": "application/json"})
            assert answer.status == 200, answer.text
            assert answer.json()["body"] == f'{{"id": {n}}}'  # the request went on to the backend, body intact
    orders = [m for m in bus.messages() if m["entity"] == "orders"]
    audit = [m for m in bus.messages() if m["entity"] == "audit"]
    assert [m["body"] for m in orders] == ['{"id": 1}', '{"id": 2}']
    assert orders[1]["content_type"] == "application/json"
    assert orders[1]["broker_properties"] == {"MessageId": "o-2", "TimeToLive": 60, "SessionId": "s-1"}
    assert {k: orders[1]["properties"][k] for k in ("customer", "priority")} == {"customer": "c2", "priority": "High"}
    assert "messageid" not in orders[1]["properties"]
    assert [m["body"] for m in audit] == ["POST,v1", "POST,v1"]
    assert audit[0]["content_type"] == "text/csv" and audit[0]["broker_properties"] == {}
    # one token per identity, cached across requests
    assert {m["token"] for m in orders} == {f"imds|{AUDIENCE}||1"}
    assert {m["token"].rsplit("|", 1)[0] for m in audit} == {f"imds|{AUDIENCE}|audit-identity"}
    assert tokens.calls()["calls"] == 2


def test_expired_token_is_replaced(api_gateway: GatewayFactory, backend: Backend, bus: ServiceBus,
                                   tokens: TokenServer) -> None:
    tokens.control(expires_in=2)  # IMDS answers expires_on in whole seconds: stale within 1.0-1.8 s
    inbound = f'<send-service-bus-message queue-name="orders" namespace="{NAMESPACE}"><payload>x</payload>' \
              '</send-service-bus-message>'
    with api_gateway(document(inbound), **settings(bus, tokens)) as gateway:
        assert gateway.request("GET", "/echo/a").status == 200
        time.sleep(2.0)
        assert gateway.request("GET", "/echo/b").status == 200
    assert [m["token"] for m in bus.messages()] == [f"imds|{AUDIENCE}||1", f"imds|{AUDIENCE}||2"]


def test_failures_run_on_error(api_gateway: GatewayFactory, backend: Backend, bus: ServiceBus,
                               tokens: TokenServer) -> None:
    inbound = f"""<send-service-bus-message namespace="{NAMESPACE}"
        queue-name="@(context.Request.Url.Query.GetValueOrDefault(&quot;q&quot;, &quot;orders&quot;))">
        <payload>hello</payload></send-service-bus-message>"""

    with api_gateway(document(inbound), **settings(bus, tokens, timeout=1)) as gateway:
        def failure(path: str = "/echo/x") -> list[str]:
            answer = gateway.request("GET", path)
            assert answer.status == 502, answer.text
            return answer.text.split("|", 2)

        tokens.control(fail=500)
        assert failure()[:2] == ["send-service-bus-message", "ManagedIdentityTokenFailure"]
        tokens.control(fail=0)
        bus.control(fail=503)
        source, reason, message = failure()
        assert (source, reason) == ("send-service-bus-message", "ServiceBusSendFailure")
        assert message == (f"Service Bus queue 'orders' of {NAMESPACE} answered 503: "
                           "The service was unable to process the request; please retry the operation.")
        bus.control(fail=0, delay=3)
        started = time.monotonic()
        source, reason, message = failure()
        assert reason == "Timeout" and time.monotonic() - started < 2.5
        assert message.startswith(f"Sending to Service Bus queue 'orders' of {NAMESPACE} failed: ")
        bus.control(delay=0)
        _, reason, message = failure("/echo/x?q=missing")
        assert reason == "ServiceBusSendFailure" and "'sb://test/missing' could not be found" in message
        _, reason, message = failure("/echo/x?q=bad%20name")
        assert reason == "ExpressionValueEvaluationFailure" and "'bad name' is not a Service Bus queue" in message
        assert gateway.request("GET", "/echo/x").status == 200
        metrics = gateway.metrics()
    for result, count in (("sent", 1), ("ManagedIdentityTokenFailure", 1), ("ServiceBusSendFailure", 2),
                          ("Timeout", 1), ("ExpressionValueEvaluationFailure", 1)):
        assert f'policygate_service_bus_messages_total{{kind="queue",result="{result}"}} {count}' in metrics, metrics
    assert backend.calls == 1
    assert [m["body"] for m in bus.messages()] == ["hello"]


def test_rejected_token_is_a_500_that_leaks_nothing(api_gateway: GatewayFactory, backend: Backend,
                                                    bus: ServiceBus) -> None:
    inbound = f'<send-service-bus-message topic-name="audit" namespace="{NAMESPACE}"><payload>x</payload>' \
              '</send-service-bus-message>'
    config = {"identity": {"provider": "static", "token": "not-for-service-bus"},
              "service-bus": {"endpoints": {NAMESPACE: bus.url}}}
    with api_gateway(document(inbound, on_error=""), **config) as gateway:
        answer = gateway.request("GET", "/echo/x")
    assert answer.status == 500
    assert answer.json() == {"statusCode": 500, "message": "Internal server error"}
    assert backend.calls == 0 and bus.messages() == []


def test_without_identity_the_gateway_refuses_the_document(api_gateway: GatewayFactory) -> None:
    inbound = '<send-service-bus-message queue-name="orders"><payload>x</payload></send-service-bus-message>'
    with pytest.raises(PolicyLoadError) as error, api_gateway(document(inbound)):
        pass
    (problem,) = error.value.diagnostics
    assert problem.code == "gateway-settings-missing"


def test_lint() -> None:
    ok = f'<send-service-bus-message queue-name="orders" namespace="{NAMESPACE}"><payload>x</payload>' \
         '</send-service-bus-message>'
    assert codes(ok) == [] and codes(ok, section="outbound") == [] and codes(ok, section="on-error") == []
    assert codes(ok, section="backend") == ["policy-not-allowed-in-section"]
    assert codes('<send-service-bus-message queue-name="q" topic-name="t"><payload>x</payload>'
                 '</send-service-bus-message>') == ["policy-bad-value"]
    assert codes("<send-service-bus-message><payload>x</payload></send-service-bus-message>") == [
        "policy-missing-attribute"]
    assert codes('<send-service-bus-message queue-name="q" />') == ["policy-missing-child"]
    assert codes('<send-service-bus-message queue-name="a//b" namespace="https://x"><payload /></send-service-bus-message>') \
        == ["policy-bad-value", "policy-bad-value"]
    properties = ('<send-service-bus-message queue-name="q"><message-properties>'
                  '<message-property name="Authorization">x</message-property>'
                  '<message-property name="a b">x</message-property>'
                  '<message-property name="Tag">1</message-property><message-property name="tag">2</message-property>'
                  '</message-properties><payload>x</payload></send-service-bus-message>')
    assert codes(properties) == ["policy-bad-value"] * 3


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("service-bus:\n  endpoint: http://x\n", "gateway.yaml:2:3: service-bus.endpoint: unknown key; did you mean 'endpoints'?"),
    ("service-bus:\n  endpoints:\n    ns.servicebus.windows.net: ftp://x\n",
     "gateway.yaml:3:32: service-bus.endpoints.ns.servicebus.windows.net: 'ftp://x' is not an absolute http(s) URL"),
    ("service-bus:\n  timeout: 0\n", "gateway.yaml:2:12: service-bus.timeout: expected a positive number"),
])
def test_bad_configuration_is_located(tmp_path: Path, yaml_text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(yaml_text, file=tmp_path / "gateway.yaml", environ={})
    assert str(error.value).removeprefix(str(tmp_path) + "/").startswith(message), str(error.value)


async def test_policygate_test_scripts_service_bus_like_any_target(tmp_path: Path) -> None:
    from policygate.testing import Answer, Harness

    inbound = f"""<send-service-bus-message queue-name="orders" namespace="{NAMESPACE}">
        <message-properties><message-property name="CorrelationId">@(context.Request.Headers.GetValueOrDefault("X-Id", ""))</message-property>
        <message-property name="ForcePersistence">True</message-property><message-property name="Region">eu</message-property>
        <message-property name="TimeToLive">@(context.Request.Headers.GetValueOrDefault("X-Ttl", "2.5"))</message-property>
        </message-properties><payload>@(context.Request.Body.As&lt;string&gt;(preserveContent: true))</payload>
        </send-service-bus-message>"""
    (tmp_path / "api.xml").write_text(document(inbound))
    (tmp_path / "gateway.yaml").write_text(json.dumps({
        "apis": {"orders": {"path": "orders", "service-url": "https://backend.test", "subscription-required": False,
                            "policy": "api.xml"}},
        "identity": {"provider": "static", "token": "local-dev"}}))
    async with Harness.from_config(tmp_path / "gateway.yaml") as harness:
        harness.answer_backend(Answer.json({"ok": True}))
        harness.answer_target(f"https://{NAMESPACE}/orders/messages", Answer(201))
        sent = await harness.request("POST", "/orders/new", headers={"X-Id": "c-9"}, body=b"[1, 2]")
        assert sent.status == 200 and len(sent.backend_calls) == 1
        (message,) = sent.target_calls
        assert (message.method, message.url, message.text) == ("POST", f"https://{NAMESPACE}/orders/messages", "[1, 2]")
        assert message.headers.get("Authorization") == "Bearer local-dev"
        assert json.loads(message.headers.get("BrokerProperties") or "") == {"CorrelationId": "c-9", "ForcePersistence": True,
                                                                            "TimeToLive": 2.5}
        assert (message.headers.get("Region"), message.headers.get("Content-Type")) == ("eu", "application/json")
        harness.answer_target(f"https://{NAMESPACE}/orders/messages", Answer(403, body=b"<Error><Code>403</Code>"
                                                                                 b"<Detail>Quota exceeded.</Detail></Error>"))
        refused = await harness.request("POST", "/orders/new", body=b"x")
        assert refused.status == 502 and refused.text.endswith("answered 403: Quota exceeded.")
        assert refused.target_calls[0].headers.get("Content-Type") == "text/plain; charset=utf-8"
        bad = await harness.request("POST", "/orders/new", headers={"X-Ttl": "soon"}, body=b"x")
        assert bad.status == 502 and not bad.target_calls
        assert bad.text.split("|")[1:] == ["ExpressionValueEvaluationFailure",
                                           "message property TimeToLive 'soon' is not a positive number of seconds"]
