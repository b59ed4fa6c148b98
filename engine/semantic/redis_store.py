"""Semantic-cache entries in Redis: Redis 8 vector sets when the server has them, else an exact scan
of a mirror of each partition kept by every gateway.

Which one is decided once per process by asking the server (`VCARD`: an unknown command means no
vector sets); `cache.semantic.search: scan` never uses vector sets. Keys (hash-tagged per
partition, so a partition lives in one Redis Cluster slot)::

    <prefix>sc:{<partition>}:e:<id>    the stored response (string, PX = the entry's time to live)
    <prefix>sc:{<partition>}:vs        vector sets: element <id> with the prompt's vector
    <prefix>sc:{<partition>}:log       scan: stream of stored prompts: k=<entry id> x=<expiry, Unix ms> v=<float32 unit vector>

Vector sets (Redis 8):

* Storing is one script: SET the response with its TTL, VADD the vector (Redis quantizes it to
  8 bits and indexes it in an HNSW graph), extend the set's TTL, and remove random elements (and
  their responses) while the set holds more than `max_per_partition`. A vector of another dimension
  (the embeddings model changed) starts the partition afresh.
* A lookup is one script: VSIM for the 4 closest elements (score = (1 + cosine) / 2), then GET the
  first within the threshold whose response still exists; elements whose response expired are
  VREMed on the way. So a lookup is one round trip, and gateways keep nothing in memory.

Scan (any Redis >= 6.2: streams with exclusive XRANGE):

* Storing is one script: SET the response with its TTL, XADD the vector to the partition's log
  (trimmed to about `max_per_partition` entries) and extend the log's own TTL to the entry's.
* Every gateway mirrors the logs of the partitions it searches in an in-process `VectorIndex`: a
  lookup first reads what was appended since its last read (one XRANGE from its cursor, usually
  empty; concurrent lookups of a partition share it), then scans the mirror exactly, then GETs the
  closest entry's response (a hit costs two round trips, a miss one). A lookup waits at most
  `SYNC_WAIT` for the read (the first load of a large partition takes seconds): after that it
  searches what is mirrored so far while the read goes on. An entry whose response is gone
  (expired, evicted, Redis flushed) is dropped from the mirror and the next closest is tried.

Every command goes through this store's own dispatcher (`open_dispatcher`: a connection on the event
loop for a standalone Redis, engine.redis_loop; a thread for a cluster, engine.redis_dispatcher), so
large log reads never queue in front of the response cache's GETs. Its circuit breaker is the
endpoint's (engine.redis_health), shared with the response cache and the rate limiter. Fail-open:
when Redis is unreachable (or the breaker is open) a lookup is a miss and a store does nothing;
both are counted by the caller from `search`'s second value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from redis.exceptions import RedisError

from engine import clock
from engine.cache.connection import RedisSettings
from engine.redis_dispatcher import Script
from engine.redis_health import RedisUnavailable, health_of
from engine.redis_loop import open_dispatcher
from engine.semantic.index import Vector, VectorIndex, unit_vector
from engine.semantic.stores import CANDIDATES, Match, new_entry_id

log = logging.getLogger("policygate.semantic_cache")

T = TypeVar("T")
SYNC_BATCH = 2000  # log entries per XRANGE while a mirror catches up
SYNC_WAIT = 0.25  # seconds a lookup waits for its partition's mirror to catch up before searching it as it is
_FAILED = object()
ERRORS = (RedisError, OSError, TimeoutError)

STORE_SCRIPT = Script.of("""
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[6], '*', 'k', ARGV[1], 'x', ARGV[2], 'v', ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
""")


# Redis 8 vector sets (used when the server has them): one vector set per partition, elements = entry ids.
VSET_STORE_SCRIPT = Script.of("""
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
local added = redis.pcall('VADD', KEYS[1], 'FP32', ARGV[2], ARGV[1])
if type(added) == 'table' and added.err then  -- another dimension: the embeddings model changed
  redis.call('DEL', KEYS[1])
  redis.call('VADD', KEYS[1], 'FP32', ARGV[2], ARGV[1])
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
for _ = 1, redis.call('VCARD', KEYS[1]) - tonumber(ARGV[5]) do
  local victim = redis.call('VRANDMEMBER', KEYS[1])
  redis.call('VREM', KEYS[1], victim)
  redis.call('DEL', ARGV[6] .. victim)
