"""``System.TimeZoneInfo`` over the IANA database (``zoneinfo``); Windows zone ids are mapped.

The gateway's local zone is UTC. ``FindSystemTimeZoneById`` accepts IANA ids (``Europe/Berlin``)
and the common Windows ids APIM uses (``W. Europe Standard Time``).
"""

from __future__ import annotations

import datetime as _dt
import zoneinfo
from typing import Any

from .datetimes import UNIX_EPOCH_TICKS, DateTime, DateTimeKind, DateTimeOffset
from .errors import ArgumentNullException, DotNetException
from .primitives import static_property
from .timespan import TICKS_PER_MINUTE, TICKS_PER_SECOND, TimeSpan


class TimeZoneNotFoundException(DotNetException):
    """``System.TimeZoneNotFoundException``."""

    dotnet_name = "System.TimeZoneNotFoundException"


WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "Romance Standard Time": "Europe/Paris",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Turkey Standard Time": "Europe/Istanbul",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Egypt Standard Time": "Africa/Cairo",
    "Arabian Standard Time": "Asia/Dubai",
    "Arab Standard Time": "Asia/Riyadh",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "SE Asia Standard Time": "Asia/Bangkok",
    "Taipei Standard Time": "Asia/Taipei",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "E. Australia Standard Time": "Australia/Brisbane",
    "W. Australia Standard Time": "Australia/Perth",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "Newfoundland Standard Time": "America/St_Johns",
    "Canada Central Standard Time": "America/Regina",
    "Mexico Standard Time": "America/Mexico_City",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "SA Pacific Standard Time": "America/Bogota",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Argentina/Buenos_Aires",
    "Pacific SA Standard Time": "America/Santiago",
    "Venezuela Standard Time": "America/Caracas",
    "Morocco Standard Time": "Africa/Casablanca",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Pakistan Standard Time": "Asia/Karachi",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "Nepal Standard Time": "Asia/Kathmandu",
    "Iran Standard Time": "Asia/Tehran",
    "Afghanistan Standard Time": "Asia/Kabul",
    "West Asia Standard Time": "Asia/Tashkent",
    "N. Central Asia Standard Time": "Asia/Novosibirsk",
    "North Asia Standard Time": "Asia/Krasnoyarsk",
    "Vladivostok Standard Time": "Asia/Vladivostok",
}


def _ticks_to_datetime(ticks: int) -> _dt.datetime:
    return _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(
        microseconds=(ticks - UNIX_EPOCH_TICKS) // 10
    )


