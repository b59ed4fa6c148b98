"""DateTime, TimeSpan and DateTimeOffset."""

from __future__ import annotations

import pytest

from engine.dotnet.culture import DateTimeStyles
from engine.dotnet.datetimes import DateTime, DateTimeKind, DateTimeOffset, DayOfWeek
from engine.dotnet.errors import ArgumentOutOfRangeException, FormatException
from engine.dotnet.timespan import TimeSpan

UTC = DateTimeKind.Utc
D = DateTime(2024, 1, 2, 3, 4, 5, UTC)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("o", "2024-01-02T03:04:05.0000000Z"),
        ("O", "2024-01-02T03:04:05.0000000Z"),
        ("s", "2024-01-02T03:04:05"),
        ("u", "2024-01-02 03:04:05Z"),
        ("R", "Tue, 02 Jan 2024 03:04:05 GMT"),
        ("r", "Tue, 02 Jan 2024 03:04:05 GMT"),
        ("d", "01/02/2024"),
        ("D", "Tuesday, 02 January 2024"),
        ("f", "Tuesday, 02 January 2024 03:04"),
        ("F", "Tuesday, 02 January 2024 03:04:05"),
        ("g", "01/02/2024 03:04"),
        ("G", "01/02/2024 03:04:05"),
        ("t", "03:04"),
        ("T", "03:04:05"),
        ("M", "January 02"),
        ("Y", "2024 January"),
        (None, "01/02/2024 03:04:05"),
        ("yyyy-MM-ddTHH:mm:ssZ", "2024-01-02T03:04:05Z"),
        ("yyyy-MM-ddTHH:mm:ss.fffZ", "2024-01-02T03:04:05.000Z"),
        ("yyyy-MM-dd'T'HH:mm:ss.fffK", "2024-01-02T03:04:05.000Z"),
        ("yyyyMMddHHmmss", "20240102030405"),
        ("dd/MM/yy h:mm tt", "02/01/24 3:04 AM"),
        ("MMM d, yyyy", "Jan 2, 2024"),
        ("ddd, dd MMM yyyy", "Tue, 02 Jan 2024"),
        ("HH:mm:ss.FFF", "03:04:05"),
        ("%d", "2"),
        ("M/d/yyyy", "1/2/2024"),
        ("\\d\\a\\y d", "day 2"),
        ("'quoted' yyyy", "quoted 2024"),
        ("yy", "24"),
        ("hh tt", "03 AM"),
        ("zzz", "+00:00"),
    ],
)
def test_datetime_format(fmt: str | None, expected: str) -> None:
    assert D.ToString(fmt) == expected


def test_kind_suffixes_and_fractions() -> None:
    assert DateTime(2024, 1, 2, 3, 4, 5).ToString("o") == "2024-01-02T03:04:05.0000000"
    assert (
        DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Local).ToString("o") == "2024-01-02T03:04:05.0000000+00:00"
    )
    t = D.AddMilliseconds(123.4)
    assert t.ToString("o") == "2024-01-02T03:04:05.1230000Z"
    assert t.ToString("HH:mm:ss.FFFFFFF") == "03:04:05.123"
    assert t.ToString("fff ff f") == "123 12 1"
    assert D.AddTicks(5).ToString("o") == "2024-01-02T03:04:05.0000005Z"


def test_properties() -> None:
    assert (D.Year, D.Month, D.Day, D.Hour, D.Minute, D.Second, D.Millisecond) == (2024, 1, 2, 3, 4, 5, 0)
    assert D.DayOfWeek == DayOfWeek.Tuesday and D.DayOfWeek.ToString() == "Tuesday"
    assert D.DayOfYear == 2
    assert D.Kind == UTC
    assert D.Date.ToString("o") == "2024-01-02T00:00:00.0000000Z"
    assert D.TimeOfDay.ToString() == "03:04:05"
    assert D.Ticks == 638397614450000000
    assert DateTime.MinValue.Ticks == 0
    assert DateTime.MaxValue.ToString("o") == "9999-12-31T23:59:59.9999999"
    assert DateTime.DaysInMonth(2024, 2) == 29 and DateTime.IsLeapYear(2000) and not DateTime.IsLeapYear(1900)
    assert DateTime.UtcNow.Kind == UTC and DateTime.Now.Kind == DateTimeKind.Local
    assert DateTime.Today.Hour == 0
    assert DateTime.UnixEpoch.ToString("o") == "1970-01-01T00:00:00.0000000Z"


