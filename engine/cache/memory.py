"""The in-process cache: a cachetools TLRU cache bounded by entries and bytes, per-entry TTL."""

from __future__ import annotations

from collections.abc import Callable

from cachetools import TLRUCache

from engine import clock as engine_clock
from engine.cache.keys import KeyGroup, api_response_prefix

ENTRY_OVERHEAD = 100  # bytes charged per entry on top of key and value (dict slots, tuple, floats)


class MemoryStore:
    """`Store` kept in this process; least recently used entries go first when a bound is reached."""

    kind = "internal"

    def __init__(
        self, *, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = engine_clock.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._cache: TLRUCache[str, tuple[float, bytes, int]] = TLRUCache(
            maxsize=max_bytes, ttu=_expiry, timer=clock, getsizeof=_size,
        )

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def size_bytes(self) -> int:
        return int(self._cache.currsize)

    async def get(self, key: str) -> bytes | None:
        item = self._item(key)
        return item[1] if item is not None else None

    async def response_key(self, group: KeyGroup, variant: str) -> str | None:
        return group.response_key(variant)

    async def fetch(self, key: str) -> tuple[bytes | None, bool]:
        item = self._item(key)
        return (item[1] if item is not None else None), True

    def _item(self, key: str) -> tuple[float, bytes, int] | None:
        """The live entry (marked most recently used), or None when absent or expired.

        Indexing reads the clock once; `TLRUCache.get` freezes the timer around a membership test and
        an index, three times the cost on every cache hit.
        """
        try:
            return self._cache[key]
        except KeyError:
            return None

    async def set(self, key: str, value: bytes, ttl: float, group: KeyGroup | None = None) -> None:
        size = len(key) + len(value) + ENTRY_OVERHEAD
        if ttl <= 0 or size > self.max_bytes:
            self._cache.pop(key, None)
            return
        self._cache.pop(key, None)
        self._cache.expire()
        while len(self._cache) >= self.max_entries:
            self._cache.popitem()
        self._cache[key] = (self._clock() + ttl, value, size)

    async def delete(self, key: str) -> bool:
        return self._cache.pop(key, None) is not None

    async def purge(self, prefix: str, api: str, operation: str | None = None) -> int:
        start = KeyGroup(prefix, api, operation).response_prefix if operation is not None else api_response_prefix(prefix, api)
        self._cache.expire()
        doomed = [key for key in list(self._cache.keys()) if key.startswith(start)]
        for key in doomed:
            self._cache.pop(key, None)
        return len(doomed)

    async def close(self) -> None:
        self._cache.clear()


def _expiry(_key: str, item: tuple[float, bytes, int], _now: float) -> float:
    return item[0]


def _size(item: tuple[float, bytes, int]) -> int:
    return item[2]
