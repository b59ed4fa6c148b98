"""Run a gateway: build services and state from a configuration, serve gateway + admin listeners.

`GatewayServer.prepare()` does everything that can fail on bad input (config, documents, cache
and rate-limit settings) before any port is bound; `serve(shutdown)` runs until the event is set.
The CLI (`policygate serve`) and the test harness (`tests/support/gateway.py`) both use this.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.credentials import credential_service
from engine.errors import ConfigError
from engine.gateway import heap
from engine.gateway.accesslog import AccessLog
from engine.gateway.admin import create_admin_app, exposure_warning, register_service_routes
from engine.gateway.app import Gateway, GatewayQuart, gateway_app
from engine.gateway.backend import BackendClient
from engine.gateway.balance import Slot
from engine.gateway.config import load_settings
from engine.gateway.listeners import BACKLOG, passes_client_certificates, resolve_server, serve_asgi
from engine.gateway.request_trace import RequestTraces
from engine.gateway.services import GatewayMetrics, Services, build_store_services, certificate_store
from engine.gateway.settings import GatewaySettings
from engine.gateway.state import GatewayState
from engine.gateway.worker_metrics import metrics_dir, publish_loop
from engine.identity import token_service
from engine.loggers import logger_service
from engine.metrics import Metrics
from engine.registry import PolicyRegistry

log = logging.getLogger("policygate.gateway")


def bind_socket(host: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """A TCP socket bound to host:port (port 0 picks a free port), listening unless `listen` is false."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port and hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    if listen:
        sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


