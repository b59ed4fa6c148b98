"""engine.redis_loop on a real redis-server, under asyncio's loop and uvloop (the gateway's): a busy
loop never turns a reply into a stall, a frozen Redis fails everything at once after one timeout
without ever blocking the loop, and the connection set-up (AUTH, SELECT, CLIENT SETNAME, TLS) is
done before any command is sent."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import redis
import uvloop
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.cache.connection import RedisSettings
from engine.redis_dispatcher import MAX_BATCH
from engine.redis_loop import LoopDispatcher
from tests.support.redis_server import RedisServer

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run(loop: str, coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(coroutine())


@pytest.mark.parametrize("loop", LOOPS)
def test_a_reply_that_waited_for_a_busy_loop_is_in_time(loop: str, redis_url: str) -> None:
    """The loop is stuck in CPU work for 3x the timeout after the command was written: the reply
    that arrived meanwhile is read when the loop is back, not counted as a stall."""

    async def scenario() -> None:
        dispatcher = LoopDispatcher(RedisSettings.parse(redis_url, timeout=0.1))
        try:
            assert await dispatcher.command("PING") is True  # connected
            for _ in range(3):
                pending = asyncio.ensure_future(dispatcher.command("PING"))
                await asyncio.sleep(0)  # the command is written
                await asyncio.sleep(0)
                time.sleep(0.3)  # the loop is busy; Redis answers in the meantime
                assert await pending is True
        finally:
            await dispatcher.close()

    run(loop, scenario)


TIMEOUT = 0.5  # seconds
BATCHES = 10  # at most MAX_BATCH commands are unanswered at a time
COMMANDS = MAX_BATCH * (BATCHES - 1) + 1


@pytest.mark.parametrize("loop", LOOPS)
def test_a_frozen_redis_fails_everything_after_one_timeout_and_the_loop_runs_on(loop: str) -> None:
    server = RedisServer()
    server.start()

    async def scenario() -> None:
        dispatcher = LoopDispatcher(RedisSettings.parse(server.url, timeout=TIMEOUT))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        clock = asyncio.ensure_future(ticker())
        try:
            assert await dispatcher.command("PING") is True
            assert server.process is not None
            os.kill(server.process.pid, signal.SIGSTOP)
            started = time.monotonic()
            waiting = [asyncio.ensure_future(dispatcher.command("INCR", "frozen")) for _ in range(COMMANDS)]
            failed_at: list[int] = []  # the ticker's count when each command failed: the loop's own clock
            for each in waiting:
                each.add_done_callback(lambda _: failed_at.append(ticks))
            outcomes = await asyncio.gather(*waiting, return_exceptions=True)
            waited = time.monotonic() - started
            assert all(isinstance(outcome, RedisTimeoutError) for outcome in outcomes)  # the queued ones too
            assert waited >= TIMEOUT, waited
            # One timeout, not one per batch: every command failed in the same turn of the loop. One timeout per
            # batch fails them in BATCHES waves, each a whole TIMEOUT of waiting after the previous one, and the
            # ticker (due every 10 ms, so always due before the next stall check) counts at least once between
            # two waves: at least BATCHES - 1 apart. (A bound on `waited` cannot tell the two apart on a busy
            # machine: 5.05 s at load 15 in a whole-suite run, where the process's own CPU work was stretched.)
            assert max(failed_at) - min(failed_at) <= 1, sorted(set(failed_at))
            # the loop kept running while Redis was silent: a blocked loop ticks at most once; 50 ticks are
            # due in one timeout, 5 leave room for a starved process
            assert ticks >= 5, ticks
            os.kill(server.process.pid, signal.SIGCONT)
            assert await dispatcher.command("PING") is True  # a new connection
            frozen = await dispatcher.command("GET", "frozen")
            assert frozen is None or int(frozen) <= MAX_BATCH  # nothing was sent twice; at most one batch ran
        finally:
            clock.cancel()
            assert server.process is not None
            os.kill(server.process.pid, signal.SIGCONT)
            await dispatcher.close()

    try:
        run(loop, scenario)
    finally:
        server.stop()


@pytest.mark.parametrize("loop", LOOPS)
def test_password_database_and_client_name_over_tls(loop: str, tmp_path: Path) -> None:
    from tests.cache.tls_proxy import TlsProxy, self_signed_certificate

    cert, key = self_signed_certificate(tmp_path)
    server = RedisServer(extra_args=("--requirepass", "s3cret"))
    server.start()
    name = f"loop-test-{uuid.uuid4().hex[:8]}"
    admin = redis.Redis(port=server.port, password="s3cret", db=3)

    async def scenario() -> None:
        proxy = await TlsProxy(server.port, cert, key).start()
        base = f"rediss://:s3cret@127.0.0.1:{proxy.port}/3?ssl_ca_certs={cert}&client_name={name}"
        dispatcher = LoopDispatcher(RedisSettings.parse(base, timeout=2, connect_timeout=2))
        wrong = LoopDispatcher(RedisSettings.parse(base.replace("s3cret", "wrong"), timeout=2, connect_timeout=2))
        untrusted = LoopDispatcher(RedisSettings.parse(base.split("?")[0], timeout=2, connect_timeout=2))
        try:
            assert await dispatcher.command("SET", "k", "v") is True
            assert admin.get("k") == b"v"  # in database 3
            assert name in [client["name"] for client in admin.client_list()]
            assert proxy.handshakes >= 1
            with pytest.raises(RedisConnectionError, match="invalid username-password|[Aa]uthentication"):
                await wrong.command("SET", "k", "other")
            with pytest.raises(RedisConnectionError, match="certificate"):
                await untrusted.command("SET", "k", "other")
            assert admin.get("k") == b"v"
        finally:
            for each in (dispatcher, wrong, untrusted):
                await each.close()
            await proxy.close()

    try:
        run(loop, scenario)
    finally:
        admin.close()
        server.stop()


class HelloRefusingProxy:
    """A relay to redis-server that answers `HELLO` as a Redis before 6 does (unknown command)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.refused = 0

    async def start(self) -> HelloRefusingProxy:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def requests() -> None:
            while data := await reader.read(65536):
                if b"HELLO" in data.upper():  # the client sends HELLO alone, before anything else
                    self.refused += 1
                    writer.write(b"-ERR unknown command 'HELLO'\r\n")
                    continue
                up_writer.write(data)

        async def replies() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)

        await asyncio.wait([asyncio.ensure_future(requests()), asyncio.ensure_future(replies())],
                           return_when=asyncio.FIRST_COMPLETED)
        writer.close()
        up_writer.close()


