"""`<validate-headers>`: check response headers against the API's OpenAPI description."""

from __future__ import annotations

from engine.context import Context
from engine.model import PolicyElement
from engine.policy import Builder, Flow, Policy, Step, Value
from engine.schema import Attr, Child, Enum, Scope, Section, Str
from policies._validation import ACTIONS, Outcome, action_value, errors_variable, operation_spec
from policies.validate_parameters import Overrides, check_declared, check_unspecified

# Response headers HTTP, caches, CORS and the gateway add on their own: never "unspecified".
STANDARD_RESPONSE_HEADERS = frozenset({
    "accept-ranges", "access-control-allow-credentials", "access-control-allow-headers",
    "access-control-allow-methods", "access-control-allow-origin", "access-control-expose-headers",
    "access-control-max-age", "age", "cache-control", "connection", "content-encoding", "content-language",
    "content-length", "content-range", "content-type", "date", "etag", "expires", "keep-alive", "last-modified",
    "pragma", "server", "trailer", "transfer-encoding", "upgrade", "vary", "via", "www-authenticate",
    "traceparent", "tracestate", "request-context",
})


class ValidateHeaders(Policy):
    """Check the response's headers against the headers the operation's OpenAPI description declares
    for the response's status code (exact code, its range `2XX`, or `default`).

    A declared header is read by its schema and validated; a missing required one, one sent twice
    that takes one value, or one breaking its schema is handled by `specified-header-action`. A
    header the description does not declare is handled by `unspecified-header-action` (standard
    HTTP, caching and CORS headers such as Content-Type, Date, ETag, Server are never unspecified).
    `<header name action>` overrides the action for one header (names case-insensitive). Actions:
    `ignore`, `detect` (record in `errors-variable-name`), `prevent` (502 with APIM's
    internal-error text, so the client never learns what the backend sent).
    """

    tag = "validate-headers"
    sections = Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    once_per_section = True
    reads_body = False
    attributes = (
        Attr("specified-header-action", Enum(*ACTIONS), required=True),
        Attr("unspecified-header-action", Enum(*ACTIONS), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (
        Child(
            "header",
            attributes=(
                Attr("name", Str(non_empty=True), required=True, expr=False),
                Attr("action", Enum(*ACTIONS), required=True),
            ),
        ),
    )
    implemented = True

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        names: dict[str, Value | None] = {}
        for header in element.children_named("header"):
            raw = header.get("name")
            names[(raw.text if raw is not None else "").strip().lower()] = action_value(builder, header, "action")
        group = Overrides(action_value(builder, element, "specified-header-action"),
                          action_value(builder, element, "unspecified-header-action"), names)
        variable = errors_variable(element, "errors-variable-name")

        async def validate_headers(ctx: Context) -> Flow | None:
            spec = operation_spec(ctx)
            declared_response = spec.response(ctx.response.status_code)
            declared = declared_response.headers if declared_response is not None else {}
            sent: dict[str, list[str]] = {}
            for name, values in ctx.response.headers.items():
                sent.setdefault(name.lower(), []).extend(values)
            outcome = Outcome(response_side=True)
            check_declared(ctx, spec, "header", declared, sent, group, outcome, response=True)
            check_unspecified(ctx, "header", declared, sent, group, STANDARD_RESPONSE_HEADERS, outcome, response=True)
            return outcome.finish(ctx, element, variable, self.tag)

        return validate_headers
