"""Redis round trips on the caller's own event loop: one pipelined connection per loop, no thread.

`LoopDispatcher` has the interface of `engine.redis_dispatcher.Dispatcher` and keeps its promises,
without the two thread hand-overs per round trip (queue to the thread, `call_soon_threadsafe` back)
and without a second thread competing for the GIL with the busy event loop:

* Callers wait for their reply **without a budget of their own**. Commands submitted in one loop
  iteration are packed by hiredis and written together; replies are parsed by a hiredis reader as
  they arrive and settle the callers in order. At most `max_batch` commands are unanswered at a time.
* **The stall bound is Redis's silence, not the loop's lateness.** One timer per connection, due
  `timeout` after the last byte from Redis (or after the write that made it owe a reply). When it
  runs late because the loop was busy, the socket is polled first: data waiting there is Redis's
  answer in time, not a stall. Only a socket with nothing to read after `timeout` of silence fails
  everything unanswered **and everything queued behind it** at once; the connection is dropped.
* Nothing that may have reached Redis is sent twice: a connection that breaks fails its unanswered
  commands. A connection the server closed while idle (a Redis restart) is noticed before anything
  is written (the loop reads the end of the stream first) and replaced.
* Connecting never blocks the loop: the TCP handshake runs in a worker thread with a kernel-measured
  `connect_timeout`; TLS, `HELLO 3` with `AUTH` (RESP3, as redis-py; RESP2 and `AUTH` on a Redis
  older than 6), `CLIENT SETNAME` and `SELECT` then run on the loop under the
  stall bound, and commands are sent only after every set-up reply was OK.
* `NOSCRIPT` is answered by sending that command again as `EVAL`; a `Rider` travels right behind its
  carrier and its outcome is set before the carrier's caller wakes (see engine.redis_dispatcher).
* `call(function)` (SCRIPT LOAD, PING) and every command while redis-py is traced by OpenTelemetry
  (the spans come from redis-py's client) go through a thread `Dispatcher` started on first use.
* With a `RedisHealth` (engine.redis_health, shared by every dispatcher of the endpoint): a command
  is refused at once (`RedisUnavailable`) while the endpoint's breaker is open; every reply tells the
  health Redis is alive, and a stall or a lost connection with replies owed tells it the opposite.

`open_dispatcher(settings)` picks this class for a standalone Redis and the thread `Dispatcher`
for Redis Cluster (its client routes each command to a node), both with the endpoint's health.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import hiredis
from redis import Redis
from redis._parsers.base import BaseParser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.redis_dispatcher import MAX_BATCH, Dispatcher, Rider, Script, all_replies, pack
from engine.redis_health import BreakerRule, RedisHealth, health_of

if TYPE_CHECKING:
    from engine.cache.connection import RedisSettings

_NOT_ENOUGH_DATA = object()
# A Redis Cluster round trip still under way after this many `timeout`s is a stall, whatever
# redis-py does inside it (engine.redis_dispatcher): the margin covers a healthy cluster's slowest
# answer on a busy machine beyond the socket timeout itself.
STALL_GRACE = 1.2


def open_dispatcher(settings: RedisSettings, *, name: str, breaker: BreakerRule | None = None) -> Dispatcher | LoopDispatcher:
    """The dispatcher for `settings`: on the event loop for a standalone Redis, a thread for a cluster;
    behind the endpoint's shared health, whose breaker follows `breaker` while the dispatcher is open."""
    from engine.cache.connection import create_sync_client

    health = health_of(settings)
    dispatcher: Dispatcher | LoopDispatcher
    if settings.cluster:
        dispatcher = Dispatcher(partial(create_sync_client, settings), name=name, health=health,
                                stall_after=settings.timeout * STALL_GRACE)
    else:
        dispatcher = LoopDispatcher(settings, name=name, health=health)
    if breaker is not None:
        health.join(dispatcher, breaker)
    return dispatcher


class _Call:
    __slots__ = ("command", "script", "future", "rider", "replies", "carried")

    def __init__(self, command: tuple[object, ...], script: Script | None, future: asyncio.Future[Any],
                 rider: Rider | None) -> None:
        self.command = command
        self.script = script
        self.future = future
        self.rider = rider
        self.replies = 1 if rider is None else 2  # replies still owed by Redis
        self.carried: Any = None  # the carrier's reply while its rider's is still owed


