"""One HTTP/1.1 connection of the native server: llhttp parsing, ASGI exchanges, flow control.

`H1Connection` is an asyncio protocol on the gateway's own event loop. Requests are parsed by
llhttp (httptools); each request becomes an `Exchange` whose `receive`/`send` the ASGI app
gets, and runs as one task. Pipelined requests are answered in order: the next one starts when
the previous response is complete, and reading pauses while one waits. A request body is handed
to `receive` as it arrives; reading pauses while more than `BODY_HIGH_WATER` bytes wait for the
app. `send` waits while the transport's write buffer is full (`pause_writing`).

The response head is written together with the first body chunk (one `transport.write` for a
whole response when the app sends it in one message). A response without `Content-Length` is
sent chunked (HTTP/1.1) or ends with the connection (HTTP/1.0).

Every scope advertises the server's own extension `WHOLE_RESPONSE` (`scope["extensions"]`): an
app may send a response whose body it has in memory as one message of that type, with `status`,
`headers` (end-to-end (name, value) byte tuples only: the server frames the body itself with
`Content-Length`), `body` and `close` (end the connection after it). It is written at once, head
and body in one `transport.write`, without the two ASGI messages' round trips; the gateway uses it
for every response it does not stream.

Timers cost nothing per request: `Listener.tick` counts seconds, and the listener's sweeper
(engine/gateway/h1server.py) closes connections whose head is incomplete `HEADER_READ_SECONDS`
after its first byte, whose request body made no progress for `server.request-body-timeout`
(408), or that stayed idle `KEEP_ALIVE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote_to_bytes

import httptools

if TYPE_CHECKING:  # imported on the first WebSocket handshake: start-up does not load the websockets library
    from engine.gateway.websocket_server import WebSocketSession

log = logging.getLogger("policygate.gateway")

MAX_HEAD_BYTES = 64 * 1024  # request line and headers
MAX_HEADERS = 100
BODY_HIGH_WATER = 256 * 1024  # request body bytes waiting for the app before reading pauses
ASGI_VERSION = {"version": "3.0", "spec_version": "2.3"}
_REASONS = {status.value: status.phrase.encode() for status in HTTPStatus}
_STATUS_LINES = {status: b"HTTP/1.1 %d %s\r\n" % (status, reason) for status, reason in _REASONS.items()}
_NO_BODY_STATUS = frozenset({204, 304})
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"
_FRAMING_LENGTHS = frozenset({len(b"content-length"), len(b"connection"), len(b"transfer-encoding")})
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")}
WHOLE_RESPONSE = "policygate.response"  # the extension message type (see the module docstring)
_PLAIN_EXTENSIONS: dict[str, Any] = {WHOLE_RESPONSE: {}}  # the scope's extensions of a cleartext connection
_HEADER_LINE = b"%s: %s\r\n".__mod__  # one (name, value) tuple as a head line, formatted in C

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class ClientDisconnected(OSError):
    """`send` after the client closed the connection (ASGI: an OSError subclass)."""


class _Refused(Exception):
    """A request the server answers itself (limits), raised from a parser callback."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Send = Callable[[dict[str, Any]], Awaitable[None]]


