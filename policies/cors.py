"""`<cors>`: answer CORS preflight requests and add CORS headers to actual responses.

The decisions are pure functions of a `CorsRules` value (easy to test); `CorsStep` applies them.
The policy declares `answers_preflight`, so the gateway also runs it (alone) for an `OPTIONS`
preflight routed by its `Access-Control-Request-Method`; for an actual request it registers
`apply_response_headers` with `before_send`, adding the headers decided in inbound to whatever
response is finally sent (including error responses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engine.context import Slot
from engine.named_values import has_reference
from engine.policy import Builder, Flow, Policy, before_send, empty_response
from engine.schema import Attr, Bool, Child, Int, Scope, Section, Str, Text

if TYPE_CHECKING:
    from engine.context import Context, Request
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

RESPONSE_HEADERS: Slot[list[tuple[str, str]]] = Slot("cors.response_headers")  # for the actual response
DEFAULT_METHODS = ("GET", "POST")
Origin = tuple[str, str, int]


def parse_origin(text: str) -> Origin | None:
    """(scheme, host, port) of an origin or allowed-origin URI; default ports filled in."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


@dataclass(frozen=True)
class CorsRules:
    """A `<cors>` element's configuration, normalised once at build time."""

    any_origin: bool
    origins: frozenset[Origin]
    any_method: bool
    methods: frozenset[str]
    any_header: bool
    headers: frozenset[str]  # lower-case
    expose_headers: tuple[str, ...]
    allow_credentials: bool = False
    max_age: int = 0
    terminate_unmatched: bool = False

    def origin_allowed(self, origin: str) -> bool:
        if self.any_origin:
            return True
        parsed = parse_origin(origin)
        return parsed is not None and parsed in self.origins

    def method_allowed(self, method: str) -> bool:
        return self.any_method or method.upper() in self.methods

    def headers_allowed(self, requested: list[str]) -> bool:
        return self.any_header or all(name.lower() in self.headers for name in requested)

    def allow_origin_value(self, origin: str) -> str:
        """`*` for a wildcard without credentials, else the caller's origin (then Vary: Origin)."""
        return "*" if self.any_origin and not self.allow_credentials else origin

    def preflight_headers(self, origin: str, method: str, requested_headers: list[str]) -> list[tuple[str, str]] | None:
        """The headers of a successful preflight answer, or None when the request doesn't match."""
        if not (self.origin_allowed(origin) and self.method_allowed(method) and self.headers_allowed(requested_headers)):
            return None
        allow_origin = self.allow_origin_value(origin)
        out = [("Access-Control-Allow-Origin", allow_origin)]
        if self.allow_credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        out.append(("Access-Control-Allow-Methods", method))
        if requested_headers:
            out.append(("Access-Control-Allow-Headers", ",".join(requested_headers)))
        if self.max_age > 0:
            out.append(("Access-Control-Max-Age", str(self.max_age)))
        if allow_origin != "*":
            out.append(("Vary", "Origin"))
        return out

    def actual_headers(self, origin: str, method: str) -> list[tuple[str, str]] | None:
        """The headers added to an actual response, or None when the request doesn't match."""
        if not (self.origin_allowed(origin) and self.method_allowed(method)):
            return None
        allow_origin = self.allow_origin_value(origin)
        out = [("Access-Control-Allow-Origin", allow_origin)]
        if self.allow_credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        if self.expose_headers:
            out.append(("Access-Control-Expose-Headers", ",".join(self.expose_headers)))
        if allow_origin != "*":
            out.append(("Vary", "Origin"))
        return out


def is_preflight(request: Request, operation_method: str | None = None) -> bool:
    """An OPTIONS request with Origin and Access-Control-Request-Method, not for an OPTIONS operation."""
    return (
        request.method.upper() == "OPTIONS"
        and "origin" in request.headers
        and "access-control-request-method" in request.headers
        and (operation_method or "").upper() != "OPTIONS"
    )


@dataclass(frozen=True)
class CorsStep:
    rules: CorsRules

    async def __call__(self, ctx: Context) -> Flow | None:
        request = ctx.request
        origin = request.headers.get("origin")
        if origin is None:
            return None  # not a cross-origin request
        operation_method = ctx.operation.method if ctx.operation is not None else None
        if is_preflight(request, operation_method):
            method = (request.headers.get("access-control-request-method") or "").strip()
            requested = _split_list(request.headers.get("access-control-request-headers"))
            headers = self.rules.preflight_headers(origin, method, requested)
            if headers is None and not self.rules.terminate_unmatched:
                return None  # another cors policy may match; run_preflight answers 200 otherwise
            ctx.response = empty_response(200)
            for name, value in headers or ():
                ctx.response.headers.add(name, value)
            return Flow.END
        headers = self.rules.actual_headers(origin, request.method)
        if headers is None:
            if self.rules.terminate_unmatched:
                ctx.response = empty_response(200)
                return Flow.END
            return None
        RESPONSE_HEADERS.set(ctx, headers)
        before_send(ctx, apply_response_headers)
        return None


