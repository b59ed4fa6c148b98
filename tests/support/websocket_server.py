"""A WebSocket backend for tests, in its own process (websockets' server): `python -m tests.support.websocket_server [PORT]`
prints its port (one the OS picked, without PORT), then serves on 127.0.0.1.

Paths (the query string is ignored unless said):
- `/echo`: sends every message back as it came (text as text, binary as binary).
- `/hello`: first sends one text message, JSON `{"path", "headers" (lower-case names), "subprotocol"}`
  of the handshake it received, then echoes.
- `/refuse`: refuses the handshake with 403, header `X-Refused: yes` and body `refused by the backend`.
- `/close?code=4001&reason=bye`: echoes the first message, then closes with that code and reason.
- `/die`: echoes the first message, then drops the TCP connection without a close frame.
- `/flood?size=65536&total=33554432`: sends `total` bytes in binary messages of `size` as fast as the
  connection takes them; the bytes it managed to send so far are in `/calls` (`flooded`).
- `/graphql`: a GraphQL subscription server over `graphql-transport-ws`: `connection_init` ->
  `connection_ack`; `subscribe` with `{"query": "subscription { tick(n: N) }"}` -> N `next` messages
  `{"data": {"tick": i}}`, then `complete`; `ping` -> `pong`.

Subprotocols offered by the client are chosen in this order: graphql-transport-ws, graphql-ws, chat.
Every handshake answer carries `X-Backend: websocket-test`. Plain HTTP `GET /calls` answers JSON
`{"handshakes": [{"path", "headers"}...], "flooded": bytes, "closes": [[code, reason]...]}` (closes the
backend received from the gateway); `POST`-less `GET /reset` forgets them.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

SUBPROTOCOLS = ["graphql-transport-ws", "graphql-ws", "chat"]
state: dict[str, Any] = {"handshakes": [], "flooded": 0, "closes": []}


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = Headers({"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})})
    return Response(status, HTTPStatus(status).phrase, all_headers, data)


def process_request(connection: ServerConnection, request: Request) -> Response | None:
    path = urlsplit(request.path).path
    if path == "/calls":
        return _json_response(200, state)
    if path == "/reset":
        state.update(handshakes=[], flooded=0, closes=[])
        return _json_response(200, {})
    state["handshakes"].append({"path": request.path,
                                "headers": {k.lower(): v for k, v in request.headers.raw_items()}})
    if path == "/refuse":
        body = b"refused by the backend"
        return Response(403, "Forbidden", Headers({"X-Refused": "yes", "Content-Type": "text/plain",
                                                   "Content-Length": str(len(body))}), body)
    return None


def process_response(connection: ServerConnection, request: Request, response: Response) -> Response:
    response.headers["X-Backend"] = "websocket-test"
    return response


def select_subprotocol(connection: ServerConnection, offered: Any) -> Any:
    return next((p for p in SUBPROTOCOLS if p in offered), None)


async def handler(connection: ServerConnection) -> None:
    assert connection.request is not None
    url = urlsplit(connection.request.path)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    try:
        if url.path == "/hello":
            headers = {k.lower(): v for k, v in connection.request.headers.raw_items()}
            await connection.send(json.dumps({"path": connection.request.path, "headers": headers,
                                              "subprotocol": connection.subprotocol}))
        if url.path == "/flood":
            await flood(connection, int(query.get("size", 65536)), int(query.get("total", 32 * 1024 * 1024)))
            return
        if url.path == "/graphql":
            await graphql(connection)
            return
        async for message in connection:
            await connection.send(message)
            if url.path == "/close":
                await connection.close(int(query.get("code", 1000)), query.get("reason", ""))
                return
            if url.path == "/die":
                connection.transport.abort()
                return
    except ConnectionClosed:
        pass
    finally:
        close = connection.protocol.close_rcvd
        if close is not None:
            state["closes"].append([close.code, close.reason])


async def flood(connection: ServerConnection, size: int, total: int) -> None:
    chunk = b"x" * size
    while state["flooded"] < total:
        await connection.send(chunk)
        state["flooded"] += size
    await connection.close()


async def graphql(connection: ServerConnection) -> None:
    async for raw in connection:
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "connection_init":
            await connection.send(json.dumps({"type": "connection_ack"}))
        elif kind == "ping":
            await connection.send(json.dumps({"type": "pong"}))
        elif kind == "subscribe":
            query = message["payload"]["query"]
            found = re.search(r"tick\(n:\s*(\d+)\)", query)
            count = int(found.group(1)) if found else 1
            for i in range(count):
                await connection.send(json.dumps({"id": message["id"], "type": "next", "payload": {"data": {"tick": i}}}))
            await connection.send(json.dumps({"id": message["id"], "type": "complete"}))


async def main(port: int = 0) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=process_request, process_response=process_response,
                     select_subprotocol=select_subprotocol, compression=None, max_size=64 * 1024 * 1024) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    except KeyboardInterrupt:
        sys.exit(0)
