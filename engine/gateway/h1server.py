"""The native HTTP/1.1 server: an ASGI app served on the running event loop, no thread hand-over.

`serve_native(app, sock, stop, ...)` runs the app's lifespan, serves HTTP/1.1 connections
(engine/gateway/h1protocol.py) on an already bound, listening socket, and, once `stop` is set,
stops accepting and closes the socket at once, closes idle connections, drains the requests in
flight, closes the rest and ends the lifespan.

The server drains by itself (`grace`): it knows its requests, so no wrapper app has to track
each one. After `grace` seconds the requests still running are cancelled, and `unavailable`
answers those whose response had not started (the gateway's 503).

With TLS the socket speaks HTTPS with ALPN `http/1.1` only (HTTP/2 needs Granian), and mutual
TLS when the settings name client CAs (certificate required or optional). Each HTTPS request's
scope carries the ASGI TLS extension (`scope["extensions"]["tls"]`): version, cipher suite and
the caller's verified certificate chain.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cryptography import x509

from engine.gateway.balance import BalancedAcceptor, Slot
from engine.gateway.h1protocol import ASGI_VERSION, App, H1Connection, Listener, Send

if TYPE_CHECKING:
    from engine.gateway.settings import TlsSettings

KEEP_ALIVE_SECONDS = 75  # an idle keep-alive connection (or a new one without a request) is closed
HEADER_READ_SECONDS = 5  # a request head must be complete this long after its first byte (408)
TLS_HANDSHAKE_SECONDS = 10
SHUTDOWN_CLOSE_SECONDS = 5  # after the drain: how long requests the drain does not track may take
CANCELLED_SECONDS = 5  # how long requests the drain cancelled may take to stop
BODY_READ_SECONDS = 60.0  # a request body making no progress this long gets 408 (server.request-body-timeout)

log = logging.getLogger("policygate.gateway")


async def serve_native(
    app: App, sock: socket.socket, stop: asyncio.Event, *, tls: TlsSettings | None = None,
    drained: Callable[[], Awaitable[None]] | None = None, backlog: int = 2048,
    keep_alive: int = KEEP_ALIVE_SECONDS, header_read: int = HEADER_READ_SECONDS,
    body_read: float = BODY_READ_SECONDS, http: App | None = None, grace: float | None = None,
    unavailable: Callable[[Send], Awaitable[None]] | None = None, balance: Slot | None = None,
) -> None:
    """Serve `app` on `sock` until `stop` is set; return once drained and the lifespan has ended.

    `http` handles the HTTP requests in place of `app` (whose lifespan still runs). With `grace`,
    requests in flight get that many seconds after `stop`; then the rest are cancelled (see the
    module docstring). `drained`, when given, is awaited after that. With `balance` (this worker's
    row of the workers' connection table) `sock` is shared with the other workers, and this one
    accepts its share of the connections (engine/gateway/balance.py)."""
    loop = asyncio.get_running_loop()
    lifespan = Lifespan(app)
    await lifespan.startup()
    listener = Listener(http or app, loop, "https" if tls is not None else "http", unavailable)
    try:
        context = server_tls_context(tls) if tls is not None else None
        if context is not None and tls is not None:
            listener.describe_tls = TlsDescriber(context, tls.certfile.read_text(errors="replace"))
        if balance is None:
            server: asyncio.AbstractServer | BalancedAcceptor = await loop.create_server(
                lambda: H1Connection(listener), sock=sock, backlog=backlog, ssl=context,
                ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS if context is not None else None,
            )
        else:
            server = _balanced_acceptor(listener, sock, balance, context)
    except BaseException:
        await lifespan.shutdown()  # the app started: let it stop its services
        raise
    sweeper = loop.create_task(_sweep(listener, header_read, keep_alive, body_read))
    try:
        await stop.wait()
    finally:
        listener.closing = True
        if isinstance(server, BalancedAcceptor):
            server.stop()  # the other workers take the new connections (the parent stops the port at shutdown)
        else:
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


def _balanced_acceptor(listener: Listener, sock: socket.socket, slot: Slot,
                       context: ssl.SSLContext | None) -> BalancedAcceptor:
    """Serve this worker's share of the connections of a socket shared by the workers."""
    loop = listener.loop
    connecting: set[asyncio.Task[None]] = set()

    async def connect(conn: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(
                lambda: H1Connection(listener), conn, ssl=context,
                ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS if context is not None else None)
        except (OSError, ssl.SSLError, TimeoutError) as exc:  # the TLS handshake failed, or the client left
            log.debug("connection not established: %s", exc)
            conn.close()
            acceptor.closed()

    def open_connection(conn: socket.socket) -> None:
        task = loop.create_task(connect(conn))
        connecting.add(task)
        task.add_done_callback(connecting.discard)

    acceptor = BalancedAcceptor(loop, sock, slot, open_connection)
    listener.released = acceptor.closed
    acceptor.start()
    return acceptor


def server_tls_context(tls: TlsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.certfile, tls.keyfile)
    if tls.client_ca_file is not None:  # mutual TLS: a certificate the caller sends must come from these CAs
        context.load_verify_locations(tls.client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED if tls.client_certificate == "required" else ssl.CERT_OPTIONAL
        if tls.client_crl_file is not None:  # a revoked (or unlisted issuer's) certificate fails the handshake
            context.load_verify_locations(tls.client_crl_file)
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    context.set_alpn_protocols(["http/1.1"])
    return context


_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_PEM_END = "-----END CERTIFICATE-----"


class TlsDescriber:
    """The ASGI TLS extension of a new connection: protocol version, cipher suite and the
    caller's verified certificate chain (PEM, the caller's first; empty without one)."""

    def __init__(self, context: ssl.SSLContext, certfile_text: str) -> None:
        self.cipher_ids = {c["name"]: c["id"] & 0xFFFF for c in context.get_ciphers()}  # IANA numbers
        end = certfile_text.find(_PEM_END)
        start = certfile_text.find("-----BEGIN CERTIFICATE-----")
        self.server_cert = certfile_text[start:end + len(_PEM_END)] + "\n" if 0 <= start < end else None

    def __call__(self, transport: asyncio.BaseTransport) -> dict[str, Any]:
        tls: dict[str, Any] = {"server_cert": self.server_cert, "client_cert_chain": (), "client_cert_name": None,
                               "client_cert_error": None, "tls_version": None, "cipher_suite": None}
        connection = transport.get_extra_info("ssl_object")
        if connection is None:
            return tls
        tls["tls_version"] = _TLS_VERSIONS.get(connection.version() or "")
        cipher = connection.cipher()
        if cipher is not None:
            tls["cipher_suite"] = self.cipher_ids.get(cipher[0])
        chain = _verified_chain(connection)
        if chain:
            tls["client_cert_chain"] = tuple(ssl.DER_cert_to_PEM_cert(der) for der in chain)
            tls["client_cert_name"] = x509.load_der_x509_certificate(chain[0]).subject.rfc4514_string()
        return tls


def _verified_chain(connection: ssl.SSLObject) -> list[bytes]:
    """The caller's certificate chain as the handshake verified it (DER), or [] without one."""
    public = getattr(connection, "get_verified_chain", None)  # Python 3.13+
    if public is not None:
        found = public()
    else:  # 3.11-3.12: the same call on the wrapped object
        inner = getattr(connection, "_sslobj", None)
        getter = getattr(inner, "get_verified_chain", None)
        found = getter() if getter is not None else None
    if not found:
        leaf = connection.getpeercert(binary_form=True)
        return [leaf] if leaf else []
    return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in found]  # type: ignore[attr-defined]


async def _sweep(listener: Listener, header_read: int, keep_alive: int, body_read: float) -> None:
    """Advance the listener's clock each second and close connections past their time limits."""
    while True:
        await asyncio.sleep(1)
        listener.tick += 1
        for connection in list(listener.connections):
            connection.expire(listener.tick, header_read, keep_alive, body_read)


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
