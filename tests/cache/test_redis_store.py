"""The Redis store against a real redis-server and a real 3-node Redis Cluster."""

from __future__ import annotations

import asyncio
import time

from redis.crc import key_slot

from engine.cache.connection import RedisSettings
from engine.cache.keys import KeyGroup
from engine.cache.redis_store import RedisStore
from engine.cache.stores import CacheUnavailable
from engine.metrics import Metrics
from engine.redis_health import BreakerRule
from tests.support.redis_server import RedisServer


async def _fill(store: RedisStore, prefix: str) -> tuple[KeyGroup, KeyGroup, KeyGroup]:
    orders, items, other = (KeyGroup(prefix, "shop", "orders"), KeyGroup(prefix, "shop", "items"),
                            KeyGroup(prefix, "shop{2}", "orders"))
    for group in (orders, items, other):
        for i in range(4):
            await store.set(await key_of(store, group, f"d{i}"), b"entry", 60, group)
    return orders, items, other


async def key_of(store: RedisStore, group: KeyGroup, variant: str) -> str:
    key = await store.response_key(group, variant)
    assert key is not None
    return key


class TestStandalone:
    async def test_get_set_delete_and_ttl(self, redis_store: RedisStore, prefix: str) -> None:
        await redis_store.set(prefix + "k", b"\x00bytes", 60)
        assert await redis_store.get(prefix + "k") == b"\x00bytes"
        assert await redis_store.fetch(prefix + "none") == (None, True)
        assert 59_000 < await redis_store.dispatcher.command("PTTL", prefix + "k") <= 60_000
        await redis_store.set(prefix + "short", b"v", 0.05)
        await asyncio.sleep(0.15)
        assert await redis_store.get(prefix + "short") is None
        assert await redis_store.delete(prefix + "k") and not await redis_store.delete(prefix + "k")

    async def test_purge_operation_then_api(self, redis_store: RedisStore, prefix: str) -> None:
        orders, items, other = await _fill(redis_store, prefix)
        stored = await key_of(redis_store, orders, "d0")
        assert await redis_store.purge(prefix, "shop", "orders") == 4
        assert await redis_store.get(await key_of(redis_store, orders, "d0")) is None
        assert await redis_store.get(await key_of(redis_store, items, "d0")) == b"entry"
        assert await redis_store.purge(prefix, "shop") == 4
        assert await redis_store.purge(prefix, "shop") == 0
        assert await redis_store.get(await key_of(redis_store, items, "d0")) is None
        assert await redis_store.get(await key_of(redis_store, other, "d0")) == b"entry"
        # O(1): nothing was deleted; the old variants are unreachable and age out by their TTL.
        assert await redis_store.dispatcher.command("EXISTS", stored)
        assert await redis_store.dispatcher.command("HGETALL", orders.generations_key) == {b"api": b"2", b"op:orders": b"1", b"op:items": b"0"}

    async def test_entries_expire_and_generations_persist(self, redis_store: RedisStore, prefix: str) -> None:
        group = KeyGroup(prefix, "api", "op")
        await redis_store.set(await key_of(redis_store, group, "a"), b"x", 5, group)
        assert 4_000 < await redis_store.dispatcher.command("PTTL", await key_of(redis_store, group, "a")) <= 5_000
        assert await redis_store.dispatcher.command("PTTL", group.generations_key) == -1  # never expires: purges are never undone

    async def test_another_gateway_sees_a_purge_within_the_generation_cache_time(self, redis_url: str, prefix: str) -> None:
        group = KeyGroup(prefix, "api", "op")
        one = RedisStore(RedisSettings.parse(redis_url, timeout=1.0), generation_ttl=0.3)
        two = RedisStore(RedisSettings.parse(redis_url, timeout=1.0), generation_ttl=0.3)
        try:
            await one.set(await key_of(one, group, "a"), b"x", 60, group)
            assert await two.get(await key_of(two, group, "a")) == b"x"
            assert await one.purge(prefix, "api", "op") == 1
            assert await one.get(await key_of(one, group, "a")) is None  # the purging gateway: at once
            await asyncio.sleep(0.35)
            assert await two.get(await key_of(two, group, "a")) is None  # others: within generation_ttl
        finally:
            await one.close()
            await two.close()

    async def test_one_command_per_get(self, redis_store: RedisStore, prefix: str) -> None:
        await redis_store.set(prefix + "k", b"v", 60)
        before = (await redis_store.dispatcher.command("INFO", "commandstats")).get("cmdstat_get", {}).get("calls", 0)
        for _ in range(10):
            await redis_store.get(prefix + "k")
        after = (await redis_store.dispatcher.command("INFO", "commandstats"))["cmdstat_get"]["calls"]
        assert after - before == 10

    async def test_a_lease_taken_after_the_holder_stored_and_released_yields_its_entry(
            self, redis_store: RedisStore, prefix: str) -> None:
        # The race behind a flaky 4-gateway test: this gateway read a miss, then (slowed down) asked for
        # the lease only after another gateway had stored the entry and released its lease.
        key = prefix + "variant"
        holder, entry = await redis_store.lead_or_wait(key, 5.0)
        assert holder is not None and entry is None
        await redis_store.set(key, b"stored", 60)
        await redis_store.release_lease(key, holder)
        assert await redis_store.lead_or_wait(key, 5.0) == (None, b"stored")
        assert not await redis_store.dispatcher.command("EXISTS", key + ":lease")  # the lease taken to check is given back

    async def test_a_waiter_sees_the_entry_stored_before_the_lease_was_released(
            self, redis_store: RedisStore, prefix: str) -> None:
        key = prefix + "variant"
        holder, _ = await redis_store.lead_or_wait(key, 5.0)
        assert holder is not None

        async def fill() -> None:
            await asyncio.sleep(0.05)
            await redis_store.set(key, b"stored", 60)
            await redis_store.release_lease(key, holder)

        filling = asyncio.ensure_future(fill())
        assert await redis_store.lead_or_wait(key, 5.0) == (None, b"stored")
        await filling


