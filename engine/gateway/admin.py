"""The admin app (separate port): `/metrics` (Prometheus text), `/health` (liveness), `/ready`
(readiness), and registered routes.

Other components add endpoints with `services.add_admin_route(rule, handler, methods)` before
the app is created (the cache adds its purge endpoint this way).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from quart import Quart, Response, request

from engine.gateway.services import Services
from engine.gateway.worker_metrics import render_all

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/metrics", "/health", "/ready"})  # probes and scrapers; they show no request data


def create_admin_app(services: Services) -> Quart:
    """Admin endpoints for one gateway process."""
    app = Quart("policygate-admin")

    @app.before_request
    async def authorize() -> tuple[dict[str, object], int, dict[str, str]] | None:
        """With `server.admin-token`, every admin request needs the token but reads of OPEN_PATHS.

        Open is the exception: request traces (`GET /trace/<id>`) hold bodies and variables, and
        an endpoint added later is guarded unless it is listed here.
        """
        token = services.settings.server.admin_token
        if token is None or (request.path in OPEN_PATHS and request.method in READ_ONLY_METHODS):
            return None
        scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return ({"error": "unauthorized", "message": "This endpoint needs 'Authorization: Bearer <server.admin-token>'."},
                401, {"WWW-Authenticate": 'Bearer realm="policygate-admin"'})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(render_all(services.metrics), content_type=PROMETHEUS_TEXT)

    @app.get("/ready")
    async def ready() -> tuple[dict[str, object], int]:
        reason = await services.not_ready()
        if reason is not None:
            return {"status": "not ready", "reason": reason}, 503
        return {"status": "ready"}, 200

    @app.post("/trace/tokens")
    async def trace_token() -> tuple[dict[str, object], int]:
        traces = services.request_traces
        if traces is None:
            return {"error": "not found", "message": "request tracing is not available"}, 404
        try:
            minutes = float(request.args.get("minutes", "60"))
        except ValueError:
            return {"error": "bad request", "message": "minutes must be a number"}, 400
        token, expires = traces.tokens.issue(minutes)
        return {"token": token, "header": "Apim-Debug-Authorization",
                "expires": datetime.fromtimestamp(expires, UTC).isoformat()}, 200

    @app.get("/trace/<trace_id>")
    async def trace(trace_id: str) -> Response | tuple[dict[str, object], int]:
        traces = services.request_traces
        text = traces.store.get(trace_id) if traces is not None else None
        if text is None:
            return {"error": "not found", "message": f"no trace {trace_id} (traces are kept for the last requests only)"}, 404
        return Response(text, content_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, object]:
        status: dict[str, object] = {"status": "ok"}
        for name in ("cache", "limits"):
            service = getattr(services, name)
            describe = getattr(service, "health", None)
            if callable(describe):
                status[name] = describe()
        return status

    for rule, methods in dict.fromkeys((r.rule, r.methods) for r in services.admin_routes):
        app.add_url_rule(rule, view_func=_latest(services, rule, methods), methods=list(methods),
                         endpoint=f"ext_{rule}_{'_'.join(methods)}")
    return app


def exposure_warning(host: str, token: str | None) -> str | None:
    """A warning when the admin port listens beyond loopback with nobody guarding its endpoints."""
    try:
        private = ipaddress.ip_address(host).is_loopback
    except ValueError:
        private = host == "localhost"
    if private or token is not None:
        return None
    return (f"admin port listens on {host} without server.admin-token: "
            "anyone who can reach it can purge the cache and read request traces")


def register_service_routes(services: Services) -> None:
    """Let the cache and limit services add their admin routes (`register_admin_routes(services)`)."""
    for service in (services.cache, services.limits):
        register = getattr(service, "register_admin_routes", None)
        if callable(register):
            register(services)


def _latest(services: Services, rule: str, methods: tuple[str, ...]) -> Callable[..., Awaitable[Any]]:
    """Dispatch to the most recently registered handler of a rule (a reload may replace the service)."""

    async def view(**kwargs: Any) -> Any:
        for route in reversed(services.admin_routes):
            if route.rule == rule and route.methods == methods:
                return await route.handler(**kwargs)
        return Response("not found", status=404)

    return view
