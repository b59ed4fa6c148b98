"""Cross-instance single-flight (issue 19): a cold key hit through 4 gateway processes at once makes one backend call."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp

from tests.cache.test_gateway_cache import policy
from tests.ratelimit.gateway_process import gateway_processes
from tests.support.gateway import Backend, write_config
from tests.support.redis_server import RedisServer

GATEWAYS = 4



def write_gateway(tmp_path: Path, backend: Backend, redis_url: str, across: bool) -> Path:
    settings = {
        "apis": {"echo": {"path": "echo", "service-url": "{{backend-url}}", "subscription-required": False,
                          "policy": "api.xml"}},
        "cache": {"external": redis_url, "prefix": f"t{uuid.uuid4().hex[:8]}:", "timeout-ms": 1000,
                  "coalesce-across-instances": across},
    }
    return write_config(tmp_path, settings, {"api.xml": policy()}, backend)


async def burst(urls: list[str], path: str, per_gateway: int, headers: dict[str, str]) -> tuple[list[int], float]:
    """`per_gateway` simultaneous GETs of `path` on every gateway: (statuses, seconds of the slowest)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(url: str) -> tuple[int, float]:
            started = time.monotonic()
            async with session.get(url + path, headers=headers) as response:
                await response.read()
                return response.status, time.monotonic() - started

        results = await asyncio.gather(*(one(url) for url in urls for _ in range(per_gateway)))
    return [status for status, _ in results], max(took for _, took in results)


def test_one_backend_call_for_a_cold_key_across_gateways(tmp_path: Path, redis_server: RedisServer) -> None:
    # Without coalesce-across-instances the same burst costs one backend call per gateway (measured:
    # 4 with 4 gateways; docs/caching.md): per-process coalescing only.
    with Backend() as backend:
        config = write_gateway(tmp_path, backend, redis_server.url, across=True)
        with gateway_processes(config, GATEWAYS) as urls:
            statuses, _ = asyncio.run(burst(urls, "/echo/cold", 3, {"X-Test-Delay": "0.5"}))
            assert Counter(statuses) == {200: GATEWAYS * 3}
            assert backend.calls == 1  # one gateway filled the cache, the other three waited for its entry
            # A holder that cannot store (503) releases its lease: the others go to the backend at once.
            statuses, slowest = asyncio.run(burst(urls, "/echo/down", 2, {"X-Test-Status": "503", "X-Test-Delay": "0.3"}))
            assert Counter(statuses) == {503: GATEWAYS * 2}
            assert slowest < 3.0, slowest
