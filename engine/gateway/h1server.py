"""The native HTTP/1.1 server: an ASGI app served on the running event loop, no thread hand-over.

`serve_native(app, sock, stop, ...)` runs the app's lifespan, serves HTTP/1.1 connections
(engine/gateway/h1protocol.py) on an already bound, listening socket, and, once `stop` is set,
stops accepting and closes the socket at once, closes idle connections, drains the requests in
flight, closes the rest and ends the lifespan.

The server drains by itself (`grace`): it knows its requests, so no wrapper app has to track
each one. After `grace` seconds the requests still running are cancelled, and `unavailable`
answers those whose response had not started (the gateway's 503).

With TLS the socket speaks HTTPS with ALPN `http/1.1` only (HTTP/2 needs Granian), and mutual
TLS when the settings name client CAs.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from engine.gateway.h1protocol import ASGI_VERSION, App, H1Connection, Listener, Send

if TYPE_CHECKING:
    from engine.gateway.settings import TlsSettings

KEEP_ALIVE_SECONDS = 75  # an idle keep-alive connection (or a new one without a request) is closed
HEADER_READ_SECONDS = 5  # a request head must be complete this long after its first byte (408)
TLS_HANDSHAKE_SECONDS = 10
SHUTDOWN_CLOSE_SECONDS = 5  # after the drain: how long requests the drain does not track may take
CANCELLED_SECONDS = 5  # how long requests the drain cancelled may take to stop

log = logging.getLogger("policygate.gateway")


async def serve_native(
    app: App, sock: socket.socket, stop: asyncio.Event, *, tls: TlsSettings | None = None,
    drained: Callable[[], Awaitable[None]] | None = None, backlog: int = 2048,
    keep_alive: int = KEEP_ALIVE_SECONDS, header_read: int = HEADER_READ_SECONDS,
    http: App | None = None, grace: float | None = None, unavailable: Callable[[Send], Awaitable[None]] | None = None,
) -> None:
    """Serve `app` on `sock` until `stop` is set; return once drained and the lifespan has ended.

    `http` handles the HTTP requests in place of `app` (whose lifespan still runs). With `grace`,
    requests in flight get that many seconds after `stop`; then the rest are cancelled (see the
    module docstring). `drained`, when given, is awaited after that."""
    loop = asyncio.get_running_loop()
    lifespan = Lifespan(app)
    await lifespan.startup()
    listener = Listener(http or app, loop, "https" if tls is not None else "http", unavailable)
    try:
        context = server_tls_context(tls) if tls is not None else None
        server = await loop.create_server(
            lambda: H1Connection(listener), sock=sock, backlog=backlog, ssl=context,
            ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS if context is not None else None,
        )
    except BaseException:
        await lifespan.shutdown()  # the app started: let it stop its services
        raise
    sweeper = loop.create_task(_sweep(listener, header_read, keep_alive))
    try:
        await stop.wait()
    finally:
        listener.closing = True
        server.close()  # the port refuses new connections from now on
        sock.close()
        for connection in list(listener.connections):
            connection.close_if_idle()
        if grace is not None:
            await _drain(listener, grace)
        if drained is not None:
            await drained()
        await _close_all(listener)
        sweeper.cancel()
        await lifespan.shutdown()


def server_tls_context(tls: TlsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.certfile, tls.keyfile)
    if tls.client_ca_file is not None:  # mutual TLS: the handshake needs a certificate from these CAs
        context.load_verify_locations(tls.client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["http/1.1"])
    return context


async def _sweep(listener: Listener, header_read: int, keep_alive: int) -> None:
    """Advance the listener's clock each second and close connections past their time limits."""
    while True:
        await asyncio.sleep(1)
        listener.tick += 1
        for connection in list(listener.connections):
            connection.expire(listener.tick, header_read, keep_alive)


async def _drain(listener: Listener, grace: float) -> None:
    """Wait up to `grace` seconds for the requests in flight; then cancel the rest and wait for them."""
    if await _settled(listener, grace):
        return
    log.warning("graceful shutdown: %d request(s) still running after %g s; answering 503",
                len(listener.in_flight), grace)
    for exchange in list(listener.in_flight):
        exchange.cut = True
        if exchange.task is not None:
            exchange.task.cancel()
    if not await _settled(listener, CANCELLED_SECONDS):
        log.warning("graceful shutdown: %d request(s) did not stop", len(listener.in_flight))


async def _settled(listener: Listener, seconds: float) -> bool:
    """Whether every app call of the listener returned within `seconds`."""
    deadline = listener.loop.time() + seconds
    while listener.in_flight:
        if listener.loop.time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _close_all(listener: Listener) -> None:
    """Let requests still in progress finish (bounded), then close every connection."""
    deadline = listener.loop.time() + SHUTDOWN_CLOSE_SECONDS
    while any(c.exchange is not None for c in listener.connections) and listener.loop.time() < deadline:
        await asyncio.sleep(0.02)
    for connection in list(listener.connections):
        connection.transport.close()


class Lifespan:
    """The ASGI lifespan protocol: startup before serving, shutdown after."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def startup(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())
        reply = await self._ask("lifespan.startup")
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the application failed to start: {reply.get('message', '')}")

    async def shutdown(self) -> None:
        if self.supported:
            reply = await self._ask("lifespan.shutdown")
            if reply["type"] == "lifespan.shutdown.failed":
                raise RuntimeError(f"the application failed to stop: {reply.get('message', '')}")
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    async def _ask(self, kind: str) -> dict[str, Any]:
        await self.inbox.put({"type": kind})
        return await self.replies.get()

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": {}}
        try:
            await self.app(scope, self.inbox.get, self.replies.put)
        except Exception as exc:  # an app without lifespan support raises on the scope type
            if self.supported:
                self.supported = False
                await self.replies.put({"type": "lifespan.unsupported", "message": str(exc)})
            return
        if self.supported:  # returned without answering: no lifespan support
            self.supported = False
            await self.replies.put({"type": "lifespan.unsupported"})
