"""Streaming responses: chunks pass through unbuffered, and body observers see them as they pass."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from engine.context import Context
from engine.policy import observe_response_body
from engine.sse import SseDecoder
from tests.gateway.conftest import document
from tests.support.gateway import run_gateway, simple_config
from tests.support.openai_server import run_openai_server


class Recorder:
    """A BodyObserver that keeps what it saw (the test reads it from its own thread)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.complete: bool | None = None
        self.done = threading.Event()

    def chunk(self, data: bytes) -> None:
        self.chunks.append(data)

    async def finished(self, ctx: Context, complete: bool) -> None:
        self.complete = complete
        self.done.set()


class Failing(Recorder):
    def chunk(self, data: bytes) -> None:
        raise RuntimeError("observer bug")


def watch(gw, *observers: Recorder) -> None:
    def on_request(ctx: Context) -> None:
        for observer in observers:
            observe_response_body(ctx, observer)

    gw.server.app.gateway.on_request = on_request


def test_observer_sees_streamed_chunks_before_the_backend_finishes(gateway, backend) -> None:
    recorder, failing = Recorder(), Failing()
    with gateway(simple_config()) as gw:
        watch(gw, failing, recorder)
        host, port = gw.url.split("://")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /echo/stream HTTP/1.1\r\nHost: x\r\nX-Test-Hold: 1\r\nConnection: close\r\n\r\n")
            received = b""
            while b"first chunk" not in received:
                data = sock.recv(65536)
                assert data, "connection closed before the first chunk"
                received += data
            assert b"".join(recorder.chunks) == b"first chunk\n"  # seen as it passed, nothing buffered
            assert recorder.complete is None
            backend.released.set()
            while data := sock.recv(65536):
                received += data
        assert recorder.done.wait(10)
    assert recorder.complete is True
    assert b"".join(recorder.chunks) == b"first chunk\nthe rest\n"
    assert b"the rest" in received
    assert failing.complete is None  # a failing observer is dropped: not shown more, not finished


def test_observer_sees_a_buffered_or_policy_made_body_as_one_chunk(gateway, backend) -> None:
    policy = document(inbound='<return-response><set-status code="418" /><set-body>short and stout</set-body></return-response>')
    for config, expected in ((simple_config(), None), (simple_config(api_policy="api.xml"), b"short and stout")):
        recorder = Recorder()
        with gateway(config, {"api.xml": policy}) as gw:
            watch(gw, recorder)
            answer = gw.get("/echo/one")
            assert recorder.done.wait(10)
        assert recorder.complete is True and len(recorder.chunks) == 1
        assert recorder.chunks[0] == (expected or answer.body)


def test_head_answer_shows_no_chunk(gateway, backend) -> None:
    recorder = Recorder()
    with gateway(simple_config()) as gw:
        watch(gw, recorder)
        started = time.monotonic()
        assert gw.request("HEAD", "/echo/x").status == 200
        assert recorder.done.wait(10 - (time.monotonic() - started))
    assert recorder.chunks == [] and recorder.complete is True


class UsageWatcher(Recorder):
    """What a token-counting policy does: decode the events as they pass, keep the last `usage`."""

    def __init__(self) -> None:
        super().__init__()
        self.decoder = SseDecoder()
        self.usage: dict[str, int] | None = None
        self.first_event_at = 0.0

    def chunk(self, data: bytes) -> None:
        for event in self.decoder.feed(data):
            self.first_event_at = self.first_event_at or time.monotonic()
            if event.data != "[DONE]" and (usage := json.loads(event.data).get("usage")):
                self.usage = usage


@pytest.mark.every_server
def test_server_sent_events_reach_the_client_while_the_backend_is_still_sending(tmp_path: Path) -> None:
    chat = {"model": "m", "messages": [{"role": "user", "content": "one two three"}], "stream": True,
            "stream_options": {"include_usage": True}}
    body = json.dumps(chat).encode()
    with run_openai_server("sse") as llm:
        config = {"apis": {"llm": {"path": "llm", "service-url": llm.url, "subscription-required": False,
                                   "policy": "api.xml"}}}
        watcher = UsageWatcher()
        with run_gateway(tmp_path, config, {"api.xml": document(backend='<forward-request buffer-response="false" />')}) as gw:
            watch(gw, watcher)
            host, port = gw.url.split("://")[1].split(":")
            with socket.create_connection((host, int(port)), timeout=20) as sock:
                sock.sendall(b"POST /llm/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             b"x-test-chunk-delay: 0.3\r\nx-test-completion-tokens: 6\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                received, first_event = b"", 0.0
                while data := sock.recv(65536):
                    received += data
                    if not first_event and b"data: " in received:
                        first_event = time.monotonic()
                done = time.monotonic()
            assert watcher.done.wait(10)
    head, _, _ = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head.lower()
    assert b"data: [DONE]" in received
    # The backend spends 6 x 0.3 s between its events: a buffered answer would arrive all at once.
    assert done - first_event > 1.0
    assert watcher.complete is True and watcher.usage == {"prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9}
    assert done - watcher.first_event_at > 1.0  # the observer saw the first event as early as the client
