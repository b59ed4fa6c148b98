"""``DateTime``, ``DateTimeKind``, ``DayOfWeek`` and ``DateTimeOffset`` (``TimeSpan``: `engine.dotnet.timespan`).

Times are held as .NET ticks (100 ns since 0001-01-01). The gateway's local time zone is UTC:
``DateTime.Now`` equals ``DateTime.UtcNow`` with ``Kind == Local``, and local/universal conversions
only change ``Kind`` (APIM's managed gateway also runs in UTC). Formatting and parsing use the
invariant culture; see :mod:`engine.dotnet.dateformat` for the format strings.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
from typing import Any, ClassVar

from .clrnumeric import Int64Value
from .errors import ArgumentOutOfRangeException, FormatException
from .primitives import static_property
from .timespan import (
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    TICKS_PER_MINUTE,
    TICKS_PER_MS,
    TICKS_PER_SECOND,
    TickOrdered,
    TimeSpan,
)

MAX_TICKS = 3_155_378_975_999_999_999
UNIX_EPOCH_TICKS = 621_355_968_000_000_000


class DateTimeKind(enum.IntEnum):
    """``System.DateTimeKind``."""

    Unspecified = 0
    Utc = 1
    Local = 2

    def ToString(self, fmt: str | None = None) -> str:
        from .enums import EnumMembers

        return EnumMembers.ToString(self, fmt)


class DayOfWeek(enum.IntEnum):
    """``System.DayOfWeek``."""

    Sunday = 0
    Monday = 1
    Tuesday = 2
    Wednesday = 3
    Thursday = 4
    Friday = 5
    Saturday = 6

    def ToString(self, fmt: str | None = None) -> str:
        from .enums import EnumMembers

        return EnumMembers.ToString(self, fmt)


def _now_ticks() -> int:
    from engine import clock

    return UNIX_EPOCH_TICKS + int(clock.now() * 10_000_000)


def _unrepresentable() -> ArgumentOutOfRangeException:
    return ArgumentOutOfRangeException(
        "value", "The added or subtracted value results in an un-representable DateTime."
    )


def _days_to_date(days: int) -> _dt.date:
    return _dt.date.fromordinal(days + 1)


def _date_to_days(year: int, month: int, day: int) -> int:
    try:
        return _dt.date(year, month, day).toordinal() - 1
    except (ValueError, OverflowError) as exc:
        raise ArgumentOutOfRangeException(
            None, "Year, Month, and Day parameters describe an un-representable DateTime."
        ) from exc


def _round_scaled(value: float, scale: int) -> int:
    """.NET's ``DateTime.Add(double, scale)``: round to whole milliseconds."""
    if math.isnan(value) or math.isinf(value):
        raise ArgumentOutOfRangeException("value", "Value to add was out of range.")
    millis = value * scale + (0.5 if value >= 0 else -0.5)
    return int(millis) * TICKS_PER_MS



# ---------------------------------------------------------------------------------------------
# DateTime
# ---------------------------------------------------------------------------------------------


