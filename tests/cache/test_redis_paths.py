"""The semantic cache's store and `redis-stream` loggers speak to a standalone Redis on the event loop
(engine/redis_loop.py, no thread) and to a Redis Cluster through the thread dispatcher, like the
response cache and the rate limiter; both paths against real servers."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import redis
from redis.cluster import RedisCluster

from engine.cache.connection import RedisSettings
from engine.loggers import EventLogger, LoggerMetrics, LoggerSettings
from engine.metrics import Metrics
from engine.redis_dispatcher import Dispatcher
from engine.redis_loop import LoopDispatcher
from engine.semantic.redis_store import RedisSemanticStore


def threads_named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


async def log_events(url: str, stream: str, count: int) -> EventLogger:
    logger = EventLogger(LoggerSettings(id="audit", kind="redis-stream", redis=url, stream=stream), LoggerMetrics(Metrics()))
    for number in range(count):
        assert logger.log(f"event {number}", partition_key="tenant")
    async def sent() -> None:
        while logger.metrics.events.value("audit", "sent") < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(sent(), 5)
    return logger


async def test_a_logger_on_a_standalone_redis_writes_from_the_event_loop(redis_url: str, prefix: str) -> None:
    logger = await log_events(redis_url, f"{prefix}events", 30)
    try:
        assert isinstance(logger.sink.dispatcher, LoopDispatcher)  # type: ignore[union-attr]
        assert threads_named("policygate-logger-audit") == []
        entries = redis.Redis.from_url(redis_url, decode_responses=True).xrange(f"{prefix}events")
        assert [fields["message"] for _, fields in entries] == [f"event {n}" for n in range(30)]
    finally:
        await logger.close()


async def test_a_logger_on_a_redis_cluster_writes_through_the_thread(redis_cluster_url: str, prefix: str) -> None:
    logger = await log_events(redis_cluster_url, f"{prefix}events", 30)
    try:
        assert isinstance(logger.sink.dispatcher, Dispatcher)  # type: ignore[union-attr]
        host, port = RedisSettings.parse(redis_cluster_url).nodes[0]
        entries = RedisCluster(host=host, port=port, decode_responses=True).xrange(f"{prefix}events")
        assert [fields["message"] for _, fields in entries] == [f"event {n}" for n in range(30)]
    finally:
        await logger.close()


async def test_the_semantic_store_on_a_standalone_redis_uses_no_thread(redis_url: str, prefix: str) -> None:
    store = RedisSemanticStore(RedisSettings.parse(redis_url, timeout=1.0, connect_timeout=1.0), prefix=prefix)
    try:
        vector = np.ones(16, dtype=np.float32) / 4.0
        await store.add("p", vector, b"answer", ttl=60)
        match, reachable = await store.search("p", vector, threshold=0.01)
        assert reachable and match is not None and match.payload == b"answer"
        assert isinstance(store.dispatcher, LoopDispatcher)
        assert threads_named("policygate-semantic-redis") == []
    finally:
        await store.close()