class Listener:
    """What the connections of one listening socket share.

    `in_flight` holds the requests whose app call has not returned (the graceful shutdown waits for
    them, engine/gateway/h1server.py). `unavailable`, when set, answers a request that shutdown
    cancelled before its response started (the gateway's 503); without it such a request gets a 500.
    """

    def __init__(self, app: App, loop: asyncio.AbstractEventLoop, scheme: str,
                 unavailable: Callable[[Send], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.loop = loop
        self.scheme = scheme
        self.unavailable = unavailable
        self.connections: set[H1Connection] = set()
        self.in_flight: set[Exchange] = set()
        self.tick = 0  # seconds since the listener started, advanced by its sweeper
        self.closing = False  # shutting down: no new request starts; connections close after their response
        # HTTPS: the scope's ASGI TLS extension of a new connection (engine/gateway/h1server.py)
        self.describe_tls: Callable[[asyncio.BaseTransport], dict[str, Any]] | None = None
        self.released: Callable[[], None] | None = None  # told of each closed connection (workers' balance)


class Exchange:
    """One request and its response: the ASGI `receive` and `send` of one app call."""

    __slots__ = ("conn", "scope", "keep_alive", "expect_100", "head_request", "body", "body_size",
                 "request_complete", "delivered_all", "discard", "disconnected", "waiter",
                 "started", "head", "bodiless", "chunked", "remaining", "response_complete", "task", "cut")

    def __init__(self, conn: H1Connection, scope: dict[str, Any], keep_alive: bool, expect_100: bool) -> None:
        self.conn = conn
        self.scope = scope
        self.keep_alive = keep_alive
        self.expect_100 = expect_100
        self.head_request = scope["method"] == "HEAD"
        self.body: list[bytes] = []
        self.body_size = 0
        self.request_complete = False  # the parser saw the end of this request
        self.delivered_all = False  # `receive` returned the last body chunk
        self.discard = False  # the response is complete: the rest of the body is read and dropped
        self.disconnected = False
        self.waiter: asyncio.Future[None] | None = None
        self.started = False
        self.head: bytes | None = None  # the response head, written with the first body chunk
        self.bodiless = False  # HEAD, 1xx, 204, 304: a body the app sends is not written
        self.chunked = False
        self.remaining: int | None = None  # body bytes still due under the response's Content-Length
        self.response_complete = False
        self.task: asyncio.Task[None] | None = None  # the app call, once started
        self.cut = False  # cancelled by the graceful shutdown (`Listener.unavailable` answers it)

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the request: parser side --------------------------------------------------------------
    def add_body(self, chunk: bytes) -> None:
        if self.discard:
            return
        self.body.append(chunk)
        self.body_size += len(chunk)
        if self.body_size > BODY_HIGH_WATER:
            self.conn.pause_for_body()
        self.wake()

    # -- ASGI ----------------------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        if self.expect_100:  # the app wants the body: now the client may send it
            self.expect_100 = False
            if not self.started and not self.request_complete and not self.disconnected:
                self.conn.transport.write(_CONTINUE)
        while True:
            if self.body or (self.request_complete and not self.delivered_all):
                chunks, self.body, self.body_size = self.body, [], 0
                self.conn.resume_for_body()
                more = not self.request_complete
                self.delivered_all = not more
                return {"type": "http.request", "body": chunks[0] if len(chunks) == 1 else b"".join(chunks),
                        "more_body": more}
            if self.disconnected or self.response_complete:
                return {"type": "http.disconnect"}
            self.waiter = self.conn.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    async def send(self, message: dict[str, Any]) -> None:
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        kind = message["type"]
        if kind == WHOLE_RESPONSE:
            self._respond(message["status"], message["headers"], message["body"], message["close"])
            return
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            self.head = self._head(message["status"], message.get("headers", ()))
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if not self.started or self.response_complete:
            raise RuntimeError("http.response.body outside a started response")
        conn = self.conn
        if conn.transport.is_closing():  # lost, and connection_lost not yet called
            raise ClientDisconnected("the connection is closed")
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if self.bodiless:
            body = b""
        elif self.remaining is not None:
            if len(body) > self.remaining:
                body = body[: self.remaining]  # never more than the declared length
                more = False
                self.keep_alive = False
            self.remaining -= len(body)
            if not more and self.remaining:
                self.keep_alive = False  # the body ended short of its length: the close tells the client
        elif self.chunked:
            if body:
                body = b"%x\r\n%s\r\n" % (len(body), body)
            if not more:
                body += _LAST_CHUNK
        head, self.head = self.head, None
        if head is not None:
            body = head + body if body else head
        if body:
            conn.transport.write(body)
        if not more:
            self.response_complete = True
            self.wake()
            conn.response_done(self)
        elif conn.write_paused:
            await conn.drain()
            if self.disconnected:
                raise ClientDisconnected("the client closed the connection")

    def _respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes, close: bool) -> None:
        """A `WHOLE_RESPONSE`: head and body in one write, framed by `Content-Length` (as `_head` frames it)."""
        if self.started:
            raise RuntimeError("a whole response after the response started")
        self.started = True
        conn = self.conn
        if conn.transport.is_closing():  # lost, and connection_lost not yet called
            raise ClientDisconnected("the connection is closed")
        lines = [_STATUS_LINES.get(status) or b"HTTP/1.1 %d \r\n" % status, *map(_HEADER_LINE, headers)]
        bodiless = self.head_request or status in _NO_BODY_STATUS or status < 200
        if status >= 200 and status not in _NO_BODY_STATUS:
            lines.append(b"content-length: %d\r\n" % len(body))
        head = self._end_head(lines, close)
        conn.transport.write(head if bodiless or not body else head + body)
        self.response_complete = True
        self.wake()
        conn.response_done(self)

    def _head(self, status: int, headers: Any) -> bytes:
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b""))]
        length: int | None = None
        for name, value in headers:
            if len(name) in _FRAMING_LENGTHS:  # only these names need a closer look
                lower = name.lower()
                if lower == b"content-length":
                    length = int(value)
                    continue
                if lower == b"connection":
                    if b"close" in value.lower():
                        self.keep_alive = False
                    continue
                if lower == b"transfer-encoding":
                    continue  # the server frames the body itself
            lines.append(b"%s: %s\r\n" % (name, value))
        no_body = status in _NO_BODY_STATUS or status < 200
        if self.head_request or no_body:
            self.bodiless = True
            if length is not None and not no_body:
                lines.append(b"content-length: %d\r\n" % length)
        elif length is not None:
            self.remaining = length
            lines.append(b"content-length: %d\r\n" % length)
        elif self.scope["http_version"] == "1.1":
            self.chunked = True
            lines.append(b"transfer-encoding: chunked\r\n")
        else:
            self.keep_alive = False  # HTTP/1.0 without a length: the close ends the body
        return self._end_head(lines, False)

    def _end_head(self, lines: list[bytes], close: bool) -> bytes:
        """The connection header (close, or keep-alive for HTTP/1.0), the blank line, and the head
        as bytes; a CR or LF inside a header name or value is refused."""
        if close or not self.keep_alive or self.conn.listener.closing:
            self.keep_alive = False
            lines.append(b"connection: close\r\n")
        elif self.scope["http_version"] == "1.0":
            lines.append(b"connection: keep-alive\r\n")
        lines.append(b"\r\n")
        head = b"".join(lines)
        if head.count(b"\n") != len(lines) or head.count(b"\r") != len(lines):
            raise ValueError("a response header name or value contains CR or LF")
        return head

