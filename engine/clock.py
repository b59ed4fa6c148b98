"""The gateway's clock: wall time and monotonic time, replaceable per task.

Everything that reads the time on a request's behalf (`context.Timestamp`, `DateTime.UtcNow`,
cache TTLs and `Age`, in-process rate-limit windows and quotas, JWT lifetimes) asks this module,
so `policygate test` can run a case at a fixed moment and move time forward without waiting.
The current clock is a context variable: a clock set with `using()` holds for the calling task
and the tasks it starts, and nowhere else. Windows decided by Redis use Redis's own time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go backwards."""
        ...


class SystemClock:
    """The machine's clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM = SystemClock()
_current: ContextVar[Clock] = ContextVar("policygate.clock", default=SYSTEM)


def now() -> float:
    """Wall-clock seconds since the epoch, from the current clock."""
    return _current.get().time()


def monotonic() -> float:
    """Monotonic seconds, from the current clock."""
    return _current.get().monotonic()


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the current clock inside the `with` block (this task and tasks it starts)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
