"""The native server's WebSocket connections: an upgraded HTTP/1.1 connection as an ASGI `websocket` exchange.

`H1Connection` hands a request carrying `Upgrade: websocket` to `WebSocketSession`. The handshake
is checked first (websockets' sans-I/O `ServerProtocol`: GET, HTTP/1.1, `Connection: Upgrade`,
a valid `Sec-WebSocket-Key`, version 13); a bad one is answered by the server (400, 405, 426) and
the app never sees it. The app then gets the ASGI `websocket` scope:

- `receive` gives `websocket.connect`, then one `websocket.receive` per whole message (fragments are
  joined), then `websocket.disconnect` with the client's close code (1005: none, 1006: the
  connection was lost).
- `send` takes `websocket.accept` (`subprotocol`, `headers`, and the server's own key `max_size`:
  the largest message the client may send; a larger one closes the connection with 1009),
  `websocket.send`, `websocket.close`, and the denial extension `websocket.http.response.start` /
  `.body` (an HTTP answer in place of the handshake). A `websocket.close` before `accept` is a 403.

Flow control: reading pauses while more than `QUEUE_HIGH_WATER` bytes of whole messages wait for
the app, so a client cannot make the server buffer more than that plus one message under
construction (at most `max_size`) plus one read; `send` waits while the transport's write buffer
is full. Pings are answered by the protocol itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from websockets.datastructures import Headers as WsHeaders
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import CLOSED, OPEN
from websockets.server import ServerProtocol

if TYPE_CHECKING:
    from engine.gateway.h1protocol import H1Connection

log = logging.getLogger("policygate.gateway")

QUEUE_HIGH_WATER = 256 * 1024  # bytes of received messages waiting for the app before reading pauses
DEFAULT_MAX_SIZE = 1024 * 1024  # the largest client message when the app's accept names none
CLOSE_SECONDS = 5.0  # after sending a close frame, how long the client has to answer before the TCP close
DENIAL = "websocket.http.response"  # the ASGI extension: an HTTP answer in place of the handshake
_HANDSHAKE_LIMIT = 64 * 1024  # raw bytes a client may send before its handshake is answered


class WebSocketSession:
    """One upgraded connection: the ASGI `receive`/`send` of its app call (see the module docstring)."""

    def __init__(self, conn: H1Connection, scope: dict[str, Any]) -> None:
        self.conn = conn
        offered = [p.strip() for name, value in scope["headers"] if name == b"sec-websocket-protocol"
                   for p in value.decode("latin-1").split(",") if p.strip()]
        self.scope = {**scope, "type": "websocket", "scheme": "wss" if scope["scheme"] == "https" else "ws",
                      "subprotocols": offered, "extensions": {**scope["extensions"], DENIAL: {}}}
        self.scope.pop("method", None)
        target = scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b"")
        headers = WsHeaders((name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"])
        # The head was parsed already (llhttp): one protocol object checks it, another speaks frames once open.
        self.handshake = ServerProtocol().accept(Request(target.decode("latin-1"), headers, method=scope["method"],
                                                          protocol="HTTP/" + scope["http_version"]))
        self.protocol = ServerProtocol(state=OPEN, max_size=DEFAULT_MAX_SIZE)
        self.connected = False  # `websocket.connect` was delivered
        self.accepted = False
        self.finished = False  # closed, denied or refused: nothing more is sent
        self.early: list[bytes] = []  # bytes that arrived before the handshake was answered
        self.early_size = 0
        self.messages: deque[dict[str, Any]] = deque()
        self.queued = 0  # bytes of `messages`
        self.paused = False
        self.fragments: list[bytes] = []
        self.fragment_opcode = Opcode.TEXT
        self.disconnect: dict[str, Any] | None = None  # the last message `receive` gives
        self.waiter: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.cut = False  # cancelled by the graceful shutdown
        self.denial_started = False

    # -- the server side ------------------------------------------------------------------------
    def start(self) -> None:
        """Answer a bad handshake at once; else call the app."""
        if self.handshake.status_code != 101:
            self.finished = True
            self._write_http(self.handshake.status_code, list(self.handshake.headers.raw_items()),
                             bytes(self.handshake.body))
            self.conn.transport.close()
            return
        self.task = self.conn.loop.create_task(self._run())

    async def _run(self) -> None:
        in_flight = self.conn.listener.in_flight
        in_flight.add(self)  # type: ignore[arg-type]  # the graceful shutdown waits for it like for an Exchange
        try:
            await self.conn.app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            self._abort(1001)
            raise
        except Exception as exc:
            log.error("the application failed on WebSocket %s", self.scope["path"], exc_info=exc)
            self._abort(1011)
        else:
            if not self.finished:
                self._abort(1011 if self.accepted else 0)
        finally:
            in_flight.discard(self)

    def _abort(self, code: int) -> None:
        """The app ended without closing: close the connection (before accept: a 500)."""
        if self.finished or self.conn.closed:
            return
        if not self.accepted:
            self.finished = True
            if not self.denial_started:
                self._write_http(500, [("Content-Type", "text/plain")], b"Internal server error")
            self.conn.transport.close()
            return
        self._close(code or 1011, "")

    def data_received(self, data: bytes) -> None:
        if not self.accepted:
            self.early.append(data)
            self.early_size += len(data)
            if self.early_size > _HANDSHAKE_LIMIT:
                self.conn.transport.pause_reading()
                self.paused = True
            return
        protocol = self.protocol
        protocol.receive_data(data)
        self._take_events()
        self._flush()

    def connection_lost(self) -> None:
        if self.disconnect is None:
            close = self.protocol.close_rcvd
            self.disconnect = {"type": "websocket.disconnect", "code": close.code if close else 1006,
                               "reason": close.reason if close else ""}
        self.finished = True
        self._wake()

    def going_away(self) -> None:
        """The server shuts down: close the connection with 1001 (before accept: the app's answer ends it)."""
        if self.accepted and not self.finished:
            self._close(1001, "The gateway is shutting down")

    def _take_events(self) -> None:
        for event in self.protocol.events_received():
            if not isinstance(event, Frame):
                continue
            opcode = event.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                self.fragment_opcode = opcode
                self.fragments = [bytes(event.data)]
            elif opcode is Opcode.CONT:
                self.fragments.append(bytes(event.data))
            elif opcode is Opcode.CLOSE:
                close = self.protocol.close_rcvd
                self.disconnect = {"type": "websocket.disconnect", "code": close.code if close else 1005,
                                   "reason": close.reason if close else ""}
                self._wake()
                continue
            else:
                continue  # ping (answered by the protocol) and pong
            if not event.fin:
                continue
            data = b"".join(self.fragments)
            self.fragments = []
            if self.fragment_opcode is Opcode.TEXT:
                try:
                    message: dict[str, Any] = {"type": "websocket.receive", "text": data.decode()}
                except UnicodeDecodeError:
                    self.protocol.fail(1007, "invalid UTF-8 in a text message")
                    self.disconnect = {"type": "websocket.disconnect", "code": 1007, "reason": ""}
                    self._wake()
                    return
            else:
                message = {"type": "websocket.receive", "bytes": data}
            self.messages.append(message)
            self.queued += len(data)
            self._wake()
        if self.protocol.close_code is not None and self.disconnect is None:  # the protocol failed (e.g. 1009)
            self.disconnect = {"type": "websocket.disconnect", "code": self.protocol.close_code,
                               "reason": self.protocol.close_reason or ""}
            self._wake()
        if self.queued > QUEUE_HIGH_WATER and not self.paused:
            self.paused = True
            self.conn.transport.pause_reading()

    def _flush(self) -> None:
        """Write what the protocol has to send (pongs, close frames); end the TCP connection when it says so."""
        transport = self.conn.transport
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)
            else:  # the protocol's end of stream: the closing handshake is done
                self.finished = True
                transport.close()
        if self.protocol.state is CLOSED and not transport.is_closing():
            transport.close()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- ASGI ------------------------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        while True:
            if self.messages:
                message = self.messages.popleft()
                self.queued -= len(message.get("bytes") or message.get("text") or "")
                if self.paused and self.queued <= QUEUE_HIGH_WATER // 2 and not self.conn.closed:
                    self.paused = False
                    self.conn.transport.resume_reading()
                return message
            if self.disconnect is not None:
                return self.disconnect
            if self.conn.closed:
                return {"type": "websocket.disconnect", "code": 1006, "reason": ""}
            self.waiter = self.conn.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        conn = self.conn
        if conn.closed or (self.finished and kind != "websocket.http.response.body"):
            raise ClientGone("the WebSocket connection is closed")
        if kind == "websocket.send":
            if not self.accepted:
                raise RuntimeError("websocket.send before websocket.accept")
            text = message.get("text")
            try:
                if text is not None:
                    self.protocol.send_text(text.encode())
                else:
                    self.protocol.send_binary(message.get("bytes") or b"")
            except InvalidState:
                raise ClientGone("the WebSocket connection is closing") from None
            self._flush()
            if conn.write_paused:
                await conn.drain()
        elif kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            if not self.accepted:  # ASGI: a close before accept refuses the handshake with 403
                self.finished = True
                self._write_http(403, [("Content-Type", "text/plain")], b"Forbidden")
                conn.transport.close()
                return
            self._close(int(message.get("code") or 1000), message.get("reason") or "")
        elif kind == "websocket.http.response.start":
            if self.accepted or self.denial_started:
                raise RuntimeError("websocket.http.response.start after the handshake was answered")
            self.denial_started = True
            self.denial_status = int(message["status"])
            self.denial_headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in message.get("headers", ())]
            self.denial_body: list[bytes] = []
        elif kind == "websocket.http.response.body":
            if not self.denial_started:
                raise RuntimeError("websocket.http.response.body before its start")
            self.denial_body.append(message.get("body", b""))
            if not message.get("more_body"):
                self.finished = True
                self._write_http(self.denial_status, self.denial_headers, b"".join(self.denial_body))
                conn.transport.close()
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    def _accept(self, message: dict[str, Any]) -> None:
        if self.accepted or self.denial_started:
            raise RuntimeError("websocket.accept after the handshake was answered")
        self.accepted = True
        response = self.handshake
        subprotocol = message.get("subprotocol")
        if subprotocol:
            response.headers["Sec-WebSocket-Protocol"] = subprotocol
            self.protocol.subprotocol = subprotocol
        for name, value in message.get("headers", ()):
            response.headers[name.decode("latin-1")] = value.decode("latin-1")
        max_size = message.get("max_size")
        self.protocol.max_message_size = int(max_size) if max_size else DEFAULT_MAX_SIZE
        self._write_head(response)
        early, self.early = self.early, []
        if self.paused:
            self.paused = False
            self.conn.transport.resume_reading()
        for chunk in early:
            self.data_received(chunk)

    def _close(self, code: int, reason: str) -> None:
        self.finished = True
        if self.protocol.state is OPEN:
            self.protocol.send_close(code, reason)
            self._flush()
        transport = self.conn.transport
        self.conn.loop.call_later(CLOSE_SECONDS, transport.close)

    def _write_head(self, response: Response) -> None:
        self.conn.transport.write(_head(101, list(response.headers.raw_items())))

    def _write_http(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """An HTTP answer in place of the handshake (the connection closes after it)."""
        framing = {"content-length", "connection", "transfer-encoding"}
        lines = [(name, value) for name, value in headers if name.lower() not in framing]
        lines += [("content-length", str(len(body))), ("connection", "close")]
        self.conn.transport.write(_head(status, lines) + body)


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    """A response head; a CR or LF inside a header name or value is refused."""
    lines = [f"HTTP/1.1 {status} {_reason(status)}\r\n", *(f"{name}: {value}\r\n" for name, value in headers), "\r\n"]
    head = "".join(lines)
    if head.count("\n") != len(lines):
        raise ValueError("a response header name or value contains CR or LF")
    return head.encode("latin-1")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class ClientGone(OSError):
    """`send` after the client's connection closed."""
