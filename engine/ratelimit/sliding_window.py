"""The exact sliding-window log: every admitted request is one entry that expires `period` after it.

Why a log: a request admitted at time t counts against the limit for exactly [t, t + period), so a
client can never get more than `limit` units into any window of `period` seconds — unlike fixed
windows (2x at the boundary) or sub-window buckets (which slide in bucket-sized steps). The cost is
one entry per admitted request still inside the window: memory is O(limit) per counter key at most
(O(requests) when `increment-count` is larger than 1). A running total makes each decision O(1)
amortised: expired entries are dropped from the front as time passes.

The Redis store runs the same algorithm in Lua (`engine.ratelimit.lua`), on a sorted set.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from engine.ratelimit.decisions import Decision, Mode, Window


class SlidingLog:
    """Entries (time, units) of one counter, oldest first, plus their running total."""

    __slots__ = ("entries", "total")

    def __init__(self) -> None:
        self.entries: deque[tuple[float, int]] = deque()
        self.total = 0

    def trim(self, now: float, period: float) -> None:
        """Drop entries whose window has passed (admitted at t <= now - period)."""
        horizon = now - period
        entries = self.entries
        while entries and entries[0][0] <= horizon:
            self.total -= entries.popleft()[1]

    def wait_for(self, now: float, period: float, excess: int) -> float:
        """Seconds until at least `excess` units have expired."""
        freed = 0
        for admitted, units in self.entries:
            freed += units
            if freed >= excess:
                return max(0.0, admitted + period - now)
        return period

    def add(self, now: float, units: int) -> None:
        if units > 0:
            self.entries.append((now, units))
            self.total += units

    def oldest_expiry(self, now: float, period: float) -> float:
        return max(0.0, self.entries[0][0] + period - now) if self.entries else 0.0

    def expires_at(self, period: float) -> float:
        """When the whole log is empty (the newest entry expires)."""
        return self.entries[-1][0] + period if self.entries else 0.0


def decide(logs: Sequence[SlidingLog], windows: Sequence[Window], count: int, mode: Mode, now: float) -> Decision:
    """One atomic decision over several counters (the caller holds them; no awaits in here)."""
    allowed = True
    retry_after = 0.0
    need = 1 if mode is Mode.CHECK else max(count, 1)  # a zero-unit request still needs room
    for log, window in zip(logs, windows, strict=True):
        log.trim(now, window.period)
        if mode is not Mode.ADD and log.total + need > window.limit:
            allowed = False
            wait = window.period if need > window.limit else log.wait_for(now, window.period, log.total + need - window.limit)
            retry_after = max(retry_after, wait)
    if allowed and mode is not Mode.CHECK:
        for log in logs:
            log.add(now, count)
    tightest = min(range(len(windows)), key=lambda i: windows[i].limit - logs[i].total)
    window, log = windows[tightest], logs[tightest]
    return Decision(
        allowed=allowed or mode is Mode.ADD,
        limit=window.limit,
        remaining=max(0, window.limit - log.total),
        retry_after=0.0 if allowed else retry_after,
        reset=log.oldest_expiry(now, window.period),
    )
