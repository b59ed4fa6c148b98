"""A forward HTTP proxy for tests, run as its own process: `python -m tests.support.http_proxy [USER:PASSWORD]`.

It listens on a free loopback port (printed as the first line of stdout) and speaks HTTP/1.1 proxy
requests as RFC 9110/9112 define them:

- absolute-form requests (`GET http://host:port/path HTTP/1.1`): sent on to the origin in
  origin-form with `Connection: close` (hop-by-hop and `Proxy-*` headers removed), the answer
  relayed back, then the client connection is closed;
- `CONNECT host:port`: `200 Connection established`, then bytes are tunnelled both ways.

With USER:PASSWORD, a request without `Proxy-Authorization: Basic <base64(USER:PASSWORD)>` gets
`407` with `Proxy-Authenticate: Basic realm="test-proxy"`. `GET /calls` (origin-form, to the proxy
itself) answers `{"calls": [{"method", "target", "authorized"}...]}`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te",
              "trailer", "upgrade"}


async def main(credentials: str | None) -> None:
    calls: list[dict[str, object]] = []
    expected = "Basic " + base64.b64encode(credentials.encode()).decode() if credentials else None

    async def answer(writer: asyncio.StreamWriter, status: str, headers: dict[str, str], body: bytes = b"") -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}",
                 "Connection: close", "", ""]
        writer.write("\r\n".join(lines).encode() + body)
        await writer.drain()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        request_line, *header_lines = head.split("\r\n")[:-2]
        method, target, _ = request_line.split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines]
        auth = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
        if target == "/calls":
            await answer(writer, "200 OK", {"Content-Type": "application/json"}, json.dumps({"calls": calls}).encode())
            writer.close()
            return
        authorized = expected is None or auth == expected
        calls.append({"method": method, "target": target, "authorized": authorized})
        if not authorized:
            await answer(writer, "407 Proxy Authentication Required", {"Proxy-Authenticate": 'Basic realm="test-proxy"'})
            writer.close()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
            return
        url = urlsplit(target)
        if not url.hostname:
            await answer(writer, "400 Bad Request", {})
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(url.hostname, url.port or 80)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        kept = [f"{k}: {v}" for k, v in headers if k.lower() not in HOP_BY_HOP]
        upstream_writer.write("\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""]).encode())
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        if length:
            upstream_writer.write(await reader.readexactly(length))
        await upstream_writer.drain()
        await pipe(upstream_reader, writer)
        upstream_writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
