"""Resource limits of the runtime library, checked before anything large is allocated.

Policy expressions call the library with caller-controlled sizes (``new string('a', n)``,
``PadLeft(n)``, ``{0,n}``, ``D<n>``, ``Append(c, n)``, ``string.Join`` of a repeat...). Every
function that allocates in proportion to an argument computes the size of its result first and
calls :func:`check_length` / :func:`check_count`; sequences are materialised through
:func:`bounded_list`, which stops at the element limit instead of building a huge list.

One :class:`Meter` per evaluation (installed by the expression runtime with :func:`metering`)
also counts the volume of large values built and checks the deadline at every large
allocation and every loop tick, so neither a long chain of large operations nor one expensive
loop body can run away. The library's own per-element loops (JSON/XML trees and writers, LINQ
materialisation, ``string.Join``) go through :func:`paced`, which checks the deadline every
:data:`PACE` elements, so one library call cannot overrun the deadline by much either. Limits
raise :class:`ResourceLimitExceeded`, which C# ``catch`` blocks never see (it is not a .NET exception).

The time limit is CPU time of the evaluating thread: the deadline is kept in wall time (cheap to
read), and only when it passes does the thread's CPU clock decide. An evaluation that was not
running (a busy machine, another thread holding the GIL) gets the CPU time it was not given, up to
:data:`STARVED_WALL` times the limit in wall time; one that used the time is stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any


class Limits:
    """Evaluation limits; one shared instance (``LIMITS``), adjustable by the gateway's settings."""

    timeout: float = 0.050  # seconds of CPU time per evaluation (see Meter.overrun)
    max_iterations: int = 100_000  # loop iterations + lambda calls per evaluation
    max_string: int = 1 << 20  # characters in any string an expression builds
    max_collection: int = 100_000  # elements in any array/list an expression builds
    max_allocation: int = 32 << 20  # characters/bytes/elements of large values built per evaluation


LIMITS = Limits()
MAX_FORMAT = 1024  # characters of a custom format string (interpreted character by character)
PACE = 512  # elements a library loop handles between two deadline checks (only while metered)
LARGE = 4096  # values at least this long are metered (smaller ones cannot add up faster than the loop limit)
STARVED_WALL = 20  # an evaluation starved of CPU still ends after this many times the limit in wall time


class ResourceLimitExceeded(Exception):
    """A size, volume, iteration or time limit was hit (not catchable by C# code)."""


class Meter:
    """Per-evaluation counters: loop ticks left, deadline, volume of large values."""

    __slots__ = ("deadline", "left", "allocated", "cpu_start", "wall_cap")

    def __init__(self) -> None:
        now = time.perf_counter()
        self.deadline = now + LIMITS.timeout
        self.wall_cap = now + LIMITS.timeout * STARVED_WALL
        self.cpu_start = time.thread_time()
        self.left = LIMITS.max_iterations
        self.allocated = 0

    def tick(self) -> None:
        """One loop iteration or lambda call: counted, and the deadline checked every time."""
        self.left -= 1
        if self.left < 0:
            raise ResourceLimitExceeded(f"the expression ran more than {LIMITS.max_iterations} loop iterations")
        if time.perf_counter() > self.deadline:
            self.overrun()

    def charge(self, units: int) -> None:
        """A large value of ``units`` characters/elements is about to be built."""
        self.allocated += units
        if self.allocated > LIMITS.max_allocation:
            raise ResourceLimitExceeded(
                f"the expression built more than {LIMITS.max_allocation} characters or elements of large values")
        if time.perf_counter() > self.deadline:
            self.overrun()

    def overrun(self) -> None:
        """The wall-clock deadline passed: stop if the thread used its CPU time (or the wall cap
        passed), else move the deadline by the CPU time it has left."""
        now = time.perf_counter()
        left = LIMITS.timeout - (time.thread_time() - self.cpu_start)
        if left <= 0 or now >= self.wall_cap:
            raise ResourceLimitExceeded(f"the expression ran longer than {LIMITS.timeout * 1000:.0f} ms")
        self.deadline = min(now + left, self.wall_cap)

    def time_left(self) -> float:
        """Seconds the evaluation may still run (0 when its time is used up)."""
        left = self.deadline - time.perf_counter()
        if left > 0:
            return left
        try:
            self.overrun()
        except ResourceLimitExceeded:
            return 0.0
        return max(0.0, self.deadline - time.perf_counter())


_ACTIVE = threading.local()


