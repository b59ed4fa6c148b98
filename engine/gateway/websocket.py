"""WebSocket APIs: the handshake through the policy pipeline, then frames relayed both ways unchanged.

An ASGI `websocket` connection is handled like an HTTP GET (routing, subscription, the onHandshake
operation's composed policies) by `Gateway.handle`, with two differences:

- `forward-request` opens the WebSocket connection to the backend (`WebSocketApi.connect`, set as the
  API's synthetic backend on routing) instead of an HTTP call: the backend's 101 answer becomes
  `context.Response` (status 101, its headers), its refusal the response as it sent it (status,
  headers, body), a connection failure 502 and no answer within `connect-timeout` 504.
- The answer goes out by `Handshake.respond`: a 101 with an open backend accepts the client's
  handshake with the backend's headers (minus hop-by-hop and per-hop WebSocket ones) and chosen
  subprotocol; any other response refuses it (the ASGI denial extension; a server without it
  answers 403).

Then `relay` copies whole messages both ways until one side closes, and closes the other with the
same code and reason (a backend lost without a close frame: 1014; a client lost: 1001 to the
backend). Messages larger than the API's `max-message-size` close both sides with 1009; with an
`idle-timeout`, a connection without a message either way for that long is closed with 1001.

Memory per connection is bounded: each direction holds at most one message in hand, the backend
connection's read queue (`BACKEND_QUEUE` frames) and write buffer (`BACKEND_WRITE_LIMIT`), and the
server's own buffers (native server: engine/gateway/websocket_server.py); a slow reader stops the
reads from the other side (TCP backpressure) instead of growing any buffer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from engine.backends import SYNTHETIC_BACKEND
from engine.context import Context, Headers, MessageBody, Response, Slot
from engine.errors import PolicyRuntimeError
from engine.gateway.settings import WebSocketSettings
from engine.policy import ForwardOptions
from engine.wire import HOP_BY_HOP, encoded_headers, wire_headers

if TYPE_CHECKING:  # the websockets library is imported on the first handshake, not at start-up
    from websockets.asyncio.client import ClientConnection

    from engine.gateway.app import Gateway
    from engine.gateway.services import GatewayMetrics

log = logging.getLogger("policygate.gateway")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

DENIAL = "websocket.http.response"  # the ASGI extension: an HTTP answer in place of the handshake
BACKEND_QUEUE = 4  # frames the backend connection reads ahead of the client
BACKEND_WRITE_LIMIT = 64 * 1024  # bytes written to the backend before `send` waits for the socket
PING_SECONDS = 20.0  # the gateway pings the backend this often; no pong within as long closes both sides
CLOSE_SECONDS = 5.0  # how long the closing handshake with the backend may take
BACKEND_LOST = 1014  # "bad gateway": the backend's connection ended without a close frame
# Request headers the gateway's own handshake with the backend sets (per hop), and response headers it does not pass on.
_REQUEST_SKIP = HOP_BY_HOP | {"host", "content-length", "sec-websocket-key", "sec-websocket-version",
                              "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept"}
_RESPONSE_SKIP = HOP_BY_HOP | {"content-length", "date", "server", "sec-websocket-accept",
                               "sec-websocket-extensions", "sec-websocket-protocol"}
_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


class BackendLink:
    """The open backend connection of one handshake, and its API's limits."""

    __slots__ = ("connection", "settings", "api_id")

    def __init__(self, connection: ClientConnection, settings: WebSocketSettings) -> None:
        self.connection = connection
        self.settings = settings
        self.api_id = ""


LINK: Slot[BackendLink] = Slot("websocket.link")
# Every backend connection the current handshake opened: those it does not relay (a retry's first, one
# left behind by a handshake cancelled before its answer) are dropped when the handshake ends.
_OPENED: ContextVar[list[BackendLink] | None] = ContextVar("websocket_opened", default=None)


