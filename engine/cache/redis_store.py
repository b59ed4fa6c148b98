"""The Redis cache (standalone or Cluster): one GET per hit, fail-open behind a circuit breaker.

Response variants are keyed by their own digest (engine.cache.keys), so one operation's variants
spread over every cluster slot. The digest includes the API's and the operation's *generation*,
read from the API's generations hash and cached in this process for `generation_ttl` seconds
(one HMGET per API operation and period, shared by concurrent lookups): a hit costs one GET.
Purging increments a generation with one script on that one key (O(1), exact): older variants are
never looked up again and expire by their TTL; it then collects the operation's 32 store counters
for its report. Another gateway notices a purge within
`generation_ttl`; the gateway that purged, at once.

Every command goes through this store's dispatcher (`open_dispatcher`: engine.redis_loop for a
standalone Redis, a thread for a cluster): lookups queue without a time budget of their own and
are pipelined, with a stall bound that measures Redis's silence, not this process's lateness. So a
healthy Redis answers however busy this process is; Redis counts as failed only when the
connection is refused or breaks, or when it sends nothing for `timeout` seconds (a frozen Redis
fails every queued call after one timeout). Failed calls return a miss or do nothing and count the
error. The circuit breaker is the endpoint's (engine.redis_health), shared with the rate limiter
and every other component using the same Redis: a stall any of them saw opens it, and while it is
open calls fail at once (a miss, nothing stored) until one probe after `reset_after` closes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from redis.exceptions import RedisError

from engine.cache.connection import RedisSettings
from engine.cache.keys import COUNT_SHARDS, KeyGroup, count_key, generations_key, lease_key
from engine.cache.stores import CacheUnavailable
from engine.redis_dispatcher import Script
from engine.redis_health import BreakerRule, RedisUnavailable, health_of
from engine.redis_loop import open_dispatcher

if TYPE_CHECKING:
    from engine.metrics import Metrics

log = logging.getLogger("policygate.cache")

T = TypeVar("T")

# Read an operation's generations, registering the operation in the API's hash (HSETNX), so that an
# API-wide purge knows which operations' store counters to collect.
GENERATION_SCRIPT = Script.of("""
redis.call('HSETNX', KEYS[1], 'op:' .. ARGV[1], 0)
return redis.call('HMGET', KEYS[1], 'api', 'op:' .. ARGV[1])
""")

# Purge: bump the API's (ARGV[1] == '') or one operation's generation; return the operations whose
# store counters the purge reports.
PURGE_SCRIPT = Script.of("""
if ARGV[1] ~= '' then
  redis.call('HINCRBY', KEYS[1], 'op:' .. ARGV[1], 1)
  return {ARGV[1]}
