"""Fixtures: the same limiter tests run against the in-process limiter and against real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

import pytest

from engine.cache.connection import RedisSettings
from engine.ratelimit.decisions import Decision, Mode, QuotaCounter, QuotaDecision, Window
from engine.ratelimit.memory import MemoryLimiter
from engine.ratelimit.redis_limiter import RedisLimiter


class Limiter:
    """One interface over both stores; time is always the caller's (deterministic tests)."""

    def __init__(self, kind: str, memory: MemoryLimiter | None = None, redis: RedisLimiter | None = None) -> None:
        self.kind = kind
        self.memory = memory
        self.redis = redis

    async def decide(self, windows: Sequence[Window], now: float, count: int = 1, mode: Mode = Mode.ACQUIRE) -> Decision:
        if self.memory is not None:
            return self.memory.decide(windows, count, mode, now)
        assert self.redis is not None
        return await self.redis.decide(windows, count, mode, now)

    async def quota(self, tag: str, counters: Sequence[QuotaCounter], now: float, acquire: bool = True) -> QuotaDecision:
        if self.memory is not None:
            return self.memory.quota(tag, counters, acquire=acquire, now=now)
        assert self.redis is not None
        return await self.redis.quota(tag, counters, acquire=acquire, now=now)


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def redis_limiter(redis_url: str) -> AsyncIterator[RedisLimiter]:
    settings = RedisSettings.parse(redis_url, timeout=2.0, connect_timeout=2.0)
    limiter = RedisLimiter(settings, prefix=unique_prefix())
    await limiter.load_scripts()
    try:
        yield limiter
    finally:
        await limiter.close()


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[Limiter]:
    if request.param == "memory":
        yield Limiter("memory", memory=MemoryLimiter(clock=lambda: 0.0, wall_clock=lambda: 0.0))
        return
    settings = RedisSettings.parse(request.getfixturevalue("redis_url"), timeout=2.0, connect_timeout=2.0)
    redis = RedisLimiter(settings, prefix=unique_prefix())
    await redis.load_scripts()
    try:
        yield Limiter("redis", redis=redis)
    finally:
        await redis.close()
