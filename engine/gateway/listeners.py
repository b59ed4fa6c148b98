"""The HTTP servers a gateway listens with: native, Granian or Hypercorn, one interface for all.

`serve_asgi(server, app, sock, stop, ...)` serves an ASGI app on an already bound, listening
socket until `stop` is set. Then it stops accepting and closes the socket at once (new
connections are refused instead of waiting in the backlog), waits for `drained` (the caller's
in-flight requests), and runs the app's lifespan shutdown.

The native server (engine/gateway/h1server.py) is HTTP/1.1 on this event loop, parsed by llhttp:
no thread hand-over per request. Granian parses HTTP in Rust (hyper) and hands requests to this process's event loop; it runs
here "embedded", one worker per listener, on the socket we bound, so the gateway keeps its own
process model (engine/commands/serve.py). Hypercorn is pure Python (h11/h2).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.gateway.balance import Slot
    from engine.gateway.settings import TlsSettings

SERVERS = ("native", "granian", "hypercorn")
CHOICES = ("auto", *SERVERS)  # `server.http-server` / `--server`
DEFAULT_SERVER = "auto"
BACKLOG = 2048
KEEP_ALIVE_SECONDS = 75
HEADER_READ_SECONDS = 5  # a request head must be complete this long after its first byte
SHUTDOWN_CLOSE_SECONDS = 5  # after the drain: how long Granian may take to finish writing and close its connections

log = logging.getLogger("policygate.gateway")


CLIENT_CERTIFICATE_MODES = ("required", "optional")  # `server.tls.client-certificate`


def resolve_server(choice: str, tls: TlsSettings | None) -> str:
    """The server a choice means: `auto` is native for cleartext and for mutual TLS (only it hands
    the caller's certificate to the gateway), Granian for other TLS (HTTP/2 by ALPN)."""
    if choice == "auto":
        return "granian" if tls is not None and tls.client_ca_file is None else "native"
    if choice not in SERVERS:
        raise ValueError(f"unknown HTTP server {choice!r} (one of {', '.join(CHOICES)})")
    return choice


def passes_client_certificates(server: str, tls: TlsSettings | None) -> bool:
    """True when requests can carry the caller's TLS certificate (`context.Request.Certificate`)."""
    return server == "native" and tls is not None and tls.client_ca_file is not None


async def serve_asgi(
    server: str, app: Any, sock: socket.socket, stop: asyncio.Event, *, tls: TlsSettings | None = None,
    drained: Callable[[], Awaitable[None]] | None = None, graceful_timeout: float = 30.0,
    body_read: float = 60.0, http: Callable[[dict[str, Any], Any, Any], Awaitable[None]] | None = None,
    drain: bool = False, balance: Slot | None = None,
) -> None:
    """Serve `app` on `sock` until `stop` is set; return once drained and the lifespan has ended.

    `http` handles the HTTP requests in place of `app` (whose lifespan still runs). With `drain`,
    the requests in flight at `stop` get `graceful_timeout` seconds, then the rest are cancelled
    and answered 503 (engine/gateway/drain.py): the native server does it itself, Granian and
    Hypercorn through `DrainingApp`, a wrapper that tracks each request. `balance`: the native
    server's share of a socket shared by several workers (engine/gateway/balance.py)."""
    if server == "native":
        from engine.gateway.drain import send_unavailable
        from engine.gateway.h1server import serve_native

        await serve_native(app, sock, stop, tls=tls, drained=drained, backlog=BACKLOG, body_read=body_read, http=http,
                           grace=graceful_timeout if drain else None, unavailable=send_unavailable if drain else None,
                           balance=balance)
        return
    if balance is not None:
        raise ValueError("only the native server shares one socket over workers")
    if drain or http is not None:
        from engine.gateway.drain import DrainingApp

        draining = app = DrainingApp(app, http=http)
        if drain:  # in place of a `drained` of the caller's
            drained = functools.partial(draining.drain, graceful_timeout)
    if server == "granian":
        await _serve_granian(app, sock, stop, tls, drained)
    elif server == "hypercorn":
        await _serve_hypercorn(app, sock, stop, tls, drained, graceful_timeout)
    else:
        raise ValueError(f"unknown HTTP server {server!r} (one of {', '.join(SERVERS)})")


def hypercorn_config() -> Any:
    from hypercorn.config import Config

    config = Config()
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.keep_alive_timeout = KEEP_ALIVE_SECONDS
    config.backlog = BACKLOG  # Hypercorn re-listens with this (default 100)
    config.keep_alive_max_requests = 100_000  # Hypercorn's default (1000) makes clients reconnect often
    config.graceful_timeout = 5
    config.include_server_header = False  # backend Server/Date headers pass through; the app adds Date when missing
    config.include_date_header = False
    return config


async def _serve_hypercorn(
    app: Any, sock: socket.socket, stop: asyncio.Event, tls: TlsSettings | None,
    drained: Callable[[], Awaitable[None]] | None, graceful_timeout: float,
) -> None:
    from hypercorn.app_wrappers import ASGIWrapper
    from hypercorn.asyncio.run import worker_serve
    from hypercorn.config import Sockets

    config = hypercorn_config()
    config.graceful_timeout = graceful_timeout + 1  # the gateway answers 503 itself at graceful_timeout
    sockets = Sockets([], [sock], [])
    if tls is not None:
        config.certfile, config.keyfile = str(tls.certfile), str(tls.keyfile)
        if tls.client_ca_file is not None:  # mutual TLS: the handshake needs a certificate from these CAs
            config.ca_certs = str(tls.client_ca_file)
            config.verify_mode = ssl.CERT_REQUIRED if tls.client_certificate == "required" else ssl.CERT_OPTIONAL
        sockets = Sockets([sock], [], [])

    async def trigger() -> None:  # Hypercorn closes the listener, then waits for its connections
        await stop.wait()

    serving = asyncio.ensure_future(worker_serve(ASGIWrapper(app), config, sockets=sockets, shutdown_trigger=trigger))
    await stop.wait()
    if drained is not None:
        await drained()
    await serving


def _granian_watcher(app: Any) -> Callable[[Any], Awaitable[None]]:
    """What Granian runs (in a task) for each request: `app` with the request's scope and channels.

    Granian's own wrappers add two calls per request and copy the lifespan state into every scope
    (`scope["state"]`), which neither the gateway nor the admin app reads; `root_path` is left to
    its ASGI default ("").
    """

    async def watch(watcher: Any) -> None:
        proto = watcher.proto
        try:
            await app(watcher.scope, proto.receive, proto.send)
        except BaseException as exc:
            watcher.err(exc)
            return
        watcher.done()

    return watch


async def _serve_granian(
    app: Any, sock: socket.socket, stop: asyncio.Event, tls: TlsSettings | None,
    drained: Callable[[], Awaitable[None]] | None,
) -> None:
    from granian import _futures, _granian, asgi
    from granian.http import HTTP1Settings, HTTP2Settings

    # Granian's embedding API (granian/server/embed.py) is untyped and its .pyi lags 2.8's signatures.
    native: Any = _granian
    futures: Any = _futures
    granian_asgi: Any = asgi
    loop = asyncio.get_running_loop()
    lifespan = granian_asgi.LifespanProtocol(app)
    await lifespan.startup()
    if lifespan.interrupt:
        raise RuntimeError(f"the application failed to start: {lifespan.exc}")
    callback = _granian_watcher(app)
    signal = native.WorkerSignal()
    # Granian owns a duplicate of the descriptor: closing both makes the port refuse connections.
    holder = native.SocketHolder(os.dup(sock.fileno()), False, BACKLOG)
    certfile = str(tls.certfile) if tls is not None else None
    keyfile = str(tls.keyfile) if tls is not None else None
    client_ca = str(tls.client_ca_file) if tls is not None and tls.client_ca_file is not None else None
    crls = [str(tls.client_crl_file)] if tls is not None and tls.client_crl_file is not None else []
    worker = native.ASGIWorker(
        1, (None, holder), None,
        1,           # Rust runtime threads
        512,         # Rust blocking threads
        1, 30,       # Python blocking threads (unused by ASGI) and their idle timeout
        BACKLOG,     # backpressure: concurrent requests handed to Python
        "auto",      # HTTP/1.1, and HTTP/2 by ALPN (TLS) or prior knowledge
        HTTP1Settings(header_read_timeout=HEADER_READ_SECONDS * 1000, keep_alive=True), HTTP2Settings(keep_alive_timeout=KEEP_ALIVE_SECONDS),
        True,        # websockets (WebSocket APIs, engine/gateway/websocket.py)
        None,        # static files
        tls is not None, certfile, keyfile, None, "tls1.2", client_ca, crls, client_ca is not None,
        (None, None),
    )
    scheduler = futures._new_cbscheduler(loop, callback, impl_asyncio=True)
    stopped = loop.create_future()  # Granian's connections are all closed (their last answers written)
    signal.add_cb(lambda: loop.call_soon_threadsafe(_settle, stopped))
    worker.serve_async(scheduler, loop, signal)
    try:
        await stop.wait()
    finally:
        signal.set()
        sock.close()
        if drained is not None:
            await drained()
        # The app has handed over its last answers; Granian's threads still write them. Exiting
        # before they are done would cut them off.
        try:
            await asyncio.wait_for(asyncio.shield(stopped), SHUTDOWN_CLOSE_SECONDS)
        except TimeoutError:
            log.warning("graceful shutdown: Granian's connections did not close within %g s", SHUTDOWN_CLOSE_SECONDS)
        await lifespan.shutdown()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
