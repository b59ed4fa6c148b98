"""``System.TimeSpan`` (a signed tick count) and the tick units it shares with ``DateTime``.

A tick is 100 ns. `TickOrdered` gives equality, ordering and .NET hash codes by tick count to
``TimeSpan`` and `engine.dotnet.datetimes.DateTime`. Formatting and parsing are in
:mod:`engine.dotnet.dateformat`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .clrnumeric import Int64Value
from .errors import ArgumentOutOfRangeException, FormatException, OverflowException

TICKS_PER_MS = 10_000
TICKS_PER_SECOND = 10_000_000
TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND
TICKS_PER_HOUR = 60 * TICKS_PER_MINUTE
TICKS_PER_DAY = 24 * TICKS_PER_HOUR
_TS_MAX = 2**63 - 1
_TS_MIN = -(2**63)


class TickOrdered:
    """Equality, ordering and hash codes by the tick count ``_ticks`` (``TimeSpan``, ``DateTime``).

    ``DateTime`` ignores ``Kind`` here, as .NET does. ``DateTimeOffset`` orders by ``UtcTicks``
    and hashes differently, so it keeps its own members.
    """

    __slots__ = ()
    _ticks: int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and other._ticks == self._ticks

    def __hash__(self) -> int:
        return hash(self._ticks)

    def __lt__(self, other: TickOrdered) -> bool:
        return self._ticks < other._ticks

    def __le__(self, other: TickOrdered) -> bool:
        return self._ticks <= other._ticks

    def __gt__(self, other: TickOrdered) -> bool:
        return self._ticks > other._ticks

    def __ge__(self, other: TickOrdered) -> bool:
        return self._ticks >= other._ticks

    def Equals(self, other: Any) -> bool:
        return bool(self == other)

    def CompareTo(self, other: Any) -> int:
        if other is None:
            return 1
        return int(self._ticks > other._ticks) - int(self._ticks < other._ticks)

    def GetHashCode(self) -> int:
        return (self._ticks ^ (self._ticks >> 32)) & 0x7FFFFFFF


class TimeSpan(TickOrdered):
    """``System.TimeSpan``: a signed tick count."""

    dotnet_name = "System.TimeSpan"
    Zero: ClassVar[TimeSpan]  # set below the class
    MaxValue: ClassVar[TimeSpan]
    MinValue: ClassVar[TimeSpan]
    json_token_type = "TimeSpan"
    formattable = True
    __slots__ = ("_ticks",)

    TicksPerMillisecond = Int64Value(TICKS_PER_MS)
    TicksPerSecond = Int64Value(TICKS_PER_SECOND)
    TicksPerMinute = Int64Value(TICKS_PER_MINUTE)
    TicksPerHour = Int64Value(TICKS_PER_HOUR)
    TicksPerDay = Int64Value(TICKS_PER_DAY)

    def __init__(self, *args: int) -> None:
        if len(args) == 1:
            ticks = int(args[0])
        elif len(args) == 3:
            h, m, s = args
            ticks = (h * 3600 + m * 60 + s) * TICKS_PER_SECOND
        elif len(args) in (4, 5):
            d, h, m, s = args[:4]
            ms = args[4] if len(args) == 5 else 0
            ticks = ((d * 86400 + h * 3600 + m * 60 + s) * 1000 + ms) * TICKS_PER_MS
        elif not args:
            ticks = 0
        else:
            raise ArgumentOutOfRangeException(None, "Invalid TimeSpan constructor arguments.")
        if not _TS_MIN <= ticks <= _TS_MAX:
            raise ArgumentOutOfRangeException(None, "TimeSpan overflowed because the duration is too long.")
        self._ticks = ticks

    @classmethod
    def default(cls) -> TimeSpan:
        return cls(0)

    # -- factories ------------------------------------------------------------------------------
    @staticmethod
    def _from(value: float, scale: int) -> TimeSpan:
        if math.isnan(value):
            raise ArgumentOutOfRangeException(
                None, "TimeSpan does not accept floating point Not-a-Number values."
            )
        ticks = value * scale
        if ticks > _TS_MAX or ticks < _TS_MIN:
            raise OverflowException("TimeSpan overflowed because the duration is too long.")
        return TimeSpan(int(ticks))

    @staticmethod
    def FromDays(value: float) -> TimeSpan:
        return TimeSpan._from(value, TICKS_PER_DAY)

    @staticmethod
    def FromHours(value: float) -> TimeSpan:
        return TimeSpan._from(value, TICKS_PER_HOUR)

    @staticmethod
    def FromMinutes(value: float) -> TimeSpan:
        return TimeSpan._from(value, TICKS_PER_MINUTE)

    @staticmethod
    def FromSeconds(value: float) -> TimeSpan:
        return TimeSpan._from(value, TICKS_PER_SECOND)

    @staticmethod
    def FromMilliseconds(value: float) -> TimeSpan:
        return TimeSpan._from(value, TICKS_PER_MS)

    @staticmethod
    def FromTicks(value: int) -> TimeSpan:
        return TimeSpan(int(value))

    # -- properties -----------------------------------------------------------------------------
    @property
    def Ticks(self) -> int:
        return Int64Value(self._ticks)

    def _part(self, unit: int, modulo: int) -> int:
        t = abs(self._ticks) // unit % modulo
        return -t if self._ticks < 0 else t

    @property
    def Days(self) -> int:
        t = abs(self._ticks) // TICKS_PER_DAY
        return -t if self._ticks < 0 else t

    @property
    def Hours(self) -> int:
        return self._part(TICKS_PER_HOUR, 24)

    @property
    def Minutes(self) -> int:
        return self._part(TICKS_PER_MINUTE, 60)

    @property
    def Seconds(self) -> int:
        return self._part(TICKS_PER_SECOND, 60)

    @property
    def Milliseconds(self) -> int:
        return self._part(TICKS_PER_MS, 1000)

    @property
    def TotalDays(self) -> float:
        return self._ticks / TICKS_PER_DAY

    @property
    def TotalHours(self) -> float:
        return self._ticks / TICKS_PER_HOUR

    @property
    def TotalMinutes(self) -> float:
        return self._ticks / TICKS_PER_MINUTE

    @property
    def TotalSeconds(self) -> float:
        return self._ticks / TICKS_PER_SECOND

    @property
    def TotalMilliseconds(self) -> float:
        return self._ticks / TICKS_PER_MS

    # -- operations -----------------------------------------------------------------------------
    def Add(self, other: TimeSpan) -> TimeSpan:
        return _checked_span(self._ticks + other._ticks)

    def Subtract(self, other: TimeSpan) -> TimeSpan:
        return _checked_span(self._ticks - other._ticks)

    def Negate(self) -> TimeSpan:
        return _checked_span(-self._ticks)

    def Duration(self) -> TimeSpan:
        return _checked_span(abs(self._ticks))

    def Multiply(self, factor: float) -> TimeSpan:
        return TimeSpan._from(self._ticks * factor, 1)

    def Divide(self, divisor: Any) -> Any:
        if isinstance(divisor, TimeSpan):
            return self._ticks / divisor._ticks if divisor._ticks else math.nan
        return TimeSpan._from(self._ticks / divisor, 1)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, TimeSpan):
            return self.Add(other)
        return NotImplemented

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, TimeSpan):
            return self.Subtract(other)
        return NotImplemented

    def __neg__(self) -> TimeSpan:
        return self.Negate()

    def __pos__(self) -> TimeSpan:
        return self

    def __mul__(self, factor: Any) -> TimeSpan:
        return self.Multiply(factor)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Any) -> Any:
        return self.Divide(divisor)

    @staticmethod
    def Compare(a: TimeSpan, b: TimeSpan) -> int:
        return a.CompareTo(b)

    def ToString(self, fmt: Any = None, provider: Any = None) -> str:
        from .dateformat import format_timespan

        return format_timespan(self, fmt if isinstance(fmt, str) else None)

    def to_json_text(self) -> str:
        return self.ToString()

    def __repr__(self) -> str:
        return f"TimeSpan({self.ToString()})"

    @staticmethod
    def Parse(s: str | None, provider: Any = None) -> TimeSpan:
        from .dateformat import parse_timespan

        return parse_timespan(s)

    @staticmethod
    def TryParse(s: str | None, provider: Any = None) -> tuple[bool, TimeSpan]:
        try:
            return True, TimeSpan.Parse(s)
        except (FormatException, OverflowException, ArgumentOutOfRangeException):
            return False, TimeSpan(0)

    @staticmethod
    def ParseExact(s: str | None, fmt: Any, provider: Any = None, styles: Any = None) -> TimeSpan:
        from .dateformat import parse_timespan_exact

        formats = fmt if isinstance(fmt, list) else [fmt]
        for one in formats[:-1]:
            try:
                return parse_timespan_exact(s, one)
            except (FormatException, OverflowException):
                continue
        return parse_timespan_exact(s, formats[-1] if formats else None)


def _checked_span(ticks: int) -> TimeSpan:
    if not _TS_MIN <= ticks <= _TS_MAX:
        raise OverflowException("TimeSpan overflowed because the duration is too long.")
    return TimeSpan(ticks)


TimeSpan.Zero = TimeSpan(0)
TimeSpan.MaxValue = TimeSpan(_TS_MAX)
TimeSpan.MinValue = TimeSpan(_TS_MIN)
