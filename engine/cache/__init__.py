"""Response and value caching: in-process and Redis stores, keys, entries, the cache service.

Public API: `CacheService` (gateway service, `ctx.services.cache`), `RedisSettings` and
`create_client` (shared with the rate limiter), `CacheUnavailable`.
"""

from engine.cache.connection import RedisSettings, RedisSettingsError, create_client
from engine.cache.service import CacheService
from engine.cache.stores import CacheUnavailable, Store

__all__ = ["CacheService", "CacheUnavailable", "RedisSettings", "RedisSettingsError", "Store", "create_client"]
