"""`<limit-concurrency>`: run the enclosed policies for at most `max-count` requests at a time per key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Step, Value, constant_value
from engine.ratelimit.decisions import LimitStoreUnavailable
from engine.ratelimit.policy_support import concurrency_exceeded, limits, store_unavailable
from engine.schema import Attr, Int, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


@dataclass(frozen=True)
class LimitConcurrencyStep:
    key: Value
    max_count: int
    steps: Sequence[Step]

    async def __call__(self, ctx: Context) -> Flow | None:
        service = limits(ctx)
        key = self.key.get(ctx)
        try:
            slot = await service.enter("" if key is None else str(key), self.max_count)
        except LimitStoreUnavailable:
            raise store_unavailable(LimitConcurrency.tag) from None
        if slot is None:
            service.throttled(LimitConcurrency.tag)
            raise concurrency_exceeded(LimitConcurrency.tag)
        try:
            for step in self.steps:
                flow = await step(ctx)
                if flow is not None:
                    return flow
            return None
        finally:
            await slot.release()


class LimitConcurrency(Policy):
    """Let at most `max-count` requests at a time run the enclosed policies, per `key`.

    A request arriving while `max-count` requests hold the key fails at once with `429 Too Many
    Requests` (on-error runs; LastError Source `limit-concurrency`). The key may be shared by
    several policies. With Redis the slots are leases that the holding gateway renews; a
    gateway that dies releases its slots when their lease expires (`rate-limits.lease-seconds`).
    """

    tag = "limit-concurrency"
    sections = Section.ALL
    scopes = Scope.ALL
    contains_policies = True
    reads_body = False
    implemented = True
    attributes = (
        Attr("key", Str(), required=True, doc="The concurrency scope (usually an expression); shared by policies naming it."),
        Attr("max-count", Int(min=1), required=True, expr=False, doc="Maximum requests inside the policy at the same time."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> LimitConcurrencyStep:
        max_count = constant_value(builder.value(element, "max-count"))
        return LimitConcurrencyStep(builder.value(element, "key"), int(max_count or 1), builder.steps(element.children))
