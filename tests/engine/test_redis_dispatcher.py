"""engine.redis_dispatcher on a real Redis: one batch, each caller its own reply or error; a dropped
connection is replaced on the next round trip."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from functools import partial

import redis
from redis.exceptions import ResponseError

from engine.cache.connection import RedisSettings, create_sync_client
from engine.redis_dispatcher import Dispatcher


async def test_a_batch_gives_each_caller_its_own_reply(redis_url: str) -> None:
    dispatcher = Dispatcher(partial(create_sync_client, RedisSettings.parse(redis_url)))
    key = f"dispatcher-test:{uuid.uuid4().hex}"
    try:
        await dispatcher.command("SET", key, "text")
        replies = await asyncio.gather(
            dispatcher.command("GET", key),
            dispatcher.command("INCR", key),  # an error reply for this caller only
            dispatcher.command("EXISTS", key),
            return_exceptions=True,
        )
        assert replies[0] == b"text"
        assert isinstance(replies[1], ResponseError)
        assert replies[2] == 1
        assert await dispatcher.commands([("DEL", key), ("EXISTS", key)]) == [1, 0]
    finally:
        await dispatcher.close()


async def test_a_killed_connection_is_replaced(redis_url: str) -> None:
    name = f"dispatcher-test-{uuid.uuid4().hex[:12]}"
    settings = replace(RedisSettings.parse(redis_url), client_name=name)
    dispatcher = Dispatcher(partial(create_sync_client, settings))
    admin = redis.Redis.from_url(redis_url)
    try:
        assert await dispatcher.command("PING") is True
        killed = [admin.client_kill_filter(_id=c["id"]) for c in admin.client_list() if c["name"] == name]
        assert killed == [1]
        assert await dispatcher.command("PING") is True  # the broken connection is retried once on a fresh one
        assert [c["name"] for c in admin.client_list()].count(name) == 1
    finally:
        admin.close()
        await dispatcher.close()
