"""`<send-request>`: call another HTTP service and keep its response in a context variable.

`RequestTemplate` (also used by send-one-way-request) builds the outgoing request from the
`set-url`, `set-method`, `set-header`, `set-body`, `authentication-basic` and
`authentication-managed-identity` children, in document
order, evaluating their expressions against the current context. The call goes through the
gateway's HTTP client (`ctx.services.http.call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.context import Headers, MessageBody, Request, Response, Url
from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, OutboundProxy, Policy, Value, run_steps
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text
from policies._values import is_literal, text_or_empty
from policies.set_method import method_name

if TYPE_CHECKING:
    from engine.certificates import Certificate
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

def request_children(url_required_doc: str) -> tuple[Child, ...]:
    """The children shared by send-request and send-one-way-request."""
    return (
        Child("set-url", text=Text(Str(non_empty=True), required=True), max=1, doc=url_required_doc),
        Child("set-method", ref="set-method", max=1, doc="HTTP method (default GET, or the copied one)."),
        Child("set-header", ref="set-header", doc="A header of the request (repeatable)."),
        Child("set-body", ref="set-body", max=1, doc="Body of the request."),
        Child("authentication-basic", ref="authentication-basic", max=1, doc="Basic credentials for this request."),
        Child("authentication-certificate", ref="authentication-certificate", max=1,
              doc="A TLS client certificate for this request."),
        Child("authentication-managed-identity", ref="authentication-managed-identity", max=1,
              doc="A token from the gateway's identity for this request."),
        Child("proxy", ref="proxy", max=1, doc="An HTTP proxy for this request."),
    )


@dataclass(frozen=True)
class HeaderRule:
    name: Value
    action: Value
    values: tuple[Value, ...]


@dataclass(frozen=True)
class RequestTemplate:
    """How to build the outgoing request; `parts` run in document order."""

    mode: Value
    parts: tuple[tuple[str, Any], ...]
    source: str

    def proxy(self, ctx: Context) -> OutboundProxy | None:
        """The `<proxy>` child's proxy for this request, if it has one."""
        return next((part.proxy(ctx) for kind, part in self.parts if kind == "proxy"), None)

    def certificate(self, ctx: Context) -> Certificate | None:
        """The `<authentication-certificate>` child's certificate for this request, if it has one."""
        return next((part.certificate(ctx) for kind, part in self.parts if kind == "certificate"), None)

    async def build(self, ctx: Context) -> Request:
        if self.mode.get(ctx) == "copy":
            original = ctx.request
            body = MessageBody(original.body.content) if original.body is not None else None
            request = Request(original.method, original.url.copy(), original.url.copy(), original.headers.copy(), body)
        else:
            request = Request("GET", Url(), Url(), Headers(), None)
        url_set = self.mode.get(ctx) == "copy"
        for kind, part in self.parts:
            if kind == "url":
                request.url = _parse_url(str(part.get(ctx) or ""), self.source)
                url_set = True
            elif kind == "method":
                request.method = method_name(part.get(ctx), self.source)
            elif kind == "header":
                from policies.set_header import apply

                name = str(part.name.get(ctx) or "").strip()
                if name:
                    apply(request.headers, name, str(part.action.get(ctx) or "override"), [v.get(ctx) for v in part.values])
            elif kind == "body":
                request.body = MessageBody(await part.render(ctx, request))
            elif kind == "auth":
                part.apply(ctx, request.headers)
            elif kind == "identity":
                await part.apply(ctx, request.headers)
            elif kind == "steps":  # policies run in order before the parts after them (get-authorization-context)
                await run_steps(part, ctx)
        if not url_set:
            raise PolicyRuntimeError("send-request has no URL", source=self.source, reason="ConfigurationError")
        return request

    @classmethod
    def from_element(cls, element: PolicyElement, builder: Builder, source: str) -> RequestTemplate:
        from policies.authentication_basic import AuthenticationBasic
        from policies.authentication_certificate import AuthenticationCertificate
        from policies.authentication_managed_identity import AuthenticationManagedIdentity
        from policies.proxy import Proxy
        from policies.set_body import SetBody

        parts: list[tuple[str, Any]] = []
        for child in element.children:
            if child.tag == "set-url":
                parts.append(("url", builder.text_value(child)))
            elif child.tag == "set-method":
                parts.append(("method", builder.text_value(child)))
            elif child.tag == "set-header":
                rule = HeaderRule(
                    builder.value(child, "name"),
                    builder.value(child, "exists-action"),
                    tuple(text_or_empty(builder, v) for v in child.children_named("value")),
                )
                parts.append(("header", rule))
            elif child.tag == "set-body":
                parts.append(("body", SetBody().build(child, builder)))
            elif child.tag == "authentication-basic":
                parts.append(("auth", AuthenticationBasic().build(child, builder)))
            elif child.tag == "authentication-managed-identity":
                parts.append(("identity", AuthenticationManagedIdentity().build(child, builder)))
            elif child.tag == "proxy":
                parts.append(("proxy", Proxy().build(child, builder)))
            elif child.tag == "authentication-certificate":
                parts.append(("certificate", AuthenticationCertificate().build(child, builder)))
            elif child.tag == "get-authorization-context":
                parts.append(("steps", tuple(builder.steps([child]))))
        return cls(builder.value(element, "mode"), tuple(parts), source)


