"""The admin endpoint `POST /cache/purge?api=X[&operation=Y]` (served on the gateway's admin port)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from engine.cache.stores import CacheUnavailable

if TYPE_CHECKING:
    from engine.cache.service import CacheService


def purge_endpoint(service: CacheService) -> Callable[[], Awaitable[Any]]:
    """A Quart view: 200 `{"removed": N}`, 400 without `api`, 503 when Redis is unreachable."""

    async def purge_cache() -> Any:
        from quart import jsonify, request

        api = request.args.get("api", "").strip()
        operation = request.args.get("operation", "").strip() or None
        if not api:
            return jsonify({"error": "query parameter 'api' is required"}), 400
        try:
            removed = await service.purge(api, operation)
        except CacheUnavailable as exc:
            return jsonify({"error": str(exc)}), 503
        return jsonify({"api": api, "operation": operation, "removed": removed})

    return purge_cache