end
return 1
""")
# The closest elements (VSIM score = (1 + cosine) / 2); the first whose response still exists.
VSET_SEARCH_SCRIPT = Script.of("""
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local found = redis.pcall('VSIM', KEYS[1], 'FP32', ARGV[1], 'WITHSCORES', 'COUNT', ARGV[4])
if type(found) ~= 'table' or found.err then return false end
for i = 1, #found, 2 do
  if tonumber(found[i + 1]) < tonumber(ARGV[2]) then break end
  local payload = redis.call('GET', ARGV[3] .. found[i])
  if payload then return {found[i], found[i + 1], payload} end
  redis.call('VREM', KEYS[1], found[i])
end
return false
""")


def vset_key(prefix: str, partition: str) -> str:
    return f"{prefix}sc:{{{partition}}}:vs"


def log_key(prefix: str, partition: str) -> str:
    return f"{prefix}sc:{{{partition}}}:log"


def entry_key(prefix: str, partition: str, entry_id: str) -> str:
    return f"{prefix}sc:{{{partition}}}:e:{entry_id}"


class RedisSemanticStore:
    """`SemanticStore` in Redis (`settings`), searched through per-process mirrors."""

    kind = "external"

    def __init__(
        self, settings: RedisSettings, *, prefix: str, max_per_partition: int = 10_000, max_vectors: int = 100_000,
        on_error: Callable[[], None] | None = None, search: str = "auto",
    ) -> None:
        self.prefix = prefix
        self.vector_sets: bool | None = None if search == "auto" else False  # None: not asked yet
        self.max_per_partition = max_per_partition
        self.dispatcher = open_dispatcher(settings, name="policygate-semantic-redis")
        self.breaker = health_of(settings).breaker
        self.index = VectorIndex(max_per_partition=max_per_partition, max_vectors=max_vectors, on_drop=self._forget)
        self._cursors: dict[str, str] = {}  # partition -> id of the last log entry mirrored
        self._syncing: dict[str, asyncio.Future[bool]] = {}
        self._on_error = on_error

    async def uses_vector_sets(self) -> bool | None:
        """Whether the server has vector sets (Redis 8); None while Redis cannot be asked."""
        if self.vector_sets is None:
            answer = await self._guarded(partial(self.dispatcher.command, "VCARD", f"{self.prefix}sc:probe"), _FAILED,
                                         unknown_command=True)
            if answer is not _FAILED:
                self.vector_sets = not isinstance(answer, RedisError)
                log.info("semantic cache: %s", "Redis vector sets" if self.vector_sets else "exact scan of per-gateway mirrors")
        return self.vector_sets

    async def search(self, partition: str, query: Vector, threshold: float) -> tuple[Match | None, bool]:
        vector_sets = await self.uses_vector_sets()
        if vector_sets is None:
            return None, False
        if vector_sets:
            return await self._search_vector_set(partition, query, threshold)
        if not await self.sync(partition, SYNC_WAIT):
            return None, False
        now = clock.now()
        for candidate in self.index.nearest(partition, query, now, limit=CANDIDATES):
            if candidate.distance > threshold:
                break
            key = entry_key(self.prefix, partition, candidate.entry_id)
            payload = await self._guarded(partial(self.dispatcher.command, "GET", key), _FAILED)
            if payload is _FAILED:
                return None, False
            if isinstance(payload, bytes):
                return Match(candidate.entry_id, candidate.distance, payload), True
            self.index.remove(partition, candidate.entry_id)  # its response expired or was evicted
        return None, True

    async def add(self, partition: str, vector: Vector, payload: bytes, ttl: float) -> None:
        ttl_ms = int(ttl * 1000)
        if ttl_ms <= 0:
            return
        entry_id = new_entry_id()
        if await self.uses_vector_sets():
            await self._guarded(partial(
                self.dispatcher.command, "EVALSHA", VSET_STORE_SCRIPT.sha, 2, vset_key(self.prefix, partition),
                entry_key(self.prefix, partition, entry_id), entry_id, vector.astype("<f4").tobytes(), payload, ttl_ms,
                self.max_per_partition, entry_key(self.prefix, partition, ""), script=VSET_STORE_SCRIPT,
            ), None)
            return
        expires_ms = int(clock.now() * 1000) + ttl_ms
        await self._guarded(
            lambda: self.dispatcher.command(
                "EVALSHA", STORE_SCRIPT.sha, 2, log_key(self.prefix, partition), entry_key(self.prefix, partition, entry_id),
                entry_id, expires_ms, vector.astype("<f4").tobytes(), payload, ttl_ms, self.max_per_partition,
                script=STORE_SCRIPT,
            ),
            None,
        )

    async def _search_vector_set(self, partition: str, query: Vector, threshold: float) -> tuple[Match | None, bool]:
        """One script: VSIM for the closest entries, then GET the first whose response still exists."""
        found = await self._guarded(partial(
            self.dispatcher.command, "EVALSHA", VSET_SEARCH_SCRIPT.sha, 1, vset_key(self.prefix, partition),
            query.astype("<f4").tobytes(), 1.0 - threshold / 2.0, entry_key(self.prefix, partition, ""), CANDIDATES,
            script=VSET_SEARCH_SCRIPT,
        ), _FAILED)
        if found is _FAILED:
            return None, False
        if not isinstance(found, list) or len(found) != 3:
            return None, True
        entry_id, score, payload = found
        return Match(entry_id.decode(), max(0.0, 2.0 * (1.0 - float(score))), payload), True

    async def sync(self, partition: str, wait: float | None = None) -> bool:
        """Bring the partition's mirror up to date with its log; False when Redis could not be read.

        `wait`: give up waiting after that many seconds (True: the read goes on in the background and
        the caller searches what is mirrored so far), so a gateway loading a large partition for the
        first time does not hold requests for seconds.
        """
        running = self._syncing.get(partition)
        if running is None:
            running = asyncio.ensure_future(self._sync(partition))
            self._syncing[partition] = running
            running.add_done_callback(lambda _: self._syncing.pop(partition, None))
        if wait is None:
            return await asyncio.shield(running)
        try:
            return await asyncio.wait_for(asyncio.shield(running), wait)
        except TimeoutError:
            return True

    async def _sync(self, partition: str) -> bool:
        key = log_key(self.prefix, partition)
        while True:
            cursor = self._cursors.get(partition)
            start = "-" if cursor is None else f"({cursor}"
            entries = await self._guarded(
                partial(self.dispatcher.command, "XRANGE", key, start, "+", "COUNT", SYNC_BATCH), _FAILED,
            )
            if not isinstance(entries, list):
                return False
            now = clock.now()
            for stream_id, fields in entries:
                self._mirror(partition, fields, now)
                self._cursors[partition] = stream_id.decode() if isinstance(stream_id, bytes) else str(stream_id)
            if entries:
                self.index.enforce_bound(now, keep=partition)
            if len(entries) < SYNC_BATCH:
                return True

    def _mirror(self, partition: str, fields: Any, now: float) -> None:
        values = fields if isinstance(fields, dict) else dict(zip(fields[::2], fields[1::2], strict=False))
        try:
            entry_id = values[b"k"].decode()
            expires_at = int(values[b"x"]) / 1000.0
            vector = unit_vector(values[b"v"])
        except (KeyError, ValueError, UnicodeDecodeError):
            return  # not written by this version: ignored
        if vector is not None and expires_at > now:
            self.index.add(partition, entry_id, vector, expires_at, now)

    def _forget(self, partition: str) -> None:
        self._cursors.pop(partition, None)  # dropped from memory: read again from the start when used

    async def close(self) -> None:
        await self.dispatcher.close()
        self.index.clear()

    async def _guarded(self, call: Callable[[], Awaitable[Any]], fallback: T, *, unknown_command: bool = False) -> Any | T:
        """`call()`, or `fallback` when the breaker is open or Redis failed it (fail open); with
        `unknown_command` an unknown-command error is the answer (a capability probe), not a failure."""
        try:
            return await call()
        except RedisUnavailable:
            return fallback
        except RedisError as exc:  # "unknown command" from Redis; a cluster client knows the commands itself
            if unknown_command and any(text in str(exc).lower()
                                       for text in ("unknown command", "doesn't exist in redis commands")):
                return exc
            self._failed(exc)
        except Exception as exc:  # noqa: BLE001 - fail open: whatever went wrong, a miss
            self._failed(exc)
        return fallback

    def _failed(self, exc: BaseException) -> None:
        if self._on_error is not None:
            self._on_error()
        if not isinstance(exc, ERRORS):
            log.warning("unexpected error from the redis semantic cache: %r", exc)