def apply_response_headers(ctx: Context) -> None:
    """Add the CORS headers decided in inbound to ctx.response (call right before sending)."""
    headers = RESPONSE_HEADERS.pop(ctx)
    if not headers:
        return
    for name, value in headers:
        if name == "Vary":
            present = [v.strip().lower() for v in ",".join(ctx.response.headers.get_list("Vary")).split(",")]
            if "origin" not in present:
                ctx.response.headers.add("Vary", value)
        else:
            ctx.response.headers.set(name, value)


def _flag(element: PolicyElement, name: str) -> bool:
    """A literal boolean attribute (cors takes no expressions; lint checked the value)."""
    value = element.get(name)
    return value is not None and value.text.strip().lower() == "true"


def _max_age(methods: PolicyElement | None) -> int:
    value = methods.get("preflight-result-max-age") if methods is not None else None
    try:
        return max(0, int(value.text.strip())) if value is not None else 0
    except ValueError:
        return 0


def _values(element: PolicyElement | None, tag: str) -> list[str]:
    if element is None:
        return []
    return [c.text.text.strip() for c in element.children_named(tag) if c.text is not None and c.text.text.strip()]


class Cors(Policy):
    """Cross-origin resource sharing: answer preflight requests and label actual responses.

    A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered with
    200 and the `Access-Control-Allow-*` headers when origin, method and requested headers are all
    allowed. An actual request from an allowed origin gets `Access-Control-Allow-Origin`
    (`*` for a wildcard without credentials, else the origin plus `Vary: Origin`),
    `Access-Control-Allow-Credentials` and `Access-Control-Expose-Headers`. `terminate-unmatched-request`
    defaults to `false` (the attribute table's default); with `true` an unmatched request ends with
    an empty 200. Without `<allowed-methods>` only GET and POST are allowed.
    """

    tag = "cors"
    sections = Section.INBOUND
    scopes = Scope.ALL
    once_per_section = True
    reads_body = False
    answers_preflight = True
    implemented = True
    attributes = (
        Attr("allow-credentials", Bool(), default=False, expr=False, doc="Send Access-Control-Allow-Credentials: true."),
        Attr(
            "terminate-unmatched-request", Bool(), default=False, expr=False,
            doc="End unmatched cross-origin requests with an empty 200.",
        ),
    )
    children = (
        Child(
            "allowed-origins",
            children=(Child("origin", text=Text(Str(non_empty=True), required=True, expr=False), min=1),),
            min=1, max=1, doc="`*` alone, or origins (scheme://host[:port]).",
        ),
        Child(
            "allowed-methods",
            attributes=(
                Attr("preflight-result-max-age", Int(min=0), default=0, expr=False, doc="Access-Control-Max-Age (s)."),
            ),
            children=(Child("method", text=Text(Str(non_empty=True), required=True, expr=False)),),
            max=1, doc="Allowed methods (`*` for all); GET and POST when absent.",
        ),
        Child(
            "allowed-headers",
            children=(Child("header", text=Text(Str(non_empty=True), required=True, expr=False)),),
            min=1, max=1, doc="Request headers a preflight may ask for (`*` for all).",
        ),
        Child(
            "expose-headers",
            children=(Child("header", text=Text(Str(non_empty=True), required=True, expr=False)),),
            max=1, doc="Response headers the browser may read.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        origins_element = element.child("allowed-origins")
        origins = _values(origins_element, "origin")
        if "*" in origins and len(origins) > 1:
            where = origins_element.span if origins_element is not None else element.span
            diagnostics.error("policy-bad-value", "the wildcard origin '*' must be the only origin", where)
        for child in origins_element.children_named("origin") if origins_element is not None else []:
            text = child.text.text.strip() if child.text is not None else ""
            if text and text != "*" and not has_reference(text) and parse_origin(text) is None:
                diagnostics.error(
                    "policy-bad-value",
                    f"'{text}' is not an origin (scheme://host[:port])",
                    child.text.span if child.text is not None else child.span,
                )
        credentials = element.get("allow-credentials")
        if "*" in origins and credentials is not None and credentials.text.strip().lower() == "true":
            diagnostics.warning(
                "cors-credentials-wildcard",
                "allow-credentials with the wildcard origin echoes every caller's Origin back",
                element.span,
                hint="list the trusted origins instead of '*'",
            )

    def build(self, element: PolicyElement, builder: Builder) -> CorsStep:
        origins = _values(element.child("allowed-origins"), "origin")
        methods_element = element.child("allowed-methods")
        methods = [m.upper() for m in _values(methods_element, "method")] if methods_element else list(DEFAULT_METHODS)
        headers = _values(element.child("allowed-headers"), "header")
        rules = CorsRules(
            any_origin="*" in origins,
            origins=frozenset(o for o in (parse_origin(text) for text in origins if text != "*") if o is not None),
            any_method="*" in methods,
            methods=frozenset(methods),
            any_header="*" in headers,
            headers=frozenset(h.lower() for h in headers),
            expose_headers=tuple(_values(element.child("expose-headers"), "header")),
            allow_credentials=_flag(element, "allow-credentials"),
            max_age=_max_age(methods_element),
            terminate_unmatched=_flag(element, "terminate-unmatched-request"),
        )
        return CorsStep(rules)
