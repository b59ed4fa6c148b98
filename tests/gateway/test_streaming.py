"""Streaming responses: chunks pass through unbuffered, and body observers see them as they pass."""

from __future__ import annotations

import socket
import threading
import time

from engine.context import Context
from engine.policy import observe_response_body
from tests.gateway.conftest import document
from tests.support.gateway import simple_config


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
