"""retry: run the child policies again while a condition holds, with fixed/linear/exponential waits."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Step, Value
from engine.schema import Attr, Bool, Int, Scope, Section

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


class Retry(Policy):
    """Run the child policies once, then again while `condition` is true, at most `count` more times.

    Waits before retry k (k = 0, 1, ...): only `interval` -> `interval` seconds; `interval` and
    `delta` -> `interval + k*delta` (linear); `interval`, `max-interval` and `delta` ->
    `interval + (2^k - 1) * random(0.8*delta, 1.2*delta)` capped at `max-interval` (exponential).
    `first-fast-retry` makes the first retry immediate. The condition is evaluated after each
    attempt; an error inside the children is not retried (it goes to on-error). The request body
    is buffered so a `forward-request` inside can resend it.
    """

    tag = "retry"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    contains_policies = True
    attributes = (
        Attr("condition", Bool(), required=True, doc="Retry while this is true."),
        Attr("count", Int(min=1, max=50), required=True, doc="Maximum number of retries (1-50)."),
        Attr("interval", Int(min=0), required=True, doc="Seconds to wait between attempts."),
        Attr("max-interval", Int(min=0), doc="Cap of the exponential wait, seconds."),
        Attr("delta", Int(min=0), doc="Increment of the linear/exponential wait, seconds."),
        Attr("first-fast-retry", Bool(), default=False, doc="Retry the first time without waiting."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        builder.require_body(request=True, response=False)
        return RetryStep(
            condition=builder.value(element, "condition"),
            count=builder.value(element, "count"),
            interval=builder.value(element, "interval"),
            max_interval=builder.value(element, "max-interval"),
            delta=builder.value(element, "delta"),
            first_fast=builder.value(element, "first-fast-retry"),
            steps=tuple(builder.steps(element.children)),
            has_max=element.get("max-interval") is not None,
            has_delta=element.get("delta") is not None,
        )


def wait_seconds(k: int, interval: float, delta: float | None, max_interval: float | None, first_fast: bool,
                 rand: random.Random | None = None) -> float:
    """APIM's wait before retry number k (0-based)."""
    if first_fast and k == 0:
        return 0.0
    if delta is None:
        wait = interval
    elif max_interval is None:
        wait = interval + k * delta
    else:
        factor = (rand or random).uniform(0.8 * delta, 1.2 * delta)
        wait = min(interval + (2**k - 1) * factor, max_interval)
    return max(0.0, float(wait))


class RetryStep:
    def __init__(self, *, condition: Value, count: Value, interval: Value, max_interval: Value, delta: Value,
                 first_fast: Value, steps: tuple[Step, ...], has_max: bool, has_delta: bool) -> None:
        self.condition, self.count, self.interval = condition, count, interval
        self.max_interval, self.delta, self.first_fast = max_interval, delta, first_fast
        self.steps, self.has_max, self.has_delta = steps, has_max, has_delta

    async def __call__(self, ctx: Context) -> Flow | None:
        flow = await self._attempt(ctx)
        if flow is not None:
            return flow
        retries = int(self.count.get(ctx) or 0)
        for k in range(retries):
            if not self.condition.get(ctx):
                return None
            delta = self.delta.get(ctx) if self.has_delta else None
            max_interval = self.max_interval.get(ctx) if self.has_max else None
            wait = wait_seconds(k, float(self.interval.get(ctx) or 0), delta, max_interval,
                                bool(self.first_fast.get(ctx)))
            if wait > 0:
                await asyncio.sleep(wait)
            flow = await self._attempt(ctx)
            if flow is not None:
                return flow
        return None

    async def _attempt(self, ctx: Context) -> Flow | None:
        for step in self.steps:
            flow = await step(ctx)
            if flow is not None:
                return flow
        return None
