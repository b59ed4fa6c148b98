"""`CacheService`: the gateway-wide cache (`ctx.services.cache`) built from the `cache:` YAML mapping.

```yaml
cache:
  external: "redis.example:6380,password=...,ssl=True,abortConnect=False"  # or redis://, rediss://, redis+cluster://
  cluster: false                  # force Redis Cluster on/off (default: as the connection text says)
  prefix: "policygate:"           # namespace of every key in Redis
  connect-timeout-ms: 50
  timeout-ms: 500                 # Redis counts as stalled after this long without answering (kernel-measured)
  breaker: {failures: 3, reset-seconds: 1.0}
  internal: {max-entries: 10000, max-bytes: 67108864}
  ttl-jitter: 0.0                 # shorten each TTL by a random 0..jitter fraction (0 <= jitter <= 0.5)
  coalesce: true                  # single-flight concurrent identical misses
  coalesce-timeout-ms: 5000       # longest a coalesced request waits for the leader
  generation-cache-ms: 1000       # how long a gateway trusts the purge generations it read from Redis
  coalesce-across-instances: false  # also single-flight misses across gateways (a Redis lease per variant)
  semantic: {max-entries-per-partition: 10000, max-vectors: 100000}  # llm-semantic-cache-* (engine.semantic)
```
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.cache.connection import RedisSettings
from engine.cache.keys import DEFAULT_PREFIX, check_prefix
from engine.cache.memory import MemoryStore
from engine.cache.redis_store import RedisStore
from engine.cache.singleflight import SingleFlight
from engine.cache.stores import CacheUnavailable, Store
from engine.errors import ConfigError
from engine.redis_health import BreakerRule
from engine.semantic.service import SemanticCache

if TYPE_CHECKING:
    from engine.metrics import Metrics

log = logging.getLogger("policygate.cache")

KNOWN_KEYS = {
    "external", "cluster", "prefix", "connect-timeout-ms", "timeout-ms", "breaker", "internal",
    "ttl-jitter", "coalesce", "coalesce-timeout-ms", "generation-cache-ms", "coalesce-across-instances", "semantic",
}


class CacheService:
    """The internal store, the optional external (Redis) store, coalescing and metrics."""

    def __init__(
        self,
        *,
        external: RedisSettings | None = None,
        prefix: str = DEFAULT_PREFIX,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        breaker_failures: int = 3,
        breaker_reset: float = 1.0,
        ttl_jitter: float = 0.0,
        coalesce: bool = True,
        coalesce_timeout: float = 5.0,
        generation_ttl: float = 1.0,
        across_instances: bool = False,
        metrics: Metrics | None = None,
        semantic: SemanticCache | None = None,
    ) -> None:
        self.settings = external
        self.semantic = semantic or SemanticCache(metrics=metrics)  # llm-semantic-cache-lookup/-store
        self.prefix = prefix
        self.internal = MemoryStore(max_entries=max_entries, max_bytes=max_bytes)
        self.external: RedisStore | None = None
        self.breaker_failures = breaker_failures
        self.breaker_reset = breaker_reset
        self.ttl_jitter = ttl_jitter
        self.generation_ttl = generation_ttl
        self.across_instances = across_instances and coalesce
        self.flights = SingleFlight(coalesce_timeout) if coalesce else None
        self.metrics = metrics
        self._requests = (
            metrics.counter("policygate_cache_requests_total", "Cache lookups by store and result.", ("store", "result"))
            if metrics is not None else None
        )
        self._breaker_open = (
            metrics.gauge("policygate_cache_breaker_open", "1 while the external cache's circuit breaker is open.")
            if metrics is not None else None
        )
        self._warned: set[str] = set()

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, *, where: str, metrics: Metrics | None = None) -> CacheService:
        """Validate the `cache:` mapping (None = defaults: internal cache only).

        Raises:
            ConfigError: naming `where` and the key path, e.g. ``gateway.yaml: cache.internal.max-bytes: ...``.
        """
        config = config or {}
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        unknown = sorted(set(config) - KNOWN_KEYS)
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
        external = RedisSettings.from_config(config, where=where)
        prefix = config.get("prefix", DEFAULT_PREFIX)
        if not isinstance(prefix, str):
            raise ConfigError(f"{where}.prefix: expected a string")
        try:
            check_prefix(prefix)
        except ValueError as exc:
            raise ConfigError(f"{where}.prefix: {exc}") from None
        breaker = _mapping(config.get("breaker"), f"{where}.breaker", {"failures", "reset-seconds"})
        internal = _mapping(config.get("internal"), f"{where}.internal", {"max-entries", "max-bytes"})
        return cls(
            external=external,
            prefix=prefix,
            max_entries=_number(internal, "max-entries", f"{where}.internal", 10_000, integer=True, minimum=1),
            max_bytes=_number(internal, "max-bytes", f"{where}.internal", 64 * 1024 * 1024, integer=True, minimum=1024),
            breaker_failures=_number(breaker, "failures", f"{where}.breaker", 3, integer=True, minimum=1),
            breaker_reset=_number(breaker, "reset-seconds", f"{where}.breaker", 1.0, minimum=0.01),
            ttl_jitter=_number(config, "ttl-jitter", where, 0.0, minimum=0.0, maximum=0.5),
            coalesce=_bool(config, "coalesce", where, True),
            coalesce_timeout=_number(config, "coalesce-timeout-ms", where, 5000, minimum=1) / 1000.0,
            generation_ttl=_number(config, "generation-cache-ms", where, 1000, minimum=0) / 1000.0,
            across_instances=_bool(config, "coalesce-across-instances", where, False),
            metrics=metrics,
            semantic=SemanticCache.from_config(config.get("semantic"), where=f"{where}.semantic", metrics=metrics),
        )

    async def start(self) -> None:
        """Open the Redis client (lazily connecting) and report once whether Redis answers."""
        if self.settings is None or self.external is not None:
            return
        self.external = RedisStore(
            self.settings,
            breaker_rule=BreakerRule(self.breaker_failures, self.breaker_reset),
            metrics=self.metrics,
            generation_ttl=self.generation_ttl,
        )
        self.external.breaker.listen(self._breaker_changed)  # the endpoint's breaker, shared (engine.redis_health)
        self._breaker_changed("", self.external.breaker.state)
        self.semantic.start(self.settings, prefix=self.prefix)
        if not await self.external.ping():
            log.warning("redis cache %s is not reachable yet; caching falls back to misses", self.settings.describe())

    async def close(self) -> None:
        await self.semantic.close()
        if self.external is not None:
            self.external.breaker.forget(self._breaker_changed)
            await self.external.close()
            self.external = None
        await self.internal.close()

    # -- used by the policies -------------------------------------------------------------------
    def store(self, caching_type: str) -> Store | None:
        """The store for APIM's `caching-type` (internal | external | prefer-external); None = no cache."""
        if caching_type == "internal":
            return self.internal
        if caching_type == "external":
            if self.external is None:
                self._warn_once("external", "caching-type=\"external\" but no external cache is configured (cache.external); not caching")
            return self.external
        return self.external if self.external is not None else self.internal

    def ttl(self, seconds: float) -> float:
        """`seconds` shortened by the configured random jitter (spreads expiry of entries stored together)."""
        if self.ttl_jitter and seconds > 0:
            return seconds * (1.0 - random.random() * self.ttl_jitter)
        return float(seconds)

    def count(self, store: Store, result: str) -> None:
        if self._requests is not None:
            self._requests.inc(store.kind, result)

    async def purge(self, api: str, operation: str | None = None) -> int:
        """Remove every cached response variant of `api` (or one operation) from both stores.

        Raises:
            CacheUnavailable: the external cache could not be reached.
        """
        removed = await self.internal.purge(self.prefix, api, operation)
        if self.external is not None:
            removed += await self.external.purge(self.prefix, api, operation)
        return removed

    def health(self) -> dict[str, object]:
        """For the admin /health endpoint."""
        external: dict[str, object] | None = None
        if self.settings is not None:
            state = self.external.breaker.state if self.external is not None else "not started"
            external = {"redis": self.settings.describe(), "breaker": state}
        return {"internal_entries": len(self.internal), "internal_bytes": self.internal.size_bytes, "external": external}

    def register_admin_routes(self, services: Any) -> None:
        """Add `POST /cache/purge?api=X[&operation=Y]` to the gateway's admin app."""
        from engine.cache.admin import purge_endpoint

        services.add_admin_route("/cache/purge", purge_endpoint(self), ("POST",))

    # -- internals ------------------------------------------------------------------------------
    def _breaker_changed(self, _previous: str, state: str) -> None:
        if self._breaker_open is not None:
            self._breaker_open.set(value=1.0 if state == "open" else 0.0)

    def _warn_once(self, topic: str, message: str) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            log.warning(message)


def _mapping(value: Any, where: str, known: set[str]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
    return value


def _number(
    config: Mapping[str, Any], key: str, where: str, default: float, *,
    integer: bool = False, minimum: float | None = None, maximum: float | None = None,
) -> Any:
    value = config.get(key, default)
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise ConfigError(f"{where}.{key}: expected {kind}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}.{key}: must be at least {minimum:g}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{where}.{key}: must be at most {maximum:g}, got {value!r}")
    return value


def _bool(config: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: expected true or false, got {value!r}")
    return value


__all__ = ["CacheService", "CacheUnavailable"]