def test_arithmetic() -> None:
    assert D.AddDays(1.5).ToString("s") == "2024-01-03T15:04:05"
    assert D.AddHours(-4).ToString("s") == "2024-01-01T23:04:05"
    assert D.AddMinutes(30).ToString("t") == "03:34"
    assert D.AddSeconds(3600).Hour == 4
    assert DateTime(2024, 1, 31).AddMonths(1).ToString("d") == "02/29/2024"
    assert DateTime(2024, 2, 29).AddYears(1).ToString("d") == "02/28/2025"
    assert (D - DateTime(2024, 1, 1, 0, 0, 0, UTC)).TotalHours == pytest.approx(27.068055555555556)
    assert (D + TimeSpan.FromMinutes(5)).Minute == 9
    assert D.Subtract(TimeSpan.FromDays(2)).ToString("d") == "12/31/2023"
    assert D.Subtract(DateTime(2024, 1, 2)).TotalSeconds == 11045.0
    assert D > DateTime(2024, 1, 1) and D == DateTime(2024, 1, 2, 3, 4, 5)
    assert DateTime.Compare(D, D.AddTicks(1)) == -1 and D.CompareTo(None) == 1
    with pytest.raises(ArgumentOutOfRangeException):
        DateTime.MaxValue.AddDays(1)
    with pytest.raises(ArgumentOutOfRangeException):
        DateTime(2024, 2, 30)
    assert DateTime.SpecifyKind(DateTime(2024, 1, 1), UTC).ToString("o") == "2024-01-01T00:00:00.0000000Z"
    assert DateTime(2024, 1, 1).ToUniversalTime().Kind == UTC


@pytest.mark.parametrize(
    ("text", "iso", "kind"),
    [
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05.0000000+00:00", DateTimeKind.Local),
        ("2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05.0000000+00:00", DateTimeKind.Local),
        ("2024-01-02T03:04:05.1234567", "2024-01-02T03:04:05.1234567", DateTimeKind.Unspecified),
        ("2024-01-02", "2024-01-02T00:00:00.0000000", DateTimeKind.Unspecified),
        ("2024-01-02 03:04", "2024-01-02T03:04:00.0000000", DateTimeKind.Unspecified),
        ("01/02/2024", "2024-01-02T00:00:00.0000000", DateTimeKind.Unspecified),
        ("1/2/2024 3:04:05 PM", "2024-01-02T15:04:05.0000000", DateTimeKind.Unspecified),
        ("Tue, 02 Jan 2024 03:04:05 GMT", "2024-01-02T03:04:05.0000000+00:00", DateTimeKind.Local),
        ("02 Jan 2024", "2024-01-02T00:00:00.0000000", DateTimeKind.Unspecified),
        ("January 2, 2024", "2024-01-02T00:00:00.0000000", DateTimeKind.Unspecified),
        ("2024/01/02", "2024-01-02T00:00:00.0000000", DateTimeKind.Unspecified),
        ("Tue, 02 Jan 2024 03:04:05 +0100", "2024-01-02T02:04:05.0000000+00:00", DateTimeKind.Local),
        ("2024-01-02 03:04:05 -05:00", "2024-01-02T08:04:05.0000000+00:00", DateTimeKind.Local),
    ],
)
def test_parse(text: str, iso: str, kind: DateTimeKind) -> None:
    parsed = DateTime.Parse(text)
    assert parsed.ToString("o") == iso
    assert parsed.Kind == kind


def test_parse_styles_and_failures() -> None:
    assert DateTime.Parse("2024-01-02T03:04:05Z", None, DateTimeStyles.AdjustToUniversal).Kind == UTC
    assert DateTime.Parse("2024-01-02T03:04:05Z", None, DateTimeStyles.RoundtripKind).Kind == UTC
    with pytest.raises(FormatException) as info:
        DateTime.Parse("not a date")
    assert info.value.Message == "String 'not a date' was not recognized as a valid DateTime."
    assert DateTime.TryParse("2024-13-01") == (False, DateTime.MinValue)
    ok, value = DateTime.TryParse("2024-02-03")
    assert ok and value.Day == 3


