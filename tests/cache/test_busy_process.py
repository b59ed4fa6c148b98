"""Only a Redis that fails is a cache failure: a busy gateway process is not.

With default settings (`cache.external` only), lookups in flight while the event loop is stuck in
CPU work must still be answered by a healthy Redis: no miss counted as a Redis error, breaker
closed. A frozen Redis must still be detected within one `timeout-ms` (500 ms by default).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

from engine.cache.keys import KeyGroup
from engine.cache.redis_store import RedisStore
from engine.cache.service import CacheService
from engine.metrics import Metrics
from tests.support.redis_server import RedisServer

LOOKUPS = 30


async def started_store(redis_server: RedisServer, metrics: Metrics) -> tuple[CacheService, RedisStore]:
    config = {"external": redis_server.url, "prefix": f"t{uuid.uuid4().hex[:8]}:", "generation-cache-ms": 0}
    service = CacheService.from_config(config, where="g.yaml: cache", metrics=metrics)  # default timeouts
    await service.start()
    assert service.external is not None
    return service, service.external


async def lookup(store: RedisStore, group: KeyGroup, variant: str) -> tuple[bytes | None, bool]:
    """What cache-lookup asks Redis: the operation's generation, then one GET."""
    key = await store.response_key(group, variant)
    return (None, False) if key is None else await store.fetch(key)


async def test_a_blocked_event_loop_does_not_turn_redis_answers_into_misses(redis_server: RedisServer) -> None:
    metrics = Metrics()
    service, store = await started_store(redis_server, metrics)
    group = KeyGroup(service.prefix, "api", "op")
    try:
        for i in range(LOOKUPS):
            await store.set(await store.response_key(group, f"v{i}") or "", f"body{i}".encode(), 60, group)
        await store.set(service.prefix + "value", b"cached value", 60)  # the value cache (cache-lookup-value)

        async def busy_process() -> None:
            await asyncio.sleep(0)  # the lookups below are queued...
            time.sleep(0.3)  # ...and the loop is stuck in CPU work far beyond 50 ms while Redis answers
            await asyncio.sleep(0)
            time.sleep(0.3)

        *answers, value, _ = await asyncio.gather(
            *(lookup(store, group, f"v{i}") for i in range(LOOKUPS)), store.fetch(service.prefix + "value"), busy_process(),
        )
        assert answers == [(f"body{i}".encode(), True) for i in range(LOOKUPS)]  # every one a hit from Redis
        assert value == (b"cached value", True)
        rendered = metrics.render()
        assert 'policygate_redis_errors_total{component="cache"}' not in rendered, rendered
        assert store.breaker.state == "closed"
        assert "\npolicygate_cache_breaker_open 1" not in rendered
    finally:
        await service.close()


async def test_a_frozen_redis_is_detected_within_the_timeout(redis_server: RedisServer) -> None:
    metrics = Metrics()
    service, store = await started_store(redis_server, metrics)
    group = KeyGroup(service.prefix, "api", "op")
    assert redis_server.process is not None
    pid = redis_server.process.pid
    try:
        key = await store.response_key(group, "v")
        assert key is not None and await store.fetch(key) == (None, True)  # a miss, answered by Redis
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            answers = await asyncio.gather(*(store.fetch(key) for _ in range(50)))
            took = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
        assert answers == [(None, False)] * 50  # fail-open: misses, never an error to the request
        # One stalled round trip (timeout-ms, 500 ms, measured by the kernel) fails everything queued behind it.
        assert took < 1.5, took
        assert store.breaker.state in ("open", "half-open")
        assert 'policygate_redis_errors_total{component="cache"}' in metrics.render()
    finally:
        await service.close()