class DateTime(TickOrdered):
    """``System.DateTime``: ticks plus ``Kind``."""

    dotnet_name = "System.DateTime"
    MinValue: ClassVar[DateTime]  # set below the class
    MaxValue: ClassVar[DateTime]
    UnixEpoch: ClassVar[DateTime]
    json_token_type = "Date"
    formattable = True
    __slots__ = ("_ticks", "_kind")

    def __init__(self, *args: Any) -> None:
        kind = DateTimeKind.Unspecified
        values = list(args)
        if values and isinstance(values[-1], DateTimeKind):
            kind = values.pop()
        if len(values) == 1:
            ticks = int(values[0])
            if not 0 <= ticks <= MAX_TICKS:
                raise ArgumentOutOfRangeException(
                    "ticks", "Ticks must be between DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks."
                )
        elif len(values) in (3, 6, 7):
            y, mo, d = (int(v) for v in values[:3])
            h, mi, s = (int(v) for v in values[3:6]) if len(values) >= 6 else (0, 0, 0)
            ms = int(values[6]) if len(values) == 7 else 0
            if not (1 <= y <= 9999 and 1 <= mo <= 12):
                raise ArgumentOutOfRangeException(
                    None, "Year, Month, and Day parameters describe an un-representable DateTime."
                )
            if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 60):
                raise ArgumentOutOfRangeException(
                    None, "Hour, Minute, and Second parameters describe an un-representable DateTime."
                )
            if not 0 <= ms < 1000:
                raise ArgumentOutOfRangeException(
                    "millisecond", "Valid values are between 0 and 999, inclusive."
                )
            ticks = (
                _date_to_days(y, mo, d) * TICKS_PER_DAY
                + (h * 3600 + mi * 60 + s) * TICKS_PER_SECOND
                + ms * TICKS_PER_MS
            )
        elif not values:
            ticks = 0
        else:
            raise ArgumentOutOfRangeException(None, "Invalid DateTime constructor arguments.")
        self._ticks = ticks
        self._kind = DateTimeKind(kind)

    @classmethod
    def _make(cls, ticks: int, kind: DateTimeKind) -> DateTime:
        if not 0 <= ticks <= MAX_TICKS:
            raise _unrepresentable()
        obj = cls.__new__(cls)
        obj._ticks = ticks
        obj._kind = kind
        return obj

    @classmethod
    def default(cls) -> DateTime:
        return cls._make(0, DateTimeKind.Unspecified)

    # -- statics --------------------------------------------------------------------------------
    @static_property
    def UtcNow() -> DateTime:  # noqa: N802
        return DateTime._make(_now_ticks(), DateTimeKind.Utc)

    @static_property
    def Now() -> DateTime:  # noqa: N802
        return DateTime._make(_now_ticks(), DateTimeKind.Local)

    @static_property
    def Today() -> DateTime:  # noqa: N802
        t = _now_ticks()
        return DateTime._make(t - t % TICKS_PER_DAY, DateTimeKind.Local)

    @staticmethod
    def DaysInMonth(year: int, month: int) -> int:
        if not 1 <= month <= 12:
            raise ArgumentOutOfRangeException("month", "Month must be between one and twelve.")
        import calendar

        return calendar.monthrange(year, month)[1]

    @staticmethod
    def IsLeapYear(year: int) -> bool:
        if not 1 <= year <= 9999:
            raise ArgumentOutOfRangeException("year", "Year must be between 1 and 9999.")
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)

    @staticmethod
    def SpecifyKind(value: DateTime, kind: DateTimeKind) -> DateTime:
        return DateTime._make(value._ticks, DateTimeKind(kind))

    @staticmethod
    def Compare(a: DateTime, b: DateTime) -> int:
        return (a._ticks > b._ticks) - (a._ticks < b._ticks)

    @staticmethod
    def Parse(s: str | None, provider: Any = None, styles: Any = None) -> DateTime:
        return _dateformat.parse_datetime(s, styles)

    @staticmethod
    def TryParse(s: str | None, *args: Any) -> tuple[bool, DateTime]:
        styles = args[-1] if len(args) >= 2 else None
        try:
            return True, DateTime.Parse(s, None, styles)
        except (FormatException, ArgumentOutOfRangeException):
            return False, DateTime.default()

    @staticmethod
    def ParseExact(s: str | None, fmt: Any, provider: Any = None, styles: Any = None) -> DateTime:
        return _dateformat.parse_exact(s, fmt, styles)

    @staticmethod
    def TryParseExact(
        s: str | None, fmt: Any, provider: Any = None, styles: Any = None
    ) -> tuple[bool, DateTime]:
        try:
            return True, DateTime.ParseExact(s, fmt, provider, styles)
        except (FormatException, ArgumentOutOfRangeException):
            return False, DateTime.default()

    @staticmethod
    def FromFileTimeUtc(file_time: int) -> DateTime:
        return DateTime._make(file_time + 504_911_232_000_000_000, DateTimeKind.Utc)

    # -- properties -----------------------------------------------------------------------------
    def _date(self) -> _dt.date:
        return _days_to_date(self._ticks // TICKS_PER_DAY)

    @property
    def Ticks(self) -> int:
        return Int64Value(self._ticks)

    @property
    def Kind(self) -> DateTimeKind:
        return self._kind

    @property
    def Year(self) -> int:
        return self._date().year

    @property
    def Month(self) -> int:
        return self._date().month

    @property
    def Day(self) -> int:
        return self._date().day

    @property
    def Hour(self) -> int:
        return self._ticks // TICKS_PER_HOUR % 24

    @property
    def Minute(self) -> int:
        return self._ticks // TICKS_PER_MINUTE % 60

    @property
    def Second(self) -> int:
        return self._ticks // TICKS_PER_SECOND % 60

    @property
    def Millisecond(self) -> int:
        return self._ticks // TICKS_PER_MS % 1000

    @property
    def Date(self) -> DateTime:
        return DateTime._make(self._ticks - self._ticks % TICKS_PER_DAY, self._kind)

    @property
    def TimeOfDay(self) -> TimeSpan:
        return TimeSpan(self._ticks % TICKS_PER_DAY)

    @property
    def DayOfWeek(self) -> DayOfWeek:
        return DayOfWeek((self._ticks // TICKS_PER_DAY + 1) % 7)

    @property
    def DayOfYear(self) -> int:
        return self._date().timetuple().tm_yday

    # -- arithmetic -----------------------------------------------------------------------------
    def AddTicks(self, value: int) -> DateTime:
        return DateTime._make(self._ticks + int(value), self._kind)

    def Add(self, span: TimeSpan) -> DateTime:
        return self.AddTicks(span.Ticks)

    def AddMilliseconds(self, value: float) -> DateTime:
        return self.AddTicks(_round_scaled(value, 1))

    def AddSeconds(self, value: float) -> DateTime:
        return self.AddTicks(_round_scaled(value, 1000))

    def AddMinutes(self, value: float) -> DateTime:
        return self.AddTicks(_round_scaled(value, 60_000))

    def AddHours(self, value: float) -> DateTime:
        return self.AddTicks(_round_scaled(value, 3_600_000))

    def AddDays(self, value: float) -> DateTime:
        return self.AddTicks(_round_scaled(value, 86_400_000))

    def AddMonths(self, months: int) -> DateTime:
        if not -120000 <= months <= 120000:
            raise ArgumentOutOfRangeException("months", "Months value must be between +/-120000.")
        d = self._date()
        total = d.year * 12 + d.month - 1 + int(months)
        y, m = divmod(total, 12)
        m += 1
        if not 1 <= y <= 9999:
            raise ArgumentOutOfRangeException(
                "months", "The added or subtracted value results in an un-representable DateTime."
            )
        day = min(d.day, DateTime.DaysInMonth(y, m))
        return DateTime._make(
            _date_to_days(y, m, day) * TICKS_PER_DAY + self._ticks % TICKS_PER_DAY, self._kind
        )

    def AddYears(self, years: int) -> DateTime:
        if not -10000 <= years <= 10000:
            raise ArgumentOutOfRangeException(
                "years", "The added or subtracted value results in an un-representable DateTime."
            )
        return self.AddMonths(int(years) * 12)

    def Subtract(self, other: Any) -> Any:
        if isinstance(other, DateTime):
            return TimeSpan(self._ticks - other._ticks)
        return self.AddTicks(-other.Ticks)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, TimeSpan):
            return self.Add(other)
        return NotImplemented

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, DateTime | TimeSpan):
            return self.Subtract(other)
        return NotImplemented

    # -- conversions ----------------------------------------------------------------------------
    def ToUniversalTime(self) -> DateTime:
        return DateTime._make(self._ticks, DateTimeKind.Utc)

    def ToLocalTime(self) -> DateTime:
        return DateTime._make(self._ticks, DateTimeKind.Local)

    def IsDaylightSavingTime(self) -> bool:
        return False

    def ToFileTimeUtc(self) -> int:
        return Int64Value(self._ticks - 504_911_232_000_000_000)

    def ToOADate(self) -> float:
        days = (self._ticks - 599_264_352_000_000_000) / TICKS_PER_DAY
        if days < 0:
            frac = days - math.floor(days)
            days = math.floor(days) - frac if frac else days
        return round(days * 86_400_000) / 86_400_000

    def ToString(self, fmt: Any = None, provider: Any = None) -> str:
        return _dateformat.format_datetime(self, fmt if isinstance(fmt, str) else None)

    def ToShortDateString(self) -> str:
        return self.ToString("d")

    def ToLongDateString(self) -> str:
        return self.ToString("D")

    def ToShortTimeString(self) -> str:
        return self.ToString("t")

    def ToLongTimeString(self) -> str:
        return self.ToString("T")

    def ToIso(self) -> str:
        return self.ToString("o")

    def to_json_text(self) -> str:
        """Newtonsoft's ISO form: ``yyyy-MM-ddTHH:mm:ss.FFFFFFFK``."""
        date = _days_to_date(self._ticks // TICKS_PER_DAY)
        tod = self._ticks % TICKS_PER_DAY
        seconds, frac = divmod(tod, TICKS_PER_SECOND)
        h, rem = divmod(seconds, 3600)
        m, sec = divmod(rem, 60)
        text = f"{date.year:04d}-{date.month:02d}-{date.day:02d}T{h:02d}:{m:02d}:{sec:02d}"
        if frac:
            text += "." + f"{frac:07d}".rstrip("0")
        return text + {DateTimeKind.Utc: "Z", DateTimeKind.Local: "+00:00"}.get(self._kind, "")

    def __repr__(self) -> str:
        return f"DateTime({self.ToString('o')}, {self._kind.name})"


DateTime.MinValue = DateTime._make(0, DateTimeKind.Unspecified)
DateTime.MaxValue = DateTime._make(MAX_TICKS, DateTimeKind.Unspecified)
DateTime.UnixEpoch = DateTime._make(UNIX_EPOCH_TICKS, DateTimeKind.Utc)


# ---------------------------------------------------------------------------------------------
# DateTimeOffset
# ---------------------------------------------------------------------------------------------


_DateTime = DateTime  # DateTimeOffset.DateTime (a property) hides the class inside its body


class DateTimeOffset:
    """``System.DateTimeOffset``: clock time plus a UTC offset."""

    dotnet_name = "System.DateTimeOffset"
    MinValue: ClassVar[DateTimeOffset]  # set below the class
    MaxValue: ClassVar[DateTimeOffset]
    UnixEpoch: ClassVar[DateTimeOffset]
    json_token_type = "Date"
    formattable = True
    __slots__ = ("_clock", "_offset")

    @staticmethod
    def implicit_from(value: Any) -> Any:
        """C#'s implicit conversion from ``DateTime`` (`DateTimeOffset o = dateTime;`); other values unchanged."""
        return DateTimeOffset(value) if isinstance(value, DateTime) else value

    def __init__(self, *args: Any) -> None:
        values = list(args)
        if len(values) == 1 and isinstance(values[0], DateTime):
            dt = values[0]
            self._clock = dt.Ticks
            self._offset = 0
        elif len(values) == 2 and isinstance(values[0], DateTime):
            self._clock = values[0].Ticks
            self._offset = _offset_minutes(values[1])
        elif len(values) == 2:
            self._clock = int(values[0])
            self._offset = _offset_minutes(values[1])
        elif len(values) in (7, 8):
            offset = values.pop()
            self._clock = DateTime(*values).Ticks
            self._offset = _offset_minutes(offset)
        else:
            raise ArgumentOutOfRangeException(None, "Invalid DateTimeOffset constructor arguments.")
        if abs(self._offset) > 14 * 60:
            raise ArgumentOutOfRangeException("offset", "Offset must be within plus or minus 14 hours.")
        utc = self._clock - self._offset * TICKS_PER_MINUTE
        if not 0 <= utc <= MAX_TICKS:
            raise ArgumentOutOfRangeException(
                "offset",
                "The UTC time represented when the offset is applied must be between year 0 and 10,000.",
            )

    @classmethod
    def _make(cls, clock: int, offset_minutes: int) -> DateTimeOffset:
        obj = cls.__new__(cls)
        if not 0 <= clock <= MAX_TICKS:
            raise _unrepresentable()
        obj._clock = clock
        obj._offset = offset_minutes
        return obj

    @classmethod
    def default(cls) -> DateTimeOffset:
        return cls._make(0, 0)

    @static_property
    def UtcNow() -> DateTimeOffset:  # noqa: N802
        return DateTimeOffset._make(_now_ticks(), 0)

    @static_property
    def Now() -> DateTimeOffset:  # noqa: N802
        return DateTimeOffset._make(_now_ticks(), 0)

    @staticmethod
    def FromUnixTimeSeconds(seconds: int) -> DateTimeOffset:
        if not -62_135_596_800 <= seconds <= 253_402_300_799:
            raise ArgumentOutOfRangeException(
                "seconds", "Valid values are between -62135596800 and 253402300799, inclusive."
            )
        return DateTimeOffset._make(UNIX_EPOCH_TICKS + int(seconds) * TICKS_PER_SECOND, 0)

    @staticmethod
    def FromUnixTimeMilliseconds(ms: int) -> DateTimeOffset:
        if not -62_135_596_800_000 <= ms <= 253_402_300_799_999:
            raise ArgumentOutOfRangeException(
                "milliseconds", "Valid values are between -62135596800000 and 253402300799999, inclusive."
            )
        return DateTimeOffset._make(UNIX_EPOCH_TICKS + int(ms) * TICKS_PER_MS, 0)

    @staticmethod
    def Parse(s: str | None, provider: Any = None, styles: Any = None) -> DateTimeOffset:
        return _dateformat.parse_datetimeoffset(s)

    @staticmethod
    def TryParse(s: str | None, *args: Any) -> tuple[bool, DateTimeOffset]:
        try:
            return True, DateTimeOffset.Parse(s)
        except (FormatException, ArgumentOutOfRangeException):
            return False, DateTimeOffset.default()

    @staticmethod
    def ParseExact(s: str | None, fmt: Any, provider: Any = None, styles: Any = None) -> DateTimeOffset:
        return _dateformat.parse_exact_offset(s, fmt, styles)

    @staticmethod
    def TryParseExact(
        s: str | None, fmt: Any, provider: Any = None, styles: Any = None
    ) -> tuple[bool, DateTimeOffset]:
        try:
            return True, DateTimeOffset.ParseExact(s, fmt, provider, styles)
        except (FormatException, ArgumentOutOfRangeException):
            return False, DateTimeOffset.default()

    # -- properties -----------------------------------------------------------------------------
    @property
    def Offset(self) -> TimeSpan:
        return TimeSpan(self._offset * TICKS_PER_MINUTE)

    @property
    def DateTime(self) -> _DateTime:
        return DateTime._make(self._clock, DateTimeKind.Unspecified)

    @property
    def UtcDateTime(self) -> _DateTime:
        return DateTime._make(self.UtcTicks, DateTimeKind.Utc)

    @property
    def LocalDateTime(self) -> _DateTime:
        return DateTime._make(self.UtcTicks, DateTimeKind.Local)

    @property
    def UtcTicks(self) -> int:
        return Int64Value(self._clock - self._offset * TICKS_PER_MINUTE)

    @property
    def Ticks(self) -> int:
        return Int64Value(self._clock)

    @property
    def Date(self) -> _DateTime:
        return self.DateTime.Date

    @property
    def TimeOfDay(self) -> TimeSpan:
        return self.DateTime.TimeOfDay

    # the clock's parts are those of its DateTime
    Year = property(lambda self: self.DateTime.Year)
    Month = property(lambda self: self.DateTime.Month)
    Day = property(lambda self: self.DateTime.Day)
    Hour = property(lambda self: self.DateTime.Hour)
    Minute = property(lambda self: self.DateTime.Minute)
    Second = property(lambda self: self.DateTime.Second)
    Millisecond = property(lambda self: self.DateTime.Millisecond)
    DayOfWeek = property(lambda self: self.DateTime.DayOfWeek)
    DayOfYear = property(lambda self: self.DateTime.DayOfYear)

    # -- operations -----------------------------------------------------------------------------
    def ToUnixTimeSeconds(self) -> int:
        return Int64Value((self.UtcTicks - UNIX_EPOCH_TICKS) // TICKS_PER_SECOND)

    def ToUnixTimeMilliseconds(self) -> int:
        return Int64Value((self.UtcTicks - UNIX_EPOCH_TICKS) // TICKS_PER_MS)

    def ToUniversalTime(self) -> DateTimeOffset:
        return DateTimeOffset._make(self.UtcTicks, 0)

    def ToLocalTime(self) -> DateTimeOffset:
        return DateTimeOffset._make(self.UtcTicks, 0)

    def ToOffset(self, offset: TimeSpan) -> DateTimeOffset:
        minutes = _offset_minutes(offset)
        return DateTimeOffset._make(self.UtcTicks + minutes * TICKS_PER_MINUTE, minutes)

    def _shift(self, dt: _DateTime) -> DateTimeOffset:
        return DateTimeOffset._make(dt.Ticks, self._offset)

    def Add(self, span: TimeSpan) -> DateTimeOffset:
        return self._shift(self.DateTime.Add(span))

    def AddTicks(self, v: int) -> DateTimeOffset:
        return self._shift(self.DateTime.AddTicks(v))

    def AddMilliseconds(self, v: float) -> DateTimeOffset:
        return self._shift(self.DateTime.AddMilliseconds(v))

    def AddSeconds(self, v: float) -> DateTimeOffset:
        return self._shift(self.DateTime.AddSeconds(v))

    def AddMinutes(self, v: float) -> DateTimeOffset:
        return self._shift(self.DateTime.AddMinutes(v))

    def AddHours(self, v: float) -> DateTimeOffset:
        return self._shift(self.DateTime.AddHours(v))

    def AddDays(self, v: float) -> DateTimeOffset:
        return self._shift(self.DateTime.AddDays(v))

    def AddMonths(self, v: int) -> DateTimeOffset:
        return self._shift(self.DateTime.AddMonths(v))

    def AddYears(self, v: int) -> DateTimeOffset:
        return self._shift(self.DateTime.AddYears(v))

    def Subtract(self, other: Any) -> Any:
        if isinstance(other, DateTimeOffset):
            return TimeSpan(self.UtcTicks - other.UtcTicks)
        return self.AddTicks(-other.Ticks)

    def __add__(self, other: Any) -> Any:
        return self.Add(other) if isinstance(other, TimeSpan) else NotImplemented

    def __sub__(self, other: Any) -> Any:
        return self.Subtract(other) if isinstance(other, DateTimeOffset | TimeSpan) else NotImplemented

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateTimeOffset) and other.UtcTicks == self.UtcTicks

    def __hash__(self) -> int:
        return hash(self.UtcTicks)

    def __lt__(self, other: DateTimeOffset) -> bool:
        return self.UtcTicks < other.UtcTicks

    def __le__(self, other: DateTimeOffset) -> bool:
        return self.UtcTicks <= other.UtcTicks

    def __gt__(self, other: DateTimeOffset) -> bool:
        return self.UtcTicks > other.UtcTicks

    def __ge__(self, other: DateTimeOffset) -> bool:
        return self.UtcTicks >= other.UtcTicks

    def Equals(self, other: Any) -> bool:
        return bool(self == other)

    def EqualsExact(self, other: Any) -> bool:
        return (
            isinstance(other, DateTimeOffset)
            and other._clock == self._clock
            and other._offset == self._offset
        )

    def CompareTo(self, other: Any) -> int:
        if other is None:
            return 1
        return int(self.UtcTicks > other.UtcTicks) - int(self.UtcTicks < other.UtcTicks)

    @staticmethod
    def Compare(a: DateTimeOffset, b: DateTimeOffset) -> int:
        return a.CompareTo(b)

    def GetHashCode(self) -> int:
        return hash(self.UtcTicks) & 0x7FFFFFFF

    def ToString(self, fmt: Any = None, provider: Any = None) -> str:
        return _dateformat.format_datetimeoffset(self, fmt if isinstance(fmt, str) else None)

    def to_json_text(self) -> str:
        return self.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz")

    def __repr__(self) -> str:
        return f"DateTimeOffset({self.ToString('o')})"


def _offset_minutes(offset: Any) -> int:
    if isinstance(offset, TimeSpan):
        if offset.Ticks % TICKS_PER_MINUTE:
            raise ArgumentOutOfRangeException("offset", "Offset must be specified in whole minutes.")
        return offset.Ticks // TICKS_PER_MINUTE
    return int(offset)


DateTimeOffset.MinValue = DateTimeOffset._make(0, 0)
DateTimeOffset.MaxValue = DateTimeOffset._make(MAX_TICKS, 0)
DateTimeOffset.UnixEpoch = DateTimeOffset._make(UNIX_EPOCH_TICKS, 0)


def parse_json_date(text: str) -> _DateTime | None:
    """Newtonsoft's ISO date detection (``DateParseHandling.DateTime``, ``RoundtripKind``)."""
    if text.startswith("/Date("):
        return _dateformat.parse_microsoft_json(text)
    return _dateformat.parse_iso_json(text)


__all__ = [
    "DateTime",
    "DateTimeKind",
    "DateTimeOffset",
    "DayOfWeek",
    "TimeSpan",
    "parse_json_date",
]

# dateformat imports this module's names at its top: imported last, it finds them all defined
from . import dateformat as _dateformat  # noqa: E402
