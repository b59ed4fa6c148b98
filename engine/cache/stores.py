"""The Store protocol shared by the in-process and the Redis cache."""

from __future__ import annotations

from typing import Protocol

from engine.cache.keys import KeyGroup


class CacheUnavailable(Exception):
    """An administrative cache operation (purge) could not reach the store."""


class Store(Protocol):
    """Byte values with a time-to-live.

    Request-path methods (`get`, `set`, `delete`) never raise: an unreachable store is a miss or a
    no-op. `purge` is administrative and raises `CacheUnavailable` when the store cannot be reached.
    """

    kind: str  # "internal" or "external"

    async def get(self, key: str) -> bytes | None: ...

    async def response_key(self, group: KeyGroup, variant: str) -> str | None:
        """The key of response variant `variant` (a digest) of `group`; None when the store cannot be asked."""
        ...

    async def fetch(self, key: str) -> tuple[bytes | None, bool]:
        """(value or None, whether the store could be asked at all)."""
        ...

    async def set(self, key: str, value: bytes, ttl: float, group: KeyGroup | None = None) -> None:
        """Store `value` for `ttl` seconds; `group`: the API operation a response variant belongs to."""
        ...

    async def delete(self, key: str) -> bool: ...

    async def purge(self, prefix: str, api: str, operation: str | None = None) -> int:
        """Remove every cached response variant of `api` (or of one operation); return the count."""
        ...

    async def close(self) -> None: ...
