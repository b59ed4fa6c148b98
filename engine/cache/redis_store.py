"""The Redis cache (standalone or Cluster): one GET per hit, fail-open behind a circuit breaker.

Request-path operations are bounded by the client's connect/read timeouts plus a hard deadline;
when Redis cannot be reached they return a miss or do nothing, count the error, and after
`failure_threshold` consecutive failures the breaker stops trying for `reset_after` seconds
(one probe then decides whether it closes again). State changes are logged once by the breaker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from redis.exceptions import RedisError

from engine.breaker import CircuitBreaker
from engine.cache.keys import KeyGroup, operations_key
from engine.cache.stores import CacheUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    from engine.metrics import Metrics

log = logging.getLogger("policygate.cache")

T = TypeVar("T")

# Store an entry (when two keys are given) and add `member` to a sorted-set index whose score is the
# member's expiry in ms; prune expired members and let the index itself expire with its last member.
# Both keys carry the same hash tag, so this is legal on Redis Cluster.
INDEX_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local expiry = now + ttl
if #KEYS == 2 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) end
local index = KEYS[#KEYS]
local current = redis.call('ZSCORE', index, ARGV[3])
if (not current) or tonumber(current) < expiry then redis.call('ZADD', index, expiry, ARGV[3]) end
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', index, last[2]) end
return 1
"""

PURGE_BATCH = 500
_FAILED = object()
ERRORS = (RedisError, OSError, TimeoutError)


class GetBatcher:
    """Send the GETs issued in one event-loop iteration as one pipeline (still one GET per lookup).

    Under load many requests look up at the same moment; one write and one read for all of them
    costs far less CPU than a pool checkout and round trip each (about 5x in our measurements).
    """

    def __init__(self, client: Redis | RedisCluster) -> None:
        self.client = client
        self._pending: list[tuple[str, asyncio.Future[Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, key: str) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((key, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[tuple[str, asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:
                results = [await self.client.get(batch[0][0])]
            else:
                pipe = self.client.pipeline(transaction=False)
                for key, _ in batch:
                    pipe.get(key)
                results = await pipe.execute()
        except BaseException as exc:  # handed to every waiter; they decide (fail open)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RedisError("cancelled"))
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


class RedisStore:
    """`Store` in Redis. Owns `client` (closed by `close()`)."""

    kind = "external"

    def __init__(
        self,
        client: Redis | RedisCluster,
        *,
        timeout: float = 0.05,
        connect_timeout: float = 0.05,
        breaker: CircuitBreaker | None = None,
        metrics: Metrics | None = None,
        name: str = "redis cache",
    ) -> None:
        self.client = client
        self.breaker = breaker or CircuitBreaker(name)
        # A hard bound on one request-path call: connect + read, plus scheduling slack.
        self.deadline = connect_timeout + timeout + 0.05
        self._index = client.register_script(INDEX_SCRIPT)
        self._batcher = GetBatcher(client)
        self._unexpected_reported = False
        self._errors = (
            metrics.counter("policygate_redis_errors_total", "Failed Redis calls.", ("component",))
            if metrics is not None else None
        )

    async def get(self, key: str) -> bytes | None:
        return (await self.fetch(key))[0]

    async def fetch(self, key: str) -> tuple[bytes | None, bool]:
        """(value or None, False when Redis could not be asked: breaker open or call failed)."""
        result = await self._guarded(lambda: self._batcher.get(key), _FAILED)
        if result is _FAILED:
            return None, False
        return (result if isinstance(result, bytes) else None), True

    async def set(self, key: str, value: bytes, ttl: float, group: KeyGroup | None = None) -> None:
        ttl_ms = int(ttl * 1000)
        if ttl_ms <= 0:
            return
        if group is None:
            await self._guarded(lambda: self.client.set(key, value, px=ttl_ms), None)
            return

        async def store() -> None:
            await self._index(keys=[key, group.index_key], args=[value, ttl_ms, key])
            await self._index(keys=[group.operations_key], args=[b"", ttl_ms, group.operation])

        await self._guarded(store, None)

    async def delete(self, key: str) -> bool:
        return bool(await self._guarded(lambda: self.client.delete(key), 0))

    async def purge(self, prefix: str, api: str, operation: str | None = None) -> int:
        try:
            async with asyncio.timeout(max(5.0, self.deadline * 20)):
                return await self._purge(prefix, api, operation)
        except ERRORS as exc:
            raise CacheUnavailable(f"cannot purge: Redis unavailable ({exc or type(exc).__name__})") from None

    async def _purge(self, prefix: str, api: str, operation: str | None) -> int:
        ops_key = operations_key(prefix, api)
        if operation is None:
            operations = [m.decode("utf-8") if isinstance(m, bytes) else str(m)
                          for m in await self.client.zrange(ops_key, 0, -1)]
        else:
            operations = [operation]
        removed = 0
        for op in operations:
            index = KeyGroup(prefix, api, op).index_key
            while True:
                members = await self.client.zrange(index, 0, PURGE_BATCH - 1)
                if not members:
                    break
                removed += int(await self.client.delete(*members))
                await self.client.zrem(index, *members)
            await self.client.zrem(ops_key, op)
        return removed

    async def ping(self) -> bool:
        """True when Redis answers now (ignores the breaker)."""
        try:
            async with asyncio.timeout(self.deadline):
                return bool(await self.client.ping())
        except ERRORS:
            return False

    async def close(self) -> None:
        try:
            await self.client.aclose()
        except ERRORS:  # closing a client whose server is gone must not fail shutdown
            pass

    async def _guarded(self, call: Callable[[], Awaitable[Any]], fallback: T) -> Any | T:
        if not self.breaker.allow():
            return fallback
        try:
            async with asyncio.timeout(self.deadline):
                result = await call()
        except Exception as exc:  # noqa: BLE001 - fail open: a cache problem must never fail the request
            self.breaker.failure(exc)
            if self._errors is not None:
                self._errors.inc("cache")
            if not isinstance(exc, ERRORS) and not self._unexpected_reported:
                self._unexpected_reported = True  # once until Redis works again, not per request
                log.warning("unexpected error from the redis cache: %r", exc)
            return fallback
        self.breaker.success()
        self._unexpected_reported = False
        return result
