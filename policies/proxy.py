"""`<proxy>`: send the backend request (or, inside send-request, that request) through an HTTP proxy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import FORWARD_PROXY, Builder, Flow, OutboundProxy, Policy, Value
from engine.schema import Attr, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement


@dataclass(frozen=True)
class ProxyStep:
    url: Value
    username: Value
    password: Value

    def proxy(self, ctx: Context) -> OutboundProxy:
        url = str(self.url.get(ctx) or "").strip()
        problem = OutboundProxy.url_problem(url)
        if problem is not None:
            raise PolicyRuntimeError(problem, source="proxy", reason="ExpressionValueEvaluationFailure")
        return OutboundProxy(url, str(self.username.get(ctx) or ""), str(self.password.get(ctx) or ""))

    async def __call__(self, ctx: Context) -> Flow | None:
        FORWARD_PROXY.set(ctx, self.proxy(ctx))
        return None


class Proxy(Policy):
    """Send the request forwarded to the backend through the HTTP proxy at `url`
    (`http://host:port`). HTTPS backends are reached through a `CONNECT` tunnel, HTTP backends
    with absolute-form requests. With `username`, the gateway sends `Proxy-Authorization: Basic`
    credentials (NTLM, which APIM also offers, is not supported). As a child of `send-request` or
    `send-one-way-request` it applies to that request only. The gateway talks to the proxy itself
    in plain HTTP, as APIM does. A proxy that cannot be reached fails like an unreachable backend
    (502, `BackendConnectionFailure`). It wins over the `proxy` of the backend entity the request
    goes to (docs/configuration.md, `backends`).
    """

    tag = "proxy"
    sections = Section.INBOUND
    scopes = Scope.GLOBAL | Scope.PRODUCT | Scope.API | Scope.OPERATION
    reads_body = False
    implemented = True
    attributes = (
        Attr("url", Str(non_empty=True), required=True, doc="The proxy, `http://host:port`."),
        Attr("username", Str(), doc="User name for the proxy (Basic authentication)."),
        Attr("password", Str(), doc="Password for the proxy."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        url = element.get("url")
        if url is not None and not url.is_expression:
            problem = OutboundProxy.url_problem(url.text)
            if problem is not None:
                diagnostics.error("policy-bad-value", problem, url.span)

    def build(self, element: PolicyElement, builder: Builder) -> ProxyStep:
        return ProxyStep(builder.value(element, "url"), builder.value(element, "username"),
                         builder.value(element, "password"))
