"""What the limiters are asked (windows, quota counters) and what they answer (decisions)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Mode(enum.Enum):
    """How a sliding-window decision treats the counters."""

    ACQUIRE = "a"  # admit when used + count <= limit on every window, then add count to all
    CHECK = "c"  # admit when used < limit on every window; add nothing (deferred counting, inbound half)
    ADD = "d"  # add count to every window unconditionally (deferred counting, end of outbound)


@dataclass(slots=True)  # made per request: a frozen dataclass's __init__ costs about 4x
class Window:
    """One sliding-window counter: `limit` units per `period` seconds.

    `tag` groups counters that one decision touches together (they share a Redis Cluster slot);
    `name` identifies the counter inside the group. The same (tag, name, period) is the same counter.
    """

    tag: str
    name: str
    limit: int
    period: float

    @property
    def period_ms(self) -> int:
        return max(1, round(self.period * 1000))


@dataclass(slots=True)  # made per request, like Window
class Decision:
    """The answer to one sliding-window decision (seconds are rounded up where headers need it)."""

    allowed: bool
    limit: int  # limit of the tightest window
    remaining: int  # units left in the tightest window after this decision (>= 0)
    retry_after: float  # seconds until the refused request could be admitted (0 when allowed)
    reset: float  # seconds until the tightest window frees its oldest units (0 when empty)
    degraded: bool = False  # decided by the in-process fallback because the external store failed


@dataclass(frozen=True)
class QuotaCounter:
    """One fixed-period quota counter: calls or bytes within the period that contains `now`.

    `need` is what must still fit for admission (`used + need <= limit`); `add` is what admission
    adds. Bandwidth checks use need=1, add=0 at inbound and add the bytes at the end of outbound.
    `limit < 0` means "count but never refuse".
    """

    key: str
    limit: int
    need: int
    add: int
    expires_at: float | None  # wall-clock seconds when this period's counter may be dropped; None = never


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    blocked: int  # index of the counter that refused (-1 when allowed)
    used: tuple[int, ...]  # each counter's value after the decision
    degraded: bool = False


class LimitStoreUnavailable(Exception):
    """The external counter store failed and the service is configured to fail closed."""