@contextmanager
def metering(meter: Meter) -> Iterator[Meter]:
    """Make ``meter`` the one large allocations of this thread are charged to."""
    previous = getattr(_ACTIVE, "meter", None)
    _ACTIVE.meter = meter
    try:
        yield meter
    finally:
        _ACTIVE.meter = previous


def enter(meter: Meter) -> Meter | None:
    """Install ``meter`` (returns the previous one for :func:`leave`); cheaper than ``metering``."""
    previous: Meter | None = getattr(_ACTIVE, "meter", None)
    _ACTIVE.meter = meter
    return previous


def leave(previous: Meter | None) -> None:
    _ACTIVE.meter = previous


def active() -> Meter | None:
    """The meter of the evaluation running in this thread, if it is metered."""
    meter: Meter | None = getattr(_ACTIVE, "meter", None)
    return meter


def _charge(units: int) -> None:
    meter = getattr(_ACTIVE, "meter", None)
    if meter is not None:
        meter.charge(units)


def paced(items: Iterable[Any]) -> Iterable[Any]:
    """``items``, checking the active meter's deadline every :data:`PACE` elements (as is when unmetered)."""
    meter = getattr(_ACTIVE, "meter", None)
    return items if meter is None else _paced(items, meter)


def _paced(items: Iterable[Any], meter: Meter) -> Iterator[Any]:
    for i, item in enumerate(items):
        if not i % PACE and time.perf_counter() > meter.deadline:
            meter.overrun()
        yield item


def check_length(n: int, what: str = "a string") -> int:
    """Before building a string of ``n`` characters."""
    if n > LIMITS.max_string:
        raise ResourceLimitExceeded(f"{what} of {n} characters exceeds the limit of {LIMITS.max_string}")
    if n >= LARGE:
        _charge(n)
    return n


def check_count(n: int, what: str = "a collection") -> int:
    """Before building a collection of ``n`` elements (or a byte array of ``n`` bytes)."""
    if n > LIMITS.max_collection:
        raise ResourceLimitExceeded(f"{what} of {n} elements exceeds the limit of {LIMITS.max_collection}")
    if n >= LARGE:
        _charge(n)
    return n


def check_bytes(n: int) -> int:
    """Before building a byte array of ``n`` bytes (bounded like a string)."""
    return check_length(n, "a byte array")


def check_format(fmt: str) -> str:
    """Before interpreting a custom (numeric or date) format string."""
    if len(fmt) > MAX_FORMAT:
        raise ResourceLimitExceeded(f"a custom format string of {len(fmt)} characters exceeds the limit of {MAX_FORMAT}")
    return fmt


def bounded_list(items: Iterable[Any]) -> list[Any]:
    """``list(items)`` that stops with ResourceLimitExceeded past the element limit."""
    if items.__class__ is list or items.__class__ is tuple:
        check_count(len(items))
        return list(items)
    limit = LIMITS.max_collection
    out = list(islice(paced(items), limit + 1))
    if len(out) > limit:
        raise ResourceLimitExceeded(f"a sequence of more than {limit} elements exceeds the limit")
    if len(out) >= LARGE:
        _charge(len(out))
    return out


_list_append = list.append


class TextBuffer(list[str]):
    """The pieces of a text being written (JSON, XML): stops at the string limit while writing."""

    __slots__ = ("size", "checkpoint")

    STRIDE = 16384  # characters written between two deadline checks (while metered)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0
        self.checkpoint = min(LIMITS.max_string, self.STRIDE)

    def append(self, piece: str) -> None:
        self.size += len(piece)
        if self.size > self.checkpoint:
            self._checkpoint()
        _list_append(self, piece)  # not super().append: one call per piece written

    def _checkpoint(self) -> None:
        if self.size > LIMITS.max_string:
            check_length(self.size, "the text being written")
        meter = getattr(_ACTIVE, "meter", None)
        if meter is not None and time.perf_counter() > meter.deadline:
            meter.overrun()
        self.checkpoint = min(LIMITS.max_string, self.size + self.STRIDE)

    def text(self) -> str:
        check_length(self.size)
        return "".join(self)


def joined_length(parts: list[str], separator: str = "") -> int:
    """Length of ``separator.join(parts)``, checked before joining."""
    total = sum(map(len, parts)) + len(separator) * max(0, len(parts) - 1)
    return check_length(total)


__all__ = [
    "LARGE", "LIMITS", "Limits", "Meter", "PACE", "ResourceLimitExceeded", "TextBuffer", "active", "bounded_list", "check_bytes", "check_count",
    "check_format", "check_length", "enter", "joined_length", "leave", "metering", "paced",
]