class TimeZoneInfo:
    """A time zone: offsets and conversions."""

    dotnet_name = "System.TimeZoneInfo"

    def __init__(self, zone_id: str, zone: _dt.tzinfo) -> None:
        self._id = zone_id
        self._zone = zone

    @property
    def Id(self) -> str:
        return self._id

    @property
    def DisplayName(self) -> str:
        return self._id

    @property
    def StandardName(self) -> str:
        return self._id

    @property
    def DaylightName(self) -> str:
        return self._id

    def _offset_minutes(self, utc_ticks: int) -> int:
        moment = _ticks_to_datetime(utc_ticks).astimezone(self._zone)
        offset = moment.utcoffset() or _dt.timedelta(0)
        return int(offset.total_seconds()) // 60

    def _local_to_utc(self, clock_ticks: int) -> int:
        naive = _ticks_to_datetime(clock_ticks).replace(tzinfo=None)
        offset = naive.replace(tzinfo=self._zone).utcoffset() or _dt.timedelta(0)
        return clock_ticks - int(offset.total_seconds()) * TICKS_PER_SECOND

    @property
    def BaseUtcOffset(self) -> TimeSpan:
        january = DateTime(2024, 1, 15).Ticks
        july = DateTime(2024, 7, 15).Ticks
        return TimeSpan(min(self._offset_minutes(january), self._offset_minutes(july)) * TICKS_PER_MINUTE)

    @property
    def SupportsDaylightSavingTime(self) -> bool:
        return self._offset_minutes(DateTime(2024, 1, 15).Ticks) != self._offset_minutes(
            DateTime(2024, 7, 15).Ticks
        )

    def GetUtcOffset(self, value: Any) -> TimeSpan:
        return TimeSpan(self._offset_minutes(_utc_ticks(value)) * TICKS_PER_MINUTE)

    def IsDaylightSavingTime(self, value: Any) -> bool:
        moment = _ticks_to_datetime(_utc_ticks(value)).astimezone(self._zone)
        return bool(moment.dst())

    def ToString(self) -> str:
        return self._id

    # -- statics --------------------------------------------------------------------------------
    @static_property
    def Utc() -> TimeZoneInfo:  # noqa: N802
        return _UTC

    @static_property
    def Local() -> TimeZoneInfo:  # noqa: N802
        return _UTC

    @staticmethod
    def FindSystemTimeZoneById(zone_id: str | None) -> TimeZoneInfo:
        if zone_id is None:
            raise ArgumentNullException("id")
        if zone_id in ("UTC", "Etc/UTC", "Coordinated Universal Time"):
            return _UTC
        iana = WINDOWS_ZONES.get(zone_id, zone_id)
        try:
            return TimeZoneInfo(zone_id, zoneinfo.ZoneInfo(iana))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise TimeZoneNotFoundException(
                f"The time zone ID '{zone_id}' was not found on the local computer."
            ) from exc

    @staticmethod
    def ConvertTimeFromUtc(value: DateTime, destination: TimeZoneInfo) -> DateTime:
        return destination._from_utc(value.Ticks)

    @staticmethod
    def ConvertTimeToUtc(value: DateTime, source: TimeZoneInfo | None = None) -> DateTime:
        if value.Kind == DateTimeKind.Utc or source is None:
            return DateTime._make(value.Ticks, DateTimeKind.Utc)
        return DateTime._make(source._local_to_utc(value.Ticks), DateTimeKind.Utc)

    @staticmethod
    def ConvertTime(value: Any, a: TimeZoneInfo, b: TimeZoneInfo | None = None) -> Any:
        if isinstance(value, DateTimeOffset):
            minutes = a._offset_minutes(value.UtcTicks)
            return DateTimeOffset._make(value.UtcTicks + minutes * TICKS_PER_MINUTE, minutes)
        if b is None:
            source, destination = (_UTC, a)
        else:
            source, destination = a, b
        utc = (
            value.Ticks
            if value.Kind != DateTimeKind.Unspecified or source is _UTC
            else source._local_to_utc(value.Ticks)
        )
        if b is not None and value.Kind == DateTimeKind.Unspecified:
            utc = source._local_to_utc(value.Ticks)
        return destination._from_utc(utc)

    @staticmethod
    def ConvertTimeBySystemTimeZoneId(value: Any, first: str, second: str | None = None) -> Any:
        if second is None:
            return TimeZoneInfo.ConvertTime(value, TimeZoneInfo.FindSystemTimeZoneById(first))
        return TimeZoneInfo.ConvertTime(
            value, TimeZoneInfo.FindSystemTimeZoneById(first), TimeZoneInfo.FindSystemTimeZoneById(second)
        )

    def _from_utc(self, utc_ticks: int) -> DateTime:
        if self is _UTC:
            return DateTime._make(utc_ticks, DateTimeKind.Utc)
        return DateTime._make(
            utc_ticks + self._offset_minutes(utc_ticks) * TICKS_PER_MINUTE, DateTimeKind.Unspecified
        )


def _utc_ticks(value: Any) -> int:
    if isinstance(value, DateTimeOffset):
        return value.UtcTicks
    return int(value.Ticks)


_UTC = TimeZoneInfo("UTC", _dt.UTC)

__all__ = ["TimeZoneInfo", "TimeZoneNotFoundException", "WINDOWS_ZONES"]