class LoopDispatcher:
    """Queue Redis commands; each event loop sends them on its own pipelined connection."""

    def __init__(self, settings: RedisSettings, *, name: str = "policygate-redis", max_batch: int = MAX_BATCH,
                 health: RedisHealth | None = None) -> None:
        from engine.cache.connection import create_sync_client

        self.settings = settings
        self.max_batch = max_batch
        self.health = health
        if health is not None:
            health.attach(self)
        self._name = name
        self.client: Any = create_sync_client(settings)  # not connected: its reply callbacks, and `call`'s client
        self._callbacks = self.client.response_callbacks
        pool = self.client.connection_pool
        self.packer = pool.connection_class(**pool.connection_kwargs)  # never connected: packs what hiredis cannot
        self._lanes: dict[asyncio.AbstractEventLoop, _Lane] = {}
        self._threaded: Dispatcher | None = None
        self._closed = False

    def resp2_callbacks(self) -> Any:
        """The reply callbacks of a RESP2 connection (a Redis older than 6 has no HELLO)."""
        return Redis(protocol=2).response_callbacks

    async def command(self, *command: object, script: Script | None = None, rider: Rider | None = None) -> Any:
        """Send `command` (pipelined with whatever else is queued); its reply.

        `script`: for an EVALSHA, the script to EVAL instead when Redis answers NOSCRIPT.
        `rider`: a read sent right behind `command` in the same round trip (`Rider`).
        Raises the Redis error of the command or of its round trip (`RedisUnavailable`: not sent,
        the endpoint's breaker is open).
        """
        if _traced():
            return await self._thread().command(*command, script=script, rider=rider)
        if self.health is not None and not self.health.closed:
            self.health.refuse(self.probe)
        future = self._lane().submit(command, script, rider)
        return await future

    async def commands(self, commands: Sequence[tuple[object, ...]]) -> list[Any]:
        """Replies of `commands`, written together. Raises the first error among them."""
        if _traced():
            return await self._thread().commands(commands)
        if self.health is not None and not self.health.closed:
            self.health.refuse(self.probe)
        lane = self._lane()
        return await all_replies([lane.submit(command, None, None) for command in commands])

    async def probe(self) -> bool:
        """A `PING` past the breaker (the endpoint's background probe, engine.redis_health); False
        when this dispatcher is closed. Its connection reports the outcome to the health."""
        if self._closed:
            return False
        await self._lane().submit(("PING",), None, None)
        return True

    def abandon(self, error: BaseException) -> None:
        """Fail every caller waiting on any loop's connection (the endpoint's breaker opened; from any thread)."""
        for lane in list(self._lanes.values()):
            try:
                lane.loop.call_soon_threadsafe(lane.abandon, error)
            except RuntimeError:  # that loop is closed: nobody waits there any more
                pass

    async def call(self, function: Callable[[Any], Any]) -> Any:
        """Run `function(client)` with a blocking client in a thread (SCRIPT LOAD, PING...)."""
        return await self._thread().call(function)

    async def load_script(self, script: Script) -> None:
        """`SCRIPT LOAD` on this loop's connection (which is opened by it)."""
        await self.command("SCRIPT", "LOAD", script.source)

    async def close(self) -> None:
        """Close every connection once its unanswered commands are settled, and the thread."""
        if self._closed:
            return
        self._closed = True
        if self.health is not None:
            self.health.leave(self)
        for lane in list(self._lanes.values()):
            await lane.close()
        self._lanes.clear()
        if self._threaded is not None:
            await self._threaded.close()

    def _lane(self) -> _Lane:
        if self._closed:
            raise RedisConnectionError(f"{self._name}: the Redis client is closed")
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            for old in [old for old in self._lanes if old.is_closed()]:
                del self._lanes[old]
            lane = self._lanes[loop] = _Lane(self, loop)
        return lane

    def _thread(self) -> Dispatcher:
        if self._closed:
            raise RedisConnectionError(f"{self._name}: the Redis client is closed")
        if self._threaded is None:
            client = self.client
            self._threaded = Dispatcher(lambda: client, name=self._name, max_batch=self.max_batch, health=self.health)
        return self._threaded


def _traced() -> bool:
    """True while opentelemetry-instrumentation-redis wraps redis-py (its spans need redis-py's client)."""
    return hasattr(Redis.execute_command, "__wrapped__")


