"""Redis round trips without a per-call budget: a queue in front of one thread that owns the connection.

Shared by the rate limiter and the cache (one dispatcher each). Their commands must be answered by
Redis whenever Redis is healthy, however busy the gateway process is. A per-call budget measured by
the event loop cannot promise that: when the process is busy, a reply that arrived in time waits in
the socket until the loop gets round to it, the budget expires first, and the call is wrongly
treated as a Redis failure. So:

* Callers queue commands and wait for their answer **without a budget of their own**.
* One thread per `Dispatcher` takes everything queued and sends it as one non-transactional
  pipeline (one write, one read; a lone command goes alone), then wakes the callers. Each command
  stays one command (an EVALSHA decision stays atomic, a cache hit stays one GET).
* The thread uses a blocking client whose socket timeout (`timeout`) is measured by the kernel:
  Redis counts as stalled only when it has sent nothing for `timeout` seconds after a command
  was written, which a busy Python process cannot fake. A stall or a broken connection fails the
  round trip, and everything queued behind it, at once: while Redis is frozen nobody waits longer
  than one `timeout`. Nothing that may have reached Redis is sent twice (a lost reply to a
  decision fails that round trip rather than counting twice); a connection the server closed while
  idle (say a Redis restart) is found before anything is written and replaced.
* A round trip runs in the context variables of the first call it carries, so a traced request's
  Redis span is its child (a pipeline shared by several requests belongs to the first).
* `NOSCRIPT` (Redis restarted or flushed) is answered by sending that command again as `EVAL`,
  which also caches the script again.
* A command may carry a `Rider`: a read of another component sent right behind it in the same
  round trip (the rate limiter's decision carries the cache lookup's GET, see docs/performance.md).
  The rider's reply is in `rider.outcome` when the carrying command's caller wakes; it stays
  `PENDING` when the round trip failed or never happened (the rider's owner then asks on its own).
* With a `RedisHealth` (engine.redis_health, shared by every dispatcher of the endpoint), a command
  is refused at once (`RedisUnavailable`) while the endpoint's breaker is open, and each round
  trip's outcome is reported to it before its callers wake. With `stall_after` too (a Redis
  Cluster), a watchdog reports a round trip still under way after that long as a stall: redis-py's
  cluster client answers one node's socket timeout by reconnecting and refreshing its topology from
  every node in turn before it gives up, which against a frozen cluster takes several timeouts.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import queue
import select
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import hiredis
from redis import Redis
from redis._parsers.base import BaseParser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import (
    InvalidResponse,
    NoScriptError,
    RedisClusterUnreachableError,
    RedisError,
    ResponseError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.redis_health import RedisHealth

log = logging.getLogger("policygate.redis")

MAX_BATCH = 128  # commands per round trip: bounds the work Redis does before it answers
READ_SIZE = 65536  # bytes per socket read
_NOT_ENOUGH_DATA = object()  # what the hiredis reader answers while a reply is incomplete


@dataclass(frozen=True)
class Script:
    """A Lua script: its source and SHA1 (for EVALSHA)."""

    source: str
    sha: str

    @classmethod
    def of(cls, source: str) -> Script:
        return cls(source, hashlib.sha1(source.encode()).hexdigest())


class _Pending:
    def __repr__(self) -> str:
        return "PENDING"


PENDING: Any = _Pending()  # a rider's outcome until its round trip is over


class Rider:
    """A read sent in the same round trip as another command. `outcome`: its reply (an error reply
    as its exception), or `PENDING` when the round trip failed or the carrier was not sent."""

    __slots__ = ("command", "outcome")

    def __init__(self, *command: object) -> None:
        self.command = command
        self.outcome: Any = PENDING


@dataclass
class _Call:
    """One queued request: a pipelinable command, or a function of the client run on its own."""

    command: tuple[object, ...] | Callable[[Any], Any]
    script: Script | None
    future: asyncio.Future[Any]
    rider: Rider | None = None
    # The caller's context variables (its trace span): the round trip runs in the first call's.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)


class _Stop:
    pass


_STOP = _Stop()


class Dispatcher:
    """Queue Redis commands from any event loop; one thread sends them in pipelined round trips."""

    def __init__(self, connect: Callable[[], Any], *, name: str = "policygate-redis", max_batch: int = MAX_BATCH,
                 health: RedisHealth | None = None, stall_after: float | None = None) -> None:
        self._connect = connect  # creates the blocking client, in the thread (a Redis Cluster client connects at once)
        self.client: Any = None
        self._connection: Any = None  # the connection round trips of a standalone client use (see _send_direct)
        self._reader: Any = None  # the hiredis reader of that connection's replies
        self._reader_socket: Any = None  # the socket `_reader` belongs to
        self.max_batch = max_batch
        self.health = health
        self._in_flight: list[_Call] = []  # the batch of the round trip under way
        self._round_trip_started = 0.0  # when it began (time.monotonic; 0: none under way)
        if health is not None:
            health.attach(self)
        self._queue: queue.SimpleQueue[_Call | _Stop] = queue.SimpleQueue()
        self._closed = False
        self._name = name
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        if health is not None and stall_after is not None:
            threading.Thread(target=self._watch, args=(health, stall_after), name=f"{name}-watchdog", daemon=True).start()

    async def command(self, *command: object, script: Script | None = None, rider: Rider | None = None) -> Any:
        """Send `command` (pipelined with whatever else is queued); its reply.

        `script`: for an EVALSHA, the script to EVAL instead when Redis answers NOSCRIPT.
        `rider`: a read sent right behind `command` in the same round trip (see `Rider`).
        Raises the Redis error of the command or of its round trip (`RedisUnavailable`: not sent,
        the endpoint's breaker is open).
        """
        if self.health is not None and not self.health.closed:
            self.health.refuse(self.probe)
        return await self._submit(command, script, rider)

    async def commands(self, commands: Sequence[tuple[object, ...]]) -> list[Any]:
        """Replies of `commands`, queued together (so sent in one round trip when they fit one batch).

        Raises the first error among them (an error reply or the round trip's).
        """
        if self._closed:
            raise RedisConnectionError(f"{self._name}: the Redis client is closed")
        if self.health is not None and not self.health.closed:
            self.health.refuse(self.probe)
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        for command in commands:
            futures.append(loop.create_future())
            self._queue.put(_Call(command, None, futures[-1]))
        return await all_replies(futures)

    async def probe(self) -> bool:
        """A `PING` past the breaker (the endpoint's background probe, engine.redis_health); False
        when this dispatcher is closed. The round trip reports the outcome to the health."""
        if self._closed:
            return False
        await self._submit(("PING",), None)
        return True

    def abandon(self, error: BaseException) -> None:
        """Fail every caller waiting, queued or in the round trip under way (the endpoint's breaker
        opened; from any thread). The round trip's outcome is dropped when it comes."""
        self._fail_queued(error)
        in_flight = self._in_flight
        if in_flight:
            _deliver(in_flight, [error] * len(in_flight))

    async def call(self, function: Callable[[Any], Any]) -> Any:
        """Run `function(client)` in the thread, alone (SCRIPT LOAD on every node, PING...)."""
        return await self._submit(function, None)

    async def load_script(self, script: Script) -> None:
        """`SCRIPT LOAD` (on every node of a cluster)."""
        await self.call(lambda client: client.script_load(script.source))

    async def close(self) -> None:
        """Stop the thread (after what is queued) and close the client."""
        if self._closed:
            return
        self._closed = True
        if self.health is not None:
            self.health.leave(self)
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join, 10.0)
        if self.client is not None:
            self.client.close()

    async def _submit(
        self, command: tuple[object, ...] | Callable[[Any], Any], script: Script | None, rider: Rider | None = None,
    ) -> Any:
        if self._closed:
            raise RedisConnectionError(f"{self._name}: the Redis client is closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put(_Call(command, script, future, rider=rider))
        return await future

    # -- the thread -----------------------------------------------------------------------------
    def _serve(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Call] = []
            item = self._queue.get()
            while True:
                if isinstance(item, _Stop):
                    stopping = True
                elif not item.future.cancelled():
                    batch.append(item)
                if stopping or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._in_flight = batch
            self._round_trip_started = time.monotonic()
            try:
                self._round_trip(batch)
            except BaseException as exc:  # never let the thread die with callers waiting
                log.exception("%s: Redis dispatcher failed", self._name)
                _deliver(batch, [exc] * len(batch))
            finally:
                self._in_flight = []
                self._round_trip_started = 0.0
        self._fail_queued(RedisConnectionError(f"{self._name}: the Redis client is closed"))

    def _watch(self, health: RedisHealth, stall_after: float) -> None:
        """Report a round trip under way for longer than `stall_after` as a stall (once): the breaker
        opens and every caller waiting on the endpoint is failed (`RedisHealth`)."""
        reported = 0.0
        while not self._closed:
            time.sleep(stall_after / 10)
            started = self._round_trip_started
            if started and started != reported and time.monotonic() - started > stall_after:
                reported = started
                health.failed(RedisTimeoutError(f"Timeout: no answer from Redis within {stall_after:g}s"))

    def _round_trip(self, batch: list[_Call]) -> None:
        if self.client is None and batch:
            try:
                self.client = self._connect()
            except Exception as exc:  # Redis (Cluster) unreachable: these calls fail, the next batch tries again
                error = exc if isinstance(exc, RedisError) else RedisConnectionError(str(exc) or type(exc).__name__)
                if self.health is not None:
                    self._in_flight = []  # these callers get this error, not the breaker's
                    self.health.failed(error)
                _deliver(batch, [error] * len(batch))
                return
        commands: list[_Call] = []
        for call in batch:
            if callable(call.command):
                _deliver([call], [call.context.run(_capture, call.command, self.client)])
            else:
                commands.append(call)
        if not commands:
            return
        sent: list[tuple[object, ...]] = []
        for call in commands:
            sent.append(call.command)  # type: ignore[arg-type]  # a function of the client was run above
            if call.rider is not None:
                sent.append(call.rider.command)  # right behind its carrier: the same round trip
        try:
            try:
                replies = commands[0].context.run(self._send, sent)
            except RedisClusterUnreachableError as unreachable:  # not a RedisError: callers get one
                raise _as_redis_error(unreachable) from unreachable
        except RedisError as exc:
            if self.health is not None:
                self._in_flight = []  # these callers get this error, not the breaker's
                self.health.failed(exc)  # first: whoever wakes up now finds the breaker open
            _deliver(commands, [exc] * len(commands))
            if isinstance(exc, RedisTimeoutError):  # Redis is stalled: nobody queued behind it waits another timeout
                self._fail_queued(exc)
            return
        if self.health is not None:  # a cluster pipeline returns a node's connection failure as a reply
            lost = next((r for r in replies if isinstance(r, (RedisConnectionError, RedisTimeoutError))), None)
            if lost is None:
                if self.health.suspect:
                    self.health.answered()
            else:
                self._in_flight = []
                self.health.failed(lost)
        results = replies if len(sent) == len(commands) else _take_riders(commands, replies)
        for i, (call, result) in enumerate(zip(commands, results, strict=True)):
            if isinstance(result, NoScriptError) and call.script is not None:
                retry = ("EVAL", call.script.source, *call.command[2:])  # type: ignore[index]  # a command tuple
                results[i] = call.context.run(_capture, self.client.execute_command, *retry)
        _deliver(commands, results)

    def _send(self, commands: Sequence[tuple[object, ...]]) -> list[Any]:
        """Replies (or per-command errors) of `commands` in one round trip.

        A command that may have reached Redis is never sent again: a decision script counts, so a
        resend after a lost reply would count twice. A connection found dead before anything was
        written (Redis restarted, or closed it) is replaced first.

        Raises:
            redis ConnectionError / TimeoutError: the round trip failed as a whole.
        """
        if _direct(self.client):
            return self._send_direct(commands)
        # redis-py's pool replaces a connection the server closed before handing it out
        if len(commands) == 1:
            try:
                return [self.client.execute_command(*commands[0])]
            except (RedisConnectionError, RedisTimeoutError):
                raise
            except RedisError as exc:  # an error reply to this command
                return [exc]
        pipe = self.client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        try:
            return list(pipe.execute(raise_on_error=False))
        finally:
            pipe.reset()

    def _send_direct(self, commands: Sequence[tuple[object, ...]]) -> list[Any]:
        """`_send` on a connection this thread keeps: one write of the batch packed by hiredis, then
        its replies parsed by this connection's own hiredis reader, each through the client's reply
        callbacks. That is what redis-py's pipeline does, without its per-round-trip objects and pool
        checkout, its per-argument encoding in Python (7x slower than `hiredis.pack_command`) and its
        five calls per reply: a third of the CPU of a round trip (docs/performance.md)."""
        connection = self._usable_connection()
        try:
            sock = connection._sock
            if sock is not self._reader_socket:  # a new connection: nothing of the old one's replies is left
                self._reader = hiredis.Reader(replyError=BaseParser.parse_error, protocolError=InvalidResponse,
                                              notEnoughData=_NOT_ENOUGH_DATA)
                self._reader_socket = sock
            try:
                sock.sendall(pack(commands, connection))
            except TimeoutError:
                raise RedisTimeoutError("Timeout writing to Redis") from None
            except OSError as exc:
                raise RedisConnectionError(f"Error while writing to Redis: {exc}") from None
            replies = _read(sock, self._reader, len(commands))
            callbacks = self.client.response_callbacks
            for i, (command, reply) in enumerate(zip(commands, replies, strict=True)):
                callback = callbacks.get(command[0])
                if callback is not None and not isinstance(reply, ResponseError):
                    replies[i] = callback(reply)
            if self._reader.has_data():  # more than was asked for: never trust this connection again
                raise RedisConnectionError("Redis sent data nobody asked for")
            return replies
        except BaseException:
            connection.disconnect()  # replies may still be on the wire: the next round trip reconnects
            self._reader_socket = None
            raise

    def _usable_connection(self) -> Any:
        """The kept connection, replaced when the server has closed it (found by one zero-timeout poll
        while no reply is due). Nothing has been sent yet, so a replacement cannot run anything twice."""
        if self._connection is None:
            self._connection = self.client.connection_pool.get_connection()
        connection = self._connection
        sock = connection._sock  # None before the first connect
        if sock is not None and select.select([sock], [], [], 0)[0] and _closed_or_dirty(connection):
            connection.disconnect()
        if connection._sock is None:
            connection.connect()
        return connection

    def _fail_queued(self, error: BaseException) -> None:
        failed: list[_Call] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Stop):
                self._queue.put(item)
                break
            failed.append(item)
        _deliver(failed, [error] * len(failed))


async def all_replies(futures: Sequence[asyncio.Future[Any]]) -> list[Any]:
    """The results of `futures`, once all are settled; raises the first error among them."""
    replies = await asyncio.gather(*futures, return_exceptions=True)
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    return list(replies)


def pack(commands: Sequence[tuple[object, ...]], connection: Any) -> bytes:
    """The batch in the Redis protocol: hiredis packs str (UTF-8), bytes, int and float as redis-py
    does; other argument types go through redis-py's packer (which rejects what it cannot send)."""
    try:
        return b"".join([hiredis.pack_command(command) for command in commands])  # type: ignore[arg-type]  # a TypeError falls back below
    except TypeError:
        return b"".join(connection.pack_commands(commands))


def _read(sock: Any, reader: Any, count: int) -> list[Any]:
    """`count` replies from `sock` (an error reply as its exception). The socket's timeout is the stall
    bound: Redis counts as stalled when it sends nothing for that long."""
    replies: list[Any] = []
    while len(replies) < count:
        reply = reader.gets()
        if reply is not _NOT_ENOUGH_DATA:
            replies.append(reply)
            continue
        try:
            data = sock.recv(READ_SIZE)
        except TimeoutError:
            raise RedisTimeoutError("Timeout reading from Redis") from None
        except OSError as exc:
            raise RedisConnectionError(f"Error while reading from Redis: {exc}") from None
        if not data:
            raise RedisConnectionError("Redis closed the connection")
        reader.feed(data)
    return replies


def _as_redis_error(exc: BaseException) -> RedisError:
    """No node of a cluster answered: a stall (`RedisTimeoutError`) when a node timed out, else a
    connection error."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, TimeoutError | RedisTimeoutError):
            return RedisTimeoutError(str(exc))
        cause = cause.__cause__ or cause.__context__
    return RedisConnectionError(str(exc))


def _closed_or_dirty(connection: Any) -> bool:
    """A readable idle socket: closed by the server, or holding data nobody asked for (TLS session
    tickets are readable but carry no reply: not dirty)."""
    try:
        return bool(connection.can_read(timeout=0))
    except (RedisConnectionError, RedisTimeoutError, OSError):
        return True


def _direct(client: Any) -> bool:
    """A standalone Redis client whose commands no tracer wraps: its round trips may skip the
    pipeline machinery. A cluster client routes each command to its node, and a traced one
    (opentelemetry-instrumentation-redis wraps `execute_command`) must keep its Redis spans."""
    return isinstance(client, Redis) and not hasattr(type(client).execute_command, "__wrapped__")


def _take_riders(calls: Sequence[_Call], replies: Sequence[Any]) -> list[Any]:
    """The replies of `calls` alone; each rider's reply goes to its `outcome`."""
    results: list[Any] = []
    position = 0
    for call in calls:
        results.append(replies[position])
        position += 1
        if call.rider is not None:
            call.rider.outcome = replies[position]
            position += 1
    return results


def _capture(function: Callable[..., Any], *args: object) -> Any:
    """`function(*args)`, or the exception it raised (delivered to the caller)."""
    try:
        return function(*args)
    except Exception as exc:
        return exc


def _deliver(calls: Sequence[_Call], outcomes: Sequence[Any]) -> None:
    """Wake the callers: one thread-safe wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for call, outcome in zip(calls, outcomes, strict=True):
        by_loop.setdefault(call.future.get_loop(), []).append((call.future, outcome))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            pass


def _settle(settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in settled:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
