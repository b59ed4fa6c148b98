"""WebSocket APIs end to end: a real client, the real gateway on a real server, and a real WebSocket backend
in its own process (tests/support/websocket_server.py).

The handshake goes through the API's policies; after it, messages go both ways unchanged and close
codes pass through; bad handshakes, refusals and broken backends get a proper status or close code.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.gateway import RunningGateway, run_gateway, use_server

ROOT = Path(__file__).resolve().parents[2]

HANDSHAKE_POLICY = """<policies>
    <inbound>
        <base />
        <check-header name="X-Token" failed-check-httpcode="401" failed-check-error-message="No token" ignore-case="false">
            <value>let-me-in</value>
        </check-header>
        <set-header name="X-From-Gateway" exists-action="override"><value>@(context.Api.Id + "|" + context.Operation.Id + "|" + context.Request.OriginalUrl.Scheme)</value></set-header>
    </inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <set-header name="X-Handshake-Status" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>
    </outbound>
    <on-error><base /></on-error>
</policies>
"""

LIMITED_POLICY = """<policies>
    <inbound><base /><rate-limit-by-key calls="1" renewal-period="60" counter-key="@(context.Api.Id)" /></inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""

GRAPHQL_POLICY = """<policies>
    <inbound>
        <base />
        <set-header name="X-Operation" exists-action="override"><value>@(context.Operation.Id)</value></set-header>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""
SHORT_TIMEOUT_POLICY = """<policies>
    <inbound><base /></inbound>
    <backend><forward-request timeout="1" /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""
POLICIES = {"handshake.xml": HANDSHAKE_POLICY, "limited.xml": LIMITED_POLICY, "graphql.xml": GRAPHQL_POLICY,
            "short.xml": SHORT_TIMEOUT_POLICY}


