"""publish-to-dapr and invoke-dapr-binding against a Dapr sidecar stand-in speaking daprd's HTTP API
(tests/support/dapr_sidecar.py, its own process) and a real echo backend."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.policies.support import codes

ROOT = Path(__file__).resolve().parents[2]


class Sidecar:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.dapr_sidecar"], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def calls(self) -> list[dict[str, str]]:
        with urllib.request.urlopen(f"{self.url}/calls", timeout=5) as answer:
            result: list[dict[str, str]] = json.loads(answer.read())["calls"]
            return result


@pytest.fixture(scope="module")
def sidecar() -> Iterator[Sidecar]:
    process = Sidecar()
    yield process
    process.process.terminate()
    process.process.wait(5)


def document(inbound: str) -> str:
    return (f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend><outbound><base /></outbound>"
            "<on-error><base /><set-header name=\"X-Error\" exists-action=\"override\">"
            "<value>@(context.LastError.Reason + \": \" + context.LastError.Message)</value></set-header></on-error></policies>")


STATUS = '<set-header name="X-Dapr" exists-action="override"><value>@{{ var r = (IResponse)context.Variables["{0}"]; ' \
         'return r == null ? "null" : r.StatusCode + " " + r.Body.As<string>(); }}</value></set-header>'


class TestSchema:
    def test_pubsub_or_slash_form(self) -> None:
        assert codes('<publish-to-dapr topic="orders">x</publish-to-dapr>') == ["policy-missing-attribute"]
        assert codes('<publish-to-dapr topic="pubsub/orders">x</publish-to-dapr>') == []
        assert codes('<invoke-dapr-binding name="b" timeout="300" />') == ["policy-bad-value"]


def test_publish(api_gateway, backend, sidecar: Sidecar) -> None:
    before = len(sidecar.calls())
    inbound = ('<publish-to-dapr pubsub-name="pubsub" topic="@(&quot;orders&quot;)" response-variable-name="r">'
               '@(new JObject(new JProperty("path", context.Request.Url.Path)).ToString())</publish-to-dapr>'
               '<publish-to-dapr topic="pubsub/audit" content-type="text/plain">plain text</publish-to-dapr>'
               + STATUS.format("r"))
    with api_gateway(document(inbound), dapr={"endpoint": sidecar.url}) as gw:
        echoed = gw.get("/echo/items/1").json()
    assert echoed["headers"]["x-dapr"].strip() == "204"
    first, second = sidecar.calls()[before:]
    assert first["path"] == "/v1.0/publish/pubsub/orders" and first["content_type"] == "application/json"
    assert json.loads(first["body"]) == {"path": "/items/1"}
    assert second == {"path": "/v1.0/publish/pubsub/audit", "content_type": "text/plain", "body": "plain text",
                      "token": None}


def test_publish_errors(api_gateway, backend, sidecar: Sidecar) -> None:
    inbound = '<publish-to-dapr pubsub-name="missing" topic="t">{}</publish-to-dapr>'
    ignored = ('<publish-to-dapr pubsub-name="missing" topic="t" ignore-error="true" response-variable-name="r">{}'
               '</publish-to-dapr>' + STATUS.format("r"))
    with api_gateway(document(inbound), dapr={"endpoint": sidecar.url}) as gw:
        failed = gw.get("/echo/x")
    assert failed.status == 500
    assert failed.headers.get("X-Error", "").startswith("DaprError: Dapr answered 404: ")
    assert "ERR_PUBSUB_NOT_FOUND" in failed.headers.get("X-Error", "")
    with api_gateway(document(ignored), dapr={"endpoint": sidecar.url}) as gw:
        assert gw.get("/echo/x").json()["headers"]["x-dapr"].startswith("404 ")
    with api_gateway(document(inbound.replace('topic="t"', 'topic="t" timeout="1"')),
                     dapr={"endpoint": "http://127.0.0.1:9"}) as gw:  # no sidecar at all
        unreachable = gw.get("/echo/x")
    assert unreachable.status == 500 and "BackendConnectionFailure" in unreachable.headers.get("X-Error", "")


def test_invoke_binding(api_gateway, backend, sidecar: Sidecar) -> None:
    before = len(sidecar.calls())
    inbound = ('<invoke-dapr-binding name="echo" operation="create" response-variable-name="r">'
               '<metadata><item key="ttlInSeconds">60</item><item key="path">@(context.Request.Url.Path)</item></metadata>'
               '<data>{"order": 7}</data></invoke-dapr-binding>' + STATUS.format("r"))
    with api_gateway(document(inbound), dapr={"endpoint": sidecar.url}) as gw:
        echoed = gw.get("/echo/orders").json()
    status, _, body = echoed["headers"]["x-dapr"].partition(" ")
    assert status == "200" and json.loads(body) == {"data": {"order": 7}, "operation": "create"}
    call = sidecar.calls()[before]
    assert call["path"] == "/v1.0/bindings/echo"
    assert json.loads(call["body"]) == {"data": {"order": 7}, "metadata": {"ttlInSeconds": "60", "path": "/orders"},
                                        "operation": "create"}


def test_invoke_binding_liquid_and_failure(api_gateway, backend, sidecar: Sidecar) -> None:
    before = len(sidecar.calls())
    inbound = ('<invoke-dapr-binding name="echo" template="liquid"><data>hello {{context.Request.Method}}</data>'
               '</invoke-dapr-binding><invoke-dapr-binding name="broken"><data>x</data></invoke-dapr-binding>')
    with api_gateway(document(inbound), dapr={"endpoint": sidecar.url}) as gw:
        failed = gw.get("/echo/x")
    assert failed.status == 500 and "ERR_INVOKE_OUTPUT_BINDING" in failed.headers.get("X-Error", "")
    assert json.loads(sidecar.calls()[before]["body"]) == {"data": "hello GET"}
