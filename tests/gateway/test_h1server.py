"""The native HTTP/1.1 server over raw sockets, in its own process (tests/support/h1_test_server.py).

Pipelining, keep-alive and its idle close, the header-read timeout (slowloris), head limits,
malformed requests, chunked bodies trickled in, `Expect: 100-continue`, client disconnects
mid-body and mid-response, a large response to a slow reader (bounded buffering), HTTP/1.0, HEAD,
`Upgrade: h2c` and the server's whole-response message. The server process runs with keep-alive 2 s and header read 1 s.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_server() -> tuple[subprocess.Popen[str], tuple[str, int]]:
    process = subprocess.Popen([sys.executable, "-m", "tests.support.h1_test_server"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, ("127.0.0.1", int(process.stdout.readline()))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    process, address = start_server()
    try:
        yield address
    finally:
        process.terminate()
        process.wait(10)


def connect(address: tuple[str, int], timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def read_response(stream: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One response (status, lower-cased headers, decoded body) from a buffered socket file."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(status_line[9:12])
    if "content-length" in headers:
        body = stream.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        parts = []
        while (size := int(stream.readline().split(b";")[0], 16)) > 0:
            parts.append(stream.read(size))
            stream.readline()
        stream.readline()
        body = b"".join(parts)
    else:
        body = stream.read()
    return status, headers, body


def exchange(address: tuple[str, int], request: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """Send raw bytes, read one response; also whether the server then closed the connection."""
    with connect(address) as sock, sock.makefile("rb") as stream:
        sock.sendall(request)
        status, headers, body = read_response(stream)
        sock.settimeout(3)
        closed = stream.read(1) == b""
    return status, headers, body, closed


def stats(address: tuple[str, int]) -> dict[str, int]:
    return json.loads(exchange(address, b"GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")[2])


def wait_for(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def settled(read: Callable[[], int], quiet: float = 0.3, timeout: float = 10.0) -> int:
    """The value of `read()` once it is above 0 and has not changed for `quiet` seconds: the app
    is held in `send` (on a busy machine it may take far longer than `quiet` to get there)."""
    deadline = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while value == 0 or time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, f"still moving after {timeout} s: {value}"
        time.sleep(0.05)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
    return value


def test_scope_fields_as_the_gateway_reads_them(server) -> None:
    status, headers, body, closed = exchange(
        server, b"GET /echo/a%20b/c%2Fd?x=1&y=%20 HTTP/1.1\r\nHost: t\r\nX-Mixed-Case: V\r\nConnection: close\r\n\r\n")
    seen = json.loads(body)
    assert status == 200 and closed and headers["connection"] == "close"
    assert (seen["method"], seen["path"], seen["raw_path"]) == ("GET", "/echo/a b/c/d", "/echo/a%20b/c%2Fd")
    assert (seen["query_string"], seen["http_version"], seen["scheme"], seen["root_path"]) == ("x=1&y=%20", "1.1", "http", "")
    assert ["x-mixed-case", "V"] in seen["headers"]
    assert seen["client"][0] == "127.0.0.1" and seen["server"] == list(server)


def test_pipelined_requests_are_answered_in_order(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /slow?s=0.3 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"POST /echo/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                     b"GET /echo/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        first, second, third = read_response(stream), read_response(stream), read_response(stream)
        assert stream.read(1) == b""
    assert first[2] == b"slow"
    assert json.loads(second[2])["path"] == "/echo/2" and json.loads(second[2])["body_length"] == 3
    assert json.loads(third[2])["path"] == "/echo/3"


def test_pipelined_requests_then_a_half_close_are_all_answered(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /slow?s=0.2 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/2 HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)  # as `nc -N` does: nothing more to send
        assert read_response(stream)[2] == b"slow"
        assert json.loads(read_response(stream)[2])["path"] == "/echo/2"
        assert stream.read(1) == b""


def test_keep_alive_then_the_idle_connection_is_closed(server) -> None:
    with connect(server, timeout=10) as sock, sock.makefile("rb") as stream:
        for _ in range(3):
            sock.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(stream)[0] == 200
        idle = time.monotonic()
        assert stream.read(1) == b""  # keep-alive 2 s, checked once a second
        assert 1.5 < time.monotonic() - idle < 5


def test_a_head_trickled_too_slowly_is_cut_with_408(server) -> None:
    with connect(server, timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /echo HTTP/1.1\r\n")
        received = b""
        for _ in range(40):  # one header byte every 0.1 s: slowloris
            try:
                sock.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)
            sock.setblocking(False)
            try:
                received += sock.recv(65536)
            except BlockingIOError:
                pass
            sock.setblocking(True)
            if received:
                break
        assert received.startswith(b"HTTP/1.1 408"), received
        assert time.monotonic() - started < 3.5  # header read 1 s, checked once a second


def test_empty_lines_alone_do_not_hold_a_connection(server) -> None:
    with connect(server, timeout=10) as sock:
        sock.sendall(b"\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 408")


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /echo HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET /echo HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", 431),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
])
def test_head_limits(server, request_bytes: bytes, status: int) -> None:
    answer, _, body, closed = exchange(server, request_bytes)
    assert (answer, closed) == (status, True)
    assert json.loads(body)["statusCode"] == status


def test_a_head_that_never_ends_is_refused_without_buffering_it(server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nX-Endless: ")
        try:
            for _ in range(40):
                sock.sendall(b"a" * 8192)
        except OSError:
            pass
        assert sock.recv(65536).startswith(b"HTTP/1.1 431")


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /a\x00b HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    b"GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n",  # no Host (RFC 9112 3.2)
    b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET /echo HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
])
def test_malformed_requests_get_400_and_a_close(server, request_bytes: bytes) -> None:
    status, headers, body, closed = exchange(server, request_bytes)
    assert (status, closed, headers["connection"]) == (400, True, "close")
    assert json.loads(body)["statusCode"] == 400


def test_http_1_0_needs_no_host(server) -> None:
    assert exchange(server, b"GET /echo HTTP/1.0\r\n\r\n")[0] == 200


def test_a_chunked_body_trickled_in_pieces(server) -> None:
    import hashlib

    payload = bytes(range(256)) * 40
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 1000]), payload[i:i + 1000]) for i in range(0, len(payload), 1000))
    encoded += b"0\r\n\r\n"
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(encoded), 997):  # split across chunk sizes, data and CRLFs
            sock.sendall(encoded[i:i + 997])
            time.sleep(0.005)
        seen = json.loads(read_response(stream)[2])
    assert seen["body_length"] == len(payload) and seen["body_sha256"] == hashlib.sha256(payload).hexdigest()


def test_expect_100_continue_is_sent_when_the_app_reads_the_body(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n" and stream.readline() == b"\r\n"
        sock.sendall(b"hello")
        status, _, body = read_response(stream)
    assert status == 200 and json.loads(body)["body_length"] == 5


def test_expect_100_continue_without_reading_answers_and_closes(server) -> None:
    status, _, body, closed = exchange(
        server, b"POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert (status, body, closed) == (200, b"not read", True)  # no 100: the client need not send the body


def test_an_unread_body_is_skipped_on_a_keep_alive_connection(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGET /echo/next HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_response(stream)[2] == b"not read"
        assert json.loads(read_response(stream)[2])["path"] == "/echo/next"


def test_client_leaving_mid_body_is_a_disconnect_for_the_app(server) -> None:
    before = stats(server)["disconnects"]
    with connect(server) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"a" * 10)
        time.sleep(0.1)
    wait_for(lambda: stats(server)["disconnects"] == before + 1)


def test_client_leaving_mid_response_fails_the_apps_send(server) -> None:
    before = stats(server)["send_failures"]
    with connect(server) as sock:
        sock.sendall(b"GET /stream?mb=64 HTTP/1.1\r\nHost: t\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    wait_for(lambda: stats(server)["send_failures"] == before + 1)
    assert exchange(server, b"GET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")[0] == 200  # the server carries on


def test_a_large_response_to_a_slow_reader_is_not_buffered(server) -> None:
    """While the client reads nothing, the app is held in `send` once the kernel's socket buffers
    and the transport's (64 KiB) are full: far less than the 32 MiB response."""
    wmem = Path("/proc/sys/net/ipv4/tcp_wmem")
    kernel = int(wmem.read_text().split()[2]) if wmem.exists() else 4 * 1024 * 1024
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(10)
    sock.connect(server)
    with sock, sock.makefile("rb") as stream:
        before = stats(server)["streamed"]
        sock.sendall(b"GET /stream?mb=32 HTTP/1.1\r\nHost: t\r\n\r\n")
        held = settled(lambda: stats(server)["streamed"] - before)  # while not reading
        assert 0 < held < kernel + 1024 * 1024, held
        status, headers, body = read_response(stream)
    assert status == 200 and headers["transfer-encoding"] == "chunked" and len(body) == 32 * 1024 * 1024


