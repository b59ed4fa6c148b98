"""engine.redis_dispatcher (a thread) and engine.redis_loop (the event loop) on a real Redis: one batch,
each caller its own reply or error; a dropped connection is replaced on the next round trip; nothing
that may have run is sent twice. Every test runs against both dispatchers."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from engine.cache.connection import RedisSettings, create_sync_client
from engine.redis_dispatcher import PENDING, Dispatcher, Rider, Script
from engine.redis_loop import LoopDispatcher

Make = Callable[[RedisSettings], Dispatcher | LoopDispatcher]


@pytest.fixture(params=["thread", "loop"])
def make(request: pytest.FixtureRequest) -> Make:
    """A dispatcher for some settings: the thread one (Redis Cluster, traced clients) or the loop one."""
    if request.param == "thread":
        return lambda settings: Dispatcher(partial(create_sync_client, settings))
    return LoopDispatcher


async def test_a_batch_gives_each_caller_its_own_reply(make: Make, redis_url: str) -> None:
    dispatcher = make(RedisSettings.parse(redis_url))
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


async def test_a_killed_connection_is_replaced(make: Make, redis_url: str) -> None:
    name = f"dispatcher-test-{uuid.uuid4().hex[:12]}"
    settings = replace(RedisSettings.parse(redis_url), client_name=name)
    dispatcher = make(settings)
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


class ReplyDroppingProxy:
    """A TCP front for redis-server that, once armed, closes the connection instead of passing on the
    next reply: the command ran in Redis, its reply is lost (a connection dying at the worst moment)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.armed = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ReplyDroppingProxy:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), self.loop).result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def requests() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        async def replies() -> None:
            while data := await up_reader.read(65536):
                if self.armed.is_set():
                    self.armed.clear()
                    return  # drop this reply and the connection
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.ensure_future(requests()), asyncio.ensure_future(replies())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        writer.close()
        up_writer.close()


async def test_a_lost_reply_is_not_answered_by_running_the_command_twice(make: Make, redis_url: str) -> None:
    """INCR ran, its reply was lost with the connection: the caller gets an error (its policy falls
    back), never a second INCR; the next round trip works on a new connection."""
    admin = redis.Redis.from_url(redis_url)
    key = f"dispatcher-test:{uuid.uuid4().hex}"
    port = RedisSettings.parse(redis_url).nodes[0][1]
    with ReplyDroppingProxy(port) as proxy:
        dispatcher = make(RedisSettings.parse(proxy.url))
        try:
            assert await dispatcher.command("PING") is True
            proxy.armed.set()
            with pytest.raises(RedisConnectionError):
                await dispatcher.command("INCR", key)
            assert admin.get(key) == b"1"  # counted once
            assert await dispatcher.command("INCR", key) == 2
        finally:
            admin.delete(key)
            admin.close()
            await dispatcher.close()


async def test_a_rider_travels_behind_its_carrier(make: Make, redis_url: str) -> None:
    """A rider's reply (or its own error reply) lands in `outcome` without touching the carrier's
    reply; a NOSCRIPT carrier is sent again alone as EVAL; a failed round trip leaves the rider PENDING."""
    dispatcher = make(RedisSettings.parse(redis_url))
    key = f"dispatcher-test:{uuid.uuid4().hex}"
    script = Script.of(f"return redis.call('INCR', KEYS[1]) -- {uuid.uuid4().hex}")  # not loaded: NOSCRIPT
    try:
        await dispatcher.command("SET", key, "text")
        riders = [Rider("GET", key), Rider("INCR", key), Rider("GET", key)]
        replies = await asyncio.gather(
            dispatcher.command("EXISTS", key, rider=riders[0]),
            dispatcher.command("STRLEN", key, rider=riders[1]),  # the rider's error is the rider's only
            dispatcher.command("EVALSHA", script.sha, 1, key + ":n", script=script, rider=riders[2]),
        )
        assert list(replies) == [1, 4, 1]
        assert riders[0].outcome == riders[2].outcome == b"text"
        assert isinstance(riders[1].outcome, ResponseError)
        assert await dispatcher.command("GET", key + ":n") == b"1"  # the script ran once
    finally:
        await dispatcher.command("DEL", key, key + ":n")
        await dispatcher.close()
    unreachable = make(RedisSettings.parse("redis://127.0.0.1:1", timeout=0.2))
    rider = Rider("GET", key)
    try:
        with pytest.raises(RedisConnectionError):
            await unreachable.command("PING", rider=rider)
        assert rider.outcome is PENDING
    finally:
        await unreachable.close()


async def test_arguments_and_replies_of_any_size_and_type(make: Make, redis_url: str) -> None:
    """The batch is packed by hiredis (str as UTF-8, bytes, int, float) or, for other types, by
    redis-py's packer; a reply larger than one socket read is read whole; reply callbacks apply."""
    dispatcher = make(RedisSettings.parse(redis_url))
    key = f"dispatcher-test:{uuid.uuid4().hex}"
    big = bytes(range(256)) * 2048  # 512 KiB: several socket reads
    try:
        replies = await asyncio.gather(
            dispatcher.command("SET", key + ":big", big, "PX", 60_000),
            dispatcher.command("SET", key + ":mv", memoryview(b"view")),  # not hiredis's: redis-py packs it
            dispatcher.command("SET", key + ":text", "grüße €"),
            dispatcher.command("INCRBYFLOAT", key + ":f", 1.5),
            dispatcher.command("GET", key + ":big"),
        )
        assert list(replies) == [True, True, True, 1.5, big]  # reply callbacks: SET b"OK" is True, INCRBYFLOAT a float
        assert await dispatcher.commands([("GET", key + ":mv"), ("GET", key + ":text")]) == [b"view", "grüße €".encode()]
        with pytest.raises(redis.DataError):
            await dispatcher.command("SET", key, None)
        assert await dispatcher.command("PING") is True  # the connection survived the refused command
    finally:
        await dispatcher.command("DEL", key + ":big", key + ":mv", key + ":text", key + ":f")
        await dispatcher.close()
