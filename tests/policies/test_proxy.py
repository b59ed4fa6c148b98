"""<proxy> against a real forward proxy process (tests/support/http_proxy.py) and a real echo backend."""

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


class ProxyProcess:
    def __init__(self, credentials: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.http_proxy", credentials], cwd=ROOT,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def calls(self) -> list[dict[str, object]]:
        with urllib.request.urlopen(f"{self.url}/calls", timeout=5) as answer:
            result: list[dict[str, object]] = json.loads(answer.read())["calls"]
            return result

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(5)


@pytest.fixture(scope="module")
def proxy() -> Iterator[ProxyProcess]:
    process = ProxyProcess("gw:s3cret")
    yield process
    process.stop()


def document(inbound: str) -> str:
    return (f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend>"
            "<outbound><base /></outbound><on-error><base /></on-error></policies>")


class TestSchema:
    def test_url_required_and_http_only(self) -> None:
        assert codes("<proxy />") == ["policy-missing-attribute"]
        assert codes('<proxy url="https://proxy:443" />') == ["policy-bad-value"]
        assert codes('<proxy url="http://proxy:3128" username="u" password="p" />') == []
        assert "policy-not-allowed-in-section" in codes('<proxy url="http://proxy:3128" />', "outbound")


def test_forward_request_goes_through_the_proxy(api_gateway, backend, proxy: ProxyProcess) -> None:
    before = len(proxy.calls())
    policy = document(f'<proxy url="{proxy.url}" username="gw" password="@(&quot;s3&quot; + &quot;cret&quot;)" />')
    with api_gateway(policy) as gw:
        answer = gw.request("POST", "/echo/items?x=1", body=b"hello")
    assert answer.status == 200
    echoed = answer.json()
    assert echoed["path"] == "/items" and echoed["body"] == "hello"
    assert not any(name.lower().startswith("proxy-") for name in echoed["headers"])  # credentials stop at the proxy
    call = proxy.calls()[before]
    assert call == {"method": "POST", "target": f"{backend.url}/items?x=1", "authorized": True}


def test_wrong_credentials_are_refused_by_the_proxy(api_gateway, backend, proxy: ProxyProcess) -> None:
    before = len(proxy.calls())
    with api_gateway(document(f'<proxy url="{proxy.url}" username="gw" password="wrong" />')) as gw:
        answer = gw.get("/echo/x")
    assert answer.status == 407 and not backend.requests
    assert proxy.calls()[before]["authorized"] is False


def test_send_request_child(api_gateway, backend, proxy: ProxyProcess) -> None:
    before = len(proxy.calls())
    inbound = f"""<send-request mode="new" response-variable-name="r" timeout="10">
        <set-url>{backend.url}/side</set-url><proxy url="{proxy.url}" username="gw" password="s3cret" /></send-request>
      <set-header name="X-Side" exists-action="override"><value>@(((IResponse)context.Variables["r"]).StatusCode.ToString())</value></set-header>"""
    with api_gateway(document(inbound)) as gw:
        answer = gw.get("/echo/main")
    assert answer.status == 200 and answer.json()["headers"].get("x-side") == "200"
    targets = [c["target"] for c in proxy.calls()[before:]]
    assert targets == [f"{backend.url}/side"]  # only the send-request went through the proxy


def test_unreachable_proxy_is_a_502(api_gateway, backend) -> None:
    with api_gateway(document('<proxy url="http://127.0.0.1:9" />')) as gw:
        answer = gw.get("/echo/x")
    assert answer.status == 502 and not backend.requests


def test_https_backend_is_reached_through_a_connect_tunnel(tmp_path: Path, proxy: ProxyProcess) -> None:
    """A gateway process (trusting a throwaway CA through SSL_CERT_FILE) calls an HTTPS origin via CONNECT."""
    import os

    from tests.gateway.test_tls import self_signed
    from tests.support.gateway import http_request, run_gateway, simple_config, write_config
    from tests.support.serving import serve_process

    origin_dir, front_dir = tmp_path / "origin", tmp_path / "front"
    origin_dir.mkdir()
    front_dir.mkdir()
    certfile, _ = self_signed(origin_dir)
    answer_policy = ('<policies><inbound><return-response><set-status code="200" reason="OK" />'
                     '<set-body>@("secure " + context.Request.Url.Path)</set-body></return-response></inbound></policies>')
    origin_config = simple_config(api_policy="origin.xml", server={"tls": {"certfile": "cert.pem", "keyfile": "key.pem"}},
                                  **{"named-values": {"backend-url": "http://127.0.0.1:9"}})
    before = len(proxy.calls())
    with run_gateway(origin_dir, origin_config, {"origin.xml": answer_policy}) as origin:
        front = write_config(front_dir, {
            "apis": {"a": {"path": "a", "service-url": origin.url + "/echo", "subscription-required": False,
                           "policy": "api.xml"}}},
            {"api.xml": document(f'<proxy url="{proxy.url}" username="gw" password="s3cret" />')}, None)
        with serve_process(front, env={**os.environ, "SSL_CERT_FILE": str(certfile)}) as served:
            answer = http_request(served.url, "GET", "/a/tunnel", timeout=30)
    assert answer.status == 200 and answer.body == b"secure /tunnel"
    origin_port = origin.url.rsplit(":", 1)[1]
    assert proxy.calls()[before:] == [{"method": "CONNECT", "target": f"127.0.0.1:{origin_port}", "authorized": True}]