class H1Connection(asyncio.Protocol):
    """One client connection (see the module docstring)."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.loop = listener.loop
        self.app = listener.app
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set by connection_made
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self.closed = False
        self.exchange: Exchange | None = None  # the request being answered
        self.reading: Exchange | None = None  # the request whose body the parser is reading
        self.pipeline: deque[Exchange] = deque()  # complete heads waiting for their turn
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_size = 0
        self.expect_100 = False
        self.hosts = 0  # Host header lines of the request head being read
        self.reading_head = False
        self.head_bytes = 0  # bytes of an incomplete head seen so far (bounds llhttp's buffers)
        self.head_tick = 0
        self.idle_tick = listener.tick
        self.refusal: _Refused | None = None
        self.paused_for_body = False
        self.paused_for_pipeline = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self.read_eof = False
        self.upgrade_framing: bytes | None = None  # the body framing of an Upgrade request (_after_upgrade)
        self.primed = False
        self.final_error: tuple[int, str] | None = None  # answered once the requests before it are
        self.refused = False  # bytes that are not HTTP/1.1 arrived: the connection ends after the answers
        self.body_tick = 0  # when the request body last made progress
        self.extensions = _PLAIN_EXTENSIONS  # the scope's `extensions` (HTTPS: with "tls", per connection)
        self.tunnel: WebSocketSession | None = None  # the connection was upgraded to the WebSocket protocol

    # -- transport events ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        self.client = (peer[0], peer[1]) if isinstance(peer, tuple) else None
        self.server = (local[0], local[1]) if isinstance(local, tuple) else None
        self.listener.connections.add(self)
        if self.listener.describe_tls is not None:
            self.extensions = {"tls": self.listener.describe_tls(transport), WHOLE_RESPONSE: {}}

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.listener.connections.discard(self)
        if self.listener.released is not None:
            self.listener.released()
        for exchange in (self.exchange, self.reading, *self.pipeline):
            if exchange is not None:
                exchange.disconnected = not exchange.response_complete
                exchange.wake()
        self.pipeline.clear()
        self._wake_drain()
        if self.tunnel is not None:
            self.tunnel.connection_lost()

    def eof_received(self) -> bool:
        """The client closed its sending side: answer what was asked, then close."""
        self.read_eof = True
        if self.reading is not None and not self.reading.request_complete:  # the body was cut short
            self.reading.disconnected = True
            self.reading.wake()
        if self.exchange is None:
            return False  # nothing to answer: close now
        return True  # answer the requests already read (response_done closes after the last)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain()

    def _wake_drain(self) -> None:
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self) -> None:
        if self.closed:
            return
        self.drain_waiter = self.loop.create_future()
        try:
            await self.drain_waiter
        finally:
            self.drain_waiter = None

    def data_received(self, data: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.data_received(data)
            return
        if self.refused:  # nothing after a malformed request is read
            return
        if self.reading_head:
            self.head_bytes += len(data)
        elif self.reading is None:  # bytes between requests (even empty lines) start the head's clock
            self.reading_head = True
            self.head_bytes = 0
            self.head_tick = self.listener.tick
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:  # e.g. h2c: not switched, served as HTTP/1.1
            self._after_upgrade(data[upgrade.args[0]:])
        except httptools.HttpParserCallbackError:
            refusal = self.refusal or _Refused(400, "The request could not be read")
            self._refuse(refusal.status, refusal.message)
        except httptools.HttpParserError as error:
            self._refuse(400, _parser_message(error))
        else:
            if self.reading_head and self.head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, "The request head is too large")

    def _after_upgrade(self, rest: bytes) -> None:
        """llhttp stops at an `Upgrade` request: go on parsing the connection as HTTP/1.1.

        llhttp ends such a request after its head. A body it declared is read by a fresh parser
        primed with a head of the same framing, whose body events go to the request.
        """
        if self.tunnel is not None:  # a WebSocket handshake: the rest is the new protocol's
            if rest:
                self.tunnel.data_received(rest)
            return
        self.parser = httptools.HttpRequestParser(self)
        framing, self.upgrade_framing = self.upgrade_framing, None
        if framing is not None and self.reading is not None:
            self.primed = True
            self.parser.feed_data(b"POST / HTTP/1.1\r\n" + framing + b"\r\n\r\n")
        if rest:
            self.data_received(rest)

    # -- parser callbacks ----------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.head_size = 0
        self.expect_100 = False
        self.hosts = 0
        self.reading_head = True
        self.head_bytes = 0
        self.head_tick = self.listener.tick

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)
        if self.head_size > MAX_HEAD_BYTES:
            self.refusal = _Refused(414, "The request URL is too long")
            raise self.refusal

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self.headers.append((name, value))
        self.head_size += len(name) + len(value) + 4
        if self.head_size > MAX_HEAD_BYTES or len(self.headers) > MAX_HEADERS:
            self.refusal = _Refused(431, "The request has too many or too large headers")
            raise self.refusal
        if name == b"host":
            self.hosts += 1
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_100 = True

    def on_headers_complete(self) -> None:
        self.reading_head = False
        if self.primed:  # the head that frames an Upgrade request's body (_after_upgrade)
            return
        parser = self.parser
        if self.hosts != 1 and (self.hosts or parser.get_http_version() == "1.1"):  # RFC 9112 3.2
            self.refusal = _Refused(400, "An HTTP/1.1 request needs exactly one Host header" if self.hosts == 0
                                    else "The request has more than one Host header")
            raise self.refusal
        url = self.url
        if url[:1] == b"/":
            raw_path, _, query = url.partition(b"?")
        else:  # absolute-form (http://host/path?q) or asterisk-form (*)
            raw_path, query = _split_target(url)
        if b"%" in raw_path:
            path = unquote_to_bytes(raw_path).decode("utf-8", "replace")
        else:
            path = raw_path.decode("utf-8", "replace")
        method = parser.get_method()
        scope = {
            "type": "http", "asgi": ASGI_VERSION, "http_version": parser.get_http_version(),
            "method": _METHODS.get(method) or method.decode("latin-1"), "scheme": self.listener.scheme,
            "path": path, "raw_path": raw_path, "query_string": query, "root_path": "",
            "headers": self.headers, "client": self.client, "server": self.server, "extensions": self.extensions,
        }
        if parser.should_upgrade() and any(n == b"upgrade" and b"websocket" in v.lower() for n, v in self.headers):
            self._upgrade(scope)
            return
        self.body_tick = self.listener.tick
        exchange = Exchange(self, scope, parser.should_keep_alive(), self.expect_100)
        if parser.should_upgrade():
            self.upgrade_framing = _declared_framing(self.headers)
        self.reading = exchange
        if self.exchange is None and not self.listener.closing:
            self._start(exchange)
        else:
            self.pipeline.append(exchange)
            if not self.paused_for_pipeline:
                self.paused_for_pipeline = True
                self.transport.pause_reading()

    def on_body(self, body: bytes) -> None:
        self.body_tick = self.listener.tick
        if self.reading is not None:
            self.reading.add_body(body)

    def on_message_complete(self) -> None:
        exchange = self.reading
        if exchange is None:
            return
        if self.upgrade_framing is not None:
            return  # llhttp ends an Upgrade request after its head; its body is still to come
        self.primed = False
        self.reading = None
        exchange.request_complete = True
        if exchange.waiter is not None:  # the app waits in `receive` for the rest of the body
            exchange.wake()

    def _upgrade(self, scope: dict[str, Any]) -> None:
        """A WebSocket handshake: the connection becomes a `WebSocketSession` (engine/gateway/websocket_server.py)."""
        if self.exchange is not None or self.pipeline or self.listener.closing:
            self.refusal = _Refused(400 if not self.listener.closing else 503,
                                    "A WebSocket handshake must not be pipelined behind other requests"
                                    if not self.listener.closing else "The server is shutting down")
            raise self.refusal
        from engine.gateway.websocket_server import WebSocketSession

        self.tunnel = WebSocketSession(self, scope)
        self.tunnel.start()

    # -- running exchanges ---------------------------------------------------------------------
    def _start(self, exchange: Exchange) -> None:
        self.exchange = exchange
        exchange.task = self.loop.create_task(self._run(exchange))

    async def _run(self, exchange: Exchange) -> None:
        in_flight = self.listener.in_flight
        in_flight.add(exchange)
        try:
            await self.app(exchange.scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            unavailable = self.listener.unavailable
            if exchange.cut and unavailable is not None and not exchange.started and exchange.task is not None:
                exchange.task.uncancel()  # the shutdown's cancellation is answered here, not propagated
                await unavailable(exchange.send)
                return
            self._abort(exchange)
            raise
        except BaseException as exc:
            if not isinstance(exc, ClientDisconnected):
                log.error("the application failed on %s %s", exchange.scope["method"], exchange.scope["path"],
                          exc_info=exc)
            self._abort(exchange)
        else:
            if not exchange.response_complete:
                if not exchange.started and not exchange.disconnected:  # else the client left or broke the body
                    log.error("the application returned no response to %s %s", exchange.scope["method"],
                              exchange.scope["path"])
                self._abort(exchange)
        finally:
            in_flight.discard(exchange)

    def _abort(self, exchange: Exchange) -> None:
        """The app ended without completing its response: a 500 if nothing was sent, else a close."""
        if exchange.response_complete or self.closed:
            return
        if exchange.disconnected:
            self.transport.close()
            return
        if not exchange.started:
            exchange.keep_alive = False
            self._write_error(500, "Internal server error")
        self.transport.close()

    def response_done(self, exchange: Exchange) -> None:
        """The response is complete: close, or go on with the next request of the connection."""
        if self.exchange is exchange:
            self.exchange = None
        if not exchange.keep_alive or self.listener.closing:
            self.transport.close()
            return
        if not exchange.request_complete:
            if exchange.expect_100:  # 100 Continue was never sent: the client may not send the body
                self.transport.close()
                return
            exchange.discard = True  # the app did not read the body: the rest is read and dropped
            exchange.body, exchange.body_size = [], 0
            self.resume_for_body()
        if self.pipeline:
            self._start(self.pipeline.popleft())
            if not self.pipeline and self.paused_for_pipeline:
                self.paused_for_pipeline = False
                self._resume_reading()
        elif self.final_error is not None:
            self._write_error(*self.final_error)
            self.transport.close()
        elif self.read_eof:  # the client sent all it will send
            self.transport.close()
        elif not self.reading_head:
            self.idle_tick = self.listener.tick

    # -- flow control on reading ---------------------------------------------------------------
    def pause_for_body(self) -> None:
        if not self.paused_for_body:
            self.paused_for_body = True
            self.transport.pause_reading()

    def resume_for_body(self) -> None:
        if self.paused_for_body:
            self.paused_for_body = False
            self._resume_reading()

    def _resume_reading(self) -> None:
        if not self.paused_for_body and not self.paused_for_pipeline and not self.closed:
            self.transport.resume_reading()

    # -- answers of the server itself ----------------------------------------------------------
    def _refuse(self, status: int, message: str) -> None:
        """Bytes that are not a valid request: answer 4xx after the requests before them, then close."""
        self.reading_head = False
        self.refused = True
        if self.closed:
            return
        self.transport.pause_reading()  # nothing after them is read
        broken, self.reading = self.reading, None  # a request whose body is malformed
        if broken is not None:
            broken.disconnected = True
            broken.wake()
            if broken in self.pipeline:
                self.pipeline.remove(broken)
            elif broken is self.exchange:
                if broken.started:  # its response is under way: it cannot be answered any more
                    self.transport.close()
                    return
                self.exchange = None  # answered here; the app's receive sees a disconnect
        if self.exchange is None:
            self._write_error(status, message)
            self.transport.close()
        else:
            self.final_error = (status, message)

    def _write_error(self, status: int, message: str) -> None:
        body = json.dumps({"statusCode": status, "message": message}).encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, _REASONS.get(status, b""), len(body), body))

    # -- timers (called by the listener's sweeper) ---------------------------------------------
    def expire(self, tick: int, header_read: int, keep_alive: int, body_read: float) -> None:
        if self.tunnel is not None:  # a WebSocket connection is never idle by the HTTP rules
            return
        if self.reading_head:
            if tick - self.head_tick > header_read:
                self._refuse(408, "The request head was not complete in time")
        elif (reading := self.reading) is not None:  # a body is due from the client (unless we paused it)
            if (tick - self.body_tick > body_read and not self.paused_for_body and not self.paused_for_pipeline
                    and not reading.expect_100):
                self._refuse(408, "The request body was not received in time")
        elif self.exchange is None and not self.pipeline and tick - self.idle_tick > keep_alive:
            self.transport.close()

    def close_if_idle(self) -> None:
        """Shutting down: close a connection that has no request in progress (a WebSocket one with 1001)."""
        if self.tunnel is not None:
            self.tunnel.going_away()
        elif self.exchange is None:
            self.transport.close()


def _split_target(target: bytes) -> tuple[bytes, bytes]:
    if target == b"*":
        return b"*", b""
    try:
        parsed = httptools.parse_url(target)
    except httptools.HttpParserInvalidURLError:
        return target, b""
    return parsed.path or b"/", parsed.query or b""


def _declared_framing(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The body framing an Upgrade request declared (None: no body)."""
    for name, value in headers:
        if name == b"transfer-encoding":
            return b"Transfer-Encoding: " + value
        if name == b"content-length" and value.strip() not in (b"", b"0"):
            return b"Content-Length: " + value
    return None


def _parser_message(error: httptools.HttpParserError) -> str:
    text = str(error)
    if "Content-Length" in text and "Transfer-Encoding" in text:
        return "A request must not have both Content-Length and Transfer-Encoding"
    if "Content-Length" in text:
        return "The request's Content-Length is not valid"
    return "The request is not valid HTTP/1.1"