class WebSocketBackend:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}"

    def calls(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/calls", timeout=10) as answer:
            found: dict[str, Any] = json.loads(answer.read())
        return found

    def reset(self) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/reset", timeout=10).close()

@pytest.fixture(scope="module")
def ws_backend() -> Iterator[WebSocketBackend]:
    process = subprocess.Popen([sys.executable, "-m", "tests.support.websocket_server"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield WebSocketBackend(int(process.stdout.readline()))
    finally:
        process.terminate()
        process.wait(10)

def config(backend_url: str, silent_port: int = 9) -> dict[str, Any]:
    def api(path: str, **extra: Any) -> dict[str, Any]:
        return {"path": path, "service-url": f"{backend_url}/{path}", "subscription-required": False,
                "websocket": extra.pop("websocket", {}), **extra}

    return {"apis": {
        "echo": api("echo", policy="handshake.xml"),
        "hello": api("hello"),
        "refuse": api("refuse"),
        "close": api("close"),
        "die": api("die"),
        "flood": api("flood"),
        "graphql": api("graphql"),
        "small": {**api("echo"), "path": "small", "websocket": {"max-message-size": 1024}},
        "bigflood": {**api("flood"), "path": "bigflood", "websocket": {"max-message-size": 1024}},
        "idle": {**api("echo"), "path": "idle", "websocket": {"idle-timeout": 1}},
        # a backend that takes the connection and never answers the handshake
        "silent": {**api("echo", policy="short.xml"), "path": "silent", "service-url": f"ws://127.0.0.1:{silent_port}/x"},
        "limited": {**api("echo", policy="limited.xml"), "path": "limited"},
        "nowhere": {**api("echo"), "path": "nowhere", "service-url": "ws://127.0.0.1:9/echo"},
        "plain": {"path": "plain", "service-url": "http://127.0.0.1:9", "subscription-required": False},
        # a pass-through GraphQL API that also answers ws: subscriptions go to its service URL over WebSocket
        "people": {"path": "people", "service-url": backend_url.replace("ws://", "http://") + "/graphql",
                   "subscription-required": False, "graphql": {}, "protocols": ["http", "https", "ws", "wss"],
                   "policy": "graphql.xml"},
    }}

@pytest.fixture(scope="module")
def gateway(ws_backend: WebSocketBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    directory = tmp_path_factory.mktemp("ws")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens; never reads or answers
        with run_gateway(directory, config(ws_backend.url, silent.getsockname()[1]), POLICIES) as running:
            yield running

@pytest.fixture
def backend(ws_backend: WebSocketBackend) -> WebSocketBackend:
    ws_backend.reset()
    return ws_backend

def ws_url(gateway: RunningGateway, path: str) -> str:
    return gateway.url.replace("http://", "ws://") + path

def open_ws(gateway: RunningGateway, path: str, **kwargs: Any) -> ClientConnection:
    return connect(ws_url(gateway, path), open_timeout=10, close_timeout=5, **kwargs)

def test_messages_go_both_ways_unchanged_after_a_handshake_through_the_policies(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/echo?room=1", additional_headers={"X-Token": "let-me-in", "X-Custom": "kept"},
                 subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        assert ws.response is not None
        assert ws.response.headers["X-Backend"] == "websocket-test"  # the backend's handshake headers
        assert ws.response.headers["X-Handshake-Status"] == "101"  # outbound ran on the backend's 101
        ws.send("héllo")
        assert ws.recv(timeout=10) == "héllo"
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=10) == b"\x00\x01binary"
        big = "z" * 200_000
        ws.send(big)
        assert ws.recv(timeout=10) == big
    handshake = backend.calls()["handshakes"][-1]
    assert handshake["path"] == "/echo?room=1"
    assert handshake["headers"]["x-custom"] == "kept"
    assert handshake["headers"]["x-from-gateway"] == "echo|onHandshake|ws"
    assert handshake["headers"]["sec-websocket-protocol"] == "chat"

def test_a_policy_refuses_the_handshake_with_its_status_and_the_backend_is_not_called(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_ws(gateway, "/echo", additional_headers={"X-Token": "wrong"})
    assert refused.value.response.status_code == 401
    assert b"No token" in refused.value.response.body
    assert backend.calls()["handshakes"] == []

def test_rate_limit_on_the_handshake(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/limited") as ws:
        ws.send("one")
        assert ws.recv(timeout=10) == "one"
    with pytest.raises(InvalidStatus) as refused:
        open_ws(gateway, "/limited")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"]

def test_the_backend_refusal_is_the_answer(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_ws(gateway, "/refuse")
    answer = refused.value.response
    assert answer.status_code == 403
    assert answer.headers["X-Refused"] == "yes"
    assert answer.body == b"refused by the backend"

def test_an_unreachable_backend_is_a_502(gateway: RunningGateway) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_ws(gateway, "/nowhere")
    assert refused.value.response.status_code == 502

def test_a_backend_silent_past_forward_request_timeout_is_a_504(gateway: RunningGateway) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidStatus) as refused:
        open_ws(gateway, "/silent")
    assert refused.value.response.status_code == 504
    assert 0.9 <= time.monotonic() - started < 8


def test_close_codes_pass_through_both_ways(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/close?code=4001&reason=bye") as ws:
        ws.send("x")
        assert ws.recv(timeout=10) == "x"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "bye")

    ws = open_ws(gateway, "/echo", additional_headers={"X-Token": "let-me-in"})
    ws.send("y")
    assert ws.recv(timeout=10) == "y"
    ws.close(4002, "client-bye")
    deadline = time.monotonic() + 10
    while [4002, "client-bye"] not in backend.calls()["closes"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [4002, "client-bye"] in backend.calls()["closes"]

def test_a_backend_dying_mid_stream_closes_the_client_with_1014(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/die") as ws:
        ws.send("x")
        assert ws.recv(timeout=10) == "x"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1014

def test_a_message_over_the_limit_closes_with_1009(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/small") as ws:
        ws.send("a" * 1024)
        assert ws.recv(timeout=10) == "a" * 1024
        ws.send("a" * 1025)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

def test_a_backend_message_over_the_limit_closes_the_client_with_1009(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/bigflood?size=2048&total=4096") as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_an_idle_connection_is_closed_on_both_sides_with_1001(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/idle") as ws:
        ws.send("still here")
        assert ws.recv(timeout=10) == "still here"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        waited = time.monotonic() - started
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert 0.9 <= waited < 5
    deadline = time.monotonic() + 10
    while not any(code == 1001 for code, _ in backend.calls()["closes"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [1001, "The connection was idle too long"] in backend.calls()["closes"]


def test_graphql_subscription_over_graphql_transport_ws(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "graphql-transport-ws"
        ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { tick(n: 3) }"}}))
        received = [json.loads(ws.recv(timeout=10)) for _ in range(4)]
    assert [m["payload"]["data"]["tick"] for m in received[:3]] == [0, 1, 2]
    assert received[3] == {"id": "1", "type": "complete"}

def test_a_pass_through_graphql_api_relays_subscriptions_to_its_service_url(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/people", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "graphql-transport-ws"
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": "subscription { tick(n: 2) }"}}))
        assert [json.loads(ws.recv(timeout=10))["type"] for _ in range(3)] == ["next", "next", "complete"]
    handshake = backend.calls()["handshakes"][-1]
    assert handshake["path"] == "/graphql"
    assert handshake["headers"]["x-operation"] == "graphql-get"  # the handshake is the API's GET operation


def raw_exchange(gateway: RunningGateway, head: str) -> bytes:
    host, port = gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)

def test_bad_handshakes_get_a_proper_status(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with pytest.raises(InvalidStatus) as refused:
        open_ws(gateway, "/plain")  # an HTTP API: not routed over ws
    assert refused.value.response.status_code == 404
    plain = gateway.request("GET", "/hello")  # a WebSocket API over plain HTTP: not routed either
    assert plain.status == 404
    assert backend.calls()["handshakes"] == []


HANDSHAKE_HEAD = ("GET /hello HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


def test_the_native_server_refuses_bad_handshakes_before_any_policy(ws_backend: WebSocketBackend, tmp_path: Path) -> None:
    ws_backend.reset()
    with use_server("native"), run_gateway(tmp_path, config(ws_backend.url), POLICIES) as running:
        bad_key = raw_exchange(running, HANDSHAKE_HEAD.replace("dGhlIHNhbXBsZSBub25jZQ==", "not-a-key") + "\r\n")
        assert bad_key.startswith(b"HTTP/1.1 400 ")
        no_version = raw_exchange(running, HANDSHAKE_HEAD.replace("Sec-WebSocket-Version: 13\r\n", "") + "\r\n")
        assert no_version.startswith(b"HTTP/1.1 400 ")
        post = raw_exchange(running, HANDSHAKE_HEAD.replace("GET", "POST") + "Content-Length: 0\r\n\r\n")
        assert post.startswith(b"HTTP/1.1 405 ")
        old = raw_exchange(running, HANDSHAKE_HEAD.replace("HTTP/1.1", "HTTP/1.0") + "\r\n")
        assert old.startswith(b"HTTP/1.1 505 ")
        pipelined = raw_exchange(running, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n" + HANDSHAKE_HEAD + "\r\n")
        assert pipelined.startswith(b"HTTP/1.1 404 ")  # the first request's answer...
        assert b"HTTP/1.1 400 " in pipelined and b"must not be pipelined" in pipelined  # ...then the refusal
    assert ws_backend.calls()["handshakes"] == []


def test_a_slow_reader_stops_the_backend_instead_of_filling_the_gateway(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    total = 256 * 1024 * 1024
    with open_ws(gateway, f"/flood?size=65536&total={total}", max_size=None, max_queue=1) as ws:
        ws.recv(timeout=10)
        time.sleep(1.0)  # the client reads nothing more: every buffer on the way fills, then the backend waits
        first = backend.calls()["flooded"]
        time.sleep(1.0)
        second = backend.calls()["flooded"]
        assert second == first < 64 * 1024 * 1024  # stalled, with far less than `total` sent
        deadline = time.monotonic() + 20
        while backend.calls()["flooded"] == second and time.monotonic() < deadline:
            for _ in range(50):  # reading again drains the buffers on the way, then lets the backend go on
                assert len(ws.recv(timeout=10)) == 65536
    assert backend.calls()["flooded"] > second

def test_connections_and_messages_are_counted(gateway: RunningGateway, backend: WebSocketBackend) -> None:
    with open_ws(gateway, "/hello") as ws:
        json.loads(ws.recv(timeout=10))
        ws.send("ping")
        assert ws.recv(timeout=10) == "ping"
    deadline = time.monotonic() + 10
    while 'policygate_websocket_closes_total{api="hello",side="client"}' not in gateway.metrics() and time.monotonic() < deadline:
        time.sleep(0.05)
    metrics = gateway.metrics()
    assert 'policygate_websocket_connections_total{api="hello"}' in metrics
    assert 'policygate_websocket_messages_total{api="hello",direction="backend-to-client"}' in metrics
    assert 'policygate_requests_total{api="hello",operation="onHandshake",status="101"}' in metrics
    assert 'policygate_websocket_closes_total{api="hello",side="client"}' in metrics



@pytest.mark.every_server
def test_every_server_relays_refuses_and_passes_close_codes(ws_backend: WebSocketBackend, tmp_path: Path, http_server: str) -> None:
    ws_backend.reset()
    with run_gateway(tmp_path, config(ws_backend.url), POLICIES) as running:
        with open_ws(running, "/echo", additional_headers={"X-Token": "let-me-in"}, subprotocols=["chat"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "chat"
            assert ws.response is not None
            # Granian sends no header of the app's accept (docs/gateway.md, "WebSocket APIs")
            assert ws.response.headers.get("X-Backend") == (None if http_server == "granian" else "websocket-test")
            ws.send("text")
            assert ws.recv(timeout=10) == "text"
            ws.send(b"\xffbytes")
            assert ws.recv(timeout=10) == b"\xffbytes"
        with pytest.raises(InvalidStatus) as refused:
            open_ws(running, "/echo")
        assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus) as refused:
            open_ws(running, "/refuse")
        assert refused.value.response.status_code == 403
        with open_ws(running, "/close?code=4001&reason=bye") as ws:
            ws.send("x")
            assert ws.recv(timeout=10) == "x"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "bye")


def test_native_server_shutdown_closes_relayed_connections_with_1001(ws_backend: WebSocketBackend, tmp_path: Path) -> None:
    ws_backend.reset()
    with use_server("native"):
        running = run_gateway(tmp_path, config(ws_backend.url), POLICIES)
        with running as gateway:
            ws = open_ws(gateway, "/hello")
            json.loads(ws.recv(timeout=10))
            started = time.monotonic()
        # leaving the block stopped the gateway: it said goodbye instead of cutting the connection
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        ws.close()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert time.monotonic() - started < 10  # the relay ended: the graceful shutdown did not wait for it
    deadline = time.monotonic() + 10
    while [1001, "The gateway is shutting down"] not in ws_backend.calls()["closes"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [1001, "The gateway is shutting down"] in ws_backend.calls()["closes"]


@pytest.mark.every_server
def test_wss_on_a_tls_gateway_port(ws_backend: WebSocketBackend, tmp_path: Path) -> None:
    """Over TLS the handshake's scheme is wss: a wss-only API answers it (and is not reached over ws)."""
    from tests.gateway.test_tls import self_signed

    ws_backend.reset()
    self_signed(tmp_path)
    settings = {"server": {"tls": {"certfile": "cert.pem", "keyfile": "key.pem"}},
                "apis": {"secure": {"path": "secure", "service-url": f"{ws_backend.url}/hello", "subscription-required": False,
                                    "websocket": {}, "protocols": ["wss"], "policy": "graphql.xml"}}}
    with run_gateway(tmp_path, settings, POLICIES) as running:
        trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        url = running.url.replace("https://", "wss://") + "/secure"
        with connect(url, ssl=trust, open_timeout=10) as ws:
            hello = json.loads(ws.recv(timeout=10))
            ws.send("over tls")
            assert ws.recv(timeout=10) == "over tls"
    assert hello["headers"]["x-operation"] == "onHandshake"