def _parse_url(text: str, source: str) -> Url:
    text = text.strip()
    if not (text.lower().startswith("http://") or text.lower().startswith("https://")):
        raise PolicyRuntimeError(
            f"'{text}' is not an absolute http(s) URL", source=source, reason="ExpressionValueEvaluationFailure"
        )
    try:
        return Url.parse(text)
    except ValueError:
        raise PolicyRuntimeError(f"Invalid URI: The URI '{text}' could not be parsed.", source=source,
                                 reason="ExpressionValueEvaluationFailure") from None


def http_client(ctx: Context, source: str) -> Any:
    http = ctx.services.http if ctx.services is not None else None
    if http is None:
        raise PolicyRuntimeError("no HTTP client is configured", source=source, reason="ConfigurationError")
    return http


async def send(ctx: Context, request: Request, timeout: float, source: str, proxy: OutboundProxy | None = None,
               certificate: Certificate | None = None, *, follow_redirects: bool = False) -> Response:
    """Send `request` through the gateway's client (and `proxy`, presenting `certificate`) and read the
    whole answer within `timeout` seconds."""
    client = http_client(ctx, source)
    options: dict[str, Any] = {"proxy": proxy} if proxy is not None else {}
    if certificate is not None:
        options["certificate"] = certificate
    if follow_redirects:
        options["follow_redirects"] = True
    response: Response = await client.call(request, timeout, source=source, **options)
    return response


@dataclass(frozen=True)
class SendRequestStep:
    template: RequestTemplate
    variable: str
    timeout: Value
    ignore_error: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        try:
            request = await self.template.build(ctx)
            timeout = self.timeout.get(ctx)
            response: Response | None = await send(
                ctx, request, float(timeout) if timeout is not None else 60.0, "send-request", self.template.proxy(ctx),
                self.template.certificate(ctx),
            )
        except PolicyRuntimeError:
            if not self.ignore_error.get(ctx):
                raise
            response = None
        ctx.variables[self.variable] = response
        return None


def check_url(element: PolicyElement, diagnostics: Diagnostics) -> None:
    """set-url is required unless mode is (or may be) copy."""
    mode = element.get("mode")
    maybe_copy = mode is not None and (mode.is_expression or is_literal(element, "mode", "copy"))
    if not maybe_copy and element.child("set-url") is None:
        diagnostics.error(
            "policy-missing-child", f"<{element.tag}> needs <set-url> unless mode is 'copy'", element.span
        )


class SendRequest(Policy):
    """Send a request to a URL and store the response (`IResponse`) in `response-variable-name`.

    `mode="new"` starts from an empty GET request, `mode="copy"` from a copy of the current
    request (method, URL, headers, body). The children then set the URL, method, headers, body and
    credentials (Basic, a managed identity token, or a TLS client certificate), in order. The whole exchange must finish within `timeout` seconds
    (default 60): otherwise the policy fails with reason `Timeout` (connection problems with
    `BackendConnectionFailure`), unless `ignore-error="true"`, which stores null instead.
    Redirects are not followed.
    """

    tag = "send-request"
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("mode", Enum("new", "copy"), default="new", doc="Start from an empty request or a copy of the current one."),
        Attr("response-variable-name", Str(non_empty=True), required=True, expr=False,
             doc="Variable receiving the response."),
        Attr("timeout", Int(min=0), default=60, doc="Seconds for the whole exchange."),
        Attr("ignore-error", Bool(), default=False, doc="On failure store null instead of failing."),
    )
    children = request_children("URL of the request (required unless mode is copy).")

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_url(element, diagnostics)

    def build(self, element: PolicyElement, builder: Builder) -> SendRequestStep:
        mode = element.get("mode")
        if mode is not None and (mode.is_expression or is_literal(element, "mode", "copy")):
            builder.require_body(request=True, response=False)  # copy mode sends the current body
        variable = element.get("response-variable-name")
        return SendRequestStep(
            RequestTemplate.from_element(element, builder, self.tag),
            variable.text.strip() if variable is not None else "",
            builder.value(element, "timeout"),
            builder.value(element, "ignore-error"),
        )
