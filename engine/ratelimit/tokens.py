"""Token budgets of the AI-gateway token limits: a per-minute token bucket and a fixed-period quota
counter per key, decided together (one Redis script call per decision, or in-process).

Bucket: `tokens_per_minute` capacity, refilled continuously at `tokens_per_minute / 60` tokens per
second (APIM's v2 gateways rate-limit with a token bucket). The level is kept in token-milliseconds
(tokens x 60000) so integer arithmetic is exact. The level may go below zero when the response
reports more tokens than were reserved; requests are then refused until it has refilled.

Quota: an integer counter of the calendar period containing now (`calendar_period`: the UTC time
truncated to the hour, day, ISO week starting Monday, month or year), dropped after the period ends.

Modes (engine.ratelimit.decisions.Mode): ACQUIRE `count` (admit when the bucket holds `count` tokens and
the quota has `count` left, then take them), CHECK (admit while at least one token is left; take
nothing) and ADD `count` (take `count`, which may be negative to give back an over-estimate).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.ratelimit.decisions import Mode

SCALE = 60_000  # bucket units per token: one token refills in 60000 / tokens_per_minute ms


@dataclass(frozen=True)
class TokenBudget:
    """What one decision touches: the key's bucket and/or its quota counter of the current period."""

    key: str
    tokens_per_minute: int | None
    quota: int | None
    quota_period: str = ""  # the period's label (part of the counter's name)
    quota_expires_in: float = 0.0  # seconds until the quota counter may be dropped


@dataclass(frozen=True)
class TokenDecision:
    allowed: bool
    blocked: str  # "" (admitted), "rate" or "quota"
    remaining_tokens: int | None  # tokens left in the bucket (None: no per-minute limit)
    quota_used: int | None  # tokens counted in the quota period (None: no quota)
    retry_after: float  # seconds until the bucket holds what was asked (rate refusals)
    degraded: bool = False


def decide_bucket(level: int, tokens_per_minute: int, mode: Mode, count: int) -> tuple[bool, int]:
    """(admitted, milliseconds to wait) for a bucket at `level` (token-milliseconds)."""
    need = max(count, 1) if mode is Mode.ACQUIRE else 1
    if mode is Mode.ADD or level >= need * SCALE:
        return True, 0
    if need > tokens_per_minute:
        return False, 60_000  # more than a minute's allowance: never fits; try again in a minute
    return False, math.ceil((need * SCALE - level) / tokens_per_minute)


PERIODS = ("Hourly", "Daily", "Weekly", "Monthly", "Yearly")


def calendar_period(now: float, period: str) -> tuple[str, float]:
    """(label, seconds until the end) of the `period` (one of PERIODS) containing wall-clock `now`."""
    moment = datetime.fromtimestamp(now, UTC)
    if period == "Hourly":
        start = moment.replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1)
    elif period == "Daily":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
    elif period == "Weekly":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=moment.weekday())
        end = start + timedelta(days=7)
    elif period == "Monthly":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    elif period == "Yearly":
        start = moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1)
    else:
        raise ValueError(f"unknown token-quota-period {period!r} (expected one of {', '.join(PERIODS)})")
    return f"{period[0]}{start:%Y%m%d%H}", (end - moment).total_seconds()


class MemoryTokenBudgets:
    """In-process buckets and quota counters (LRU-bounded), the same rules as the Redis script."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[int, int]] = OrderedDict()  # key -> (level, at ms)
        self._quotas: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (used, expires at s)

    def decide(self, budget: TokenBudget, count: int, mode: Mode, now_ms: int) -> TokenDecision:
        tpm, quota = budget.tokens_per_minute, budget.quota
        level = 0
        if tpm is not None:
            level, at = self._buckets.get(budget.key, (tpm * SCALE, now_ms))
            level = min(tpm * SCALE, level + max(0, now_ms - at) * tpm)
        quota_key = f"{budget.key}\x1f{budget.quota_period}"
        used = 0
        if quota is not None:
            entry = self._quotas.get(quota_key)
            used = entry[0] if entry is not None and entry[1] > now_ms / 1000 else 0
        if mode is not Mode.ADD and quota is not None and (used + max(count, 1) > quota if mode is Mode.ACQUIRE else used >= quota):
            return TokenDecision(False, "quota", _left(level, tpm), used, 0.0)
        if tpm is not None:
            admitted, wait_ms = decide_bucket(level, tpm, mode, count)
            if not admitted:
                return TokenDecision(False, "rate", _left(level, tpm), used if quota is not None else None, wait_ms / 1000)
        take = count if mode is not Mode.CHECK else 0
        if tpm is not None:
            level = min(tpm * SCALE, level - take * SCALE)
            self._buckets[budget.key] = (level, now_ms)
            self._buckets.move_to_end(budget.key)
        if quota is not None and take:
            used = max(0, used + take)
            self._quotas[quota_key] = (used, now_ms / 1000 + budget.quota_expires_in)
            self._quotas.move_to_end(quota_key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        while len(self._quotas) > self.max_keys:
            self._quotas.popitem(last=False)
        return TokenDecision(True, "", _left(level, tpm), used if quota is not None else None, 0.0)

    def clear(self) -> None:
        self._buckets.clear()
        self._quotas.clear()


def _left(level: int, tokens_per_minute: int | None) -> int | None:
    return None if tokens_per_minute is None else max(0, level // SCALE)
