"""Invariant-culture formatting and parsing of ``DateTime``, ``DateTimeOffset`` and ``TimeSpan``.

Standard date formats: ``d D f F g G M m O o R r s t T u U Y y``; custom specifiers
``d dd ddd dddd f..fffffff F..FFFFFFF g h hh H HH K m mm M MM MMM MMMM s ss t tt y yy yyy yyyy z zz zzz
: / 'literal' "literal" %c \\c``. ``DateTime.Parse`` accepts ISO 8601, RFC 1123, the invariant
``MM/dd/yyyy[ HH:mm[:ss]][ AM|PM]`` forms and month-name forms (``02 Jan 2024``, ``Jan 2, 2024``).
"""

from __future__ import annotations

import re
from typing import Any

from .culture import DateTimeStyles
from .datetimes import (
    UNIX_EPOCH_TICKS,
    DateTime,
    DateTimeKind,
    DateTimeOffset,
    _date_to_days,
    _days_to_date,
    _now_ticks,
)
from .errors import ArgumentNullException, FormatException, OverflowException
from .limits import check_format
from .timespan import TICKS_PER_DAY, TICKS_PER_MINUTE, TICKS_PER_SECOND, TimeSpan

# datetimes and timespan import this module in their methods (it imports them here, once)

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

_STANDARD = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "M": "MMMM dd",
    "m": "MMMM dd",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "U": "dddd, dd MMMM yyyy HH:mm:ss",
    "Y": "yyyy MMMM",
    "y": "yyyy MMMM",
}

_BAD = "Input string was not in a correct format."


def _offset_text(minutes: int, width: int) -> str:
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    if width == 1:
        return f"{sign}{h}"
    if width == 2:
        return f"{sign}{h:02d}"
    return f"{sign}{h:02d}:{m:02d}"


def _run_end(fmt: str, i: int) -> int:
    """The index just past the run of ``fmt[i]`` starting at ``i`` (``yyyy`` is one run)."""
    j = i + 1
    while j < len(fmt) and fmt[j] == fmt[i]:
        j += 1
    return j


