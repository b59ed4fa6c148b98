"""The Redis store against a real redis-server and a real 3-node Redis Cluster."""

from __future__ import annotations

import asyncio
import time

from engine.breaker import CircuitBreaker
from engine.cache.connection import RedisSettings, create_client
from engine.cache.keys import KeyGroup
from engine.cache.redis_store import RedisStore
from engine.cache.stores import CacheUnavailable
from engine.metrics import Metrics
from tests.support.redis_server import RedisServer


async def _fill(store: RedisStore, prefix: str) -> tuple[KeyGroup, KeyGroup, KeyGroup]:
    orders, items, other = (KeyGroup(prefix, "shop", "orders"), KeyGroup(prefix, "shop", "items"),
                            KeyGroup(prefix, "shop{2}", "orders"))
    for group in (orders, items, other):
        for i in range(4):
            await store.set(group.response_key(f"d{i}"), b"entry", 60, group)
    return orders, items, other


class TestStandalone:
    async def test_get_set_delete_and_ttl(self, redis_store: RedisStore, prefix: str) -> None:
        await redis_store.set(prefix + "k", b"\x00bytes", 60)
        assert await redis_store.get(prefix + "k") == b"\x00bytes"
        assert await redis_store.fetch(prefix + "none") == (None, True)
        assert 59_000 < await redis_store.client.pttl(prefix + "k") <= 60_000
        await redis_store.set(prefix + "short", b"v", 0.05)
        await asyncio.sleep(0.15)
        assert await redis_store.get(prefix + "short") is None
        assert await redis_store.delete(prefix + "k") and not await redis_store.delete(prefix + "k")

    async def test_purge_operation_then_api(self, redis_store: RedisStore, prefix: str) -> None:
        orders, items, other = await _fill(redis_store, prefix)
        assert await redis_store.purge(prefix, "shop", "orders") == 4
        assert await redis_store.get(orders.response_key("d0")) is None
        assert await redis_store.get(items.response_key("d0")) == b"entry"
        assert await redis_store.purge(prefix, "shop") == 4
        assert await redis_store.purge(prefix, "shop") == 0
        assert await redis_store.get(other.response_key("d0")) == b"entry"
        assert not await redis_store.client.exists(orders.index_key, items.index_key, orders.operations_key)

    async def test_index_expires_with_its_last_entry(self, redis_store: RedisStore, prefix: str) -> None:
        group = KeyGroup(prefix, "api", "op")
        await redis_store.set(group.response_key("a"), b"x", 5, group)
        await redis_store.set(group.response_key("b"), b"x", 20, group)
        assert 19_000 < await redis_store.client.pttl(group.index_key) <= 20_000
        assert 19_000 < await redis_store.client.pttl(group.operations_key) <= 20_000

    async def test_one_command_per_get(self, redis_store: RedisStore, prefix: str) -> None:
        await redis_store.set(prefix + "k", b"v", 60)
        before = (await redis_store.client.info("commandstats")).get("cmdstat_get", {}).get("calls", 0)
        for _ in range(10):
            await redis_store.get(prefix + "k")
        after = (await redis_store.client.info("commandstats"))["cmdstat_get"]["calls"]
        assert after - before == 10


class TestFailure:
    async def test_redis_down_is_a_bounded_miss_and_the_breaker_recovers(self, redis_server: RedisServer) -> None:
        metrics = Metrics()
        breaker = CircuitBreaker("test redis", failure_threshold=3, reset_after=0.2)
        store = RedisStore(create_client(RedisSettings.parse(redis_server.url)), breaker=breaker, metrics=metrics)
        try:
            await store.set("k", b"v", 60)
            assert await store.get("k") == b"v"
            redis_server.stop()
            started = time.monotonic()
            results = [await store.fetch("k") for _ in range(10)]
            elapsed = time.monotonic() - started
            assert results == [(None, False)] * 10
            assert breaker.state == "open"
            assert elapsed < 2.0  # 3 bounded failures, then the breaker answers at once
            errors = metrics.counter("policygate_redis_errors_total", "", ("component",)).value("cache")
            assert 3 <= errors < 10
            await store.set("k", b"v", 60)  # no-op, no exception
            assert not await store.delete("k")
            redis_server.start()
            deadline = time.monotonic() + 10
            while await store.get("k") != b"v" and time.monotonic() < deadline:
                await store.set("k", b"v", 60)
                await asyncio.sleep(0.05)
            assert await store.get("k") == b"v"
            assert breaker.state == "closed"
        finally:
            await store.close()

    async def test_purge_reports_unavailable(self, redis_server: RedisServer) -> None:
        store = RedisStore(create_client(RedisSettings.parse(redis_server.url)))
        redis_server.stop()
        try:
            try:
                await store.purge("p:", "api")
            except CacheUnavailable as exc:
                assert "Redis unavailable" in str(exc)
            else:
                raise AssertionError("purge against a stopped Redis must fail")
        finally:
            await store.close()

    async def test_unreachable_host_never_hangs(self) -> None:
        # 10.255.255.1 is unroutable: the 50 ms connect timeout must bound the call.
        store = RedisStore(create_client(RedisSettings.parse("redis://10.255.255.1:6379")))
        try:
            started = time.monotonic()
            assert await store.fetch("k") == (None, False)
            assert time.monotonic() - started < 1.0
        finally:
            await store.close()


class TestCluster:
    async def test_variants_of_one_operation_share_a_slot(self, cluster_store: RedisStore, prefix: str) -> None:
        group = KeyGroup(prefix, "shop", "orders")
        keys = (group.response_key("a"), group.response_key("b"), group.index_key)
        slots = {await cluster_store.client.execute_command("CLUSTER KEYSLOT", key) for key in keys}
        assert len(slots) == 1
        other = KeyGroup(prefix, "shop", "items")
        assert await cluster_store.client.execute_command("CLUSTER KEYSLOT", other.index_key) not in slots

    async def test_set_get_and_purge_across_the_cluster(self, cluster_store: RedisStore, prefix: str) -> None:
        groups = [KeyGroup(prefix, f"api{i}", f"op{j}") for i in range(4) for j in range(3)]
        for group in groups:
            for d in range(3):
                await cluster_store.set(group.response_key(f"d{d}"), group.tag.encode(), 60, group)
        for group in groups:
            assert await cluster_store.get(group.response_key("d2")) == group.tag.encode()
        assert await cluster_store.purge(prefix, "api0") == 9
        assert await cluster_store.purge(prefix, "api1", "op2") == 3
        assert await cluster_store.get(groups[0].response_key("d0")) is None
        assert await cluster_store.get(groups[3].response_key("d0")) == groups[3].tag.encode()
        assert await cluster_store.get(KeyGroup(prefix, "api1", "op2").response_key("d0")) is None
        assert cluster_store.breaker.state == "closed"