class _Lane:
    """One event loop's queue and connection."""

    def __init__(self, owner: LoopDispatcher, loop: asyncio.AbstractEventLoop) -> None:
        self.owner = owner
        self.loop = loop
        self.queued: deque[_Call] = deque()
        self.connection: _Connection | None = None
        self.connecting: asyncio.Task[None] | None = None
        self.flushing = False
        self.waited_for: _Connection | None = None  # the idle connection found readable: the loop reads it first

    def submit(self, command: tuple[object, ...], script: Script | None, rider: Rider | None) -> asyncio.Future[Any]:
        future = self.loop.create_future()
        self.queued.append(_Call(command, script, future, rider))
        if not self.flushing:
            self.flushing = True
            self.loop.call_soon(self.flush)
        return future

    def flush(self) -> None:
        """Write what is queued (up to `max_batch` unanswered), connecting first when needed."""
        self.flushing = False
        if not self.queued or self.connecting is not None:
            return
        connection = self.connection
        if connection is None or connection.broken:
            self.connection = None
            self.connecting = self.loop.create_task(self._connect())
            return
        if not connection.unanswered and connection.readable():
            # Something arrived on an idle connection (most likely the server closing it): let the
            # loop read it before writing anything, so a closed connection is replaced, not used.
            # Still readable after the loop's turn: the connection is not to be trusted.
            if self.waited_for is connection:
                connection.drop(RedisConnectionError("Redis connection readable while idle"))
                return
            self.waited_for = connection
            self.flushing = True
            self.loop.call_later(0, self.flush)
            return
        self.waited_for = None
        room = self.owner.max_batch - connection.owed
        batch: list[_Call] = []
        while self.queued and room > 0:
            call = self.queued.popleft()
            if not call.future.done():  # a caller that gave up (cancelled) is not sent
                batch.append(call)
                room -= call.replies
        if batch:
            connection.send(batch)

    def fail_queued(self, error: BaseException) -> None:
        while self.queued:
            _settle(self.queued.popleft().future, error)

    def abandon(self, error: BaseException) -> None:
        """Fail the queued calls and the callers of unanswered ones; those stay owed, so the replies
        Redis still sends are matched in order and dropped."""
        self.fail_queued(error)
        if self.connection is not None:
            for call in self.connection.unanswered:
                _settle(call.future, error)

    def lost(self, connection: _Connection) -> None:
        """`connection` broke (its unanswered calls are failed): what is queued goes on a new one."""
        if self.connection is connection:
            self.connection = None
        if self.queued and not self.flushing:
            self.flushing = True
            self.loop.call_soon(self.flush)

    async def _connect(self) -> None:
        try:
            connection = await _open(self)
        except Exception as exc:  # Redis unreachable or refusing the set-up: these calls fail, the next ones try again
            error = exc if isinstance(exc, RedisError) else RedisConnectionError(str(exc) or type(exc).__name__)
            if self.owner.health is not None:
                self.owner.health.failed(error)
            self.fail_queued(error)
            return
        finally:
            self.connecting = None
        if self.owner._closed or connection.broken:  # closed meanwhile, or broken by its first replies
            connection.close()
            self.fail_queued(RedisConnectionError("Redis closed the connection while it was set up"))
            return
        self.connection = connection
        self.flush()

    async def close(self) -> None:
        if self.connecting is not None:
            await asyncio.gather(self.connecting, return_exceptions=True)
        self.fail_queued(RedisConnectionError(f"{self.owner._name}: the Redis client is closed"))
        connection = self.connection
        if connection is not None:
            pending = [call.future for call in connection.unanswered]
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            connection.close()
            self.connection = None