end
redis.call('HINCRBY', KEYS[1], 'api', 1)
local operations = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 3) == 'op:' then table.insert(operations, string.sub(field, 4)) end
end
return operations
""")

# Release a coalescing lease only if this request still holds it (it may have expired and moved on).
RELEASE_SCRIPT = Script.of("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")
POLL_FIRST, POLL_MAX = 0.01, 0.1  # seconds between a waiter's looks for the leader's entry

_FAILED = object()
ERRORS = (RedisError, OSError, TimeoutError)


class RedisStore:
    """`Store` in Redis (`settings`). Owns its `dispatcher` (stopped by `close()`); `breaker` is the
    endpoint's, following `breaker_rule` (with those of the endpoint's other users) while open."""

    kind = "external"

    def __init__(
        self,
        settings: RedisSettings,
        *,
        breaker_rule: BreakerRule | None = None,
        metrics: Metrics | None = None,
        generation_ttl: float = 1.0,
    ) -> None:
        self.dispatcher = open_dispatcher(settings, name="policygate-cache-redis", breaker=breaker_rule)
        self.breaker = health_of(settings).breaker
        self.generation_ttl = generation_ttl
        # (prefix, api, operation) -> (monotonic expiry, "<api generation>.<operation generation>")
        self._generations: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._reading: dict[tuple[str, str, str], asyncio.Future[str | None]] = {}
        self._unexpected_reported = False
        self._errors = (
            metrics.counter("policygate_redis_errors_total", "Failed Redis calls.", ("component",))
            if metrics is not None else None
        )

    async def get(self, key: str) -> bytes | None:
        return (await self.fetch(key))[0]

    async def response_key(self, group: KeyGroup, variant: str) -> str | None:
        generation = await self.generation(group)
        return None if generation is None else group.spread_key(variant, generation)

    def known_key(self, group: KeyGroup, variant: str) -> str | None:
        """The Redis key of `variant` when it is known without a round trip (the generations are
        cached) and the breaker is closed; else None. For a read sent ahead (`Rider`)."""
        cached = self._generations.get((group.prefix, group.api, group.operation))
        if cached is None or cached[0] <= time.monotonic() or self.breaker.state != "closed":
            return None
        return group.spread_key(variant, cached[1])

    async def generation(self, group: KeyGroup) -> str | None:
        """The API's and the operation's generation (cached `generation_ttl` s); None: Redis unavailable."""
        ident = (group.prefix, group.api, group.operation)
        cached = self._generations.get(ident)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        reading = self._reading.get(ident)
        if reading is None:  # one read per API operation, however many lookups need it now
            reading = asyncio.ensure_future(self._read_generation(group))
            self._reading[ident] = reading
            reading.add_done_callback(lambda _: self._reading.pop(ident, None))
        return await asyncio.shield(reading)

    async def _read_generation(self, group: KeyGroup) -> str | None:
        started = time.monotonic()
        values: Any = await self._guarded(lambda: self._script(GENERATION_SCRIPT, group.generations_key, group.operation), _FAILED)
        if values is _FAILED:
            return None
        generation = ".".join((v or b"0").decode() for v in values)
        if self.generation_ttl > 0:
            self._generations[(group.prefix, group.api, group.operation)] = (started + self.generation_ttl, generation)
        return generation

    async def fetch(self, key: str) -> tuple[bytes | None, bool]:
        """(value or None, False when Redis could not be asked: breaker open or call failed)."""
        result = await self._guarded(lambda: self._command("GET", key), _FAILED)
        if result is _FAILED:
            return None, False
        return (result if isinstance(result, bytes) else None), True

    async def set(self, key: str, value: bytes, ttl: float, group: KeyGroup | None = None) -> None:
        ttl_ms = int(ttl * 1000)
        if ttl_ms <= 0:
            return
        if group is None:
            await self._guarded(lambda: self._command("SET", key, value, "PX", ttl_ms), None)
            return
        commands: list[tuple[object, ...]] = [("SET", key, value, "PX", ttl_ms), ("INCR", group.count_key(key))]
        if (group.prefix, group.api, group.operation) not in self._generations:  # not registered by a generation read here
            commands.append(("HSETNX", group.generations_key, "op:" + group.operation, 0))
        await self._guarded(lambda: self.dispatcher.commands(commands), None)  # one round trip

    async def lead_or_wait(self, key: str, timeout: float) -> tuple[str | None, bytes | None]:
        """Cross-instance single-flight for a missed variant `key`.

        Returns (lease token, None) when this request holds the lease and should fill the cache
        (release it with `release_lease`); (None, entry) when another instance filled it while we
        waited; (None, None) when the caller should go to the backend itself: the holder finished
        without storing, `timeout` passed, or Redis is unavailable (a lease never blocks then). The
        lease expires after `timeout` on its own, so it never outlives a holder that died.
        """
        token = uuid.uuid4().hex
        lease = lease_key(key)
        lease_ms = max(1, int(timeout * 1000))
        taken = await self._guarded(lambda: self._command("SET", lease, token, "NX", "PX", lease_ms), _FAILED)
        if taken is _FAILED:
            return None, None
        if taken:
            # The caller's miss was read before the lease was taken: a holder may have stored the entry
            # and released its lease in between. A holder stores before it releases, so a read after
            # taking the lease sees that entry (a separate round trip: on a cluster the two keys live
            # on different nodes, whose replies come in any order).
            entry = await self._guarded(lambda: self._command("GET", key), None)
            if not isinstance(entry, bytes):
                return token, None
            await self.release_lease(key, token)
            return None, entry
        deadline = time.monotonic() + timeout
        pause = POLL_FIRST
        while time.monotonic() < deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, POLL_MAX)
            seen = await self._guarded(lambda: self.dispatcher.commands([("EXISTS", lease), ("GET", key)]), _FAILED)
            if not isinstance(seen, list):
                return None, None
            held, entry = seen
            if isinstance(entry, bytes):
                return None, entry
            if not held:  # released: read the entry once more, after the release (see above)
                entry = await self._guarded(lambda: self._command("GET", key), None)
                return None, entry if isinstance(entry, bytes) else None
        return None, None

    async def release_lease(self, key: str, token: str) -> None:
        await self._guarded(lambda: self._script(RELEASE_SCRIPT, lease_key(key), token), None)

    async def delete(self, key: str) -> bool:
        return bool(await self._guarded(lambda: self._command("DEL", key), 0))

    async def purge(self, prefix: str, api: str, operation: str | None = None) -> int:
        """Invalidate every variant of `api` (or one operation) with one script; the number of entries
        stored since the previous purge (some may have expired already). Cost: one script plus
        32 counter reads per operation, whatever the number of variants."""
        try:
            operations = await self._script(PURGE_SCRIPT, generations_key(prefix, api), operation or "")
            counters = [
                ("GETDEL", count_key(prefix, api, op.decode() if isinstance(op, bytes) else op, shard))
                for op in operations for shard in range(COUNT_SHARDS)
            ]
            removed = sum(int(v) for v in await self.dispatcher.commands(counters) if v is not None)
        except ERRORS as exc:
            raise CacheUnavailable(f"cannot purge: Redis unavailable ({exc or type(exc).__name__})") from None
        for ident in [i for i in self._generations if i[:2] == (prefix, api)]:
            del self._generations[ident]  # this gateway sees its own purge at once
        return removed

    async def ping(self) -> bool:
        """True when Redis answers now (ignores the breaker)."""
        try:
            return bool(await self.dispatcher.call(lambda client: client.ping()))
        except ERRORS:
            return False

    async def close(self) -> None:
        await self.dispatcher.close()

    async def _command(self, *command: object) -> Any:
        return await self.dispatcher.command(*command)

    async def _script(self, script: Script, key: str, *args: object) -> Any:
        return await self.dispatcher.command("EVALSHA", script.sha, 1, key, *args, script=script)

    async def _guarded(self, call: Callable[[], Awaitable[Any]], fallback: T) -> Any | T:
        """`call()`, or `fallback` when the breaker is open or Redis failed it (fail open). No time
        budget here: the dispatcher fails a call only for a broken connection or a stall."""
        try:
            result = await call()
        except RedisUnavailable:
            return fallback
        except Exception as exc:  # noqa: BLE001 - fail open: whatever went wrong, a miss
            self._failed(exc)
            return fallback
        self._unexpected_reported = False
        return result

    def _failed(self, exc: BaseException) -> None:
        """A Redis call failed: count it; report an unexpected error once until Redis works again."""
        if self._errors is not None:
            self._errors.inc("cache")
        if not isinstance(exc, ERRORS) and not self._unexpected_reported:
            self._unexpected_reported = True
            log.warning("unexpected error from the redis cache: %r", exc)
