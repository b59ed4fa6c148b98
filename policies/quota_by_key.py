"""`<quota-by-key>`: a call and/or bandwidth quota per key value over fixed renewal periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.ratelimit.decisions import LimitStoreUnavailable, QuotaCounter
from engine.ratelimit.policy_support import (
    at_end,
    first_count,
    limits,
    quota_exceeded,
    seconds,
    store_unavailable,
)
from engine.ratelimit.quota_period import (
    DEFAULT_FIRST_PERIOD_START,
    current_period,
    parse_first_period_start,
    quota_message,
)
from engine.schema import Attr, Bool, Int, Scope, Section, Str
from policies.cache_lookup import CacheLookupStep, ReadsAhead

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement


@dataclass(frozen=True)
class QuotaLimit:
    """One level of a quota: its counter name, its limits and its period."""

    name: str
    calls: int | None
    kilobytes: int | None
    period: int  # seconds; 0 = never renews


def message_bytes(ctx: Context) -> int:
    """Bytes of the request and response bodies (what bandwidth quotas count)."""
    total = 0
    for message in (ctx.request, ctx.response):
        body = message.body
        if body is not None and hasattr(body, "content"):
            total += len(body.content)
        else:
            length = message.headers.get("Content-Length")
            total += int(length) if length and length.strip().isdigit() else 0
    return total


async def enforce_quota(
    ctx: Context, source: str, tag: str, levels: list[QuotaLimit], first_start: datetime, count: int, deferred: bool,
    lookup: CacheLookupStep | None = None,
) -> None:
    """Check and count the call and bandwidth counters of every level atomically; raise APIM's 403.

    `deferred`: check only now (`used < calls`) and count `count` at the end of outbound.
    Bandwidth is always counted at the end, when the response size is known.
    `lookup`: the cache lookup that runs right after this step; its read rides with the decision.
    """
    service = limits(ctx)
    now = service.wall_clock()
    counters: list[QuotaCounter] = []
    kinds: list[tuple[str, float | None]] = []
    bandwidth: list[QuotaCounter] = []
    later_calls: list[QuotaCounter] = []
    for level in levels:
        period = current_period(now, level.period, first_start)
        if level.calls is not None:
            key = f"{level.name}:c:p{period.index}"
            counters.append(QuotaCounter(key, level.calls, 1 if deferred else count, 0 if deferred else count, period.expires_at))
            kinds.append(("calls", period.renews_in(now)))
            if deferred:
                later_calls.append(QuotaCounter(key, -1, 0, count, period.expires_at))
        if level.kilobytes is not None:
            key = f"{level.name}:b:p{period.index}"
            counters.append(QuotaCounter(key, level.kilobytes * 1024, 1, 0, period.expires_at))
            kinds.append(("bandwidth", period.renews_in(now)))
            bandwidth.append(QuotaCounter(key, -1, 0, 0, period.expires_at))
    try:
        rider = lookup.read_ahead(ctx, service) if lookup is not None else None
        decision = await service.quota(tag, counters, rider=rider)
    except LimitStoreUnavailable:
        raise store_unavailable(source) from None
    if not decision.allowed:
        kind, renews_in = kinds[decision.blocked]
        headers = {"Retry-After": str(seconds(renews_in))} if renews_in is not None else {}
        service.throttled(source)
        raise quota_exceeded(source, quota_message(kind, renews_in), headers)
    if not later_calls and not bandwidth:
        return

    async def count_at_end(final: Context) -> None:
        size = message_bytes(final) if bandwidth else 0
        pending = [c for c in later_calls if c.add > 0]
        pending += [QuotaCounter(c.key, -1, 0, size, c.expires_at) for c in bandwidth if size > 0]
        if pending:
            try:
                await limits(final).quota(tag, pending, acquire=False)
            except LimitStoreUnavailable:
                pass  # failure-mode closed: nothing to count into

    at_end(ctx, count_at_end)


def quota_attributes() -> tuple[Attr, ...]:
    return (
        Attr("calls", Int(min=0), expr=False, doc="Maximum calls in the period (`calls`, `bandwidth` or both)."),
        Attr("bandwidth", Int(min=0), expr=False, doc="Maximum kilobytes (request + response bodies) in the period."),
        Attr("renewal-period", Int(min=0), required=True, expr=False, doc="Length of the fixed period in seconds; 0 = never renews."),
    )


def check_limits(element: PolicyElement, diagnostics: Diagnostics, code: str = "policy-missing-attribute") -> None:
    if element.get("calls") is None and element.get("bandwidth") is None:
        diagnostics.error(code, f"<{element.tag}> needs 'calls', 'bandwidth' or both", element.span)


def wants_bandwidth(element: PolicyElement) -> bool:
    return element.get("bandwidth") is not None or any(
        c.get("bandwidth") is not None for api in element.children_named("api") for c in (api, *api.children_named("operation"))
    )


def int_attr(element: PolicyElement, name: str) -> int | None:
    value = element.get(name)
    return int(value.text.strip()) if value is not None else None


@dataclass
class QuotaByKeyStep(ReadsAhead):
    limit: QuotaLimit
    counter_key: Value
    increment_condition: Value
    increment_count: Value
    deferred: bool
    first_start: datetime

    async def __call__(self, ctx: Context) -> Flow | None:
        self.forget_read_ahead(ctx)
        key = self.counter_key.get(ctx)
        tag = "qk:" + ("" if key is None else str(key))
        level = QuotaLimit(tag, self.limit.calls, self.limit.kilobytes, self.limit.period)
        if not first_count(ctx, "quota-by-key", (tag, self.limit.period)):
            return None  # APIM: a key is incremented once per request, whichever scopes name it
        if self.deferred:
            await enforce_quota(ctx, QuotaByKey.tag, tag, [level], self.first_start, 0, True, self.lookup)
            self._count_at_end(ctx, tag, level)
            return None
        counts = self.increment_condition.get(ctx) is not False
        count = int(self.increment_count.get(ctx)) if counts else 0
        await enforce_quota(ctx, QuotaByKey.tag, tag, [level], self.first_start, count, count == 0, self.lookup)
        return None

    def _count_at_end(self, ctx: Context, tag: str, level: QuotaLimit) -> None:
        if level.calls is None:
            return

        async def count(final: Context) -> None:
            if self.increment_condition.get(final) is False:
                return
            units = int(self.increment_count.get(final))
            if units <= 0:
                return
            service = limits(final)
            period = current_period(service.wall_clock(), level.period, self.first_start)
            counter = QuotaCounter(f"{level.name}:c:p{period.index}", -1, 0, units, period.expires_at)
            try:
                await service.quota(tag, [counter], acquire=False)
            except LimitStoreUnavailable:
                pass

        at_end(ctx, count)


class QuotaByKey(Policy):
    """A call volume and/or bandwidth quota per key value over fixed periods of `renewal-period` seconds.

    Periods start at `first-period-start` (default 0001-01-01T00:00:00Z) plus whole multiples of
    `renewal-period`; `renewal-period="0"` never renews. Calls are counted as the request enters
    (or at the end of outbound when `increment-condition`/`increment-count` are expressions);
    bandwidth (request plus response body kilobytes) is counted at the end of outbound. A request
    over quota gets `403 Forbidden`, `Retry-After` (seconds until the period renews) and the
    message "Out of call volume quota. Quota will be replenished in hh:mm:ss." (or "Out of
    bandwidth quota. ..."); LastError Reason is `QuotaExceeded`. A request counts once per key.
    """

    tag = "quota-by-key"
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False  # bandwidth quotas ask the builder to buffer bodies
    implemented = True
    attributes = (
        *quota_attributes(),
        Attr("counter-key", Str(), required=True, doc="The key the quota is tracked by."),
        Attr("increment-condition", Bool(), doc="Whether this request counts (default: every request)."),
        Attr("increment-count", Int(min=0), default=1, doc="Calls this request adds (default 1)."),
        Attr("first-period-start", Str(non_empty=True), expr=False, doc="Start of the first period, `yyyy-MM-ddTHH:mm:ssZ`."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_limits(element, diagnostics)
        start = element.get("first-period-start")
        if start is not None:
            try:
                parse_first_period_start(start.text)
            except ValueError as exc:
                diagnostics.error("policy-bad-value", f"attribute 'first-period-start': {exc}", start.span)

    def build(self, element: PolicyElement, builder: Builder) -> QuotaByKeyStep:
        if wants_bandwidth(element):
            builder.require_body(request=True, response=True)
        start = element.get("first-period-start")
        condition = builder.value(element, "increment-condition")
        count = builder.value(element, "increment-count")
        return QuotaByKeyStep(
            limit=QuotaLimit("", int_attr(element, "calls"), int_attr(element, "bandwidth"), int_attr(element, "renewal-period") or 0),
            counter_key=builder.value(element, "counter-key"),
            increment_condition=condition,
            increment_count=count,
            deferred=not condition.is_constant or not count.is_constant,
            first_start=parse_first_period_start(start.text) if start is not None else DEFAULT_FIRST_PERIOD_START,
        )
