"""engine.redis_health on a real redis-server: the dispatchers of one endpoint share one breaker; a
stall any of them sees opens it at once and frees every caller waiting on the others; recovery is
probed in the background; error replies are not failures; the strictest breaker rule applies."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.cache.connection import RedisSettings
from engine.redis_health import BreakerRule, RedisUnavailable, health_of
from engine.redis_loop import open_dispatcher
from tests.support.redis_server import RedisServer


async def outcome(call: Any) -> tuple[object, float]:
    """(result or exception, seconds) of awaiting `call`."""
    started = time.monotonic()
    try:
        result: object = await call
    except Exception as exc:  # noqa: BLE001 - the outcome is what is asserted
        result = exc
    return result, time.monotonic() - started


def test_one_endpoint_is_one_health_whatever_the_timeouts() -> None:
    base = RedisSettings.parse("redis://127.0.0.1:6390/0")
    same = base.with_timeouts(timeout=2.0, connect_timeout=1.0)
    other_db = RedisSettings.parse("redis://127.0.0.1:6390/1")
    health = health_of(base)
    assert health_of(same) is health
    assert health_of(other_db) is not health
    cluster = RedisSettings.parse("redis+cluster://10.0.0.1:7000,10.0.0.2:7000")
    assert health_of(RedisSettings.parse("redis+cluster://10.0.0.2:7000,10.0.0.1:7000")) is health_of(cluster)


class Holder:
    """Stands for a dispatcher holding a rule."""


def test_the_strictest_rule_applies_while_its_holder_lives() -> None:
    health = health_of(RedisSettings.parse("redis://127.0.0.1:6391/0"))
    loose, strict = Holder(), Holder()
    health.join(loose, BreakerRule(5, 2.0))
    health.join(strict, BreakerRule(2, 0.5))
    assert (health.breaker.failure_threshold, health.breaker.reset_after) == (2, 0.5)
    health.leave(strict)
    assert (health.breaker.failure_threshold, health.breaker.reset_after) == (5, 2.0)


async def test_a_stall_seen_by_one_component_frees_the_others_and_recovery_is_probed(redis_server: RedisServer) -> None:
    quick = RedisSettings.parse(redis_server.url, timeout=0.3)
    slow = quick.with_timeouts(timeout=5.0)  # another component of the same Redis, with a long timeout
    cache = open_dispatcher(slow, name="test-cache", breaker=BreakerRule(3, 0.3))
    limiter = open_dispatcher(quick, name="test-limiter")
    breaker = health_of(quick).breaker
    try:
        assert await cache.command("PING") is True and await limiter.command("PING") is True
        for _ in range(5):  # error replies: that Redis is alive
            with pytest.raises(ResponseError):
                await limiter.command("EVAL", "return redis.error_reply('no')", 0)
        assert breaker.state == "closed"

        os.kill(process_of(redis_server), signal.SIGSTOP)
        try:
            waiting = asyncio.ensure_future(outcome(cache.command("GET", "k")))  # its own stall bound: 5 s
            await asyncio.sleep(0.05)
            stalled, stalled_after = await outcome(limiter.command("GET", "k"))
            freed, freed_after = await waiting
            refused, refused_after = await outcome(cache.command("GET", "k"))
        finally:
            os.kill(process_of(redis_server), signal.SIGCONT)
        assert isinstance(stalled, RedisTimeoutError) and 0.25 < stalled_after < 1.0
        assert breaker.state == "open"  # one stall opened it (failures: 3)
        assert isinstance(freed, RedisUnavailable) and freed_after < 1.2, (freed, freed_after)
        assert isinstance(refused, RedisUnavailable) and refused_after < 0.05

        # Thawed: a probe PING in the background closes the breaker; no caller carries it.
        deadline = time.monotonic() + 5.0
        while not breaker.closed and time.monotonic() < deadline:
            with pytest.raises(RedisUnavailable):
                await limiter.command("GET", "k")
            await asyncio.sleep(0.05)
        assert breaker.closed
        assert await cache.command("SET", "k", "v") is True and await limiter.command("GET", "k") == b"v"
    finally:
        await cache.close()
        await limiter.close()


def process_of(server: RedisServer) -> int:
    assert server.process is not None
    return server.process.pid