@pytest.mark.parametrize(
    ("text", "fmt", "iso"),
    [
        ("20240102", "yyyyMMdd", "2024-01-02T00:00:00.0000000"),
        ("02/01/2024 13:45", "dd/MM/yyyy HH:mm", "2024-01-02T13:45:00.0000000"),
        ("2024-01-02T03:04:05Z", "yyyy-MM-ddTHH:mm:ssZ", "2024-01-02T03:04:05.0000000+00:00"),
        ("2024-01-02T03:04:05Z", "yyyy-MM-ddTHH:mm:ss'Z'", "2024-01-02T03:04:05.0000000"),
        ("2024-01-02T03:04:05.123Z", "yyyy-MM-dd'T'HH:mm:ss.fffK", "2024-01-02T03:04:05.1230000+00:00"),
        ("Jan 2 2024", "MMM d yyyy", "2024-01-02T00:00:00.0000000"),
        ("3:04 PM", "h:mm tt", "0001-01-01T15:04:00.0000000"),
    ],
)
def test_parse_exact(text: str, fmt: str, iso: str) -> None:
    assert DateTime.ParseExact(text, fmt, None).ToString("o") == iso


def test_parse_exact_failures() -> None:
    with pytest.raises(FormatException):
        DateTime.ParseExact("2024-01-02", "yyyyMMdd", None)
    assert DateTime.TryParseExact("x", "yyyy", None, None)[0] is False
    assert DateTime.ParseExact("2024-01-02", ["yyyyMMdd", "yyyy-MM-dd"], None).Day == 2


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (TimeSpan.FromSeconds(90), "00:01:30"),
        (TimeSpan.FromSeconds(90.5), "00:01:30.5000000"),
        (TimeSpan.FromDays(1.5), "1.12:00:00"),
        (TimeSpan.FromMinutes(-5), "-00:05:00"),
        (TimeSpan.FromHours(25), "1.01:00:00"),
        (TimeSpan.FromMilliseconds(1), "00:00:00.0010000"),
        (TimeSpan(1, 2, 3), "01:02:03"),
        (TimeSpan(1, 2, 3, 4, 5), "1.02:03:04.0050000"),
        (TimeSpan.Zero, "00:00:00"),
        (TimeSpan.FromTicks(1), "00:00:00.0000001"),
    ],
)
def test_timespan_tostring(span: TimeSpan, text: str) -> None:
    assert span.ToString() == text
    assert span.ToString("c") == text


def test_timespan_members() -> None:
    ts = TimeSpan(1, 2, 3, 4, 5)
    assert (ts.Days, ts.Hours, ts.Minutes, ts.Seconds, ts.Milliseconds) == (1, 2, 3, 4, 5)
    assert ts.TotalSeconds == 93784.005
    assert ts.TotalMinutes == pytest.approx(1563.0667500)
    assert TimeSpan.FromMinutes(90).TotalHours == 1.5
    assert ts.ToString("g") == "1:2:03:04.005"
    assert ts.ToString("G") == "1:02:03:04.0050000"
    assert ts.ToString("hh\\:mm\\:ss") == "02:03:04"
    assert TimeSpan.FromMinutes(-90).Hours == -1 and TimeSpan.FromMinutes(-90).Minutes == -30
    assert TimeSpan.Parse("1.02:03:04").TotalSeconds == 93784.0
    assert TimeSpan.Parse("00:00:30").TotalSeconds == 30.0
    assert TimeSpan.Parse("5").TotalDays == 5.0
    assert TimeSpan.Parse("1:02:03:04").TotalSeconds == 93784.0
    assert TimeSpan.Parse("-00:01:00.5").TotalSeconds == -60.5
    assert TimeSpan.TryParse("nope") == (False, TimeSpan.Zero)
    assert (TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(2)).TotalSeconds == 3.0
    assert -TimeSpan.FromSeconds(1) < TimeSpan.Zero
    assert TimeSpan.FromSeconds(1).Duration() == TimeSpan.FromSeconds(-1).Duration()