class WebSocketApi:
    """A WebSocket API at run time: routing calls `enter(ctx)`; forward-request then calls `connect`."""

    def __init__(self, settings: WebSocketSettings) -> None:
        self.settings = settings

    def enter(self, ctx: Context) -> None:
        SYNTHETIC_BACKEND.set(ctx, self.connect)

    async def connect(self, ctx: Context, options: ForwardOptions) -> None:
        """Open the backend connection: `ctx.response` becomes its handshake answer (or refusal); the
        handshake may take forward-request's `timeout` or the API's `connect-timeout`, the shorter."""
        LINK.pop(ctx)  # forward-request ran twice (retry): the earlier connection is not used (`serve` drops it)
        url = ctx.request.url
        scheme = _SCHEMES.get(url.scheme)
        if scheme is None:
            raise PolicyRuntimeError(f"The backend URL scheme '{url.scheme}' is not ws, wss, http or https.",
                                     source="forward-request", reason="BackendConnectionFailure", status=500)
        netloc = url.host if (scheme, url.port) in (("ws", 80), ("wss", 443)) else f"{url.host}:{url.port}"
        uri = f"{scheme}://{netloc}{url.path}{url.query_string}"
        headers = wire_headers(ctx.request.headers, _REQUEST_SKIP)
        offered = [p.strip() for line in ctx.request.headers.get_list("Sec-WebSocket-Protocol")
                   for p in line.split(",") if p.strip()]
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

        limits = self.settings
        timeout = min(options.timeout, limits.connect_timeout)
        try:
            connection = await connect(
                uri, additional_headers=headers, subprotocols=offered or None,  # type: ignore[arg-type]
                compression=None, user_agent_header=None, proxy=None, open_timeout=timeout,
                ping_interval=PING_SECONDS, ping_timeout=PING_SECONDS, close_timeout=CLOSE_SECONDS,
                max_size=limits.max_message_size, max_queue=BACKEND_QUEUE, write_limit=BACKEND_WRITE_LIMIT,
            )
        except InvalidStatus as refusal:  # the backend answered the handshake with another status: that is the answer
            answer = refusal.response
            ctx.response = Response(answer.status_code, answer.reason_phrase,
                                    _headers(answer.headers.raw_items(), HOP_BY_HOP | {"content-length"}),
                                    MessageBody(bytes(answer.body)))
            return
        except TimeoutError:
            raise PolicyRuntimeError(
                f"The backend did not answer the WebSocket handshake within {timeout:g} s.",
                source="forward-request", reason="Timeout", status=504) from None
        except (OSError, InvalidHandshake, InvalidURI, ConnectionClosed) as exc:
            raise PolicyRuntimeError(f"Error occurred while connecting to the WebSocket backend: {exc}",
                                     source="forward-request", reason="BackendConnectionFailure", status=502) from None
        accepted = connection.response
        assert accepted is not None  # connect returns once the handshake succeeded
        ctx.response = Response(101, "Switching Protocols", _headers(accepted.headers.raw_items(), _RESPONSE_SKIP))
        link = BackendLink(connection, limits)
        LINK.set(ctx, link)
        opened = _OPENED.get()
        if opened is not None:
            opened.append(link)


def _headers(items: Any, skip: frozenset[str]) -> Headers:
    headers = Headers()
    for name, value in items:
        if name.lower() not in skip:
            headers.add(name, value)
    return headers


async def serve(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """One ASGI `websocket` connection: the handshake through the gateway, then the relay."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    handshake = Handshake(scope, send)
    opened: list[BackendLink] = []
    token = _OPENED.set(opened)
    try:
        await gateway.handle({**scope, "method": "GET"}, _no_body, send, respond=handshake.respond)
    finally:
        _OPENED.reset(token)
        for unused in opened:
            if unused is not handshake.link and unused.connection.transport is not None:
                unused.connection.transport.abort()
    link = handshake.link
    if link is None:
        return
    metrics = gateway.metrics
    metrics.websocket_connections.inc(link.api_id)
    side = "gateway"  # cancelled (shutdown) or failed
    try:
        side = await relay(receive, send, link, metrics)
    finally:
        metrics.websocket_closes.inc(link.api_id, side)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class Handshake:
    """Sends the handshake's answer (`Gateway.handle`'s `respond`): accept with an open backend, else refuse."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self.scope = scope
        self.client_send = send
        self.link: BackendLink | None = None

    async def respond(self, gateway: Gateway, ctx: Context, api_id: str) -> int:
        link = LINK.pop(ctx)
        response = ctx.response
        if link is not None and response.status_code == 101:
            link.api_id = api_id
            headers = encoded_headers(response.headers, _RESPONSE_SKIP)
            try:
                await self.client_send({"type": "websocket.accept", "subprotocol": link.connection.subprotocol,
                                        "headers": headers, "max_size": link.settings.max_message_size})
            except Exception as exc:  # the client went away meanwhile
                log.debug("WebSocket handshake of %s aborted: %s", ctx.request.original_url, exc)
                await link.connection.close(1001, "The client went away")
                return 499
            self.link = link
            return 101
        if link is not None:  # an outbound policy replaced the backend's 101: the handshake is refused
            await link.connection.close(1000)
        if response.status_code == 101:  # a 101 without a backend connection (e.g. return-response)
            ctx.response = response = Response(500, "Internal Server Error")
        extensions = self.scope.get("extensions") or {}
        if DENIAL in extensions:
            return await gateway.send(ctx, self._denial, "GET")
        try:
            await self.client_send({"type": "websocket.close", "code": 1008})  # the server answers 403
        except Exception as exc:
            log.debug("WebSocket refusal of %s aborted: %s", ctx.request.original_url, exc)
        return 403

    async def _denial(self, message: dict[str, Any]) -> None:
        await self.client_send({**message, "type": "websocket." + message["type"]})


