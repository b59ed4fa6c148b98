"""The exact sliding window, in-process and in Redis (same tests, caller-supplied clock)."""

from __future__ import annotations

import pytest

from engine.ratelimit.decisions import Mode, Window
from tests.ratelimit.conftest import Limiter

T0 = 1_700_000_000.0  # a realistic epoch time, so Redis scores look like real ones


def window(limit: int = 3, period: float = 10, name: str = "") -> Window:
    return Window("k:client-1", name, limit, period)


async def test_admits_exactly_the_limit_then_refuses_with_retry_after(limiter: Limiter) -> None:
    w = window(limit=3, period=10)
    results = [await limiter.decide([w], T0 + i) for i in range(3)]
    assert [r.allowed for r in results] == [True, True, True]
    assert [r.remaining for r in results] == [2, 1, 0]
    refused = await limiter.decide([w], T0 + 4)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(6.0)  # the call at T0 leaves the window at T0 + 10
    assert refused.remaining == 0 and refused.limit == 3


async def test_an_entry_leaves_the_window_exactly_one_period_after_it_was_admitted(limiter: Limiter) -> None:
    w = window(limit=1, period=10)
    assert (await limiter.decide([w], T0)).allowed
    just_before = await limiter.decide([w], T0 + 9.999)
    assert not just_before.allowed
    assert just_before.retry_after == pytest.approx(0.001, abs=1e-6)
    assert (await limiter.decide([w], T0 + 10)).allowed


async def test_the_window_slides_per_request_not_per_fixed_interval(limiter: Limiter) -> None:
    w = window(limit=3, period=10)
    for at in (T0, T0, T0 + 5):
        assert (await limiter.decide([w], at)).allowed
    assert not (await limiter.decide([w], T0 + 9)).allowed
    # At T0 + 10 the two calls of T0 have left; the one of T0 + 5 still counts.
    assert (await limiter.decide([w], T0 + 10)).allowed
    assert (await limiter.decide([w], T0 + 10)).allowed
    refused = await limiter.decide([w], T0 + 10)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(5.0)


async def test_never_more_than_limit_in_any_window_over_a_long_run(limiter: Limiter) -> None:
    w = window(limit=5, period=2)
    admitted: list[float] = []
    for step in range(120):
        at = T0 + step * 0.1
        if (await limiter.decide([w], at)).allowed:
            admitted.append(at)
    for i, start in enumerate(admitted):
        inside = [t for t in admitted[i:] if t < start + 2 - 1e-9]
        assert len(inside) <= 5
    assert len(admitted) == 30  # 5 per 2 s over 12 s: the limit is also reached, not just respected


async def test_increment_count_weighs_requests(limiter: Limiter) -> None:
    w = window(limit=10, period=60)
    assert (await limiter.decide([w], T0, count=4)).allowed
    assert (await limiter.decide([w], T0 + 1, count=4)).allowed
    refused = await limiter.decide([w], T0 + 2, count=4)  # 8 + 4 > 10
    assert not refused.allowed and refused.remaining == 2
    assert refused.retry_after == pytest.approx(58.0)  # freeing the first 4 units is enough
    assert (await limiter.decide([w], T0 + 2, count=2)).allowed
    too_big = await limiter.decide([window(limit=10, period=60, name="other")], T0, count=11)
    assert not too_big.allowed and too_big.retry_after == pytest.approx(60.0)


async def test_zero_count_only_checks(limiter: Limiter) -> None:
    w = window(limit=1, period=60)
    assert (await limiter.decide([w], T0, count=0)).allowed
    assert (await limiter.decide([w], T0, count=1)).allowed
    assert not (await limiter.decide([w], T0, count=0)).allowed


async def test_check_and_add_modes_for_deferred_counting(limiter: Limiter) -> None:
    w = window(limit=10, period=60)
    check = await limiter.decide([w], T0, mode=Mode.CHECK)
    assert check.allowed and check.remaining == 10  # nothing counted
    added = await limiter.decide([w], T0, count=25, mode=Mode.ADD)  # counted after the response, may overshoot
    assert added.allowed and added.remaining == 0
    refused = await limiter.decide([w], T0 + 1, mode=Mode.CHECK)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(59.0)
    assert (await limiter.decide([w], T0 + 60, mode=Mode.CHECK)).allowed


async def test_several_windows_are_decided_atomically(limiter: Limiter) -> None:
    wide = Window("s:sub-1", "product", 5, 60)
    narrow = Window("s:sub-1", "api:echo", 2, 60)
    assert (await limiter.decide([wide, narrow], T0)).allowed
    second = await limiter.decide([wide, narrow], T0 + 1)
    assert second.allowed and second.limit == 2 and second.remaining == 0  # the tightest window reports
    assert not (await limiter.decide([wide, narrow], T0 + 2)).allowed
    # The refused call counted nowhere: the product window still has 3 left.
    only_wide = await limiter.decide([wide], T0 + 3)
    assert only_wide.allowed and only_wide.remaining == 2


async def test_keys_and_periods_are_separate_counters(limiter: Limiter) -> None:
    a, b = Window("k:a", "", 1, 60), Window("k:b", "", 1, 60)
    a_other_period = Window("k:a", "", 1, 30)
    assert (await limiter.decide([a], T0)).allowed
    assert (await limiter.decide([b], T0)).allowed
    assert (await limiter.decide([a_other_period], T0)).allowed
    assert not (await limiter.decide([a], T0)).allowed


async def test_reset_is_when_the_oldest_units_leave(limiter: Limiter) -> None:
    w = window(limit=5, period=30)
    await limiter.decide([w], T0)
    later = await limiter.decide([w], T0 + 10)
    assert later.reset == pytest.approx(20.0)