async def _open(lane: _Lane) -> _Connection:
    """A set-up connection of `lane`: TCP in a thread (kernel-measured connect timeout), then TLS and
    AUTH / CLIENT SETNAME / SELECT on the loop under the stall bound.

    Raises:
        redis ConnectionError / TimeoutError / the error reply to a set-up command.
    """
    settings = lane.owner.settings
    host, port = settings.nodes[0]
    try:
        sock = await asyncio.to_thread(socket.create_connection, (host, port), settings.connect_timeout)
    except TimeoutError:
        raise RedisTimeoutError(f"Timeout connecting to Redis at {host}:{port}") from None
    except OSError as exc:
        raise RedisConnectionError(f"Error connecting to Redis at {host}:{port}: {exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    tls = _tls_context(settings) if settings.ssl else None
    try:
        _, connection = await lane.loop.create_connection(
            partial(_Connection, lane), sock=sock, ssl=tls, server_hostname=host if tls is not None else None,
            ssl_handshake_timeout=max(settings.timeout, settings.connect_timeout) if tls is not None else None,
        )
    except (ssl.SSLError, OSError) as exc:  # a certificate that does not verify, a reset during the handshake
        sock.close()
        raise RedisConnectionError(f"Error connecting to Redis at {host}:{port}: {exc}") from None
    try:
        credentials = () if settings.password is None else (settings.username or "default", settings.password)
        hello = await _setup(connection, [("HELLO", 3, "AUTH", *credentials) if credentials else ("HELLO", 3)])
        setup: list[tuple[object, ...]] = []
        if isinstance(hello[0], BaseException):
            if not isinstance(hello[0], ResponseError) or not str(hello[0]).lower().startswith(("unknown command",
                                                                                              "noproto")):
                raise hello[0]
            connection.callbacks = lane.owner.resp2_callbacks()  # a Redis before 6: RESP2, as redis-py falls back
            if credentials:
                setup.append(("AUTH", *credentials) if settings.username else ("AUTH", settings.password))
        if settings.client_name:
            setup.append(("CLIENT", "SETNAME", settings.client_name))
        if settings.db:
            setup.append(("SELECT", settings.db))
        for reply in await _setup(connection, setup) if setup else ():
            if isinstance(reply, BaseException):
                raise reply
    except BaseException as exc:
        connection.close()
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)) or not isinstance(exc, RedisError):
            raise  # a stall during the set-up stays a stall
        raise RedisConnectionError(f"Redis refused the connection set-up: {exc}") from None
    return connection


async def _setup(connection: _Connection, commands: list[tuple[object, ...]]) -> list[Any]:
    """Replies (an error reply as its exception) of set-up `commands`, written together."""
    calls = [_Call(command, None, connection.loop.create_future(), None) for command in commands]
    connection.send(calls)
    return list(await asyncio.gather(*(call.future for call in calls), return_exceptions=True))


def _tls_context(settings: RedisSettings) -> ssl.SSLContext:
    """The TLS context redis-py builds for the same settings."""
    context = ssl.create_default_context(cafile=settings.ssl_ca_certs)
    context.check_hostname = settings.ssl_cert_reqs == "required"
    context.verify_mode = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL}.get(settings.ssl_cert_reqs,
                                                                                     ssl.CERT_REQUIRED)
    return context


