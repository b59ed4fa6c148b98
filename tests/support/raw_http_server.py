"""A raw HTTP/1.1 backend for client tests, run as its own process:
`python -m tests.support.raw_http_server [CERTFILE KEYFILE]` (with them it speaks HTTPS).

It listens on a free loopback port (printed as the first line of stdout) and writes its answers
byte by byte as the path asks, to show how a client copes with what real backends do:

- `/ok`: 200, keep-alive; the body names the connection and the request's number on it (`c1 r2`).
- `/stale...`: like `/ok` on a connection's first request; a later request on the same connection is
  read and the connection closed without an answer (an idle keep-alive connection the server dropped).
- `/close`: 200 with `Connection: close`, then the connection is closed.
- `/malformed`: a status line and a header line that is not a header; `/garbage`: no HTTP at all.
- `/trickle?ms=N`: the whole answer one byte every N ms (default 5).
- `/large?mb=N`: N MiB (default 8) with Content-Length; `/large-chunked?mb=N`: the same, chunked.
- `/until-close`: a body without Content-Length or chunked framing, ended by closing.
- `/truncated?length=N`: announces N bytes, sends 10, closes.
- `/interim`: a 103 Early Hints answer before the 200.
- `/head`: 200 announcing `Content-Length: 1000` (the body only for GET).
- `/echo`: 200 with a JSON body: method, the request head's header lines, body length and SHA-256.
- `GET /stats` (on the server itself): `{"connections": n}`, the connections that asked for more than it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STATE = {"connections": 0}


def _answer(status: str, body: bytes, *extra: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if "chunked" in headers.get("transfer-encoding", ""):
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    return b""


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    connection = 0  # numbered on its first request other than /stats
    number = 0
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            number += 1
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await _read_body(reader, headers)
            url = urllib.parse.urlsplit(target)
            query = dict(urllib.parse.parse_qsl(url.query))
            if connection == 0 and url.path != "/stats":
                STATE["connections"] += 1
                connection = STATE["connections"]
            if not await _respond(writer, method, url.path, query, connection, number, lines[1:], body):
                return
    except ConnectionError:  # the client went away mid-answer: what some tests do on purpose
        pass
    finally:
        writer.close()


async def _respond(writer: asyncio.StreamWriter, method: str, path: str, query: dict[str, str], connection: int,
                   number: int, header_lines: list[str], body: bytes) -> bool:
    """Write the answer; False: close the connection."""
    if path == "/stats":
        writer.write(_answer("200 OK", json.dumps(STATE).encode()))
    elif path.startswith("/stale") and number > 1:
        return False
    elif path.startswith(("/ok", "/stale")):
        writer.write(_answer("200 OK", f"c{connection} r{number}".encode()))
    elif path == "/close":
        writer.write(_answer("200 OK", b"closing", "Connection: close"))
        await writer.drain()
        return False
    elif path == "/malformed":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nthis is not a header\r\n\r\nok")
    elif path == "/garbage":
        writer.write(b"hello, this is not HTTP\r\n\r\n")
        await writer.drain()
        return False
    elif path == "/trickle":
        delay = int(query.get("ms", "5")) / 1000
        for byte in _answer("200 OK", b"slowly but surely", "X-Trickled: yes"):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(delay)
    elif path in ("/large", "/large-chunked"):
        block = bytes(range(256)) * 256  # 64 KiB
        blocks = int(query.get("mb", "8")) * 16
        if path == "/large":
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {blocks * len(block)}\r\n\r\n".encode())
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(blocks):
            writer.write(block if path == "/large" else b"%x\r\n%b\r\n" % (len(block), block))
            await writer.drain()
        if path == "/large-chunked":
            writer.write(b"0\r\n\r\n")
    elif path == "/until-close":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
        for i in range(5):
            writer.write(b"part %d;" % i)
            await writer.drain()
            await asyncio.sleep(0.01)
        return False
    elif path == "/truncated":
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {query.get('length', '5000')}\r\n\r\n".encode() + b"0123456789")
        await writer.drain()
        return False
    elif path == "/interim":
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(_answer("200 OK", b"final"))
    elif path == "/head":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + (b"x" * 1000 if method != "HEAD" else b""))
    else:
        echo = {"method": method, "headers": header_lines, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        writer.write(_answer("200 OK", json.dumps(echo).encode(), "Content-Type: application/json"))
    await writer.drain()
    return True


@contextmanager
def serving(*tls: Path) -> Iterator[int]:
    """This server as a separate process (HTTPS with a certificate and key file); yields its port."""
    process = subprocess.Popen([sys.executable, "-m", "tests.support.raw_http_server", *map(str, tls)],
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield int(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(10)


def connections(url: str) -> int:
    """How many connections the server at `url` has served (`/stats`)."""
    with urllib.request.urlopen(f"{url}/stats", timeout=5) as answer:
        return int(json.loads(answer.read())["connections"])


async def main(tls: list[str]) -> None:
    context = None
    if tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
    server = await asyncio.start_server(_serve, "127.0.0.1", 0, ssl=context)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1:3]))
    except KeyboardInterrupt:
        sys.exit(0)
