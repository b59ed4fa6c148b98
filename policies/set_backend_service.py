"""set-backend-service: send the request to a different backend base URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.backends import leave, retarget, route
from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Step
from engine.schema import Attr, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

SERVICE_FABRIC = "Service Fabric backends exist only in Azure; use base-url or backend-id"
DAPR = "Dapr service invocation is not supported; use the Dapr sidecar's HTTP URL as base-url"


class SetBackendService(Policy):
    """Replace the backend base URL of this request: `base-url`, or `backend-id` naming an entity of
    the configuration's `backends` (a URL, a backend with circuit breaker and credentials, or a
    load-balanced pool: see docs/gateway.md, "Backend pools and circuit breakers"). The operation's
    path (and query) is kept and appended to the new base, e.g. base `http://b.example/v2` +
    `/pets/1` -> `http://b.example/v2/pets/1`. The Service Fabric (`sf-*`) and Dapr attributes are
    accepted by lint but not supported."""

    tag = "set-backend-service"
    sections = Section.INBOUND | Section.BACKEND
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    settings_refs = (("backend-id", "backends"),)
    attributes = (
        Attr("base-url", Str(non_empty=True), doc="New backend base URL."),
        Attr("backend-id", Str(non_empty=True), doc="Name of a backend in the configuration's `backends:`."),
        Attr("sf-resolve-condition", doc="Service Fabric only (not supported).", unsupported=SERVICE_FABRIC),
        Attr("sf-service-instance-name", doc="Service Fabric only (not supported).", unsupported=SERVICE_FABRIC),
        Attr("sf-partition-key", doc="Service Fabric only (not supported).", unsupported=SERVICE_FABRIC),
        Attr("sf-listener-name", doc="Service Fabric only (not supported).", unsupported=SERVICE_FABRIC),
        Attr("sf-replica-type", doc="Service Fabric only (not supported).", unsupported=SERVICE_FABRIC),
        Attr("dapr-app-id", doc="Dapr only (not supported).", unsupported=DAPR),
        Attr("dapr-method", doc="Dapr only (not supported).", unsupported=DAPR),
        Attr("dapr-namespace", doc="Dapr only (not supported).", unsupported=DAPR),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        given = [name for name in ("base-url", "backend-id") if element.get(name) is not None]
        if len(given) != 1:
            diagnostics.error(
                "policy-missing-attribute",
                "<set-backend-service> needs exactly one of base-url or backend-id",
                element.span,
            )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        base_url = builder.value(element, "base-url")
        backend_id = builder.value(element, "backend-id")
        by_id = element.get("backend-id") is not None

        async def set_backend(ctx: Context) -> Flow | None:
            if by_id:
                name = str(backend_id.get(ctx) or "")
                backend = ctx.services.backend(name) if ctx.services is not None else None
                if backend is None:
                    raise PolicyRuntimeError(
                        f"Backend with id '{name}' is not defined.", source="set-backend-service",
                        reason="BackendNotFound", status=500,
                    )
                route(ctx, backend)
            else:
                leave(ctx)
                retarget(ctx, str(base_url.get(ctx) or ""))
            return None

        return set_backend
