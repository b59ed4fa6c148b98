"""`<rate-limit-by-key>`: limit the call rate per key value, with an exact sliding window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.ratelimit.decisions import Decision, LimitStoreUnavailable, Mode, Window
from engine.ratelimit.policy_support import (
    add_response_headers,
    at_end,
    first_count,
    limits,
    rate_limit_exceeded,
    seconds,
    standard_headers,
    store_unavailable,
)
from engine.schema import Attr, Bool, Int, Scope, Section, Str
from policies.cache_lookup import CacheLookupStep, ReadsAhead

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

MAX_RENEWAL_PERIOD = 300  # seconds (apim-spec §4.2)


@dataclass(frozen=True)
class HeaderNames:
    """The optional header/variable names shared by rate-limit and rate-limit-by-key."""

    retry_after_header: str
    retry_after_variable: str | None
    remaining_header: str | None
    remaining_variable: str | None
    total_header: str | None

    @classmethod
    def of(cls, element: PolicyElement) -> HeaderNames:
        def text(name: str) -> str | None:
            value = element.get(name)
            return value.text.strip() or None if value is not None else None

        return cls(
            retry_after_header=text("retry-after-header-name") or "Retry-After",
            retry_after_variable=text("retry-after-variable-name"),
            remaining_header=text("remaining-calls-header-name"),
            remaining_variable=text("remaining-calls-variable-name"),
            total_header=text("total-calls-header-name"),
        )


async def enforce_rate(
    ctx: Context, tag: str, windows: list[Window], count: int, deferred_count: bool, names: HeaderNames,
    lookup: CacheLookupStep | None = None,
) -> Decision:
    """Decide, then either raise APIM's 429 or record variables and response headers.

    `deferred_count` checks `used < calls` now and leaves counting to the caller (end of outbound).
    `lookup`: the cache lookup that runs right after this step; its read rides with the decision.
    """
    service = limits(ctx)
    mode = Mode.CHECK if deferred_count or count <= 0 else Mode.ACQUIRE
    rider = lookup.read_ahead(ctx, service) if lookup is not None else None
    try:
        decision = await service.window(windows, max(count, 0), mode, rider)
    except LimitStoreUnavailable:
        raise store_unavailable(tag) from None
    headers: dict[str, str] = {}
    if names.total_header:
        headers[names.total_header] = str(decision.limit)
    if service.standard_headers:
        headers.update(standard_headers(decision))
    if not decision.allowed:
        retry = seconds(decision.retry_after)
        if names.retry_after_variable:
            ctx.variables[names.retry_after_variable] = retry
        if names.remaining_variable:
            ctx.variables[names.remaining_variable] = 0
        if names.remaining_header:
            headers[names.remaining_header] = "0"
        headers[names.retry_after_header] = str(retry)
        service.throttled(tag)
        raise rate_limit_exceeded(tag, decision.retry_after, headers)
    if names.remaining_variable:
        ctx.variables[names.remaining_variable] = decision.remaining
    if names.remaining_header:
        headers[names.remaining_header] = str(decision.remaining)
    add_response_headers(ctx, headers)
    return decision


def header_attributes() -> tuple[Attr, ...]:
    return (
        Attr("retry-after-header-name", Str(non_empty=True), expr=False, doc="Response header carrying the retry interval in seconds when the limit is exceeded (default `Retry-After`)."),
        Attr("retry-after-variable-name", Str(non_empty=True), expr=False, doc="Variable receiving the retry interval in seconds when the limit is exceeded."),
        Attr("remaining-calls-header-name", Str(non_empty=True), expr=False, doc="Response header with the calls left in the window after this request."),
        Attr("remaining-calls-variable-name", Str(non_empty=True), expr=False, doc="Variable with the calls left in the window after this request."),
        Attr("total-calls-header-name", Str(non_empty=True), expr=False, doc="Response header with the value of `calls`."),
    )


def counter_window(key: object, calls: int, period: int) -> Window:
    """The sliding-window counter of `counter-key` value `key` (policy tests read it too)."""
    return Window("k:" + ("" if key is None else str(key)), "", calls, period)


@dataclass
class RateLimitByKeyStep(ReadsAhead):
    calls: Value
    renewal_period: Value
    counter_key: Value
    increment_condition: Value
    increment_count: Value
    deferred: bool
    names: HeaderNames

    async def __call__(self, ctx: Context) -> Flow | None:
        self.forget_read_ahead(ctx)
        calls = int(self.calls.get(ctx))
        period = int(self.renewal_period.get(ctx))
        key = self.counter_key.get(ctx)
        window = counter_window(key, calls, period)
        if not first_count(ctx, "rate-limit-by-key", (window.tag, window.period_ms)):
            return None  # this request was already decided on (and counted by) this counter at another scope
        if self.deferred:
            await enforce_rate(ctx, RateLimitByKey.tag, [window], 0, True, self.names, self.lookup)
            self._count_at_end(ctx, window)
            return None
        condition = self.increment_condition.get(ctx)
        count = int(self.increment_count.get(ctx)) if condition is not False else 0
        await enforce_rate(ctx, RateLimitByKey.tag, [window], count, False, self.names, self.lookup)
        return None

    def _count_at_end(self, ctx: Context, window: Window) -> None:
        """APIM: expression increment-condition/increment-count are evaluated at the end of outbound."""
        async def count(final: Context) -> None:
            if self.increment_condition.get(final) is False:
                return
            units = int(self.increment_count.get(final))
            if units > 0:
                service = limits(final)
                try:
                    decision = await service.window([window], units, Mode.ADD)
                except LimitStoreUnavailable:
                    return  # failure-mode closed: nothing to count into; the next request gets 503
                # The remaining calls as they are once this request is counted (the inbound check saw them before).
                headers = final.response.headers
                if self.names.remaining_header:
                    headers.set(self.names.remaining_header, str(decision.remaining))
                if service.standard_headers:
                    for name, value in standard_headers(decision).items():
                        headers.set(name, value)

        at_end(ctx, count)


class RateLimitByKey(Policy):
    """Limit the call rate per key: at most `calls` counted units per sliding `renewal-period`.

    Every request whose key (`counter-key`) has used up its window gets `429 Too Many Requests`
    with `Retry-After` (the seconds until enough earlier calls leave the window) and APIM's JSON
    body; `context.LastError` has Source `rate-limit-by-key` and Reason `RateLimitExceeded`, and
    on-error runs. One counter is used per key value at every scope that names it, and a request
    counts once per key. When `increment-condition` or `increment-count` are expressions they are
    evaluated, and the counter increased, at the end of outbound (so they may read the response);
    the limit then takes effect from the next request.
    """

    tag = "rate-limit-by-key"
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("calls", Int(min=0), required=True, doc="Maximum counted units per key in `renewal-period`."),
        Attr("renewal-period", Int(min=1, max=MAX_RENEWAL_PERIOD), required=True, doc="Length of the sliding window in seconds (1-300)."),
        Attr("counter-key", Str(), required=True, doc="The key the rate is tracked by (usually an expression)."),
        Attr("increment-condition", Bool(), doc="Whether this request counts (default: every request counts)."),
        Attr("increment-count", Int(min=0), default=1, doc="Units this request adds to the counter (default 1)."),
        *header_attributes(),
    )

    def build(self, element: PolicyElement, builder: Builder) -> RateLimitByKeyStep:
        condition = builder.value(element, "increment-condition")
        count = builder.value(element, "increment-count")
        return RateLimitByKeyStep(
            calls=builder.value(element, "calls"),
            renewal_period=builder.value(element, "renewal-period"),
            counter_key=builder.value(element, "counter-key"),
            increment_condition=condition,
            increment_count=count,
            deferred=not condition.is_constant or not count.is_constant,
            names=HeaderNames.of(element),
        )