def _format(ticks: int, fmt: str, kind_suffix: str, offset_minutes: int) -> str:
    check_format(fmt)

    date = _days_to_date(ticks // TICKS_PER_DAY)
    tod = ticks % TICKS_PER_DAY
    hour, minute, second = (
        tod // (3600 * TICKS_PER_SECOND),
        tod // (60 * TICKS_PER_SECOND) % 60,
        tod // TICKS_PER_SECOND % 60,
    )
    frac = f"{ticks % TICKS_PER_SECOND:07d}"
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        j = _run_end(fmt, i)
        count = j - i
        if ch == "d":
            if count == 1:
                out.append(str(date.day))
            elif count == 2:
                out.append(f"{date.day:02d}")
            else:
                name = DAYS[(date.toordinal()) % 7]
                out.append(name[:3] if count == 3 else name)
        elif ch == "M":
            if count == 1:
                out.append(str(date.month))
            elif count == 2:
                out.append(f"{date.month:02d}")
            else:
                name = MONTHS[date.month - 1]
                out.append(name[:3] if count == 3 else name)
        elif ch == "y":
            if count == 1:
                out.append(str(date.year % 100))
            elif count == 2:
                out.append(f"{date.year % 100:02d}")
            else:
                out.append(str(date.year).rjust(count, "0"))
        elif ch == "h":
            h12 = hour % 12 or 12
            out.append(str(h12) if count == 1 else f"{h12:02d}")
        elif ch == "H":
            out.append(str(hour) if count == 1 else f"{hour:02d}")
        elif ch == "m":
            out.append(str(minute) if count == 1 else f"{minute:02d}")
        elif ch == "s":
            out.append(str(second) if count == 1 else f"{second:02d}")
        elif ch == "f":
            if count > 7:
                raise FormatException(_BAD)
            out.append(frac[:count])
        elif ch == "F":
            if count > 7:
                raise FormatException(_BAD)
            digits = frac[:count].rstrip("0")
            if digits:
                out.append(digits)
            elif out and out[-1].endswith("."):
                out[-1] = out[-1][:-1]
        elif ch == "t":
            designator = "AM" if hour < 12 else "PM"
            out.append(designator[0] if count == 1 else designator)
        elif ch == "g":
            out.append("A.D.")
        elif ch == "K":
            out.append(kind_suffix)
            count = 1
            j = i + 1
        elif ch == "z":
            out.append(_offset_text(offset_minutes, min(count, 3)))
        elif ch == ":":
            out.append(":")
            j = i + 1
        elif ch == "/":
            out.append("/")
            j = i + 1
        elif ch in "'\"":
            end = i + 1
            buf = []
            while end < n and fmt[end] != ch:
                if fmt[end] == "\\" and end + 1 < n:
                    end += 1
                buf.append(fmt[end])
                end += 1
            if end >= n:
                raise FormatException(f"Cannot find a matching quote character for the character '{ch}'.")
            out.append("".join(buf))
            j = end + 1
        elif ch == "%":
            if i + 1 < n and fmt[i + 1] != "%":
                out.append(
                    _format(ticks, fmt[i + 1], kind_suffix, offset_minutes)
                    if fmt[i + 1] not in "'\"\\%"
                    else ""
                )
                j = i + 2
            else:
                raise FormatException(_BAD)
        elif ch == "\\":
            if i + 1 >= n:
                raise FormatException(_BAD)
            out.append(fmt[i + 1])
            j = i + 2
        else:
            out.append(ch)
            j = i + 1
        i = j
    return "".join(out)


_KIND_SUFFIX = {DateTimeKind.Utc: "Z", DateTimeKind.Local: "+00:00"}


def format_datetime(dt: DateTime, fmt: str | None) -> str:
    """``DateTime.ToString(fmt)`` in the invariant culture."""

    suffix = _KIND_SUFFIX.get(dt.Kind, "")
    if fmt in ("o", "O", "s", "u"):
        return _fast_iso(dt.Ticks, fmt, suffix)
    if not fmt:
        fmt = "G"
    if len(fmt) == 1:
        pattern = _STANDARD.get(fmt)
        if pattern is None:
            raise FormatException(_BAD)
        fmt = pattern
    return _format(dt.Ticks, fmt, suffix, 0)


def _fast_iso(ticks: int, fmt: str, suffix: str) -> str:

    date = _days_to_date(ticks // TICKS_PER_DAY)
    seconds, frac = divmod(ticks % TICKS_PER_DAY, TICKS_PER_SECOND)
    h, rem = divmod(seconds, 3600)
    m, sec = divmod(rem, 60)
    day = f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
    clock = f"{h:02d}:{m:02d}:{sec:02d}"
    if fmt == "s":
        return f"{day}T{clock}"
    if fmt == "u":
        return f"{day} {clock}Z"
    return f"{day}T{clock}.{frac:07d}{suffix}"


def format_datetimeoffset(dto: DateTimeOffset, fmt: str | None) -> str:
    """``DateTimeOffset.ToString(fmt)`` in the invariant culture."""
    offset = dto.Offset.Ticks // 600_000_000
    ticks = dto.Ticks
    if not fmt:
        fmt = "MM/dd/yyyy HH:mm:ss zzz"
    elif len(fmt) == 1:
        if fmt in "Oo":
            fmt = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffzzz"
        elif fmt in "Rru":
            ticks, offset = dto.UtcTicks, 0
            fmt = _STANDARD[fmt]
        elif fmt == "U":
            raise FormatException(_BAD)
        else:
            pattern = _STANDARD.get(fmt)
            if pattern is None:
                raise FormatException(_BAD)
            fmt = pattern
    return _format(ticks, fmt, _offset_text(offset, 3), offset)


def format_timespan(ts: TimeSpan, fmt: str | None) -> str:
    """``TimeSpan.ToString(fmt)``: ``c``/``t``/``T`` (constant), ``g``, ``G`` and custom formats."""

    ticks = ts.Ticks
    sign = "-" if ticks < 0 else ""
    a = abs(ticks)
    days, rem = divmod(a, 86400 * TICKS_PER_SECOND)
    hours, rem = divmod(rem, 3600 * TICKS_PER_SECOND)
    minutes, rem = divmod(rem, 60 * TICKS_PER_SECOND)
    seconds, frac = divmod(rem, TICKS_PER_SECOND)
    if not fmt or fmt in ("c", "t", "T"):
        text = f"{sign}{str(days) + '.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
        return text + (f".{frac:07d}" if frac else "")
    if fmt == "g":
        text = f"{sign}{str(days) + ':' if days else ''}{hours}:{minutes:02d}:{seconds:02d}"
        return text + (f".{frac:07d}".rstrip("0") if frac else "")
    if fmt == "G":
        return f"{sign}{days}:{hours:02d}:{minutes:02d}:{seconds:02d}.{frac:07d}"
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        j = _run_end(fmt, i)
        count = j - i
        if ch == "d":
            out.append(str(days).rjust(count, "0"))
        elif ch == "h":
            out.append(f"{hours:0{min(count, 2)}d}")
        elif ch == "m":
            out.append(f"{minutes:0{min(count, 2)}d}")
        elif ch == "s":
            out.append(f"{seconds:0{min(count, 2)}d}")
        elif ch == "f":
            out.append(f"{frac:07d}"[:count])
        elif ch == "F":
            out.append(f"{frac:07d}"[:count].rstrip("0"))
        elif ch == "\\":
            if i + 1 >= n:
                raise FormatException(_BAD)
            out.append(fmt[i + 1])
            j = i + 2
        elif ch in "'\"":
            end = fmt.find(ch, i + 1)
            if end < 0:
                raise FormatException(_BAD)
            out.append(fmt[i + 1 : end])
            j = end + 1
        elif ch == "%":
            j = i + 1
        else:
            raise FormatException(_BAD)
        i = j
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------

_MONTH_LOOKUP = {m.lower(): i + 1 for i, m in enumerate(MONTHS)} | {
    m[:3].lower(): i + 1 for i, m in enumerate(MONTHS)
}
_DAY_NAMES = "|".join([d for d in DAYS] + [d[:3] for d in DAYS])

_TIME = (
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,7})\d*)?)?(?:\s*(?P<ampm>[AaPp][Mm]))?"
)
_ZONE = r"(?:\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?|GMT|UTC))?"
_PATTERNS = [
    re.compile(r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})(?:[T ]" + _TIME + r")?" + _ZONE, re.I),
    re.compile(r"(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})(?:\s+" + _TIME + r")?" + _ZONE, re.I),
    re.compile(r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?:\s+" + _TIME + r")?" + _ZONE, re.I),
    re.compile(
        r"(?:(?:"
        + _DAY_NAMES
        + r"),?\s+)?(?P<d>\d{1,2})[\s-](?P<mon>[A-Za-z]{3,9})[\s-](?P<y>\d{4})(?:\s+"
        + _TIME
        + r")?"
        + _ZONE,
        re.I,
    ),
    re.compile(
        r"(?:(?:"
        + _DAY_NAMES
        + r"),?\s+)?(?P<mon>[A-Za-z]{3,9})\s+(?P<d>\d{1,2}),?\s+(?P<y>\d{4})(?:\s+"
        + _TIME
        + r")?"
        + _ZONE,
        re.I,
    ),
    re.compile(_TIME + _ZONE, re.I),
]