async def relay(receive: Receive, send: Send, link: BackendLink, metrics: GatewayMetrics) -> str:
    """Relay messages both ways until a side closes; then close the other side the same way.
    Returns the side that ended the connection: client, backend or idle."""
    from websockets.exceptions import ConnectionClosed

    backend = link.connection
    limit = link.settings.max_message_size
    idle = link.settings.idle_timeout
    last = [time.monotonic()]  # when a message last went either way
    messages = metrics.websocket_messages
    inbound = (link.api_id, "client-to-backend")
    outbound = (link.api_id, "backend-to-client")

    async def upstream() -> tuple[int, str]:
        """Client to backend; returns how the client ended (close code and reason)."""
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                if message["type"] == "websocket.disconnect":
                    return int(message.get("code") or 1005), str(message.get("reason") or "")
                continue
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if len(data) > limit:
                return 1009, f"A message is larger than {limit} bytes"
            last[0] = time.monotonic()
            messages.inc(*inbound)
            await backend.send(data)

    async def downstream() -> None:
        """Backend to client, until the backend's connection ends."""
        async for data in backend:
            last[0] = time.monotonic()
            messages.inc(*outbound)
            await send({"type": "websocket.send", "text": data} if isinstance(data, str)
                       else {"type": "websocket.send", "bytes": data})

    up = asyncio.ensure_future(upstream())
    down = asyncio.ensure_future(downstream())
    try:
        while True:
            done, _ = await asyncio.wait((up, down), timeout=idle or None, return_when=asyncio.FIRST_COMPLETED)
            if done:
                break
            if time.monotonic() - last[0] >= idle:
                await _close_both(send, backend, 1001, "The connection was idle too long", up, down)
                return "idle"
        if up in done:
            code, reason = _client_end(up)
            down.cancel()
            if code == 1009:  # the client's message was too large: both sides learn it
                await _close_client(send, code, reason)
            await _close_backend(backend, _sendable(code, 1000), reason)
            return "client"
        up.cancel()
        close = backend.protocol.close_rcvd
        error = down.exception() if not down.cancelled() else None
        if close is not None:
            code, reason = _sendable(close.code, 1000), close.reason
        elif error is not None and not isinstance(error, ConnectionClosed):  # the client went away mid-send
            await _close_backend(backend, 1001, "The client went away")
            return "client"
        else:
            code, reason = (1009, "A message is larger than the limit") if _too_big(backend) else (BACKEND_LOST, "")
        await _close_client(send, code, reason)
        await _close_backend(backend, 1000, "")
        return "backend"
    finally:
        for task in (up, down):
            if not task.done():
                task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)


def _client_end(task: asyncio.Future[tuple[int, str]]) -> tuple[int, str]:
    from websockets.exceptions import ConnectionClosed

    error = task.exception()
    if error is None:
        code, reason = task.result()
        return (1001, "The client went away") if code == 1006 else (code, reason)
    if isinstance(error, ConnectionClosed):  # the backend closed while a message was on its way to it
        return 1001, ""
    return 1001, "The client went away"


def _sendable(code: int, instead: int) -> int:
    """`code` when it may appear in a close frame, else `instead` (1005 and 1006 never do)."""
    return instead if code in (1005, 1006, 1015) else code


def _too_big(backend: ClientConnection) -> bool:
    sent = backend.protocol.close_sent
    return sent is not None and sent.code == 1009


async def _close_client(send: Send, code: int, reason: str) -> None:
    try:
        await send({"type": "websocket.close", "code": code, "reason": reason})
    except Exception as exc:  # already gone
        log.debug("WebSocket close to the client failed: %s", exc)


async def _close_backend(backend: ClientConnection, code: int, reason: str) -> None:
    try:
        await backend.close(code, reason)
    except Exception as exc:
        log.debug("WebSocket close to the backend failed: %s", exc)


async def _close_both(send: Send, backend: ClientConnection, code: int, reason: str,
                      *tasks: asyncio.Future[Any]) -> None:
    for task in tasks:
        task.cancel()
    await _close_client(send, code, reason)
    await _close_backend(backend, code, reason)
