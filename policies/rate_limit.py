"""`<rate-limit>`: limit the call rate per subscription, with optional per-API and per-operation limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, constant_value
from engine.ratelimit.decisions import Window
from engine.schema import Attr, Child, Int, Scope, Section, Str
from policies.cache_lookup import ReadsAhead
from policies.rate_limit_by_key import (
    MAX_RENEWAL_PERIOD,
    HeaderNames,
    enforce_rate,
    header_attributes,
)

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

_IDENTITY = (
    Attr("name", Str(non_empty=True), expr=False, doc="Name of the API/operation (used when `id` is absent)."),
    Attr("id", Str(non_empty=True), expr=False, doc="Id of the API/operation (wins over `name`)."),
)
_LIMIT = (
    Attr("calls", Int(min=0), required=True, expr=False, doc="Maximum calls in `renewal-period`."),
    Attr("renewal-period", Int(min=1, max=MAX_RENEWAL_PERIOD), required=True, expr=False, doc="Sliding window in seconds (1-300)."),
)


@dataclass(frozen=True)
class Target:
    """An `<api>` or `<operation>` child: whom it applies to and its limit."""

    by_id: bool
    ident: str
    calls: int
    period: int

    def matches(self, entity: object) -> bool:
        if entity is None:
            return False
        value = getattr(entity, "id" if self.by_id else "name", "") or ""
        return value.lower() == self.ident.lower()

    @classmethod
    def of(cls, element: PolicyElement) -> Target:
        ident = element.get("id") or element.get("name")
        calls = element.get("calls")
        period = element.get("renewal-period")
        return cls(
            by_id=element.get("id") is not None,
            ident=ident.text.strip() if ident is not None else "",
            calls=int(calls.text) if calls is not None else 0,
            period=int(period.text) if period is not None else 1,
        )


@dataclass(frozen=True)
class ApiLimit:
    api: Target
    operations: tuple[Target, ...]


def scope_counter(ctx: Context, scope: str) -> str:
    """Name of the policy's own counter: the scope it is configured at and that scope's entity."""
    entity = {"product": ctx.product, "api": ctx.api, "operation": ctx.operation}.get(scope)
    return f"{scope or 'global'}:{getattr(entity, 'id', '') or '-'}"


def check_identity(element: PolicyElement, diagnostics: Diagnostics) -> None:
    """Each `<api>`/`<operation>` child needs `name` or `id`."""
    for api in element.children_named("api"):
        for child in (api, *api.children_named("operation")):
            if child.get("id") is None and child.get("name") is None:
                diagnostics.error(
                    "policy-missing-attribute", f"<{child.tag}> needs a 'name' or an 'id' attribute", child.span,
                    "id wins when both are given",
                )


@dataclass
class RateLimitStep(ReadsAhead):
    calls: int
    period: int
    scope: str
    apis: tuple[ApiLimit, ...]
    names: HeaderNames

    async def __call__(self, ctx: Context) -> Flow | None:
        self.forget_read_ahead(ctx)
        subscription = ctx.subscription
        if subscription is None or not subscription.id:
            return None  # APIM: only applied when the API is called with a subscription key
        tag = "s:" + subscription.id
        windows: list[Window] = [Window(tag, scope_counter(ctx, self.scope), self.calls, self.period)]
        for limit in self.apis:
            if not limit.api.matches(ctx.api):
                continue
            api_name = f"api:{limit.api.ident}"
            windows.append(Window(tag, api_name, limit.api.calls, limit.api.period))
            for operation in limit.operations:
                if operation.matches(ctx.operation):
                    windows.append(Window(tag, f"{api_name}:op:{operation.ident}", operation.calls, operation.period))
        await enforce_rate(ctx, RateLimit.tag, windows, 1, False, self.names, self.lookup)
        return None


class RateLimit(Policy):
    """Limit the call rate per subscription: at most `calls` calls per sliding `renewal-period`.

    `<api>` and `<operation>` children add separate limits for one API or operation of the same
    subscription; all limits that apply are checked and counted together, atomically, and a
    refused call counts against none of them. Exceeding any gives `429 Too Many Requests` with
    `Retry-After` and APIM's JSON body (LastError Source `rate-limit`, Reason `RateLimitExceeded`).
    Requests without a subscription are not limited.
    """

    tag = "rate-limit"
    sections = Section.INBOUND
    scopes = Scope.PRODUCT | Scope.API | Scope.OPERATION
    once_per_section = True
    reads_body = False
    implemented = True
    attributes = (*_LIMIT, *header_attributes())
    children = (
        Child(
            "api",
            attributes=(*_IDENTITY, *_LIMIT),
            children=(Child("operation", attributes=(*_IDENTITY, *_LIMIT), doc="A limit for one operation of the API."),),
            doc="A limit for one API.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_identity(element, diagnostics)

    def build(self, element: PolicyElement, builder: Builder) -> RateLimitStep:
        calls = constant_value(builder.value(element, "calls"))
        period = constant_value(builder.value(element, "renewal-period"))
        apis = tuple(
            ApiLimit(Target.of(api), tuple(Target.of(op) for op in api.children_named("operation")))
            for api in element.children_named("api")
        )
        return RateLimitStep(int(calls or 0), int(period or 1), element.scope, apis, HeaderNames.of(element))
