"""Response and value caching: in-process and Redis stores, keys, entries, the cache service.

Public API: `CacheService` (gateway service, `ctx.services.cache`), `RedisSettings` (shared with
the rate limiter), `create_client` (a redis.asyncio client with the same settings, for tools),
`CacheUnavailable`. They are loaded on first use,
so policies can import the light modules (`keys`, `entry`, `responses`) without loading redis.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CacheService": "engine.cache.service",
    "CacheUnavailable": "engine.cache.stores",
    "Store": "engine.cache.stores",
    "RedisSettings": "engine.cache.connection",
    "RedisSettingsError": "engine.cache.connection",
    "create_client": "engine.cache.connection",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.cache' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