def _zone_minutes(z: str | None) -> int | None:
    if z is None:
        return None
    z = z.strip().upper()
    if z in ("Z", "GMT", "UTC"):
        return 0
    sign = -1 if z[0] == "-" else 1
    hours_text, colon, minutes_text = z[1:].partition(":")
    if not colon and len(hours_text) > 2:  # `+0530`, `+530`
        hours_text, minutes_text = hours_text[:-2], hours_text[-2:]
    hours = int(hours_text)
    minutes = int(minutes_text) if minutes_text else 0
    return sign * (hours * 60 + minutes)


def _parts(s: str) -> tuple[int, int | None]:
    """Parse ``s`` to (clock ticks, zone offset minutes or None)."""

    text = s.strip()
    for pattern in _PATTERNS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        g = m.groupdict()
        try:
            if g.get("y") is not None:
                year = int(g["y"])
                month = int(g["mo"]) if g.get("mo") else _MONTH_LOOKUP.get((g.get("mon") or "").lower())
                if month is None:
                    continue
                day = int(g["d"])
                days = _date_to_days(year, month, day)
            else:
                days = _now_ticks() // TICKS_PER_DAY
            hour = int(g["h"]) if g.get("h") else 0
            minute = int(g["mi"]) if g.get("mi") else 0
            second = int(g["s"]) if g.get("s") else 0
            ampm = (g.get("ampm") or "").upper()
            if ampm:
                if not 1 <= hour <= 12:
                    continue
                hour = hour % 12 + (12 if ampm == "PM" else 0)
            if hour > 23 or minute > 59 or second > 59:
                continue
            frac = int((g.get("f") or "0").ljust(7, "0")[:7])
        except Exception:  # noqa: BLE001 - any invalid component means "not this pattern"
            continue
        ticks = days * TICKS_PER_DAY + (hour * 3600 + minute * 60 + second) * TICKS_PER_SECOND + frac
        return ticks, _zone_minutes(g.get("z"))
    raise FormatException(f"String '{s}' was not recognized as a valid DateTime.")


