"""Redis specifics: one EVALSHA per decision, NOSCRIPT recovery, Redis TIME, key layout, TTLs, Cluster."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator

import pytest
import redis.asyncio as aioredis

from engine.cache.connection import RedisSettings
from engine.ratelimit.decisions import Window
from engine.ratelimit.keys import escape_tag, window_keys
from engine.ratelimit.redis_limiter import RedisLimiter
from tests.ratelimit.conftest import unique_prefix
from tests.support.redis_cluster import RedisClusterNodes
from tests.support.redis_server import RedisServer

T0 = 1_700_000_000.0
CONNECTION_SETUP = {"HELLO", "CLIENT", "AUTH", "SELECT"}  # sent once per new connection


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def client_commands(url: str, action: Callable[[], Awaitable[None]]) -> list[str]:
    """Commands that clients sent while `action` ran, as Redis MONITOR saw them (script-internal ones excluded)."""
    admin = aioredis.Redis.from_url(url)
    seen: list[str] = []
    try:
        async with admin.monitor() as monitor:
            async def collect() -> None:
                async for entry in monitor.listen():
                    if entry.get("client_type") != "lua":
                        seen.append(entry["command"].split(" ", 1)[0].upper())

            task = asyncio.create_task(collect())
            await asyncio.sleep(0.1)
            await action()
            await asyncio.sleep(0.3)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    finally:
        await admin.aclose()
    return seen


async def test_one_redis_command_per_decision(private_redis: RedisServer) -> None:
    limiter = RedisLimiter(RedisSettings.parse(private_redis.url, timeout=2.0), prefix="p:")
    try:
        await limiter.load_scripts()
        windows = [Window("s:sub", "product", 50, 60), Window("s:sub", "api:x", 20, 60)]

        async def decide_30() -> None:
            for i in range(30):
                await limiter.decide(windows, now=T0 + i)

        seen = await client_commands(private_redis.url, decide_30)
        # Every decision (admitted or refused, two windows) was exactly one EVALSHA; nothing else was sent.
        assert seen == ["EVALSHA"] * 30
    finally:
        await limiter.close()


async def test_noscript_falls_back_to_eval_and_recaches(private_redis: RedisServer) -> None:
    limiter = RedisLimiter(RedisSettings.parse(private_redis.url, timeout=2.0), prefix="p:")
    admin = aioredis.Redis.from_url(private_redis.url)
    try:
        w = Window("k:a", "", 2, 60)
        assert (await limiter.decide([w], now=T0)).allowed  # never loaded: NOSCRIPT -> EVAL
        await admin.script_flush()
        assert (await limiter.decide([w], now=T0 + 1)).allowed
        assert not (await limiter.decide([w], now=T0 + 2)).allowed
        assert (await admin.script_exists(limiter.window_script.sha)) == [True]
    finally:
        await limiter.close()
        await admin.aclose()


async def test_redis_time_is_used_when_the_caller_gives_no_clock(redis_url: str) -> None:
    limiter = RedisLimiter(RedisSettings.parse(redis_url, timeout=2.0), prefix=unique_prefix())
    try:
        w = Window("k:a", "", 2, 0.3)
        assert (await limiter.decide([w])).allowed
        assert (await limiter.decide([w])).allowed
        refused = await limiter.decide([w])
        assert not refused.allowed and 0 < refused.retry_after <= 0.3
        await asyncio.sleep(refused.retry_after + 0.05)
        assert (await limiter.decide([w])).allowed
    finally:
        await limiter.close()


async def test_keys_share_a_hash_tag_and_expire_with_their_window(redis_url: str) -> None:
    prefix = unique_prefix()
    limiter = RedisLimiter(RedisSettings.parse(redis_url, timeout=2.0), prefix=prefix)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        w = Window("k:{odd}key", "", 5, 40)
        await limiter.decide([w], now=T0)
        log_key, meta_key = window_keys(prefix, w.tag, w.name, w.period_ms)
        assert log_key.startswith(prefix + "rl:{k:%7Bodd%7Dkey}")
        assert 0 < await admin.pttl(log_key) <= 40_000
        assert 0 < await admin.pttl(meta_key) <= 40_000
        assert await admin.zcard(log_key) == 1
    finally:
        await limiter.close()
        await admin.aclose()


def test_long_tags_are_hashed() -> None:
    assert len(escape_tag("x" * 1000)) < 60
    assert escape_tag("x" * 1000) != escape_tag("x" * 999 + "y")


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    cluster = RedisClusterNodes(3)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


async def test_multi_window_decisions_run_on_redis_cluster(cluster_url: str) -> None:
    settings = RedisSettings.parse(cluster_url, timeout=2.0, connect_timeout=2.0)
    limiter = RedisLimiter(settings, prefix=unique_prefix())
    try:
        await limiter.load_scripts()
        for sub in ("alice", "bob", "carol"):  # different tags land on different nodes
            windows = [Window(f"s:{sub}", "product", 3, 60), Window(f"s:{sub}", "api:echo", 2, 60)]
            assert [(await limiter.decide(windows, now=T0 + i)).allowed for i in range(3)] == [True, True, False]
        slot = await limiter.enter("conn-1", 1, 5.0)
        assert slot is not None and await limiter.enter("conn-1", 1, 5.0) is None
    finally:
        await limiter.close()


async def test_concurrent_decisions_share_round_trips_and_stay_exact(private_redis: RedisServer) -> None:
    limiter = RedisLimiter(RedisSettings.parse(private_redis.url, timeout=5.0), prefix="p:")
    admin = aioredis.Redis.from_url(private_redis.url)
    try:
        await limiter.load_scripts()
        w = Window("k:burst", "", 100, 60)
        decisions: list[bool] = []

        async def burst() -> None:
            results = await asyncio.gather(*(limiter.decide([w], now=T0) for _ in range(300)))
            decisions.extend(d.allowed for d in results)

        seen = await client_commands(private_redis.url, burst)
        assert decisions.count(True) == 100
        commands = [c for c in seen if c not in CONNECTION_SETUP]
        assert commands == ["EVALSHA"] * 300  # still one command per decision
        # Fewer client round trips than decisions: the connections never exceeded max_in_flight.
        clients = await admin.client_list()
        assert len(clients) <= 8 + 2
        await admin.script_flush()  # a batch that meets NOSCRIPT recovers every member with EVAL
        retried = await asyncio.gather(*(limiter.decide([Window("k:other", "", 10, 60)], now=T0) for _ in range(30)))
        assert [d.allowed for d in retried].count(True) == 10
    finally:
        await limiter.close()
        await admin.aclose()


async def test_a_lost_totals_hash_is_rebuilt_from_the_log(redis_url: str) -> None:
    prefix = unique_prefix()
    limiter = RedisLimiter(RedisSettings.parse(redis_url, timeout=2.0), prefix=prefix)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        w = Window("k:evicted", "", 3, 60)
        for i in range(2):
            await limiter.decide([w], now=T0 + i)
        _, meta_key = window_keys(prefix, w.tag, w.name, w.period_ms)
        await admin.delete(meta_key)  # as if evicted under maxmemory
        assert (await limiter.decide([w], now=T0 + 2)).remaining == 0
        assert not (await limiter.decide([w], now=T0 + 3)).allowed
        assert 0 < await admin.pttl(meta_key) <= 60_000
    finally:
        await limiter.close()
        await admin.aclose()


async def test_concurrent_decisions_on_redis_cluster_are_pipelined_and_exact(cluster_url: str) -> None:
    settings = RedisSettings.parse(cluster_url, timeout=2.0, connect_timeout=2.0)
    limiter = RedisLimiter(settings, prefix=unique_prefix())
    try:
        await limiter.load_scripts()
        tags = [f"k:tenant-{i}" for i in range(6)]  # spread over the nodes
        decisions = await asyncio.gather(*(limiter.decide([Window(tag, "", 10, 60)], now=T0) for tag in tags for _ in range(25)))
        admitted = {tag: 0 for tag in tags}
        for i, decision in enumerate(decisions):
            admitted[tags[i // 25]] += decision.allowed
        assert admitted == {tag: 10 for tag in tags}
    finally:
        await limiter.close()
