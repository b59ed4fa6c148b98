"""`<validate-parameters>`: check request query, header and path parameters against the API's OpenAPI description."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.apispec import OperationSpec, ParameterSpec
from engine.apispec.schemas import REQUEST, RESPONSE, SchemaError
from engine.apispec.values import MultipleValues, read_parameter
from engine.context import Context
from engine.model import PolicyElement
from engine.policy import Builder, Flow, Policy, Step, Value
from engine.schema import Attr, Child, Enum, Scope, Section, Str
from policies._validation import (
    ACTIONS,
    INTERNAL_ERROR,
    Finding,
    Outcome,
    action_of,
    action_value,
    errors_variable,
    operation_spec,
)

# Request headers HTTP, proxies and tracing add on their own: never "unspecified" (OpenAPI also
# ignores Accept, Content-Type and Authorization parameter definitions).
STANDARD_REQUEST_HEADERS = frozenset({
    "accept", "accept-charset", "accept-encoding", "accept-language", "authorization", "cache-control",
    "connection", "content-encoding", "content-length", "content-type", "cookie", "date", "expect", "forwarded",
    "host", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "keep-alive",
    "max-forwards", "origin", "pragma", "proxy-authorization", "range", "referer", "te", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "via", "x-forwarded-for", "x-forwarded-host",
    "x-forwarded-port", "x-forwarded-proto", "x-real-ip", "traceparent", "tracestate", "baggage",
    "ocp-apim-trace", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user",
})
_KINDS = {"query": ("query parameter", "QueryParameter"), "header": ("header", "RequestHeader"),
          "path": ("path parameter", "PathParameter")}


@dataclass(frozen=True)
class Overrides:
    """The actions of one kind of parameter: the group's, falling back to the policy's, and per name."""

    specified: Value | None
    unspecified: Value | None
    names: dict[str, Value | None] = field(default_factory=dict)  # header names in lower case


def parameter_group(tag: str, unspecified: bool = True) -> Child:
    """`<headers>`, `<query>` or `<path>` (or validate-headers' list): overrides for one kind of parameter."""
    attributes: tuple[Attr, ...] = (Attr("specified-parameter-action", Enum(*ACTIONS)),)
    if unspecified:
        attributes += (Attr("unspecified-parameter-action", Enum(*ACTIONS)),)
    return Child(
        tag,
        attributes=attributes,
        children=(Child("parameter", attributes=(Attr("name", Str(non_empty=True), required=True, expr=False),
                                                 Attr("action", Enum(*ACTIONS), required=True))),),
        max=1,
    )


class ValidateParameters(Policy):
    """Check the request's query, header and path parameters against the operation's OpenAPI description.

    A declared parameter is read by its schema (integer, number, boolean, arrays in the
    `style`/`explode` or Swagger `collectionFormat` the description gives) and validated; a
    missing required one, one sent twice that takes one value, one that cannot be read, or one
    breaking its schema is an error handled by `specified-parameter-action`. A query parameter or
    header the description does not declare is handled by `unspecified-parameter-action`
    (standard HTTP, proxy and tracing headers such as Host, User-Agent, Accept, X-Forwarded-For,
    traceparent, and the API's subscription key header and query parameter are never
    unspecified). `<headers>`, `<query>` and `<path>` override both actions for their kind and
    per parameter (`<parameter name action>`; header names case-insensitive). Actions:
    `ignore`, `detect` (record in `errors-variable-name`), `prevent` (400 with APIM's message).
    """

    tag = "validate-parameters"
    sections = Section.INBOUND
    scopes = Scope.ALL
    once_per_section = True
    reads_body = False
    attributes = (
        Attr("specified-parameter-action", Enum(*ACTIONS), required=True),
        Attr("unspecified-parameter-action", Enum(*ACTIONS), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (parameter_group("headers"), parameter_group("query"), parameter_group("path", unspecified=False))
    implemented = True

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        specified = action_value(builder, element, "specified-parameter-action")
        unspecified = action_value(builder, element, "unspecified-parameter-action")
        groups = {
            location: overrides(builder, element.child(tag), location == "header", specified, unspecified)
            for location, tag in (("query", "query"), ("header", "headers"), ("path", "path"))
        }
        variable = errors_variable(element, "errors-variable-name")

        async def validate_parameters(ctx: Context) -> Flow | None:
            spec = operation_spec(ctx)
            request = ctx.request
            outcome = Outcome(response_side=False)
            sent_headers: dict[str, list[str]] = {}
            for name, values in request.headers.items():
                sent_headers.setdefault(name.lower(), []).extend(values)
            sent = {
                "query": request.url.query,
                "header": sent_headers,
                "path": {name: [value] for name, value in request.matched_parameters.items()},
            }
            for location, group in groups.items():
                declared = spec.parameters_in(location)
                check_declared(ctx, spec, location, declared, sent[location], group, outcome)
                if location != "path":
                    ignored = spec.gateway_headers | STANDARD_REQUEST_HEADERS if location == "header" else spec.gateway_query
                    check_unspecified(ctx, location, declared, sent[location], group, ignored, outcome)
            return outcome.finish(ctx, element, variable, self.tag)

        return validate_parameters


def overrides(builder: Builder, group: PolicyElement | None, lower: bool, specified: Value | None,
              unspecified: Value | None) -> Overrides:
    """The actions of one group element (absent: the policy's own actions)."""
    if group is None:
        return Overrides(specified, unspecified)
    names: dict[str, Value | None] = {}
    for parameter in group.children_named("parameter"):
        raw = parameter.get("name")
        name = raw.text.strip() if raw is not None else ""
        names[name.lower() if lower else name] = action_value(builder, parameter, "action")
    return Overrides(
        action_value(builder, group, "specified-parameter-action") or specified,
        action_value(builder, group, "unspecified-parameter-action") or unspecified,
        names,
    )


def check_declared(ctx: Context, spec: OperationSpec, location: str, declared: dict[str, ParameterSpec],
                   values: dict[str, list[str]], group: Overrides, outcome: Outcome, response: bool = False) -> None:
    """Validate every declared parameter (or response header) that is present, or required and missing."""
    label, kind = ("header", "ResponseHeader") if response else _KINDS[location]
    for name, parameter in declared.items():
        action = action_of(group.names[name] if name in group.names else group.specified, ctx)
        if action == "ignore":
            continue
        sent = values.get(name)
        if not sent:
            if parameter.required:
                outcome.add(Finding(parameter.name, kind, "IncorrectMessage",
                                    f"The {label} {parameter.name} is required by the definition but missing.", action))
            continue
        try:
            value = read_parameter(parameter, sent)
        except MultipleValues:
            outcome.add(Finding(parameter.name, kind, "IncorrectMessage",
                                f"Request cannot contain multiple values for the {label} {parameter.name}.", action))
            continue
        except ValueError as exc:
            outcome.add(Finding(parameter.name, kind, "IncorrectMessage",
                                f"Value of the {label} {parameter.name} couldn't be parsed according to the "
                                f"definition. {exc}", action))
            continue
        if parameter.schema is None:
            continue
        try:
            validator = spec.schemas.validator(parameter.schema, RESPONSE if response else REQUEST)
        except SchemaError as exc:
            outcome.add(Finding(parameter.name, "ApiSchema", "ValidationException", str(exc), action, INTERNAL_ERROR))
            continue
        for problem in validator.problems(value, limit=1):
            outcome.add(Finding(parameter.name, kind, "IncorrectMessage",
                                f"The value of the {label} {parameter.name} does not conform to the definition. "
                                f"{problem.message}", action))


def check_unspecified(ctx: Context, location: str, declared: dict[str, ParameterSpec], values: dict[str, list[str]],
                      group: Overrides, ignored: frozenset[str], outcome: Outcome, response: bool = False) -> None:
    """Report every sent parameter (or response header) the description does not declare."""
    label, kind = ("header", "ResponseHeader") if response else _KINDS[location]
    for name in values:
        if name in declared or name in ignored:
            continue
        action = action_of(group.names[name] if name in group.names else group.unspecified, ctx)
        outcome.add(Finding(name, kind, "Unspecified", f"Unspecified {label} {name} is not allowed.", action))