def test_http_1_0(server) -> None:
    status, headers, _, closed = exchange(server, b"GET /echo HTTP/1.0\r\n\r\n")
    assert status == 200 and closed and headers["connection"] == "close"
    with connect(server) as sock, sock.makefile("rb") as stream:
        for _ in range(2):
            sock.sendall(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body = read_response(stream)
            assert status == 200 and headers["connection"] == "keep-alive"
            assert json.loads(body)["http_version"] == "1.0"
    status, headers, body, closed = exchange(server, b"GET /stream?mb=0.125 HTTP/1.0\r\n\r\n")
    assert closed and "transfer-encoding" not in headers and len(body) == 128 * 1024  # ended by the close


def test_head_gets_no_body(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"HEAD /echo HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/after HTTP/1.1\r\nHost: t\r\n\r\n")
        status_line = stream.readline()
        head = b""
        while (line := stream.readline()) != b"\r\n":
            head += line
        assert status_line.startswith(b"HTTP/1.1 200") and b"content-length:" in head.lower()
        assert json.loads(read_response(stream)[2])["path"] == "/echo/after"  # no body bytes in between


def test_a_whole_response_message_is_framed_by_the_server(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:  # one keep-alive connection throughout
        sock.sendall(b"GET /whole HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = read_response(stream)
        assert (status, body, headers["content-length"], headers["x-whole"]) == (200, b"whole body", "10", "1")
        assert "connection" not in headers and "transfer-encoding" not in headers
        sock.sendall(b"HEAD /whole HTTP/1.1\r\nHost: t\r\n\r\nGET /whole?status=204 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET /echo/after HTTP/1.1\r\nHost: t\r\n\r\n")
        head = b""
        while (line := stream.readline()) != b"\r\n":
            head += line
        assert head.startswith(b"HTTP/1.1 200") and b"content-length: 10\r\n" in head  # HEAD: the length, no body
        head = b""
        while (line := stream.readline()) != b"\r\n":
            head += line
        assert head.startswith(b"HTTP/1.1 204") and b"content-length" not in head  # 204: neither
        assert json.loads(read_response(stream)[2])["path"] == "/echo/after"
    status, headers, body, closed = exchange(server, b"GET /whole?close=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (status, body, headers["connection"], closed) == (200, b"whole body", "close", True)
    with connect(server) as sock, sock.makefile("rb") as stream:
        for _ in range(2):  # HTTP/1.0 keep-alive: answered so, and the connection carries the next request
            sock.sendall(b"GET /whole HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body = read_response(stream)
            assert (status, headers["connection"], body) == (200, "keep-alive", b"whole body")


def test_a_whole_response_with_cr_lf_in_a_header_is_never_written(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"GET /whole?value=a%0D%0AX-Injected:%201 HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.settimeout(5)
        assert stream.read() == b""  # the app failed before anything was written: the connection closes


def test_h2c_upgrade_is_served_as_http_1_1(server) -> None:
    with connect(server) as sock, sock.makefile("rb") as stream:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                     b"HTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: 3\r\n\r\nabc"
                     b"GET /echo/next HTTP/1.1\r\nHost: t\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
        status, _, body = read_response(stream)
        assert status == 200 and json.loads(body)["body_length"] == 3
        assert json.loads(read_response(stream)[2])["path"] == "/echo/next"


def test_shutdown_closes_idle_connections_at_once_and_finishes_requests_in_flight() -> None:
    process, address = start_server()
    try:
        with connect(address) as idle, idle.makefile("rb") as idle_stream, \
                connect(address) as busy, busy.makefile("rb") as busy_stream:
            idle.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(idle_stream)[0] == 200  # now an idle keep-alive connection
            busy.sendall(b"GET /slow?s=2 HTTP/1.1\r\nHost: t\r\n\r\n")
            wait_for(lambda: stats(address)["in_flight"] == 1)  # a request not read yet would be idle
            process.terminate()  # SIGTERM
            assert idle_stream.read(1) == b""
            # Closed at once, not after the request in flight: the slow answer (due 2 s after it started, before
            # SIGTERM) has not arrived yet. A server that closed idle connections after its drain would have
            # written it first (and loopback delivers it at once).
            assert not select.select([busy], [], [], 0)[0], "the idle connection was closed after the request in flight"
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(address, timeout=2).close()
            status, headers, body = read_response(busy_stream)
            assert (status, body, headers["connection"]) == (200, b"slow", "close")
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
