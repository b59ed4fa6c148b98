"""The native HTTP/1.1 server (engine/gateway/h1server.py) with a small ASGI test app, as its own process:
`python -m tests.support.h1_test_server` prints its port as the first line of stdout.

Short limits make timeouts testable in seconds: keep-alive 2 s, header read 1 s. The app:

- `/echo` (any method): reads the whole body, answers JSON with the scope's fields (method, path,
  raw_path, query_string, http_version, scheme, headers, client, server), `body_length`, `body_sha256`.
- `/stream?mb=N`: N MiB in 64 KiB chunks without Content-Length (sent chunked); the bytes handed to
  `send` so far are in `/stats` as `streamed`.
- `/slow?s=N`: answers after N seconds; `/noread`: answers at once without reading the body.
- `/whole?status=N&close=1&value=V`: the whole response in one `WHOLE_RESPONSE` message (status N,
  `X-Whole: V`, body `whole body`, `close` as given), without reading the body.
- `/stats`: `{"streamed": n, "disconnects": n, "send_failures": n, "requests": n, "in_flight": n}`
  (`in_flight`: the other requests the app is answering now).

SIGTERM stops it as the gateway stops: the port closes at once, idle connections close, requests in
flight finish (the "drain" here waits for them), then the process exits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import socket
import sys
from typing import Any
from urllib.parse import parse_qs

import uvloop

from engine.gateway.h1protocol import WHOLE_RESPONSE
from engine.gateway.h1server import serve_native

STATS = {"streamed": 0, "disconnects": 0, "send_failures": 0, "requests": 0}
CHUNK = b"x" * 65536
IN_FLIGHT: set[int] = set()  # the requests the app is answering (ids of their scopes)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    STATS["requests"] += 1
    IN_FLIGHT.add(id(scope))
    try:
        await _handle(scope, receive, send)
    finally:
        IN_FLIGHT.discard(id(scope))


async def _handle(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path = scope["path"]
    query = parse_qs(scope["query_string"].decode())
    try:
        if path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for _ in range(int(float(query.get("mb", ["8"])[0]) * 16)):
                STATS["streamed"] += len(CHUNK)
                await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/slow":
            await asyncio.sleep(float(query.get("s", ["1"])[0]))
            await _answer(send, b"slow")
            return
        if path == "/stats":
            await _answer(send, json.dumps({**STATS, "in_flight": len(IN_FLIGHT) - 1}).encode())
            return
        if path == "/whole":
            value = query.get("value", ["1"])[0].encode("latin-1")
            await send({"type": WHOLE_RESPONSE, "status": int(query.get("status", ["200"])[0]), "body": b"whole body",
                        "headers": [(b"content-type", b"text/plain"), (b"x-whole", value)],
                        "close": query.get("close") == ["1"]})
            return
        if path == "/noread":
            await _answer(send, b"not read")
            return
        digest, length = hashlib.sha256(), 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                STATS["disconnects"] += 1
                return
            digest.update(message["body"])
            length += len(message["body"])
            if not message.get("more_body"):
                break
        shown = {key: scope[key] for key in ("method", "path", "http_version", "scheme", "root_path")}
        shown.update(raw_path=scope["raw_path"].decode("latin-1"), query_string=scope["query_string"].decode("latin-1"),
                     headers=[[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
                     client=list(scope["client"]), server=list(scope["server"]),
                     body_length=length, body_sha256=digest.hexdigest())
        await _answer(send, json.dumps(shown).encode(), b"application/json")
    except OSError:
        STATS["send_failures"] += 1


async def _answer(send: Any, body: bytes, content_type: bytes = b"text/plain") -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    print(sock.getsockname()[1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def drained() -> None:
        while IN_FLIGHT:
            await asyncio.sleep(0.01)

    await serve_native(app, sock, stop, keep_alive=2, header_read=1, drained=drained)


if __name__ == "__main__":
    uvloop.run(main()) if sys.platform != "win32" else asyncio.run(main())