class GatewayServer:
    """One gateway process: settings -> services + compiled state -> listeners (native, Granian or Hypercorn)."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        host: str | None = None,
        port: int | None = None,
        admin_port: int | None | bool = True,
        admin_host: str | None = None,
        access_log: bool | None = None,
        registry: PolicyRegistry | None = None,
        http_server: str | None = None,
    ) -> None:
        try:  # the server actually used: `auto` resolved
            self.http_server = resolve_server(http_server or settings.server.http_server, settings.server.tls)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        tls = settings.server.tls
        if self.http_server == "granian" and tls is not None and tls.client_certificate == "optional":
            raise ConfigError(f"{settings.file}: server.tls.client-certificate: 'optional' needs `http-server: native` "
                              "(or hypercorn); Granian requires the certificate when client-ca-file is set")
        self.settings = settings
        self.host = host or settings.server.host
        self.port = settings.server.port if port is None else port
        if admin_port is True:
            self.admin_port = settings.server.admin_port
        else:
            self.admin_port = None if admin_port is False or admin_port is None else int(admin_port)
        self.admin_host = admin_host or settings.server.admin_host
        self.access_log = settings.server.access_log if access_log is None else access_log
        self.registry = registry
        self.run_demo_backend = True  # `demo-backend:` in the config starts the sample backend here
        self.metrics = Metrics()
        self.services: Services | None = None
        self.app: GatewayQuart | None = None
        self.bound: dict[str, tuple[str, int]] = {}  # "gateway"/"admin" -> (host, port) once listening
        self.owns_heap = False  # `policygate serve`: freeze the long-lived heap once serving and after reloads
        self.balance: Slot | None = None  # one of several native workers sharing the gateway socket: its row
        self._reload_lock = asyncio.Lock()

    def prepare(self) -> None:
        """Build services and compile every document; raises ConfigError / PolicyLoadError."""
        _check_tls(self.settings)
        cache, limits = build_store_services(self.settings, self.metrics)
        http = BackendClient(self.settings.backend)
        services = Services(
            settings=self.settings, metrics=self.metrics, http=http,
            cache=cache, limits=limits, named_values=dict(self.settings.named_values),
            identity=token_service(self.settings.identity),
            credentials=credential_service(self.settings.credentials),
            certificates=certificate_store(self.settings),
            loggers=logger_service(self.settings.loggers, self.metrics),
        )
        if self.settings.tracing is not None:
            from engine.gateway.tracing import Tracing

            services.tracing = http.tracing = Tracing(self.settings.tracing)
        services.gateway_metrics = GatewayMetrics(self.metrics)
        services.request_traces = RequestTraces(registry=self.registry)
        register_service_routes(services)  # e.g. the cache's POST /cache/purge
        services.client_certificates = passes_client_certificates(self.http_server, self.settings.server.tls)
        state = GatewayState.build(self.settings, services, self.registry)
        services.fragments = state.fragments
        self.services = services
        self.app = gateway_app(Gateway(state, services, AccessLog() if self.access_log else None))

    async def serve(
        self, shutdown: asyncio.Event, *, ready: Callable[[GatewayServer], None] | None = None,
        gateway_socket: socket.socket | None = None,
    ) -> None:
        """Serve until `shutdown` is set (`prepare()` first)."""
        if self.app is None or self.services is None:
            self.prepare()
        assert self.app is not None and self.services is not None
        demo = None
        if self.settings.demo_backend is not None and self.run_demo_backend:
            from engine.gateway.demo_backend import start_demo_backend

            demo = await start_demo_backend(self.settings.demo_backend)
            self.bound["demo-backend"] = (demo.host, demo.port)
        try:
            await self._serve(shutdown, ready, gateway_socket)
        finally:
            if demo is not None:
                await demo.stop()

    async def _serve(
        self, shutdown: asyncio.Event, ready: Callable[[GatewayServer], None] | None, gateway_socket: socket.socket | None
    ) -> None:
        assert self.app is not None and self.services is not None
        gateway_sock = gateway_socket or bind_socket(self.host, self.port)
        self.bound["gateway"] = gateway_sock.getsockname()[:2]
        tasks = [serve_asgi(self.http_server, self.app, gateway_sock, shutdown, tls=self.settings.server.tls,
                            graceful_timeout=self.settings.server.graceful_timeout,
                            body_read=self.settings.server.request_body_timeout, http=self.app.gateway.handle,
                            drain=True, balance=self.balance)]
        if self.admin_port is not None:
            admin_sock = bind_socket(self.admin_host, self.admin_port)  # private unless configured
            if (warning := exposure_warning(self.admin_host, self.settings.server.admin_token)) is not None:
                log.warning("%s", warning)
            self.bound["admin"] = admin_sock.getsockname()[:2]
            tasks.append(serve_asgi(self.http_server, create_admin_app(self.services), admin_sock, shutdown))
        shared = metrics_dir()
        if shared is not None:  # one of several workers: publish our metrics for the admin's /metrics
            tasks.append(publish_loop(self.metrics, shutdown, shared))
        if self.owns_heap:
            asyncio.get_running_loop().call_soon(heap.freeze)
        if ready is not None:
            asyncio.get_running_loop().call_soon(ready, self)
        await asyncio.gather(*tasks)

    async def reload(self, path: str | Path | None = None) -> bool:
        """Re-read the configuration and documents; swap atomically, or keep the old state and log why."""
        from engine.gateway.reload import reload_server

        async with self._reload_lock:
            return await reload_server(self, Path(path) if path else self.settings.file)

    def url(self, name: str = "gateway") -> str:
        host, port = self.bound[name]
        scheme = "https" if name == "gateway" and self.settings.server.tls is not None else "http"
        return f"{scheme}://{host}:{port}"


def _check_tls(settings: GatewaySettings) -> None:
    """Load the certificate once at start-up so a bad one is a configuration error, not a crash."""
    tls = settings.server.tls
    if tls is None:
        return
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls.certfile, tls.keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"{settings.file}: server.tls: cannot load the certificate and key: {exc}") from None
    if tls.client_ca_file is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_verify_locations(tls.client_ca_file)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"{settings.file}: server.tls.client-ca-file: cannot load the CA certificates: {exc}") from None
    if tls.client_crl_file is not None:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_verify_locations(tls.client_crl_file)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"{settings.file}: server.tls.client-crl-file: cannot load the revocation lists: {exc}") from None


def create_app(settings: GatewaySettings, *, access_log: bool = False) -> GatewayQuart:
    """The gateway as one ASGI app (no admin port): serve it with any ASGI server.

    Builds the services and compiles every document; raises ConfigError / PolicyLoadError.
    """
    server = GatewayServer(settings, access_log=access_log)
    server.prepare()
    assert server.app is not None
    return server.app


def load_server(path: str | Path, **options: Any) -> GatewayServer:
    """Read a configuration file and prepare a server (raises ConfigError / PolicyLoadError)."""
    server = GatewayServer(load_settings(path), **options)
    server.prepare()
    return server
