"""Token budgets (engine/ratelimit/tokens.py): the Redis script and the in-process limiter give the same
decisions for the same sequence and clock, and quota periods follow the calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.ratelimit.decisions import Mode
from engine.ratelimit.redis_limiter import RedisLimiter
from engine.ratelimit.tokens import MemoryTokenBudgets, TokenBudget, TokenDecision, calendar_period

T0 = 1_700_000_000.0

# (seconds after T0, mode, count) -> (allowed, blocked, tokens left, quota used, retry after) for a bucket
# of 60 tokens per minute (one a second) and a quota of 1000
SEQUENCE = [
    ((0.0, Mode.ACQUIRE, 50), (True, "", 10, 50, 0.0)),
    ((0.0, Mode.ACQUIRE, 20), (False, "rate", 10, 50, 10.0)),  # 10 more tokens take 10 s
    ((0.5, Mode.CHECK, 0), (True, "", 10, 50, 0.0)),  # one token is enough to check
    ((1.0, Mode.ADD, 25), (True, "", 0, 75, 0.0)),  # the answer used more: the bucket is overdrawn (-14)
    ((2.0, Mode.CHECK, 0), (False, "rate", 0, 75, 14.0)),
    ((30.0, Mode.ACQUIRE, 20), (False, "rate", 15, 75, 5.0)),
    ((31.0, Mode.ADD, -15), (True, "", 31, 60, 0.0)),  # an over-estimate given back
    ((31.0, Mode.ACQUIRE, 61), (False, "rate", 31, 60, 60.0)),  # more than a minute's allowance: never fits
    ((40.0, Mode.ACQUIRE, 30), (True, "", 10, 90, 0.0)),
    ((41.0, Mode.ACQUIRE, 950), (False, "quota", 11, 90, 0.0)),  # the quota is checked first
    ((41.0, Mode.ADD, -200), (True, "", 60, 0, 0.0)),  # never below empty, never above full
]


def shape(decision: TokenDecision) -> tuple[object, ...]:
    return decision.allowed, decision.blocked, decision.remaining_tokens, decision.quota_used, decision.retry_after


async def test_redis_script_and_memory_decide_alike(redis_limiter: RedisLimiter) -> None:
    budget = TokenBudget("k", 60, 1000, "Y2023", 3600.0)
    memory = MemoryTokenBudgets()
    for (at, mode, count), expected in SEQUENCE:
        assert shape(await redis_limiter.tokens(budget, count, mode, T0 + at)) == expected, (at, mode, count)
        assert shape(memory.decide(budget, count, mode, round((T0 + at) * 1000))) == expected, (at, mode, count)


@pytest.mark.parametrize(("period", "label", "end"), [
    ("Hourly", "H2026120501", datetime(2026, 12, 5, 2, tzinfo=UTC)),
    ("Daily", "D2026120500", datetime(2026, 12, 6, tzinfo=UTC)),
    ("Weekly", "W2026113000", datetime(2026, 12, 7, tzinfo=UTC)),  # weeks start on Monday
    ("Monthly", "M2026120100", datetime(2027, 1, 1, tzinfo=UTC)),
    ("Yearly", "Y2026010100", datetime(2027, 1, 1, tzinfo=UTC)),
])
def test_calendar_periods(period: str, label: str, end: datetime) -> None:
    now = datetime(2026, 12, 5, 1, 30, tzinfo=UTC).timestamp()
    assert calendar_period(now, period) == (label, end.timestamp() - now)
