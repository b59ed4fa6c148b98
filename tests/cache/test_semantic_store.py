"""The semantic cache's stores: exact nearest-prompt search, bounds, Redis shared by gateways, fail-open."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from engine.cache.connection import RedisSettings
from engine.semantic.index import VectorIndex, unit_vector
from engine.semantic.redis_store import RedisSemanticStore
from engine.semantic.stores import MemorySemanticStore
from tests.support.redis8_server import Redis8Server
from tests.support.redis_server import RedisServer

DIMS = 64


def vectors(count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((count, DIMS)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def near(vector: np.ndarray, noise: float, seed: int = 7) -> np.ndarray:
    """A unit vector at a small angle from `vector`."""
    moved = vector + noise * np.random.default_rng(seed).standard_normal(DIMS).astype(np.float32)
    result = unit_vector(moved)
    assert result is not None
    return result


def test_nearest_is_exact_and_skips_expired_entries() -> None:
    index = VectorIndex(max_per_partition=1000)
    matrix = vectors(500)
    for i, row in enumerate(matrix):
        index.add("p", f"e{i}", row, expires_at=100.0 if i != 42 else 5.0, now=0.0)
    queries = vectors(20, seed=2)
    for query in queries:
        found = index.nearest("p", query, now=10.0, limit=3)
        scores = matrix @ query
        scores[42] = -np.inf  # expired at 5.0
        expected = [f"e{i}" for i in np.argsort(scores)[::-1][:3]]
        assert [c.entry_id for c in found] == expected
        assert abs(found[0].distance - (1.0 - float(scores.max()))) < 1e-5
    assert index.nearest("other", queries[0], now=10.0) == []
    assert [c.entry_id for c in index.nearest("p", matrix[42], now=1.0, limit=1)] == ["e42"]  # not yet expired


def test_bounds_evict_the_soonest_expiring_entry_then_least_recently_used_partitions() -> None:
    dropped: list[str] = []
    index = VectorIndex(max_per_partition=3, max_vectors=5, on_drop=dropped.append)
    matrix = vectors(10)
    for i in range(4):  # the 4th evicts e0 (expires first)
        index.add("a", f"e{i}", matrix[i], expires_at=100.0 + i, now=0.0)
    assert {c.entry_id for c in index.nearest("a", matrix[0], now=0.0, limit=10)} == {"e1", "e2", "e3"}
    index.add("b", "b0", matrix[5], expires_at=100.0, now=0.0)
    index.add("b", "b1", matrix[6], expires_at=100.0, now=0.0)
    assert len(index) == 5 and dropped == []
    index.nearest("a", matrix[0], now=0.0)  # a is now the most recently used
    index.add("c", "c0", matrix[7], expires_at=100.0, now=0.0)  # 6 > 5: b (least recently used) goes
    assert dropped == ["b"]
    assert index.nearest("b", matrix[5], now=0.0) == []
    assert len(index) == 4


def test_a_changed_embedding_dimension_starts_the_partition_afresh() -> None:
    index = VectorIndex()
    index.add("p", "old", vectors(1)[0], expires_at=100.0, now=0.0)
    wider = unit_vector(np.ones(DIMS * 2, dtype=np.float32))
    assert wider is not None
    index.add("p", "new", wider, expires_at=100.0, now=0.0)
    assert [c.entry_id for c in index.nearest("p", wider, now=0.0)] == ["new"]
    assert unit_vector([0.0, 0.0]) is None and unit_vector([1.0, float("nan")]) is None and unit_vector("x") is None


async def test_memory_store_hits_within_the_threshold_only() -> None:
    store = MemorySemanticStore()
    base = vectors(1)[0]
    await store.add("p", base, b"answer", ttl=60)
    close = near(base, 0.05)
    distance = 1.0 - float(close @ base)
    match, reachable = await store.search("p", close, threshold=distance + 0.01)
    assert reachable and match is not None and match.payload == b"answer"
    assert (await store.search("p", close, threshold=distance - 0.001))[0] is None
    assert (await store.search("q", base, threshold=0.5))[0] is None  # another partition


async def test_gateways_share_entries_through_redis(redis_url: str, prefix: str) -> None:
    settings = RedisSettings.parse(redis_url, timeout=1.0, connect_timeout=1.0)
    one = RedisSemanticStore(settings, prefix=prefix)
    two = RedisSemanticStore(settings, prefix=prefix)
    try:
        matrix = vectors(50)
        for i, row in enumerate(matrix):
            await one.add("p", row, f"answer {i}".encode(), ttl=60)
        await one.add("short", matrix[0], b"short-lived", ttl=0.2)
        query = near(matrix[17], 0.05)
        match, reachable = await two.search("p", query, threshold=0.1)  # the second gateway reads the log
        assert reachable and match is not None and match.payload == b"answer 17"
        assert (await two.search("p", vectors(1, seed=99)[0], threshold=0.05)) == (None, True)
        await one.add("p", matrix[0] * -1, b"late", ttl=60)  # appended after two's first read
        late, _ = await two.search("p", matrix[0] * -1, threshold=0.01)
        assert late is not None and late.payload == b"late"
        await asyncio.sleep(0.3)
        assert (await two.search("short", matrix[0], threshold=0.5)) == (None, True)  # expired
    finally:
        await one.close()
        await two.close()


async def test_an_entry_whose_response_is_gone_gives_way_to_the_next_closest(redis_url: str, prefix: str) -> None:
    settings = RedisSettings.parse(redis_url, timeout=1.0, connect_timeout=1.0)
    store = RedisSemanticStore(settings, prefix=prefix)
    try:
        base = vectors(1)[0]
        await store.add("p", base, b"first", ttl=60)
        await store.add("p", near(base, 0.02), b"second", ttl=60)
        match, _ = await store.search("p", base, threshold=0.2)
        assert match is not None and match.payload == b"first"
        await store.dispatcher.command("DEL", f"{prefix}sc:{{p}}:e:{match.entry_id}")  # evicted by Redis
        again, _ = await store.search("p", base, threshold=0.2)
        assert again is not None and again.payload == b"second"
    finally:
        await store.close()


async def test_works_on_redis_cluster(redis_cluster_url: str, prefix: str) -> None:
    store = RedisSemanticStore(RedisSettings.parse(redis_cluster_url, timeout=1.0, connect_timeout=1.0), prefix=prefix)
    try:
        matrix = vectors(8)
        for i, row in enumerate(matrix):
            await store.add(f"p{i}", row, f"answer {i}".encode(), ttl=60)  # partitions on different slots
        for i, row in enumerate(matrix):
            match, _ = await store.search(f"p{i}", row, threshold=0.01)
            assert match is not None and match.payload == f"answer {i}".encode()
    finally:
        await store.close()


async def test_redis_down_is_a_fast_miss_and_a_silent_store(redis_server: RedisServer, prefix: str) -> None:
    errors: list[int] = []
    store = RedisSemanticStore(RedisSettings.parse(redis_server.url, timeout=0.5, connect_timeout=0.2),
                               prefix=prefix, on_error=lambda: errors.append(1))
    try:
        base = vectors(1)[0]
        await store.add("p", base, b"answer", ttl=60)
        assert (await store.search("p", base, threshold=0.1))[0] is not None
        redis_server.stop()
        started = time.monotonic()
        assert await store.search("p", base, threshold=0.1) == (None, False)
        await store.add("p", base, b"lost", ttl=60)  # does not raise
        assert time.monotonic() - started < 2.0
        assert errors
        redis_server.start()
        await asyncio.sleep(1.1)  # the breaker lets a probe through after reset-after (1 s)
        assert (await store.search("p", base, threshold=0.1))[1] is True  # reachable again (Redis restarted empty)
    finally:
        await store.close()


async def test_a_lookup_does_not_wait_for_a_long_first_load(redis_url: str, prefix: str) -> None:
    settings = RedisSettings.parse(redis_url, timeout=2.0, connect_timeout=1.0)
    one = RedisSemanticStore(settings, prefix=prefix)
    two = RedisSemanticStore(settings, prefix=prefix)
    try:
        matrix = vectors(5000)  # three XRANGE batches
        for start in range(0, len(matrix), 500):
            await asyncio.gather(*(one.add("p", row, b"x", ttl=60) for row in matrix[start:start + 500]))
        assert await two.sync("p", wait=0.0) is True  # gave up waiting at once; the load goes on
        assert len(two.index) < 5000
        deadline = time.monotonic() + 10
        while len(two.index) < 5000 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(two.index) == 5000
        match, _ = await two.search("p", matrix[4999], threshold=0.01)
        assert match is not None
    finally:
        await one.close()
        await two.close()


async def test_redis_8_vector_sets_are_used_when_the_server_has_them(redis8_url: str, redis_url: str,
                                                                     prefix: str) -> None:
    settings = RedisSettings.parse(redis8_url, timeout=1.0, connect_timeout=1.0)
    one = RedisSemanticStore(settings, prefix=prefix, max_per_partition=40)
    two = RedisSemanticStore(settings, prefix=prefix)
    old = RedisSemanticStore(RedisSettings.parse(redis_url, timeout=1.0, connect_timeout=1.0), prefix=prefix)
    forced = RedisSemanticStore(settings, prefix=prefix, search="scan")
    try:
        assert (await one.uses_vector_sets(), await old.uses_vector_sets(), await forced.uses_vector_sets()) == (
            True, False, False)
        matrix = vectors(50)
        for i, row in enumerate(matrix[:30]):
            await one.add("p", row, f"answer {i}".encode(), ttl=60)
        await one.add("short", matrix[0], b"short-lived", ttl=0.2)
        close = near(matrix[17], 0.05)
        match, reachable = await two.search("p", close, threshold=0.1)  # another gateway: no mirror, one script
        assert reachable and match is not None and match.payload == b"answer 17"
        assert abs(match.distance - (1.0 - float(close @ matrix[17]))) < 0.01  # Q8 vectors: close, not exact
        assert await two.search("p", close, threshold=match.distance / 2) == (None, True)
        assert await two.search("q", matrix[17], threshold=0.5) == (None, True)  # another partition
        for i, row in enumerate(matrix[30:], start=30):  # 50 > max-entries-per-partition (40)
            await one.add("p", row, f"answer {i}".encode(), ttl=60)
        assert await one.dispatcher.command("VCARD", f"{prefix}sc:{{p}}:vs") == 40
        await asyncio.sleep(0.3)
        assert await two.search("short", matrix[0], threshold=0.5) == (None, True)  # its response expired
        assert await one.dispatcher.command("VCARD", f"{prefix}sc:{{short}}:vs") == 0  # and the element went
        wider = unit_vector(np.ones(DIMS * 2, dtype=np.float32))
        assert wider is not None
        assert await two.search("p", wider, threshold=0.5) == (None, True)  # another dimension: a miss
        await one.add("p", wider, b"new model", ttl=60)  # the partition starts afresh
        found, _ = await two.search("p", wider, threshold=0.01)
        assert found is not None and found.payload == b"new model"
    finally:
        for store in (one, two, old, forced):
            await store.close()


async def test_redis_8_down_is_a_miss(prefix: str) -> None:
    server = Redis8Server()
    server.start()
    store = RedisSemanticStore(RedisSettings.parse(server.url, timeout=0.5, connect_timeout=0.2), prefix=prefix)
    try:
        base = vectors(1)[0]
        await store.add("p", base, b"answer", ttl=60)
        assert (await store.search("p", base, threshold=0.1))[0] is not None
        server.stop()
        assert await store.search("p", base, threshold=0.1) == (None, False)
        await store.add("p", base, b"lost", ttl=60)  # does not raise
    finally:
        await store.close()
        server.stop()


def test_configuration_errors_name_the_key() -> None:
    from engine.errors import ConfigError
    from engine.semantic.service import SemanticCache

    for config, message in (
        ({"search": "hnsw"}, "g.yaml: cache.semantic.search: expected one of auto, scan, got 'hnsw'"),
        ({"max-vectors": 0}, "g.yaml: cache.semantic.max-vectors: expected a positive integer, got 0"),
        ({"max-entries": 5}, "g.yaml: cache.semantic.max-entries: unknown key"),
    ):
        with pytest.raises(ConfigError) as error:
            SemanticCache.from_config(config, where="g.yaml: cache.semantic")
        assert str(error.value).startswith(message)
    assert SemanticCache.from_config(None, where="x").search == "auto"
