"""forward-request's own HTTP/1.1 client (engine/gateway/http1.py) against a raw backend process
(tests/support/raw_http_server.py) that drops keep-alive connections, sends malformed answers,
trickles bytes, frames bodies every way and sends large ones."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.gateway.backend import parsed_target
from engine.gateway.http1 import HIGH_WATER, Http1Pool, ReleaseOnDrop, _head
from tests.gateway.conftest import document
from tests.support.certificates import TestPki
from tests.support.gateway import simple_config
from tests.support.raw_http_server import connections, serving


@pytest.fixture(scope="module")
def raw_backend() -> Iterator[str]:
    with serving() as port:
        yield f"http://127.0.0.1:{port}"


def config(url: str, **extra: Any) -> dict[str, Any]:
    settings = simple_config(**extra)
    settings["apis"]["echo"]["service-url"] = url
    return settings


def test_keep_alive_connections_are_reused(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        before = connections(raw_backend)
        bodies = [gw.get("/echo/ok").text for _ in range(5)]
        assert connections(raw_backend) - before == 1
        assert bodies == [f"c{before + 1} r{n}" for n in range(1, 6)]


def test_a_dropped_idle_connection_is_retried_once_for_an_idempotent_request_only(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        before = connections(raw_backend)
        assert gw.get("/echo/stale").status == 200  # a new connection, kept
        again = gw.get("/echo/stale")  # sent on it, dropped unanswered: sent once more on a new one
        assert again.status == 200 and again.text == f"c{before + 2} r1"
        posted = gw.request("POST", "/echo/stale", body=b"not twice")  # the same on a POST: not sent again
        assert posted.status == 502
        assert posted.json()["message"].endswith("The response ended prematurely.")
        assert connections(raw_backend) - before == 2


def test_connection_close_is_honoured(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        before = connections(raw_backend)
        assert [gw.get("/echo/close").text for _ in range(3)] == ["closing"] * 3
        assert gw.get("/echo/ok").status == 200
        assert connections(raw_backend) - before == 4


@pytest.mark.parametrize("path", ["/echo/malformed", "/echo/garbage"])
def test_a_malformed_answer_is_502_without_internals(gateway, raw_backend, path: str) -> None:
    with gateway(config(raw_backend)) as gw:
        answer = gw.get(path)
        assert answer.status == 502
        assert answer.json()["message"] == ("Error occurred while calling backend service: "
                                            "The server returned an invalid or unrecognized response.")
        assert gw.get("/echo/ok").status == 200  # the broken connection was not kept


def test_trickled_bytes_make_one_answer_and_the_timeout_covers_a_slow_head(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        answer = gw.get("/echo/trickle?ms=2")
        assert answer.status == 200 and answer.text == "slowly but surely"
        assert answer.headers.get("X-Trickled") == "yes"
    policy = document(backend='<forward-request timeout="1" />')
    with gateway(config(raw_backend, api_policy="api.xml"), {"api.xml": policy}) as gw:
        slow = gw.get("/echo/trickle?ms=40")  # the head alone takes about 1.3 s
        assert slow.status == 504 and "timed out after 1 seconds" in slow.json()["message"]


@pytest.mark.parametrize("path", ["/echo/large?mb=8", "/echo/large-chunked?mb=8"])
def test_large_bodies_stream_through_whatever_their_framing(gateway, raw_backend, path: str) -> None:
    expected = hashlib.sha256(bytes(range(256)) * 256 * 16 * 8).hexdigest()
    with gateway(config(raw_backend)) as gw:
        answer = gw.get(path)
        assert answer.status == 200 and len(answer.body) == 8 * 1024 * 1024
        assert hashlib.sha256(answer.body).hexdigest() == expected
        assert "Transfer-Encoding" not in answer.headers or "large-chunked" in path  # the gateway's own framing
        assert gw.get("/echo/ok").status == 200


def test_a_body_ended_by_closing_is_complete(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        answer = gw.get("/echo/until-close")
        assert answer.status == 200 and answer.text == "part 0;part 1;part 2;part 3;part 4;"


def test_a_truncated_body_is_an_error_never_a_short_success(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        small = gw.get("/echo/truncated?length=5000")  # read at once: the failure becomes a 502
        assert small.status == 502
        assert small.json()["message"] == ("Error occurred while reading the backend response: "
                                           "The response ended prematurely.")
        with pytest.raises(http.client.IncompleteRead):  # streamed: the client's answer is cut short too
            gw.get("/echo/truncated?length=500000")


def test_interim_answers_are_skipped_and_head_is_framed_by_its_method(gateway, raw_backend) -> None:
    with gateway(config(raw_backend)) as gw:
        answer = gw.get("/echo/interim")
        assert answer.status == 200 and answer.text == "final" and "Link" not in answer.headers
        head = gw.request("HEAD", "/echo/head")
        assert head.status == 200 and head.body == b"" and head.headers.get("Content-Length") == "1000"
        assert len(gw.get("/echo/head").body) == 1000


def test_request_framing_and_headers(gateway, raw_backend) -> None:
    upload = bytes(range(256)) * 4096  # 1 MiB, streamed to the backend with its Content-Length
    with gateway(config(raw_backend)) as gw:
        posted = gw.request("POST", "/echo/echo", body=upload, headers={"X-Custom": "a", "Connection": "X-Custom"})
        echoed = posted.json()
        assert echoed["length"] == len(upload) and echoed["sha256"] == hashlib.sha256(upload).hexdigest()
        names = [line.split(":", 1)[0].lower() for line in echoed["headers"]]
        assert names.count("host") == 1 and names.count("content-length") == 1
        assert "x-custom" not in names and "connection" not in names and "transfer-encoding" not in names
        assert f"Host: {raw_backend.split('//')[1]}" in echoed["headers"]
        empty = gw.request("DELETE", "/echo/echo").json()
        assert "Content-Length: 0" in empty["headers"]
        got = gw.get("/echo/echo").json()
        assert not any(line.lower().startswith(("content-length", "transfer-encoding")) for line in got["headers"])


@pytest.fixture(scope="module")
def tls_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    pki = TestPki(tmp_path_factory.mktemp("pki"))
    server = pki.issue("localhost", server=True)
    with serving(server.cert_file, server.key_file) as port:
        yield f"https://localhost:{port}", pki.ca_file


def test_https_connections_are_verified_and_kept(gateway, tls_backend, monkeypatch) -> None:
    url, ca_file = tls_backend
    with gateway(config(url)) as gw:  # the test CA is not trusted: no connection
        refused = gw.get("/echo/ok")
        assert refused.status == 502
        assert refused.json()["message"].endswith("The SSL connection could not be established, see inner exception.")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with gateway(config(url)) as gw:  # `localhost` resolves to ::1 too, where nothing listens: the next address
        first, second = gw.get("/echo/ok").text, gw.get("/echo/ok").text
        assert first.split()[0] == second.split()[0] and second.endswith("r2")  # one kept TLS connection


def test_reading_pauses_while_the_reader_is_slow_and_the_pool_bounds_connections(raw_backend) -> None:
    """The client on its own: a body nobody reads is not buffered beyond HIGH_WATER; with
    max_connections=1 a second request waits for the first one's connection (then reuses it); a
    body stream dropped unread gives its place back."""

    async def scenario() -> None:
        pool = Http1Pool(max_connections=1, connect_timeout=5)
        try:
            before = connections(raw_backend)  # a blocking call, before any load on the loop
            large = await pool.request("GET", *parsed_target(f"{raw_backend}/large?mb=32"), [], None, timeout=10)
            waiting = asyncio.ensure_future(pool.request("GET", *parsed_target(f"{raw_backend}/ok"), [], None, timeout=10))
            await asyncio.sleep(0.5)
            assert large._buffered <= HIGH_WATER + 256 * 1024  # reading paused; the rest waits in the socket
            assert not waiting.done()  # the only connection is busy
            size = 0
            async for chunk in large.chunks():
                size += len(chunk)
            assert size == 32 * 1024 * 1024
            second = await waiting
            assert (await second.read()).endswith(b"r2")  # the same connection, now free
            with pytest.raises(TimeoutError):  # no answer within the deadline
                await pool.request("GET", *parsed_target(f"{raw_backend}/trickle?ms=50"), [], None, timeout=0.3)
            assert await asyncio.to_thread(connections, raw_backend) - before == 1  # all three on one connection
            dropped = await pool.request("GET", *parsed_target(f"{raw_backend}/large?mb=32"), [], None, timeout=10)
            unread = dropped.chunks(ReleaseOnDrop(dropped))  # never started: the client left before the body
            del dropped, unread
            after = await pool.request("GET", *parsed_target(f"{raw_backend}/ok"), [], None, timeout=5)
            assert (await after.read()).endswith(b"r1")  # the only slot came back; its connection was closed
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_small_complete_answer_leaves_in_one_body_message_a_large_one_streams(raw_backend, tmp_path) -> None:
    """What the gateway hands the ASGI server: a small answer that arrived whole is one body
    message with its Content-Length; a large one goes out chunk by chunk as it arrives."""
    from engine.gateway.config import load_settings
    from engine.gateway.runner import GatewayServer

    (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config(raw_backend)))
    server = GatewayServer(load_settings(tmp_path / "gateway.yaml"), admin_port=False)
    server.prepare()

    async def messages(path: str, query: bytes = b"") -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": query, "headers": [(b"host", b"gateway.test")],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080)}
        assert server.app is not None
        await server.app.gateway.handle(scope, receive, send)
        return sent

    async def scenario() -> None:
        assert server.services is not None
        await server.services.start()
        try:
            start, body = await messages("/echo/ok")
            assert start["status"] == 200 and (b"content-length", str(len(body["body"])).encode()) in start["headers"]
            assert body["body"].startswith(b"c") and not body.get("more_body")
            streamed = await messages("/echo/large", b"mb=1")
            assert len(streamed) > 3 and all(m.get("more_body") for m in streamed[1:-1])
            assert sum(len(m["body"]) for m in streamed[1:]) == 1024 * 1024
        finally:
            await server.services.close()

    asyncio.run(scenario())


def test_a_send_request_never_waits_for_the_connection_of_a_streaming_forward(gateway, raw_backend) -> None:
    """With `backend.max-connections: 1`, a forward-request streaming its answer holds its only
    connection until the answer is sent; an outbound send-request has a pool of its own."""
    outbound = f"""<base />
        <send-request response-variable-name="side" timeout="5"><set-url>{raw_backend}/ok</set-url></send-request>
        <set-header name="X-Side" exists-action="override"><value>@(((IResponse)context.Variables["side"]).StatusCode.ToString())</value></set-header>"""
    settings = config(raw_backend, api_policy="api.xml", backend={"max-connections": 1})
    with gateway(settings, {"api.xml": document(outbound=outbound)}) as gw:
        answer = gw.get("/echo/large?mb=2")
        assert answer.status == 200 and len(answer.body) == 2 * 1024 * 1024
        assert answer.headers.get("X-Side") == "200"


def test_the_request_head_refuses_exactly_the_control_characters() -> None:
    """Every control character but HTAB, in a header name or value, the path or the Host value, is refused
    (a CR LF would start a new header); every other character, UTF-8 included, is sent."""
    for code in range(0x100):
        char = chr(code)
        control = code < 0x20 and char != "\t" or code == 0x7F
        for name, value, path, authority in ((f"X-{char}", "v", "/", "h"), ("X", f"a{char}b", "/", "h"),
                                             ("X", "v", f"/{char}", "h"), ("X", "v", "/", f"h{char}")):
            try:
                head, _ = _head("GET", path, authority, [(name, value)], None)
            except ValueError:
                assert control, repr(char)
            else:
                assert not control, repr(char)
                assert f"{name}: {value}\r\n".encode("latin-1") in head
    for value, encoding in (("é", "latin-1"), ("\xc3\xa9", "latin-1"), ("\u2603", "utf-8"), ("a\tb", "latin-1")):
        expected = f"X: {value}\r\nContent-Length: 1\r\n\r\n".encode(encoding)
        assert _head("POST", "/", "h", [("X", value)], b"x")[0].endswith(expected)


def test_header_bytes_reach_the_backend_unchanged(gateway, raw_backend) -> None:
    """The client's header bytes (here UTF-8 "é", C3 A9) are decoded as latin-1 by the server and sent
    to the backend as the same bytes (they were re-encoded as UTF-8: C3 83 C2 A9)."""
    with gateway(config(raw_backend)) as gw:
        echoed = gw.get("/echo/echo", headers={"X-In": "\xc3\xa9"}).json()
    assert [line[6:] for line in echoed["headers"] if line.lower().startswith("x-in: ")] == ["\xc3\xa9"], echoed["headers"]
