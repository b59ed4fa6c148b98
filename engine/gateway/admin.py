"""The admin app (separate port): `/metrics` (Prometheus text), `/health`, and registered routes.

Other components add endpoints with `services.add_admin_route(rule, handler, methods)` before
the app is created (the cache adds its purge endpoint this way).
"""

from __future__ import annotations

from quart import Quart, Response

from engine.gateway.services import Services

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def create_admin_app(services: Services) -> Quart:
    """Admin endpoints for one gateway process."""
    app = Quart("policygate-admin")

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(services.metrics.render(), content_type=PROMETHEUS_TEXT)

    @app.get("/health")
    async def health() -> dict[str, object]:
        status: dict[str, object] = {"status": "ok"}
        for name in ("cache", "limits"):
            service = getattr(services, name)
            describe = getattr(service, "health", None)
            if callable(describe):
                status[name] = describe()
        return status

    for route in services.admin_routes:
        app.add_url_rule(route.rule, view_func=route.handler, methods=list(route.methods),
                         endpoint=f"ext_{route.rule}_{'_'.join(route.methods)}")
    return app
