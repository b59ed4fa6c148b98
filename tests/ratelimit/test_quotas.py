"""Quota periods and messages, and quota counters in both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.ratelimit.decisions import QuotaCounter
from engine.ratelimit.quota_period import (
    current_period,
    epoch_seconds,
    format_timespan,
    parse_first_period_start,
    quota_message,
)
from tests.ratelimit.conftest import Limiter

START = datetime(2024, 1, 1, tzinfo=UTC)
T0 = epoch_seconds(START)


def test_periods_are_aligned_to_first_period_start() -> None:
    period = current_period(T0 + 3600 * 5 + 10, 3600, START)
    assert period.index == 5
    assert period.start == T0 + 5 * 3600
    assert period.end == T0 + 6 * 3600
    assert period.renews_in(T0 + 3600 * 5 + 10) == pytest.approx(3590)
    default_start = current_period(T0, 86400)  # 0001-01-01: whole UTC days
    assert default_start.start == T0 and default_start.end == T0 + 86400


def test_renewal_period_zero_never_renews() -> None:
    period = current_period(T0 + 10**9, 0, START)
    assert period.end is None and period.renews_in(T0) is None and period.expires_at is None


def test_first_period_start_parsing() -> None:
    assert parse_first_period_start("2024-01-01T00:00:00Z") == START
    assert parse_first_period_start("2024-01-01T00:00:00") == START
    with pytest.raises(ValueError, match="date-time"):
        parse_first_period_start("yesterday")


def test_apim_timespan_and_messages() -> None:
    assert format_timespan(59.2) == "00:01:00"
    assert format_timespan(5 * 86400 + 3 * 3600 + 23 * 60 + 11) == "5.03:23:11"
    assert quota_message("calls", 3600) == "Out of call volume quota. Quota will be replenished in 01:00:00."
    assert quota_message("bandwidth", 61) == "Out of bandwidth quota. Quota will be replenished in 00:01:01."


def calls_counter(now: float, limit: int = 3, period: int = 3600, add: int = 1) -> QuotaCounter:
    p = current_period(now, period, START)
    return QuotaCounter(f"sub:calls:p{p.index}", limit, add, add, p.expires_at)


async def test_quota_counts_to_the_limit_and_renews_with_the_next_period(limiter: Limiter) -> None:
    now = T0 + 100
    results = [await limiter.quota("s:1", [calls_counter(now)], now) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert results[3].blocked == 0 and results[3].used == (3,)
    later = T0 + 3600  # the next period uses a new counter
    assert (await limiter.quota("s:1", [calls_counter(later)], later)).allowed


async def test_bandwidth_is_checked_at_inbound_and_counted_at_the_end(limiter: Limiter) -> None:
    now = T0 + 5
    p = current_period(now, 3600, START)
    check = QuotaCounter(f"b:p{p.index}", 2 * 1024, 1, 0, p.expires_at)
    assert (await limiter.quota("s:1", [check], now)).allowed
    added = await limiter.quota("s:1", [QuotaCounter(check.key, -1, 0, 2048, p.expires_at)], now, acquire=False)
    assert added.used == (2048,)
    assert not (await limiter.quota("s:1", [check], now)).allowed


async def test_levels_are_checked_and_counted_atomically(limiter: Limiter) -> None:
    now = T0 + 5
    product = QuotaCounter("product", 10, 1, 1, now + 3600)
    api = QuotaCounter("api", 1, 1, 1, now + 3600)
    assert (await limiter.quota("s:1", [product, api], now)).allowed
    refused = await limiter.quota("s:1", [product, api], now)
    assert not refused.allowed and refused.blocked == 1 and refused.used == (1, 1)
    assert (await limiter.quota("s:1", [product], now)).used == (2,)  # the refused call did not count