def test_datetimeoffset() -> None:
    dto = DateTimeOffset.FromUnixTimeSeconds(1700000000)
    assert dto.ToString() == "11/14/2023 22:13:20 +00:00"
    assert dto.ToUnixTimeSeconds() == 1700000000
    assert dto.ToUnixTimeMilliseconds() == 1700000000000
    assert (
        DateTimeOffset.FromUnixTimeMilliseconds(1700000000123).ToString("o")
        == "2023-11-14T22:13:20.1230000+00:00"
    )
    assert dto.UtcDateTime.Kind == DateTimeKind.Utc
    assert dto.AddSeconds(10).ToUnixTimeSeconds() == 1700000010
    shifted = DateTimeOffset.Parse("2024-01-02T03:04:05+02:00")
    assert shifted.Offset.TotalHours == 2.0 and shifted.Hour == 3
    assert shifted.ToUnixTimeSeconds() == 1704157445
    assert shifted.ToString("o") == "2024-01-02T03:04:05.0000000+02:00"
    assert shifted.ToString("u") == "2024-01-02 01:04:05Z"
    assert shifted.UtcDateTime.ToString("o") == "2024-01-02T01:04:05.0000000Z"
    assert DateTimeOffset.UtcNow.Offset == TimeSpan.Zero
    assert DateTimeOffset.UtcNow.ToUnixTimeSeconds() > 1700000000
    assert DateTimeOffset(DateTime(2024, 1, 1, 0, 0, 0, UTC)).ToUnixTimeSeconds() == 1704067200
    assert shifted == DateTimeOffset.Parse("2024-01-02T01:04:05Z")


def test_timezoneinfo() -> None:
    from engine.dotnet.errors import DotNetException
    from engine.dotnet.timezones import TimeZoneInfo

    summer = DateTime(2024, 7, 1, 12, 0, 0, UTC)
    winter = DateTime(2024, 1, 1, 12, 0, 0, UTC)
    assert (
        TimeZoneInfo.ConvertTimeBySystemTimeZoneId(summer, "W. Europe Standard Time").ToString("o")
        == "2024-07-01T14:00:00.0000000"
    )
    assert (
        TimeZoneInfo.ConvertTimeBySystemTimeZoneId(winter, "Europe/Berlin").ToString("o")
        == "2024-01-01T13:00:00.0000000"
    )
    eastern = TimeZoneInfo.FindSystemTimeZoneById("Eastern Standard Time")
    assert eastern.Id == "Eastern Standard Time"
    assert (
        eastern.BaseUtcOffset.ToString() == "-05:00:00"
        and eastern.GetUtcOffset(summer).ToString() == "-04:00:00"
    )
    assert eastern.IsDaylightSavingTime(summer) and not eastern.IsDaylightSavingTime(winter)
    assert TimeZoneInfo.ConvertTimeFromUtc(winter, eastern).ToString("s") == "2024-01-01T07:00:00"
    assert (
        TimeZoneInfo.ConvertTimeToUtc(DateTime(2024, 1, 1, 9, 0, 0), eastern).ToString("o")
        == "2024-01-01T14:00:00.0000000Z"
    )
    assert (
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeSeconds(1719835200), eastern).ToString("o")
        == "2024-07-01T08:00:00.0000000-04:00"
    )
    assert (
        TimeZoneInfo.ConvertTimeBySystemTimeZoneId(
            DateTime(2024, 1, 1, 12, 0, 0), "Tokyo Standard Time", "UTC"
        ).ToString("o")
        == "2024-01-01T03:00:00.0000000Z"
    )
    assert TimeZoneInfo.ConvertTimeFromUtc(winter, TimeZoneInfo.Utc).Kind == UTC
    assert TimeZoneInfo.Local.Id == "UTC"
    with pytest.raises(DotNetException) as info:
        TimeZoneInfo.FindSystemTimeZoneById("Mars Standard Time")
    assert info.value.Message == "The time zone ID 'Mars Standard Time' was not found on the local computer."


def test_registry_finds_runtime_classes() -> None:
    from engine.dotnet.newtonsoft import JObject
    from engine.dotnet.registry import runtime_class
    from engine.dotnet.stringbuilder import StringBuilder

    assert runtime_class("JObject") is JObject
    assert runtime_class("Newtonsoft.Json.Linq.JObject") is JObject
    assert runtime_class("System.Text.StringBuilder") is StringBuilder
    assert runtime_class("Int32") is None and runtime_class("NoSuchType") is None
    assert runtime_class("FormatException").__name__ == "FormatException"
