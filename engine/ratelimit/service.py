"""`LimitService`: the gateway-wide counters (`ctx.services.limits`) built from the `rate-limits:` YAML.

```yaml
rate-limits:
  store: auto              # auto (external when cache.external or rate-limits.external is set) | internal | external
  external: "redis://..."  # optional own Redis; default: the connection of cache.external
  failure-mode: open       # open: fall back to in-process counters while Redis fails | closed: answer 503
  timeout-ms: 500          # Redis counts as stalled after this long without answering (kernel-measured)
  breaker: {failures: 3, reset-seconds: 1.0}
  standard-headers: false  # add RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset
  prefix: "policygate:"    # namespace of every Redis key
  max-keys: 100000         # in-process counters kept per kind (LRU beyond that)
  lease-seconds: 30        # limit-concurrency lease lifetime in Redis (renewed while held)
```
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from engine import clock as clock_module
from engine.breaker import CircuitBreaker
from engine.errors import ConfigError
from engine.ratelimit.decisions import (
    Decision,
    LimitStoreUnavailable,
    Mode,
    QuotaCounter,
    QuotaDecision,
    Window,
)
from engine.ratelimit.keys import DEFAULT_PREFIX
from engine.ratelimit.memory import MemoryLimiter
from engine.ratelimit.tokens import MemoryTokenBudgets, TokenBudget, TokenDecision

if TYPE_CHECKING:
    from engine.cache.connection import RedisSettings
    from engine.metrics import Metrics
    from engine.ratelimit.redis_limiter import RedisLimiter
    from engine.redis_dispatcher import Rider
    from engine.redis_health import RedisHealth

log = logging.getLogger("policygate.ratelimit")

T = TypeVar("T")
KNOWN_KEYS = {
    "store", "external", "cluster", "connect-timeout-ms", "failure-mode", "timeout-ms", "breaker",
    "standard-headers", "prefix", "max-keys", "lease-seconds",
}
THROTTLED_HELP = "Requests refused by rate limits or quotas."
# Redis counts as stalled after this long without a byte of answer. Generous on purpose: on a busy
# 2-core machine a healthy Redis was measured taking up to ~250-500 ms to answer a pipelined batch.
DEFAULT_TIMEOUT = 0.5


class _Failed:
    """Marks a Redis call that failed (a decision may legitimately be None)."""


FAILED = _Failed()


class Slot:
    """A held limit-concurrency slot; `await release()` exactly once (idempotent)."""

    def __init__(self, service: LimitService, key: str, lease: str | None) -> None:
        self.service = service
        self.key = key
        self.lease = lease  # None: an in-process slot
        self._renewal: asyncio.TimerHandle | None = None
        self._released = False
        if lease is not None:
            self._schedule_renewal()

    def _schedule_renewal(self) -> None:
        loop = asyncio.get_running_loop()
        self._renewal = loop.call_later(self.service.lease_seconds / 3, lambda: loop.create_task(self._renew()))

    async def _renew(self) -> None:
        if self._released or self.lease is None or self.service.redis is None:
            return
        try:
            await self.service.redis.renew(self.key, self.lease, self.service.lease_seconds)
        except Exception as exc:  # the lease then expires on its own; nothing else to do
            log.debug("renewing concurrency lease %s failed: %s", self.key, exc)
        if not self._released:
            self._schedule_renewal()

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._renewal is not None:
            self._renewal.cancel()
        if self.lease is None:
            self.service.memory.leave(self.key)
            return
        redis = self.service.redis
        if redis is None:
            return
        try:
            await redis.leave(self.key, self.lease)
        except Exception as exc:  # the lease expires after lease-seconds
            log.debug("releasing concurrency lease %s failed: %s", self.key, exc)


class LimitService:
    """In-process counters, optional Redis counters, the circuit breaker and the failure mode."""

    def __init__(
        self,
        *,
        redis_settings: RedisSettings | None = None,
        failure_mode: str = "open",
        timeout: float = DEFAULT_TIMEOUT,
        breaker_failures: int = 3,
        breaker_reset: float = 1.0,
        standard_headers: bool = False,
        prefix: str = DEFAULT_PREFIX,
        max_keys: int = 100_000,
        lease_seconds: float = 30.0,
        metrics: Metrics | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] = clock_module.now,
    ) -> None:
        if failure_mode not in ("open", "closed"):
            raise ValueError("failure_mode must be 'open' or 'closed'")
        self.redis_settings = redis_settings
        self.failure_mode = failure_mode
        self.timeout = timeout
        self.standard_headers = standard_headers
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.clock = clock  # None: Redis TIME for windows (gateways need no synchronised clocks)
        self.wall_clock = wall_clock
        self.memory = MemoryLimiter(clock=clock or clock_module.monotonic, wall_clock=wall_clock, max_keys=max_keys)
        self.memory_tokens = MemoryTokenBudgets(max_keys=max_keys)
        self.redis: RedisLimiter | None = None
        self._carries: tuple[RedisSettings, bool] | None = None  # the last answer of `carries_reads_for`
        self.breaker_failures = breaker_failures
        self.breaker_reset = breaker_reset
        # The breaker of the Redis endpoint, shared with every other component using it (engine.redis_health).
        self.endpoint: RedisHealth | None = None
        self.breaker = CircuitBreaker("rate-limit store")  # never used without Redis
        if redis_settings is not None:
            from engine.redis_health import health_of  # imports redis: only when it is used

            self.endpoint = health_of(redis_settings)
            self.breaker = self.endpoint.breaker
        self._metrics = metrics
        self._throttled = metrics.counter("policygate_throttled_requests_total", THROTTLED_HELP, ("policy",)) if metrics else None
        self._errors = (
            metrics.counter("policygate_ratelimit_store_errors_total", "Rate-limit store (Redis) failures, by error.", ("error",))
            if metrics else None
        )
        self._fallbacks = (
            metrics.counter("policygate_ratelimit_fallback_decisions_total", "Decisions made without the external store, by failure mode.", ("mode",))
            if metrics else None
        )
        self._breaker_open = (
            metrics.gauge("policygate_ratelimit_breaker_open", "1 while the rate-limit store's circuit breaker is open.")
            if metrics else None
        )
        self._transitions = (
            metrics.counter("policygate_ratelimit_breaker_transitions_total", "Rate-limit store breaker state changes.", ("state",))
            if metrics else None
        )

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | None,
        *,
        where: str,
        metrics: Metrics | None = None,
        redis: RedisSettings | str | None = None,
        cache: Mapping[str, Any] | None = None,
    ) -> LimitService:
        """Validate the `rate-limits:` mapping (None = defaults).

        `redis` names the Redis to use explicitly; otherwise `rate-limits.external`, then the
        `cache:` mapping's `external` are used (store: auto/external).

        Raises:
            ConfigError: naming `where` and the key, e.g. ``gateway.yaml: rate-limits.timeout-ms: ...``.
        """
        from engine.cache.connection import RedisSettings, RedisSettingsError

        config = config or {}
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        unknown = sorted(set(config) - KNOWN_KEYS)
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
        store = _choice(config, "store", where, ("auto", "internal", "external"), "auto")
        failure_mode = _choice(config, "failure-mode", where, ("open", "closed"), "open")
        timeout = _number(config, "timeout-ms", where, DEFAULT_TIMEOUT * 1000, minimum=1) / 1000.0
        settings: RedisSettings | None
        if isinstance(redis, str):
            try:
                settings = RedisSettings.parse(redis)
            except RedisSettingsError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        else:
            settings = redis
        if settings is None:
            settings = RedisSettings.from_config(config, where=where)
        if settings is None and cache:
            cache_where = where[: -len("rate-limits")] + "cache" if where.endswith("rate-limits") else f"{where} (cache)"
            settings = RedisSettings.from_config(cache, where=cache_where)
        if store == "external" and settings is None:
            raise ConfigError(f"{where}.store: 'external' needs a Redis: set rate-limits.external or cache.external")
        if store == "internal":
            settings = None
        if settings is not None:  # socket timeouts of the dispatcher's connection (connecting included)
            settings = settings.with_timeouts(timeout=timeout, connect_timeout=max(settings.connect_timeout, timeout))
        prefix = config.get("prefix", DEFAULT_PREFIX)
        if not isinstance(prefix, str) or "{" in prefix or "}" in prefix or any(c.isspace() for c in prefix):
            raise ConfigError(f"{where}.prefix: expected a string without braces or white space, got {prefix!r}")
        breaker = config.get("breaker") or {}
        if not isinstance(breaker, Mapping):
            raise ConfigError(f"{where}.breaker: expected a mapping like {{failures: 3, reset-seconds: 1.0}}")
        unknown = sorted(set(breaker) - {"failures", "reset-seconds"})
        if unknown:
            raise ConfigError(f"{where}.breaker.{unknown[0]}: unknown key (known: failures, reset-seconds)")
        standard = config.get("standard-headers", False)
        if not isinstance(standard, bool):
            raise ConfigError(f"{where}.standard-headers: expected true or false, got {standard!r}")
        return cls(
            redis_settings=settings,
            failure_mode=failure_mode,
            timeout=timeout,
            breaker_failures=_number(breaker, "failures", f"{where}.breaker", 3, integer=True, minimum=1),
            breaker_reset=_number(breaker, "reset-seconds", f"{where}.breaker", 1.0, minimum=0.01),
            standard_headers=standard,
            prefix=prefix,
            max_keys=_number(config, "max-keys", where, 100_000, integer=True, minimum=100),
            lease_seconds=_number(config, "lease-seconds", where, 30, minimum=1),
            metrics=metrics,
        )

    async def start(self) -> None:
        """Open the Redis client (if any) and load the scripts; a Redis that is down is only logged."""
        if self.redis_settings is None or self.redis is not None:
            return
        from engine.ratelimit.redis_limiter import RedisLimiter  # imports redis: only when it is used
        from engine.redis_health import BreakerRule

        self.redis = RedisLimiter(self.redis_settings, prefix=self.prefix,
                                  breaker=BreakerRule(self.breaker_failures, self.breaker_reset))
        self.breaker.listen(self._breaker_changed)
        if self._breaker_open is not None:
            self._breaker_open.set(value=1.0 if self.breaker.state == "open" else 0.0)
        try:
            async with asyncio.timeout(max(self.timeout, self.redis_settings.connect_timeout) * 4):
                await self.redis.load_scripts()
        except Exception as exc:
            log.warning(
                "rate-limit store %s is not reachable yet (%s); failure-mode %s applies until it is",
                self.redis_settings.describe(), exc or type(exc).__name__, self.failure_mode,
            )

    async def not_ready(self) -> str | None:
        """In failure-mode closed, a Redis that does not answer PING makes the gateway not ready."""
        if self.redis_settings is None or self.failure_mode != "closed":
            return None
        redis = self.redis
        try:
            async with asyncio.timeout(max(self.timeout, self.redis_settings.connect_timeout)):
                if redis is not None and await redis.ping():
                    return None
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            pass
        return f"rate-limit store {self.redis_settings.describe()} is unreachable (failure-mode closed)"

    async def close(self) -> None:
        if self.redis is not None:
            redis, self.redis = self.redis, None
            self.breaker.forget(self._breaker_changed)
            await redis.close()

    @property
    def kind(self) -> str:
        return "external" if self.redis_settings is not None else "internal"

    # -- decisions --------------------------------------------------------------------------------
    async def window(
        self, windows: Sequence[Window], count: int = 1, mode: Mode = Mode.ACQUIRE, rider: Rider | None = None,
    ) -> Decision:
        """One sliding-window decision over `windows` (which must share a tag).

        `rider`: a read of another component sent in the same Redis round trip as the decision (see
        `shares_redis`); it is sent only when the decision goes to Redis.

        Raises:
            LimitStoreUnavailable: Redis failed and failure-mode is closed.
        """
        now = self.clock() if self.clock is not None else None
        redis = self.redis
        if redis is not None:
            result = await self._remote(lambda: redis.decide(windows, count, mode, now, rider))
            if not isinstance(result, _Failed):
                return result
        elif self.redis_settings is not None:
            self._fallback()
        decision = self.memory.decide(windows, count, mode, now)
        if self.redis_settings is None:
            return decision
        return Decision(decision.allowed, decision.limit, decision.remaining, decision.retry_after, decision.reset, True)

    async def quota(
        self, tag: str, counters: Sequence[QuotaCounter], *, acquire: bool = True, rider: Rider | None = None,
    ) -> QuotaDecision:
        """Fixed-period quota counters (see `QuotaCounter`); same failure handling and `rider` as `window`."""
        redis = self.redis
        if redis is not None:
            wall = self.wall_clock()
            result = await self._remote(lambda: redis.quota(tag, counters, acquire=acquire, now=wall, rider=rider))
            if not isinstance(result, _Failed):
                return result
        elif self.redis_settings is not None:
            self._fallback()
        decision = self.memory.quota(tag, counters, acquire=acquire, now=self.wall_clock())
        if self.redis_settings is None:
            return decision
        return QuotaDecision(decision.allowed, decision.blocked, decision.used, True)

    async def tokens(self, budget: TokenBudget, count: int, mode: Mode) -> TokenDecision:
        """One token-budget decision (engine.ratelimit.tokens); same failure handling as `window`."""
        now = self.clock() if self.clock is not None else None
        redis = self.redis
        if redis is not None:
            result = await self._remote(lambda: redis.tokens(budget, count, mode, now))
            if not isinstance(result, _Failed):
                return result
        elif self.redis_settings is not None:
            self._fallback()
        local_now = now if now is not None else clock_module.monotonic()
        decision = self.memory_tokens.decide(budget, count, mode, round(local_now * 1000))
        if self.redis_settings is None:
            return decision
        return TokenDecision(decision.allowed, decision.blocked, decision.remaining_tokens, decision.quota_used,
                             decision.retry_after, True)

    async def enter(self, key: str, max_count: int) -> Slot | None:
        """Take a limit-concurrency slot, or None when `max_count` are held."""
        now = self.clock() if self.clock is not None else None
        redis = self.redis
        if redis is not None:
            lease = await self._remote(lambda: redis.enter(key, max_count, self.lease_seconds, now))
            if not isinstance(lease, _Failed):
                return Slot(self, key, lease) if lease is not None else None
        elif self.redis_settings is not None:
            self._fallback()
        if self.memory.try_enter(key, max_count):
            return Slot(self, key, None)
        return None

    def carries_reads_for(self, settings: RedisSettings) -> bool:
        """True when a read of the Redis `settings` names may ride in the round trip of a decision:
        decisions go to that same standalone Redis (in a cluster, a read may live on another node)."""
        known = self._carries
        if known is None or known[0] is not settings:
            mine = self.redis_settings
            known = self._carries = (settings, mine is not None and not mine.cluster and mine.same_server(settings))
        return known[1]

    def throttled(self, policy: str) -> None:
        """Count a refused request (policygate_throttled_requests_total{policy})."""
        if self._throttled is not None:
            self._throttled.inc(policy)

    def health(self) -> dict[str, object]:
        return {
            "store": self.kind,
            "redis": self.redis_settings.describe() if self.redis_settings else None,
            "breaker": self.breaker.state if self.redis_settings else None,
            "failure_mode": self.failure_mode,
            "internal": self.memory.sizes(),
        }

    # -- internals ------------------------------------------------------------------------------
    async def _remote(self, call: Callable[[], Awaitable[T]]) -> T | _Failed:
        """Run a Redis call; FAILED (after fallback bookkeeping) when Redis failed it.

        No time budget here: the call waits in the dispatcher's queue for as long as Redis keeps
        answering, and fails when the connection breaks or Redis stalls for `timeout` (Redis's
        silence, see engine.redis_loop), never because this process was busy. The dispatcher refuses
        it at once while the endpoint's breaker is open (engine.redis_health).
        """
        try:
            return await call()
        except Exception as exc:  # breaker open, a stalled Redis, connection errors, Redis errors alike
            from engine.redis_health import RedisUnavailable  # loaded with the limiter already

            if self._errors is not None and not isinstance(exc, RedisUnavailable):
                self._errors.inc(type(exc).__name__)
            log.debug("rate-limit store call failed: %r", exc)
            self._fallback()
            return FAILED

    def _fallback(self) -> None:
        if self._fallbacks is not None:
            self._fallbacks.inc(self.failure_mode)
        if self.failure_mode == "closed":
            raise LimitStoreUnavailable("the rate-limit store is unavailable")

    def _breaker_changed(self, _previous: str, state: str) -> None:
        log.warning("rate-limit store breaker %s (failure-mode %s)", state, self.failure_mode)
        if self._breaker_open is not None:
            self._breaker_open.set(value=1.0 if state == "open" else 0.0)
        if self._transitions is not None:
            self._transitions.inc(state)


def _choice(config: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str) -> str:
    value = config.get(key, default)
    if value not in choices:
        raise ConfigError(f"{where}.{key}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _number(
    config: Mapping[str, Any], key: str, where: str, default: float, *, integer: bool = False, minimum: float | None = None
) -> Any:
    value = config.get(key, default)
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ConfigError(f"{where}.{key}: expected {kind}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}.{key}: must be at least {minimum:g}, got {value!r}")
    return value
