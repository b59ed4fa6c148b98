"""Fixed quota periods aligned to a start instant, and APIM's quota messages.

A quota period of `renewal-period` seconds starts at `first-period-start + k * renewal-period`
(APIM: relative to the subscription's start for `quota`, to `first-period-start` for `quota-by-key`).
The counter of a period is a separate key (`...:p<k>`), so renewal needs no reset step: the next
period simply uses a new, empty counter and the old one expires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_FIRST_PERIOD_START = datetime(1, 1, 1, tzinfo=UTC)  # APIM's default 0001-01-01T00:00:00Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXPIRY_GRACE = 60.0  # keep a finished period's counter a little longer (clock skew between gateways)


@dataclass(frozen=True)
class QuotaPeriod:
    """The period containing `now` (wall-clock seconds since the epoch)."""

    index: int
    start: float
    end: float | None  # None: renewal-period 0, the quota never renews

    def renews_in(self, now: float) -> float | None:
        return None if self.end is None else max(0.0, self.end - now)

    @property
    def expires_at(self) -> float | None:
        return None if self.end is None else self.end + EXPIRY_GRACE


def epoch_seconds(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH).total_seconds()


def current_period(now: float, renewal_period: float, first_start: datetime = DEFAULT_FIRST_PERIOD_START) -> QuotaPeriod:
    if renewal_period <= 0:
        return QuotaPeriod(0, epoch_seconds(first_start), None)
    origin = epoch_seconds(first_start)
    index = math.floor((now - origin) / renewal_period)
    start = origin + index * renewal_period
    return QuotaPeriod(index, start, start + renewal_period)


def parse_first_period_start(text: str) -> datetime:
    """`yyyy-MM-ddTHH:mm:ssZ` (ISO 8601; a missing zone means UTC). Raises ValueError."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        raise ValueError(f"'{text}' is not a date-time like 2024-01-01T00:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_timespan(seconds: float) -> str:
    """.NET `TimeSpan.ToString()` of whole seconds (rounded up): `hh:mm:ss` or `d.hh:mm:ss`."""
    total = max(0, math.ceil(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def quota_message(kind: str, renews_in: float | None) -> str:
    """APIM's QuotaExceeded message for `kind` "calls" or "bandwidth"."""
    what = "call volume" if kind == "calls" else "bandwidth"
    if renews_in is None:
        return f"Out of {what} quota. Quota will not be replenished."
    return f"Out of {what} quota. Quota will be replenished in {format_timespan(renews_in)}."