class TestFailure:
    async def test_redis_down_is_a_bounded_miss_and_the_breaker_recovers(self, redis_server: RedisServer) -> None:
        metrics = Metrics()
        store = RedisStore(RedisSettings.parse(redis_server.url), breaker_rule=BreakerRule(3, 0.2), metrics=metrics)
        breaker = store.breaker  # the endpoint's, following this store's rule
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
        store = RedisStore(RedisSettings.parse(redis_server.url))
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
        store = RedisStore(RedisSettings.parse("redis://10.255.255.1:6379"))
        try:
            started = time.monotonic()
            assert await store.fetch("k") == (None, False)
            assert time.monotonic() - started < 1.0
        finally:
            await store.close()


class TestCluster:
    async def test_variants_of_one_operation_spread_over_slots(self, cluster_store: RedisStore, prefix: str) -> None:
        group = KeyGroup(prefix, "shop", "orders")
        keys = [await key_of(cluster_store, group, f"v{i}") for i in range(20)]
        slots = {key_slot(key.encode()) for key in keys}
        assert len(slots) == 20

    async def test_set_get_and_purge_across_the_cluster(self, cluster_store: RedisStore, prefix: str) -> None:
        groups = [KeyGroup(prefix, f"api{i}", f"op{j}") for i in range(4) for j in range(3)]
        for group in groups:
            for d in range(3):
                await cluster_store.set(await key_of(cluster_store, group, f"d{d}"), group.tag.encode(), 60, group)
        for group in groups:
            assert await cluster_store.get(await key_of(cluster_store, group, "d2")) == group.tag.encode()
        assert await cluster_store.purge(prefix, "api0") == 9
        assert await cluster_store.purge(prefix, "api1", "op2") == 3
        assert await cluster_store.get(await key_of(cluster_store, groups[0], "d0")) is None
        assert await cluster_store.get(await key_of(cluster_store, groups[3], "d0")) == groups[3].tag.encode()
        assert await cluster_store.get(await key_of(cluster_store, KeyGroup(prefix, "api1", "op2"), "d0")) is None
        assert cluster_store.breaker.state == "closed"
