"""The in-process limiter: exact sliding windows, quota counters and concurrency slots in one process.

Every method is synchronous and never awaits, so a decision is atomic under asyncio without locks.
Memory is bounded: counters live in LRU order, counters whose window has passed are dropped from
the cold end as new decisions arrive, and at most `max_keys` counters are kept per kind (the least
recently used is forgotten first — which can only ever admit more, never refuse wrongly).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from engine import clock as engine_clock
from engine.ratelimit.decisions import Decision, Mode, QuotaCounter, QuotaDecision, Window
from engine.ratelimit.sliding_window import SlidingLog, decide

Clock = Callable[[], float]


class MemoryLimiter:
    """Counters for one gateway process (also the fail-open fallback of the Redis limiter)."""

    kind = "internal"

    def __init__(self, *, clock: Clock = engine_clock.monotonic, wall_clock: Clock = engine_clock.now, max_keys: int = 100_000) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.max_keys = max_keys
        self._logs: OrderedDict[tuple[str, str, int], tuple[SlidingLog, float]] = OrderedDict()
        self._quotas: OrderedDict[str, list[float]] = OrderedDict()  # key -> [value, expires_at or inf]
        self._slots: dict[str, int] = {}

    # -- sliding windows ----------------------------------------------------------------------
    def decide(self, windows: Sequence[Window], count: int = 1, mode: Mode = Mode.ACQUIRE, now: float | None = None) -> Decision:
        now = self.clock() if now is None else now
        self._expire_logs(now)
        logs: list[SlidingLog] = []
        for window in windows:
            key = (window.tag, window.name, window.period_ms)
            found = self._logs.get(key)
            if found is None:
                log = SlidingLog()
            else:
                log = found[0]
                self._logs.move_to_end(key)
            logs.append(log)
        decision = decide(logs, windows, count, mode, now)
        for window, log in zip(windows, logs, strict=True):
            key = (window.tag, window.name, window.period_ms)
            if log.entries:
                self._logs[key] = (log, log.expires_at(window.period))
            else:
                self._logs.pop(key, None)
        while len(self._logs) > self.max_keys:
            self._logs.popitem(last=False)
        return decision

    def _expire_logs(self, now: float) -> None:
        logs = self._logs
        while logs:
            key, (_log, expires_at) = next(iter(logs.items()))
            if expires_at > now:
                return
            del logs[key]

    # -- quotas ---------------------------------------------------------------------------------
    def quota(
        self, tag: str, counters: Sequence[QuotaCounter], *, acquire: bool = True, now: float | None = None
    ) -> QuotaDecision:
        """Admit when every counter with a limit has room for its `need`, then add each `add`."""
        now = self.wall_clock() if now is None else now
        self._expire_quotas(now)
        keys = [f"{tag}\x1f{c.key}" for c in counters]
        values = [self._quota_value(key) for key in keys]
        if acquire:
            for i, (counter, used) in enumerate(zip(counters, values, strict=True)):
                if counter.limit >= 0 and used + counter.need > counter.limit:
                    return QuotaDecision(False, i, tuple(int(v) for v in values))
        for i, (counter, key) in enumerate(zip(counters, keys, strict=True)):
            if counter.add:
                values[i] += counter.add
                expires = float("inf") if counter.expires_at is None else counter.expires_at
                self._quotas[key] = [values[i], expires]
                self._quotas.move_to_end(key)
        while len(self._quotas) > self.max_keys:
            self._quotas.popitem(last=False)
        return QuotaDecision(True, -1, tuple(int(v) for v in values))

    def _quota_value(self, key: str) -> float:
        entry = self._quotas.get(key)
        return entry[0] if entry is not None else 0

    def _expire_quotas(self, now: float) -> None:
        quotas = self._quotas
        while quotas:
            key, (_value, expires_at) = next(iter(quotas.items()))
            if expires_at > now:
                return
            del quotas[key]

    # -- concurrency ------------------------------------------------------------------------------
    def try_enter(self, key: str, max_count: int) -> bool:
        held = self._slots.get(key, 0)
        if held >= max_count:
            return False
        self._slots[key] = held + 1
        return True

    def leave(self, key: str) -> None:
        held = self._slots.get(key, 0) - 1
        if held > 0:
            self._slots[key] = held
        else:
            self._slots.pop(key, None)

    def held(self, key: str) -> int:
        return self._slots.get(key, 0)

    # -- introspection ------------------------------------------------------------------------------
    def sizes(self) -> dict[str, int]:
        return {"windows": len(self._logs), "quotas": len(self._quotas), "concurrency": len(self._slots)}

    def clear(self) -> None:
        self._logs.clear()
        self._quotas.clear()
        self._slots.clear()
