"""`<quota>`: a call and/or bandwidth quota per subscription, with optional per-API/operation quotas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy
from engine.schema import Attr, Child, Int, Scope, Section, Str
from policies.cache_lookup import ReadsAhead
from policies.quota_by_key import (
    QuotaLimit,
    check_limits,
    enforce_quota,
    int_attr,
    quota_attributes,
    wants_bandwidth,
)
from policies.rate_limit import check_identity, scope_counter

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

_IDENTITY = (
    Attr("name", Str(non_empty=True), expr=False, doc="Name of the API/operation (used when `id` is absent)."),
    Attr("id", Str(non_empty=True), expr=False, doc="Id of the API/operation (wins over `name`)."),
)
_CHILD_LIMITS = (
    Attr("calls", Int(min=0), expr=False, doc="Maximum calls in the period."),
    Attr("bandwidth", Int(min=0), expr=False, doc="Maximum kilobytes in the period."),
    Attr("renewal-period", Int(min=0), expr=False, doc="Period in seconds (default: the parent's)."),
)


@dataclass(frozen=True)
class ChildQuota:
    by_id: bool
    ident: str
    calls: int | None
    kilobytes: int | None
    period: int

    @classmethod
    def of(cls, element: PolicyElement, parent_period: int) -> ChildQuota:
        ident = element.get("id") or element.get("name")
        period = int_attr(element, "renewal-period")
        return cls(
            element.get("id") is not None, ident.text.strip() if ident is not None else "",
            int_attr(element, "calls"), int_attr(element, "bandwidth"), parent_period if period is None else period,
        )

    def matches(self, entity: object) -> bool:
        value = getattr(entity, "id" if self.by_id else "name", "") if entity is not None else ""
        return bool(value) and str(value).lower() == self.ident.lower()


@dataclass
class QuotaStep(ReadsAhead):
    calls: int | None
    kilobytes: int | None
    period: int
    scope: str
    apis: tuple[tuple[ChildQuota, tuple[ChildQuota, ...]], ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        self.forget_read_ahead(ctx)
        subscription = ctx.subscription
        if subscription is None or not subscription.id:
            return None  # APIM: only applied when the API is called with a subscription key
        tag = "s:" + subscription.id
        levels = [QuotaLimit("quota:" + scope_counter(ctx, self.scope), self.calls, self.kilobytes, self.period)]
        for api, operations in self.apis:
            if not api.matches(ctx.api):
                continue
            api_name = f"quota:api:{api.ident}"
            levels.append(QuotaLimit(api_name, api.calls, api.kilobytes, api.period))
            for op in operations:
                if op.matches(ctx.operation):
                    levels.append(QuotaLimit(f"{api_name}:op:{op.ident}", op.calls, op.kilobytes, op.period))
        start = subscription.start_date or subscription.created_date
        await enforce_quota(ctx, Quota.tag, tag, levels, start, 1, False, self.lookup)
        return None


class Quota(Policy):
    """A call volume and/or bandwidth quota per subscription over fixed periods of `renewal-period` seconds.

    Periods start at the subscription's start date plus whole multiples of `renewal-period`
    (`0` never renews). `<api>`/`<operation>` children add separate quotas for one API or
    operation; all that apply are checked and counted atomically. A request over quota gets
    `403 Forbidden` with `Retry-After` and "Out of call volume quota. Quota will be replenished
    in hh:mm:ss." (or "Out of bandwidth quota. ..."). Requests without a subscription are not counted.
    """

    tag = "quota"
    sections = Section.INBOUND
    scopes = Scope.PRODUCT
    once_per_section = True
    reads_body = False  # bandwidth quotas ask the builder to buffer bodies
    implemented = True
    attributes = quota_attributes()
    children = (
        Child(
            "api",
            attributes=(*_IDENTITY, *_CHILD_LIMITS),
            children=(Child("operation", attributes=(*_IDENTITY, *_CHILD_LIMITS), doc="A quota for one operation."),),
            doc="A quota for one API.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_limits(element, diagnostics)
        check_identity(element, diagnostics)
        for api in element.children_named("api"):
            for child in (api, *api.children_named("operation")):
                check_limits(child, diagnostics)

    def build(self, element: PolicyElement, builder: Builder) -> QuotaStep:
        if wants_bandwidth(element):
            builder.require_body(request=True, response=True)
        period = int_attr(element, "renewal-period") or 0
        apis = tuple(
            (ChildQuota.of(api, period), tuple(ChildQuota.of(op, period) for op in api.children_named("operation")))
            for api in element.children_named("api")
        )
        return QuotaStep(int_attr(element, "calls"), int_attr(element, "bandwidth"), period, element.scope, apis)
