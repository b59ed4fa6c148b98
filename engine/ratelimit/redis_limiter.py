"""The Redis limiter: each decision is one EVALSHA of a Lua script (one command), so any number of
gateway processes sharing Redis admit exactly `limit` units per window between them.

Commands go through a `Dispatcher` (engine.redis_dispatcher): decisions queue without a time
budget of their own and are pipelined by a thread whose socket timeouts are measured by the kernel,
so a healthy Redis decides however busy this process is, and a stalled one fails every waiting
decision after one `timeout`; while the endpoint's breaker is open (engine.redis_health) a
decision fails at once. Scripts are loaded once (`SCRIPT LOAD` at start, on every node of a
cluster); a `NOSCRIPT` reply falls back to `EVAL`, which also re-caches the script. Errors
propagate: the service decides what a failure means (fail open or closed).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.ratelimit import lua
from engine.ratelimit.decisions import Decision, Mode, QuotaCounter, QuotaDecision, Window
from engine.ratelimit.keys import quota_key, slots_key, token_keys, window_keys
from engine.ratelimit.tokens import SCALE, TokenBudget, TokenDecision
from engine.redis_dispatcher import Rider, Script
from engine.redis_health import BreakerRule
from engine.redis_loop import open_dispatcher

if TYPE_CHECKING:
    from engine.cache.connection import RedisSettings


class RedisLimiter:
    """Sliding windows, quotas and concurrency leases in Redis (or Redis Cluster)."""

    kind = "external"

    def __init__(self, settings: RedisSettings, *, prefix: str, breaker: BreakerRule | None = None) -> None:
        """`breaker`: the rule this limiter's configuration asks of the endpoint's shared breaker."""
        self.prefix = prefix
        self.dispatcher = open_dispatcher(settings, name="policygate-ratelimit-redis", breaker=breaker)
        self.window_script = Script.of(lua.WINDOW)
        self.quota_script = Script.of(lua.QUOTA)
        self.enter_script = Script.of(lua.ENTER)
        self.renew_script = Script.of(lua.RENEW)
        self.tokens_script = Script.of(lua.TOKENS)

    async def load_scripts(self) -> None:
        for script in (self.window_script, self.quota_script, self.enter_script, self.renew_script, self.tokens_script):
            await self.dispatcher.load_script(script)

    async def _run(self, script: Script, keys: Sequence[str], args: Sequence[object], rider: Rider | None = None) -> Any:
        return await self.dispatcher.command("EVALSHA", script.sha, len(keys), *keys, *args, script=script, rider=rider)

    async def close(self) -> None:
        await self.dispatcher.close()

    async def ping(self) -> bool:
        return bool(await self.dispatcher.call(lambda client: client.ping()))

    # -- sliding windows ----------------------------------------------------------------------
    async def decide(
        self, windows: Sequence[Window], count: int = 1, mode: Mode = Mode.ACQUIRE, now: float | None = None,
        rider: Rider | None = None,
    ) -> Decision:
        """`rider`: a read to send in the same round trip (engine.redis_dispatcher.Rider)."""
        keys: list[str] = []
        args: list[object] = ["" if now is None else round(now * 1000), mode.value, count]
        for window in windows:
            keys.extend(window_keys(self.prefix, window.tag, window.name, window.period_ms))
            args.extend((window.limit, window.period_ms))
        allowed, limit, remaining, retry_ms, reset_ms = await self._run(self.window_script, keys, args, rider)
        return Decision(
            allowed=bool(allowed),
            limit=int(limit),
            remaining=int(remaining),
            retry_after=int(retry_ms) / 1000.0,
            reset=int(reset_ms) / 1000.0,
        )

    # -- quotas ---------------------------------------------------------------------------------
    async def quota(
        self, tag: str, counters: Sequence[QuotaCounter], *, acquire: bool = True, now: float | None = None,
        rider: Rider | None = None,
    ) -> QuotaDecision:
        """`now` is the wall clock the counters' `expires_at` refer to (default: this host's);
        `rider`: a read to send in the same round trip."""
        now = time.time() if now is None else now
        keys = [quota_key(self.prefix, tag, c.key) for c in counters]
        args: list[object] = ["a" if acquire else "d"]
        for c in counters:
            ttl_ms = 0 if c.expires_at is None else max(1, round((c.expires_at - now) * 1000))
            args.extend((c.limit, c.need, c.add, ttl_ms))
        reply = await self._run(self.quota_script, keys, args, rider)
        return QuotaDecision(bool(reply[0]), int(reply[1]) - 1, tuple(int(v) for v in reply[2:]))

    # -- token budgets ----------------------------------------------------------------------------
    async def tokens(self, budget: TokenBudget, count: int, mode: Mode, now: float | None = None) -> TokenDecision:
        keys = token_keys(self.prefix, budget.key, budget.quota_period)
        tpm = -1 if budget.tokens_per_minute is None else budget.tokens_per_minute
        quota = -1 if budget.quota is None else budget.quota
        ttl_ms = max(1, round(budget.quota_expires_in * 1000))
        args = ["" if now is None else round(now * 1000), mode.value, count, tpm, quota, ttl_ms]
        allowed, blocked, level, used, retry_ms = await self._run(self.tokens_script, keys, args)
        return TokenDecision(
            allowed=bool(allowed),
            blocked=("", "rate", "quota")[int(blocked)],
            remaining_tokens=None if budget.tokens_per_minute is None else max(0, int(level) // SCALE),
            quota_used=None if budget.quota is None else int(used),
            retry_after=int(retry_ms) / 1000.0,
        )

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
        await self.dispatcher.command("ZREM", slots_key(self.prefix, key), lease)

    async def held(self, key: str) -> int:
        return int(await self.dispatcher.command("ZCARD", slots_key(self.prefix, key)))
