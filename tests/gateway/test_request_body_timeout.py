"""The native server's request-body timeout (`server.request-body-timeout`): a body that stops
arriving gets 408 and a closed connection; one that keeps trickling in is served."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from tests.support.gateway import Backend, run_gateway, simple_config, use_server


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_stalled_body_gets_408_and_a_trickled_one_is_served(tmp_path: Path) -> None:
    config = simple_config()
    config["server"] = {"request-body-timeout": 1}
    with use_server("native"), Backend() as backend, run_gateway(tmp_path, config, backend=backend) as gateway:
        address = gateway.url.split("://")[1].split(":")
        head = b"POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n"
        with socket.create_connection((address[0], int(address[1])), timeout=10) as stalled:
            stalled.sendall(head + b"ab")
            started = time.monotonic()
            answer = _read_all(stalled)  # ends when the server closes the connection
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408 ") and b"connection: close" in answer
        assert b"The request body was not received in time" in answer
        assert 1 <= waited < 4, waited  # limit 1 s, swept once a second
        with socket.create_connection((address[0], int(address[1])), timeout=10) as slow:
            slow.sendall(head)
            for byte in b"abcdef":  # 3 s in all, never 1 s without progress
                time.sleep(0.5)
                slow.sendall(bytes([byte]))
            slow.sendall(b"")
            reply = slow.recv(65536)
        assert reply.startswith(b"HTTP/1.1 200 "), reply[:200]
        assert backend.requests[-1].body == b"abcdef"
