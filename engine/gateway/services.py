"""Services shared by every request (`ctx.services`): metrics, backend client, cache, limits.

The cache and the rate limits are built by `from_config(mapping | None, *, where, metrics)` of
`engine.cache.service.CacheService` and `engine.ratelimit.service.LimitService`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine import policy
from engine.apispec.instance import InstanceSchema
from engine.backends import Backend, Backends
from engine.cache.service import CacheService
from engine.certificates import CertificateError, CertificateStore
from engine.credentials import CredentialService
from engine.errors import ConfigError
from engine.gateway.settings import GatewaySettings
from engine.identity import TokenService
from engine.isolation import close_worker_pools
from engine.loggers import LoggerService
from engine.metrics import Metrics
from engine.openid import TokenValidationSettings
from engine.ratelimit.service import LimitService

log = logging.getLogger("policygate.gateway")

AdminHandler = Callable[..., Awaitable[Any]]


@dataclass
class AdminRoute:
    """A route another component adds to the admin app (e.g. the cache purge endpoint)."""

    rule: str
    handler: AdminHandler
    methods: tuple[str, ...] = ("GET",)


@dataclass
class GatewayMetrics:
    """The gateway's own metric families, created once (cheap to update on the hot path)."""

    registry: Metrics

    def __post_init__(self) -> None:
        m = self.registry
        self.requests = m.counter("policygate_requests_total", "Requests handled, by API, operation and status.", ("api", "operation", "status"))
        self.duration = m.histogram("policygate_request_duration_seconds", "Time from request to response start, by API.", ("api",))
        self.backend_duration = m.histogram("policygate_backend_duration_seconds", "Time from sending a request to the backend to its response headers, by API.", ("api",))
        self.backend_errors = m.counter("policygate_backend_errors_total", "Backend calls that failed, by API and reason.", ("api", "reason"))
        self.reloads = m.counter("policygate_config_reloads_total", "Configuration reloads, by result.", ("result",))
        # Families other components fill; declared here so /metrics always lists them.
        self.websocket_connections = m.counter("policygate_websocket_connections_total", "WebSocket connections accepted, by API.", ("api",))
        self.websocket_closes = m.counter("policygate_websocket_closes_total", "WebSocket connections ended, by API and the side that ended them (client, backend, idle).", ("api", "side"))
        self.websocket_messages = m.counter("policygate_websocket_messages_total", "WebSocket messages relayed, by API and direction.", ("api", "direction"))
        self.throttled = m.counter("policygate_throttled_requests_total", "Requests refused by rate limits or quotas.", ("policy",))


class HttpClient(policy.BackendClient, Protocol):
    """The client behind `ctx.services.http`: the pooled `engine.gateway.backend.BackendClient` when
    serving, `engine.testing.upstream.ScriptedUpstream` under `policygate test`."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Services:
    """What `ctx.services` points to. `cache`/`limits` are None when their component is absent."""

    settings: GatewaySettings
    metrics: Metrics
    http: HttpClient
    cache: CacheService | None = None
    limits: LimitService | None = None
    identity: TokenService | None = None  # `identity:`: tokens for authentication-managed-identity
    credentials: CredentialService | None = None  # `credentials:`: connections of get-authorization-context
    certificates: CertificateStore = field(default_factory=lambda: CertificateStore({}))  # `certificates:`
    loggers: LoggerService | None = None  # `loggers:`: the sinks of log-to-eventhub
    fragments: dict[str, Any] = field(default_factory=dict)
    named_values: dict[str, str] = field(default_factory=dict)
    admin_routes: list[AdminRoute] = field(default_factory=list)
    gateway_metrics: GatewayMetrics | None = None
    started: bool = False  # services opened (the gateway's lifespan ran); False again while closing
    tracing: Any = None  # engine.gateway.tracing.Tracing when `tracing:` is configured
    request_traces: Any = None  # engine.gateway.request_trace.RequestTraces: on-demand request traces
    client_certificates: bool | None = None  # requests carry the caller's TLS certificate (None: not serving)
    backends: Backends = field(init=False)  # the backend entities with their breaker state (this process)

    def __post_init__(self) -> None:
        self.backends = Backends(self.settings.backends, self.metrics)

    def backend(self, backend_id: str) -> Backend | None:
        return self.backends.get(backend_id)

    @property
    def token_validation(self) -> TokenValidationSettings:
        return self.settings.token_validation

    def backend_url(self, backend_id: str) -> str | None:
        return self.backends.url(backend_id)

    def schema(self, schema_id: str) -> InstanceSchema | None:
        return self.settings.schemas.get(schema_id)

    def use_settings(self, settings: GatewaySettings) -> None:
        """Take a reloaded configuration: backends keep the breaker state of unchanged entities."""
        if settings.backends != self.settings.backends:
            self.backends = Backends(settings.backends, self.metrics, previous=self.backends)
        self.settings = settings

    def operation_examples(self, api_id: str, operation_id: str) -> dict[int, dict[str, str]]:
        api = self.settings.apis.get(api_id)
        for operation in api.operations if api is not None else ():
            if operation.id == operation_id:
                return operation.examples
        return {}

    def add_admin_route(self, rule: str, handler: AdminHandler, methods: tuple[str, ...] = ("GET",)) -> None:
        """Register an admin endpoint (served on the admin port); call before the admin app starts."""
        self.admin_routes.append(AdminRoute(rule, handler, methods))

    async def start(self) -> None:
        if self.tracing is not None:  # in the worker process: the exporter thread must not cross a fork
            self.tracing.start()
        await self.http.start()
        for service in (self.cache, self.limits, self.loggers):
            if service is not None:
                await service.start()
        self.started = True

    async def not_ready(self) -> str | None:
        """Why the gateway should get no traffic now (for /ready), or None when it may."""
        if not self.started:
            return "starting"
        for service in (self.cache, self.limits):
            check = getattr(service, "not_ready", None)
            if check is not None:
                reason: str | None = await check()
                if reason:
                    return reason
        return None

    async def close(self) -> None:
        self.started = False
        for service in (self.limits, self.cache, self.loggers):
            if service is not None:
                try:
                    await service.close()
                except Exception as exc:  # closing must not mask shutdown
                    log.warning("closing %s failed: %s", type(service).__name__, exc)
        await self.http.close()
        await close_worker_pools()
        if self.tracing is not None:
            await asyncio.to_thread(self.tracing.close)  # exports the spans still queued


def certificate_store(settings: GatewaySettings) -> CertificateStore:
    """The certificates of `certificates:`, read now (ConfigError names the file and entry)."""
    try:
        return CertificateStore(settings.certificates)
    except CertificateError as exc:
        raise ConfigError(f"{settings.file}: {exc}") from None


def build_store_services(settings: GatewaySettings, metrics: Metrics) -> tuple[CacheService, LimitService]:
    """Create the cache and rate-limit services from `cache:` / `rate-limits:` (ConfigError on bad
    config, located at the key's line and column)."""
    from engine.gateway.config import locate_error

    try:
        return _build_store_services(settings, metrics)
    except ConfigError as exc:
        raise locate_error(exc, settings.file) from None


def _build_store_services(settings: GatewaySettings, metrics: Metrics) -> tuple[CacheService, LimitService]:
    cache = CacheService.from_config(settings.cache, where=f"{settings.file}: cache", metrics=metrics)
    limits = LimitService.from_config(
        settings.rate_limits, where=f"{settings.file}: rate-limits", metrics=metrics, cache=settings.cache
    )
    return cache, limits