def test_a_redis_without_hello_is_spoken_to_in_resp2(redis_url: str) -> None:
    """As redis-py falls back: RESP2 replies through RESP2 reply callbacks (HGETALL still a dict)."""
    name = f"loop-test-{uuid.uuid4().hex[:8]}"
    port = RedisSettings.parse(redis_url).nodes[0][1]
    admin = redis.Redis(port=port, db=4)

    async def scenario() -> None:
        proxy = await HelloRefusingProxy(port).start()
        dispatcher = LoopDispatcher(RedisSettings.parse(f"redis://127.0.0.1:{proxy.port}/4?client_name={name}"))
        key = f"loop-test:{uuid.uuid4().hex}"
        try:
            await dispatcher.command("HSET", key, "a", "1")
            assert await dispatcher.command("HGETALL", key) == {b"a": b"1"}
            assert admin.hgetall(key) == {b"a": b"1"}  # in database 4
            assert name in [client["name"] for client in admin.client_list()]
            assert proxy.refused == 1
        finally:
            await dispatcher.command("DEL", key)
            await dispatcher.close()
            assert proxy.server is not None
            proxy.server.close()

    try:
        run("asyncio", scenario)
    finally:
        admin.close()


NOT_REDIS_TIMEOUT = 4.0  # seconds


async def test_a_server_that_is_not_redis_fails_the_call_at_once() -> None:
    """Something else answers on the port (an HTTP server): a connection error, no retry loop."""

    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    url = f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    dispatcher = LoopDispatcher(RedisSettings.parse(url, timeout=NOT_REDIS_TIMEOUT))
    try:
        started = time.monotonic()
        with pytest.raises(RedisConnectionError, match="malformed"):
            await dispatcher.command("GET", "k")
        # A dispatcher that waited for more data, or retried, would fail only at the stall bound (4 s) or later;
        # half of it leaves a busy machine 2 s for the connect thread and the two processes' turns.
        assert time.monotonic() - started < NOT_REDIS_TIMEOUT / 2
    finally:
        await dispatcher.close()
        server.close()
