"""`SemanticCache`: the semantic cache of the gateway (`ctx.services.cache.semantic`).

It lives in the external cache (Redis) when `cache.external` is configured, else in this process;
`cache.semantic` bounds it:

```yaml
cache:
  semantic:
    max-entries-per-partition: 10000   # prompts kept per partition (cache-id + API + vary-by values)
    max-vectors: 100000                # vectors this process keeps in memory over all partitions
    search: auto                       # auto: Redis 8 vector sets when the server has them; scan: never
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.errors import ConfigError
from engine.semantic.redis_store import RedisSemanticStore
from engine.semantic.stores import MemorySemanticStore, SemanticStore

if TYPE_CHECKING:
    from engine.cache.connection import RedisSettings
    from engine.metrics import Metrics

KNOWN_KEYS = {"max-entries-per-partition", "max-vectors", "search"}
SEARCH_MODES = ("auto", "scan")
RESULTS = ("hit", "miss", "error", "skipped")


class SemanticCache:
    """The in-process store, the Redis store once started, and the lookup counters."""

    def __init__(
        self, *, max_per_partition: int = 10_000, max_vectors: int = 100_000, search: str = "auto",
        metrics: Metrics | None = None,
    ) -> None:
        self.max_per_partition = max_per_partition
        self.search = search
        self.max_vectors = max_vectors
        self.internal = MemorySemanticStore(max_per_partition=max_per_partition, max_vectors=max_vectors)
        self.external: RedisSemanticStore | None = None
        self._lookups = (
            metrics.counter("policygate_semantic_cache_lookups_total",
                            "Semantic cache lookups by store and result (hit, miss, error, skipped).", ("store", "result"))
            if metrics is not None else None
        )
        self._errors = (
            metrics.counter("policygate_redis_errors_total", "Failed Redis calls.", ("component",))
            if metrics is not None else None
        )

    @classmethod
    def from_config(cls, config: object, *, where: str, metrics: Metrics | None = None) -> SemanticCache:
        """Validate `cache.semantic` (None = defaults). Raises ConfigError naming the key."""
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where}: expected a mapping")
        unknown = sorted(set(config) - KNOWN_KEYS)
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(sorted(KNOWN_KEYS))})")
        return cls(
            max_per_partition=_positive(config, "max-entries-per-partition", where, 10_000),
            max_vectors=_positive(config, "max-vectors", where, 100_000),
            search=_choice(config, "search", where, SEARCH_MODES),
            metrics=metrics,
        )

    def start(self, settings: RedisSettings, *, prefix: str) -> None:
        """Use Redis (`cache.external`) from now on, behind the endpoint's circuit breaker (engine.redis_health)."""
        if self.external is None:
            self.external = RedisSemanticStore(
                settings, prefix=prefix, max_per_partition=self.max_per_partition, max_vectors=self.max_vectors,
                on_error=self._count_error, search=self.search,
            )

    def store(self) -> SemanticStore:
        return self.external if self.external is not None else self.internal

    def count(self, store: SemanticStore | None, result: str) -> None:
        if self._lookups is not None:
            self._lookups.inc(store.kind if store is not None else "none", result)

    async def close(self) -> None:
        if self.external is not None:
            await self.external.close()
            self.external = None
        await self.internal.close()

    def _count_error(self) -> None:
        if self._errors is not None:
            self._errors.inc("semantic-cache")


def _positive(config: Mapping[str, Any], key: str, where: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}.{key}: expected a positive integer, got {value!r}")
    return value


def _choice(config: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...]) -> str:
    value = config.get(key, choices[0])
    if value not in choices:
        raise ConfigError(f"{where}.{key}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)
