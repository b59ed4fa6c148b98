"""Several gateway processes sharing one real Redis admit exactly `calls` per window between them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import aiohttp
import redis

from tests.ratelimit.gateway_process import gateway_processes
from tests.support.gateway import Backend, write_config
from tests.support.redis_server import RedisServer

LIMIT = 100
PERIOD = 60
REQUESTS = 2000
GATEWAYS = 4


def write_gateway(tmp_path: Path, backend: Backend, redis_url: str, *, calls: int = LIMIT, **limits: object) -> Path:
    """A gateway.yaml with one global `rate-limit-by-key` (`calls` per PERIOD, one key) on `redis_url`."""
    policy = (
        "<policies><inbound>"
        f'<rate-limit-by-key calls="{calls}" renewal-period="{PERIOD}" counter-key="everyone" />'
        "</inbound><backend><forward-request/></backend><outbound/><on-error/></policies>"
    )
    settings = {
        "policy": "global.xml",
        "apis": {"echo": {"path": "echo", "service-url": "{{backend-url}}", "subscription-required": False}},
        "rate-limits": {"external": redis_url, **limits},
    }
    return write_config(tmp_path, settings, {"global.xml": policy}, backend)


async def fire(urls: list[str], count: int, concurrency: int = 400) -> list[tuple[int, str | None, str]]:
    """`count` concurrent GETs spread round-robin over the gateways: (status, Retry-After, body)."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int) -> tuple[int, str | None, str]:
            async with session.get(f"{urls[i % len(urls)]}/echo/x") as response:
                return response.status, response.headers.get("Retry-After"), await response.text()

        return await asyncio.gather(*(one(i) for i in range(count)))


def counted(client: redis.Redis) -> int:
    """Entries in the Redis sliding-window log of the test's counter."""
    log = next(iter(client.scan_iter(match="*rl:*:l")), None)
    return int(client.zcard(log)) if log is not None else 0


def wait_for_redis_decisions(urls: list[str], server: RedisServer, timeout: float = 10.0) -> float:
    """Send single requests until both gateways decide in Redis again; return the seconds it took."""
    client = redis.Redis.from_url(server.url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            before = counted(client)
            asyncio.run(fire(urls, len(urls), concurrency=1))  # one request per gateway
            if counted(client) - before == len(urls):
                return time.monotonic() - started
            time.sleep(0.2)
    finally:
        client.close()
    return timeout


def test_four_gateways_admit_exactly_the_limit(tmp_path: Path, redis_server: RedisServer) -> None:
    # failure-mode closed and a generous timeout: a slow Redis on a busy CI machine must show up as
    # 503s (and fail this test), never as silently over-admitting in-process fallbacks.
    with Backend() as backend:
        config = write_gateway(tmp_path, backend, redis_server.url, **{"failure-mode": "closed", "timeout-ms": 5000})
        with gateway_processes(config, GATEWAYS) as urls:
            started = time.monotonic()
            results = asyncio.run(fire(urls, REQUESTS))
            elapsed = time.monotonic() - started
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}
    assert backend.calls == LIMIT
    for status, retry_after, body in results:
        if status != 429:
            continue
        assert retry_after is not None
        seconds = int(retry_after)
        # The first admitted call leaves the window PERIOD s after it was admitted, within this run.
        assert PERIOD - elapsed - 1 <= seconds <= PERIOD
        assert f"Try again in {seconds} seconds." in body


def test_redis_killed_mid_run_fail_open_keeps_serving(tmp_path: Path, redis_server: RedisServer) -> None:
    with Backend() as backend:
        config = write_gateway(
            tmp_path, backend, redis_server.url,
            **{"failure-mode": "open", "timeout-ms": 200, "breaker": {"failures": 2, "reset-seconds": 0.5}},
        )
        with gateway_processes(config, 2) as urls:
            before = asyncio.run(fire(urls, 60, concurrency=20))
            redis_server.stop()
            started = time.monotonic()
            during = asyncio.run(fire(urls, 300, concurrency=50))
            assert time.monotonic() - started < 30  # bounded decisions: no request waits on the dead Redis
            redis_server.restart()
            recovered_in = wait_for_redis_decisions(urls, redis_server)
            after = asyncio.run(fire(urls, 20, concurrency=5))
    assert {status for status, _, _ in before} == {200}
    # While Redis is down each gateway limits on its own: it serves, and still refuses beyond the limit.
    during_statuses = Counter(status for status, _, _ in during)
    assert set(during_statuses) <= {200, 429} and during_statuses[200] >= LIMIT
    assert during_statuses[200] <= 2 * LIMIT
    # Back on Redis (the breaker closed again): its counter, restarted empty, decides, so requests are
    # admitted although both in-process fallbacks are full.
    assert recovered_in < 10
    assert {status for status, _, _ in after} == {200}
