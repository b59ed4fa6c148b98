"""Cache test fixtures: a real 3-node Redis Cluster, unique key prefixes, stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from engine.cache.connection import RedisSettings
from engine.cache.redis_store import RedisStore
from engine.metrics import Metrics
from tests.support.redis_cluster import RedisClusterNodes


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """`redis+cluster://...` of a throwaway 3-primary Redis Cluster for the session."""
    cluster = RedisClusterNodes(3)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses (the session Redis is shared)."""
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def redis_store(redis_url: str, metrics: Metrics) -> AsyncIterator[RedisStore]:
    settings = RedisSettings.parse(redis_url, timeout=1.0, connect_timeout=1.0)
    store = RedisStore(settings, metrics=metrics)
    yield store
    await store.close()


@pytest.fixture
async def cluster_store(redis_cluster_url: str, metrics: Metrics) -> AsyncIterator[RedisStore]:
    settings = RedisSettings.parse(redis_cluster_url, timeout=1.0, connect_timeout=1.0)
    store = RedisStore(settings, metrics=metrics)
    yield store
    await store.close()