class _Connection(asyncio.Protocol):
    """One Redis connection on the loop: calls written in order, replies settled in order."""

    def __init__(self, lane: _Lane) -> None:
        self.lane = lane
        self.loop = lane.loop
        self.timeout = lane.owner.settings.timeout
        self.callbacks = lane.owner._callbacks
        self.transport: asyncio.Transport | None = None
        self.fileno = -1
        self.reader = hiredis.Reader(replyError=BaseParser.parse_error, protocolError=InvalidResponse,
                                     notEnoughData=_NOT_ENOUGH_DATA)
        self.unanswered: deque[_Call] = deque()
        self.owed = 0  # replies Redis owes (riders included)
        self.heard = 0.0  # loop time of the last byte from Redis, or of the write that made it owe
        self.timer: asyncio.TimerHandle | None = None
        self.broken = False
        self.health = lane.owner.health

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport
        sock = transport.get_extra_info("socket")
        self.fileno = sock.fileno() if sock is not None else -1

    def data_received(self, data: bytes) -> None:
        self.heard = self.loop.time()
        if self.health is not None and self.health.suspect:
            self.health.answered()
        reader = self.reader
        reader.feed(data)
        unanswered = self.unanswered
        while True:
            try:
                reply = reader.gets()
            except InvalidResponse as exc:
                self._break(RedisConnectionError(f"Redis sent a malformed reply: {exc}"))
                return
            if reply is _NOT_ENOUGH_DATA:
                break
            if not unanswered:
                self._break(RedisConnectionError("Redis sent data nobody asked for"))
                return
            call = unanswered[0]
            self.owed -= 1
            if call.replies == 2:  # the carrier's reply; its rider's comes next
                call.replies = 1
                call.carried = reply
                continue
            unanswered.popleft()
            if call.rider is not None:
                call.rider.outcome = self._parsed(call.rider.command, reply)
                reply = call.carried
            self._answer(call, reply)
        if self.owed < self.lane.owner.max_batch and self.lane.queued and not self.lane.flushing:
            self.lane.flush()

    def eof_received(self) -> bool:
        self._break(RedisConnectionError("Redis closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._break(RedisConnectionError(f"Error while reading from Redis: {exc}" if exc else "Redis closed the connection"))

    # -- sending ------------------------------------------------------------------------------
    def send(self, calls: list[_Call]) -> None:
        commands = [c for call in calls for c in _commands(call)] if len(calls) > 1 else _commands(calls[0])
        try:
            data = pack(commands, self.lane.owner.packer)
        except Exception:  # an argument Redis cannot take: that caller fails, the others are sent
            calls = [call for call in calls if self._packs(call)]
            if not calls:
                return
            commands = [c for call in calls for c in _commands(call)]
            data = pack(commands, self.lane.owner.packer)
        if not self.unanswered:
            self.heard = self.loop.time()
        if self.timer is None:
            self.timer = self.loop.call_at(self.heard + self.timeout, self._check_stall)
        self.unanswered.extend(calls)
        self.owed += len(commands)
        assert self.transport is not None
        self.transport.write(data)

    def readable(self) -> bool:
        """Whether the socket holds data the loop has not read yet (polled, never waited for)."""
        if self.fileno < 0:  # no socket to poll (never the case for TCP transports)
            return False
        try:
            return bool(select.select([self.fileno], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        self.broken = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.transport is not None:
            self.transport.close()

    # -- replies and failures -----------------------------------------------------------------
    def _answer(self, call: _Call, reply: Any) -> None:
        if isinstance(reply, NoScriptError) and call.script is not None:  # Redis lost its scripts: EVAL caches it again
            retry = _Call(("EVAL", call.script.source, *call.command[2:]), None, call.future, None)
            self.lane.queued.appendleft(retry)
            if not self.lane.flushing:
                self.lane.flushing = True
                self.loop.call_soon(self.lane.flush)
            return
        future = call.future
        if future.done():
            return
        reply = self._parsed(call.command, reply)
        if isinstance(reply, BaseException):
            future.set_exception(reply)
        else:
            future.set_result(reply)

    def _parsed(self, command: tuple[object, ...], reply: Any) -> Any:
        """`reply` through redis-py's reply callback of `command` (an error reply stays as it is)."""
        callback = self.callbacks.get(command[0])
        if callback is None or isinstance(reply, BaseException):
            return reply
        try:
            return callback(reply)
        except Exception as exc:
            return exc

    def _packs(self, call: _Call) -> bool:
        """Whether `call` can be sent; if not, its caller gets the packer's error."""
        try:
            pack(_commands(call), self.lane.owner.packer)
        except Exception as exc:
            _settle(call.future, exc if isinstance(exc, RedisError) else RedisError(str(exc)))
            return False
        return True

    def _check_stall(self) -> None:
        self.timer = None
        if not self.unanswered or self.broken:
            return
        now = self.loop.time()
        due = self.heard + self.timeout
        if now < due:
            self.timer = self.loop.call_at(due, self._check_stall)
            return
        if self.readable():  # Redis answered; the loop was too busy to read it yet: not a stall
            self.heard = now
            self.timer = self.loop.call_at(now + self.timeout, self._check_stall)
            return
        error = RedisTimeoutError("Timeout reading from Redis")
        if self.health is not None:
            self.health.failed(error)  # first: whoever wakes up now finds the breaker open
        self._break(error, reported=True)
        self.lane.fail_queued(error)  # Redis is stalled: nobody queued behind it waits another timeout

    def drop(self, error: BaseException) -> None:
        """Close this connection, failing what it has not answered with `error`; queued calls go on a new one."""
        self._break(error)

    def _break(self, error: BaseException, *, reported: bool = False) -> None:
        if self.broken:
            return
        if not reported and self.unanswered and self.health is not None and self.lane.connection is self:
            self.health.failed(error)  # (a connection still being set up: its lane reports the failure)
        self.close()
        if self.transport is not None:
            self.transport.abort()
        unanswered, self.unanswered, self.owed = self.unanswered, deque(), 0
        for call in unanswered:
            _settle(call.future, error)
        self.lane.lost(self)


def _commands(call: _Call) -> list[tuple[object, ...]]:
    return [call.command] if call.rider is None else [call.command, call.rider.command]


def _settle(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