def parse_datetime(s: str | None, styles: Any = None) -> DateTime:
    """``DateTime.Parse``: zoned input is converted to local time (``Kind=Local``, local = UTC)."""

    if s is None:
        raise ArgumentNullException("s")
    ticks, zone = _parts(s)
    st = DateTimeStyles(int(styles)) if styles is not None else DateTimeStyles.None_
    if zone is None:
        if st & DateTimeStyles.AssumeUniversal:
            kind = DateTimeKind.Utc if st & DateTimeStyles.AdjustToUniversal else DateTimeKind.Local
        elif st & DateTimeStyles.AssumeLocal:
            kind = DateTimeKind.Utc if st & DateTimeStyles.AdjustToUniversal else DateTimeKind.Local
        else:
            kind = DateTimeKind.Unspecified
        return DateTime._make(ticks, kind)
    utc = ticks - zone * TICKS_PER_MINUTE
    if st & DateTimeStyles.AdjustToUniversal:
        return DateTime._make(utc, DateTimeKind.Utc)
    if st & DateTimeStyles.RoundtripKind and zone == 0 and s.strip().upper().endswith("Z"):
        return DateTime._make(utc, DateTimeKind.Utc)
    return DateTime._make(utc, DateTimeKind.Local)


def parse_datetimeoffset(s: str | None) -> DateTimeOffset:

    if s is None:
        raise ArgumentNullException("input")
    ticks, zone = _parts(s)
    return DateTimeOffset._make(ticks, zone or 0)


_ISO_JSON = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}(?::?\d{2})?)?"
)


_MS_JSON = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def parse_microsoft_json(text: str) -> DateTime | None:
    """Newtonsoft ``DateTimeUtils.TryParseDateTimeMicrosoft``: ``/Date(ms[+hhmm])/``; ``None`` if no match.

    Without an offset the value is UTC; with one it is local time (the gateway's local zone is UTC).
    """

    m = _MS_JSON.fullmatch(text)
    if not m:
        return None
    ticks = UNIX_EPOCH_TICKS + int(m.group(1)) * 10_000  # ticks per millisecond
    try:
        return DateTime._make(ticks, DateTimeKind.Local if m.group(2) else DateTimeKind.Utc)
    except Exception:  # noqa: BLE001 - out of DateTime's range: the string stays a string
        return None


