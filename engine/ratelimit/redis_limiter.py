"""The Redis limiter: each decision is one EVALSHA of a Lua script (one round trip), so any number of
gateway processes sharing Redis admit exactly `limit` units per window between them.

Scripts are loaded once (`SCRIPT LOAD` at start); a `NOSCRIPT` reply (Redis restarted or flushed)
falls back to `EVAL`, which also re-caches the script. Decisions started at the same moment share
one round trip (`engine.ratelimit.batching`), each still one EVALSHA. Errors propagate: the service decides what
a failure means (fail open or closed) and bounds the time spent waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

from redis.exceptions import NoScriptError

from engine.ratelimit import lua
from engine.ratelimit.batching import Batcher
from engine.ratelimit.decisions import Decision, Mode, QuotaCounter, QuotaDecision, Window
from engine.ratelimit.keys import quota_key, slots_key, window_keys


class LuaScript:
    """A script known by its SHA1; `run` is EVALSHA with an EVAL fallback on NOSCRIPT."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def load(self, client: Any) -> None:
        await client.script_load(self.source)

    async def run(self, client: Any, keys: Sequence[str], args: Sequence[object]) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)


class RedisLimiter:
    """Sliding windows, quotas and concurrency leases in Redis (or Redis Cluster)."""

    kind = "external"

    def __init__(self, client: Any, *, prefix: str, max_in_flight: int = 100, batching: bool = True) -> None:
        self.client = client
        self.prefix = prefix
        # redis-py's pool fails at once when all its connections are busy; queue for one instead
        # (the service's timeout still bounds the whole decision, waiting included).
        self._in_flight = asyncio.Semaphore(max_in_flight)
        cluster = hasattr(client, "nodes_manager")
        self._batcher = Batcher(client, self._in_flight, enabled=batching and not cluster)
        self.window_script = LuaScript(lua.WINDOW)
        self.quota_script = LuaScript(lua.QUOTA)
        self.enter_script = LuaScript(lua.ENTER)
        self.renew_script = LuaScript(lua.RENEW)

    async def load_scripts(self) -> None:
        for script in (self.window_script, self.quota_script, self.enter_script, self.renew_script):
            await script.load(self.client)

    async def _run(self, script: LuaScript, keys: Sequence[str], args: Sequence[object]) -> Any:
        return await self._batcher.run(script, keys, args)

    async def reset_connections(self) -> None:
        """Drop every pooled connection (after an outage, so none of them is stale)."""
        pool = getattr(self.client, "connection_pool", None)
        if pool is not None:
            await pool.disconnect()

    async def close(self) -> None:
        await self.client.aclose()

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    # -- sliding windows ----------------------------------------------------------------------
    async def decide(
        self, windows: Sequence[Window], count: int = 1, mode: Mode = Mode.ACQUIRE, now: float | None = None
    ) -> Decision:
        keys: list[str] = []
        args: list[object] = ["" if now is None else round(now * 1000), mode.value, count]
        for window in windows:
            keys.extend(window_keys(self.prefix, window.tag, window.name, window.period_ms))
            args.extend((window.limit, window.period_ms))
        allowed, limit, remaining, retry_ms, reset_ms = await self._run(self.window_script, keys, args)
        return Decision(
            allowed=bool(allowed),
            limit=int(limit),
            remaining=int(remaining),
            retry_after=int(retry_ms) / 1000.0,
            reset=int(reset_ms) / 1000.0,
        )

    # -- quotas ---------------------------------------------------------------------------------
    async def quota(
        self, tag: str, counters: Sequence[QuotaCounter], *, acquire: bool = True, now: float | None = None
    ) -> QuotaDecision:
        """`now` is the wall clock the counters' `expires_at` refer to (default: this host's)."""
        now = time.time() if now is None else now
        keys = [quota_key(self.prefix, tag, c.key) for c in counters]
        args: list[object] = ["a" if acquire else "d"]
        for c in counters:
            ttl_ms = 0 if c.expires_at is None else max(1, round((c.expires_at - now) * 1000))
            args.extend((c.limit, c.need, c.add, ttl_ms))
        reply = await self._run(self.quota_script, keys, args)
        return QuotaDecision(bool(reply[0]), int(reply[1]) - 1, tuple(int(v) for v in reply[2:]))

    # -- concurrency ------------------------------------------------------------------------------
    async def enter(self, key: str, max_count: int, ttl: float, now: float | None = None) -> str | None:
        """A new lease id when fewer than `max_count` live leases exist, else None."""
        lease = uuid.uuid4().hex
        args = ["" if now is None else round(now * 1000), max_count, lease, max(1, round(ttl * 1000))]
        granted = await self._run(self.enter_script, [slots_key(self.prefix, key)], args)
        return lease if granted else None

    async def renew(self, key: str, lease: str, ttl: float) -> bool:
        args = ["", lease, max(1, round(ttl * 1000))]
        return bool(await self._run(self.renew_script, [slots_key(self.prefix, key)], args))

    async def leave(self, key: str, lease: str) -> None:
        async with self._in_flight:
            await self.client.zrem(slots_key(self.prefix, key), lease)

    async def held(self, key: str) -> int:
        return int(await self.client.zcard(slots_key(self.prefix, key)))