def parse_iso_json(text: str) -> DateTime | None:
    """Newtonsoft ``DateTimeUtils.TryParseDateTimeIso`` with ``RoundtripKind``; ``None`` if no match."""

    m = _ISO_JSON.fullmatch(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        base = DateTime(y, mo, d, h, mi, s)
    except Exception:  # noqa: BLE001 - invalid calendar values keep the string
        return None
    ticks = base.Ticks + int((m.group(7) or "0").ljust(7, "0"))
    zone = m.group(8)
    if zone is None:
        return DateTime._make(ticks, DateTimeKind.Unspecified)
    if zone == "Z":
        return DateTime._make(ticks, DateTimeKind.Utc)
    minutes = _zone_minutes(zone) or 0
    return DateTime._make(ticks - minutes * TICKS_PER_MINUTE, DateTimeKind.Local)


# -- ParseExact -------------------------------------------------------------------------------


def _exact_regex(fmt: str) -> re.Pattern[str]:
    check_format(fmt)
    if len(fmt) == 1:
        if fmt not in _STANDARD:
            raise FormatException(_BAD)
        fmt = _STANDARD[fmt]
        if fmt.endswith("K"):
            fmt = fmt[:-1] + "K"
    out: list[str] = []
    i, n = 0, len(fmt)
    names = {"d": "d", "M": "mo", "y": "y", "H": "h", "h": "hh", "m": "mi", "s": "s"}
    while i < n:
        ch = fmt[i]
        j = _run_end(fmt, i)
        count = j - i
        if ch in names:
            name = names[ch]
            if ch == "d" and count >= 3:
                out.append(r"(?:" + _DAY_NAMES + r")")
            elif ch == "M" and count >= 3:
                out.append(r"(?P<mon>[A-Za-z]{3,9})")
            elif ch == "y":
                out.append(
                    rf"(?P<y>\d{{{max(count, 1) if count > 2 else count},{4 if count <= 4 else count}}})"
                )
            else:
                out.append(rf"(?P<{name}>\d{{{count},2}})" if count <= 2 else rf"(?P<{name}>\d{{{count}}})")
        elif ch in "fF":
            out.append(rf"(?P<f>\d{{{count}}})" if ch == "f" else rf"(?P<f>\d{{0,{count}}})")
        elif ch == "t":
            out.append(r"(?P<ampm>[AaPp][Mm]?)")
        elif ch == "K":
            out.append(r"(?P<z>Z|[+-]\d{2}:\d{2})?")
            j = i + 1
        elif ch == "Z":
            # an unquoted Z in a parse format is the UTC designator (quoted 'Z' is a literal)
            out.append(r"(?P<z>Z)")
            j = i + 1
        elif ch == "z":  # `zzz`: minutes required, the colon optional (`+05:30`, `+0530`)
            out.append(r"(?P<z>[+-]\d{1,2}:?\d{2})" if count >= 3 else r"(?P<z>[+-]\d{1,2}(?::\d{2})?)")
        elif ch in "'\"":
            end = fmt.find(ch, i + 1)
            if end < 0:
                raise FormatException(_BAD)
            out.append(re.escape(fmt[i + 1 : end]))
            j = end + 1
        elif ch == "\\":
            out.append(re.escape(fmt[i + 1 : i + 2]))
            j = i + 2
        elif ch == "%":
            j = i + 1
        else:
            out.append(re.escape(ch))
            j = i + 1
        i = j
    return re.compile("".join(out))


def _exact_parts(s: str, formats: Any) -> tuple[int, int | None, bool]:

    fmts = [formats] if isinstance(formats, str) else list(formats)
    for fmt in fmts:
        m = _exact_regex(fmt).fullmatch(s)
        if not m:
            continue
        g = m.groupdict()
        try:
            year = int(g["y"]) if g.get("y") else 1
            if g.get("y") and len(g["y"]) <= 2:
                year += 2000 if year < 50 else 1900
            month = (
                int(g["mo"]) if g.get("mo") else (_MONTH_LOOKUP.get(g["mon"].lower()) if g.get("mon") else 1)
            )
            if month is None:
                continue
            day = int(g["d"]) if g.get("d") else 1
            hour = int(g["h"]) if g.get("h") else int(g["hh"]) % 12 if g.get("hh") else 0
            ampm = (g.get("ampm") or "").upper()
            if ampm.startswith("P"):
                hour += 12
            minute = int(g["mi"]) if g.get("mi") else 0
            second = int(g["s"]) if g.get("s") else 0
            if hour > 23 or minute > 59 or second > 59:
                continue
            frac = int((g.get("f") or "0").ljust(7, "0"))
            days = _date_to_days(year, month, day)
        except Exception:  # noqa: BLE001
            continue
        ticks = days * TICKS_PER_DAY + (hour * 3600 + minute * 60 + second) * TICKS_PER_SECOND + frac
        z = g.get("z")
        return ticks, _zone_minutes(z), bool(z and z.upper() == "Z")
    raise FormatException(f"String '{s}' was not recognized as a valid DateTime.")


def parse_exact(s: str | None, formats: Any, styles: Any = None) -> DateTime:

    if s is None:
        raise ArgumentNullException("s")
    if formats is None:
        raise ArgumentNullException("format")
    st = DateTimeStyles(int(styles)) if styles is not None else DateTimeStyles.None_
    ticks, zone, is_z = _exact_parts(_strip_styled(s, st), formats)
    if zone is None:
        if st & DateTimeStyles.AssumeUniversal:
            return DateTime._make(
                ticks, DateTimeKind.Utc if st & DateTimeStyles.AdjustToUniversal else DateTimeKind.Local
            )
        return DateTime._make(
            ticks, DateTimeKind.Utc if st & DateTimeStyles.AdjustToUniversal else DateTimeKind.Unspecified
        )
    utc = ticks - zone * TICKS_PER_MINUTE
    if st & DateTimeStyles.AdjustToUniversal or (st & DateTimeStyles.RoundtripKind and is_z):
        return DateTime._make(utc, DateTimeKind.Utc)
    return DateTime._make(utc, DateTimeKind.Local)


def parse_exact_offset(s: str | None, formats: Any, styles: Any = None) -> DateTimeOffset:

    if s is None:
        raise ArgumentNullException("input")
    st = DateTimeStyles(int(styles)) if styles is not None else DateTimeStyles.None_
    ticks, zone, _ = _exact_parts(_strip_styled(s, st), formats)
    return DateTimeOffset._make(ticks, zone or 0)


def _strip_styled(s: str, st: DateTimeStyles) -> str:
    """ParseExact's AllowLeadingWhite/AllowTrailingWhite: white space the format does not name."""
    if st & DateTimeStyles.AllowLeadingWhite:
        s = s.lstrip()
    if st & DateTimeStyles.AllowTrailingWhite:
        s = s.rstrip()
    return s


_TS = re.compile(
    r"\s*(-)?(?:(\d+)\.|(\d+):(?=\d{1,2}:\d{1,2}:))?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?\s*"
)
_TS_DAYS = re.compile(r"\s*(-)?(\d+)\s*")


def parse_timespan(s: str | None) -> TimeSpan:
    """``TimeSpan.Parse``: ``[-][d.]hh:mm[:ss[.fffffff]]`` or ``[-]d``."""

    if s is None:
        raise ArgumentNullException("input")
    m = _TS_DAYS.fullmatch(s)
    if m:
        days = int(m.group(2))
        if days > 10_675_199:
            raise OverflowException(
                "The TimeSpan string '"
                + s
                + "' could not be parsed because at least one of the numeric components is out of range or contains too many digits."
            )
        return TimeSpan(-days * TICKS_PER_DAY if m.group(1) else days * TICKS_PER_DAY)
    m = _TS.fullmatch(s)
    if not m:
        raise FormatException(f"String '{s}' was not recognized as a valid TimeSpan.")
    neg, d_dot, d_colon, h, mi, sec, frac = m.groups()
    d = d_dot or d_colon
    hours, minutes, seconds = int(h), int(mi), int(sec or 0)
    if d is None and sec is not None and frac is None and hours > 23:
        # .NET reads "25:00:00" as d:hh:mm (25 days) when the hours do not fit
        d, hours, minutes, seconds = h, minutes, seconds, 0
    if hours > 23 or minutes > 59 or seconds > 59:
        raise OverflowException(
            f"The TimeSpan string '{s}' could not be parsed because at least one of the numeric components is out of range or contains too many digits."
        )
    ticks = (
        int(d or 0) * TICKS_PER_DAY
        + (hours * 3600 + minutes * 60 + seconds) * TICKS_PER_SECOND
        + int((frac or "0").ljust(7, "0"))
    )
    return TimeSpan(-ticks if neg else ticks)


_TS_CUSTOM = re.compile(r"(d{1,8}|hh?|mm?|ss?|f{1,7}|F{1,7}|'[^']*'|\"[^\"]*\"|\\.|%|.)")


def parse_timespan_exact(s: str | None, fmt: str | None) -> TimeSpan:
    """``TimeSpan.ParseExact``: the standard formats ``c``/``g``/``G`` or a custom format."""

    if s is None or fmt is None:
        raise ArgumentNullException("input" if s is None else "format")
    if fmt in ("c", "t", "T", "g", "G"):
        return parse_timespan(s)
    parts: list[str] = []
    for token in _TS_CUSTOM.findall(fmt):
        kind = token[0]
        if kind in "dhms":
            exact = len(token) if kind != "d" else None
            parts.append(f"(?P<{kind}>\\d{{{exact}}})" if exact and exact > 1 else f"(?P<{kind}>\\d{{1,8}})")
        elif kind in "fF":
            parts.append(f"(?P<f>\\d{{{len(token)}}})" if kind == "f" else f"(?P<f>\\d{{0,{len(token)}}})")
        elif kind in "'\"":
            parts.append(re.escape(token[1:-1]))
        elif kind == "\\":
            parts.append(re.escape(token[1:]))
        elif kind == "%":
            continue
        else:
            raise FormatException("Input string was not in a correct format.")
    m = re.fullmatch("".join(parts), s)
    if m is None:
        raise FormatException("Input string was not in a correct format.")
    g = m.groupdict()
    hours, minutes, seconds = int(g.get("h") or 0), int(g.get("m") or 0), int(g.get("s") or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise OverflowException(
            f"The TimeSpan string '{s}' could not be parsed because at least one of the numeric components is out of range or contains too many digits."
        )
    return TimeSpan(int(g.get("d") or 0) * TICKS_PER_DAY + (hours * 3600 + minutes * 60 + seconds) * TICKS_PER_SECOND
                    + int((g.get("f") or "0").ljust(7, "0")))


__all__ = [
    "format_datetime",
    "format_datetimeoffset",
    "format_timespan",
    "parse_datetime",
    "parse_datetimeoffset",
    "parse_exact",
    "parse_exact_offset",
    "parse_iso_json",
    "parse_timespan",
    "parse_timespan_exact",
]
