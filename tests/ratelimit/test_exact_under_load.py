"""Exactly `calls` per window across gateway processes while the machine is busy (issue 11).

Several `policygate` gateway processes with the *default* rate-limit settings share one Redis; the
test itself saturates the CPUs with busy-loop processes, then sends 400+ concurrent requests. A
healthy Redis must decide every one of them: exactly `calls` are admitted, the rest get 429, and
no decision falls back to the in-process counters (which would admit up to `calls` per process).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from tests.ratelimit.gateway_process import gateway_processes
from tests.ratelimit.test_multi_gateway import fire, write_gateway
from tests.support.gateway import Backend
from tests.support.redis_server import RedisServer

LIMIT = 50


@contextmanager
def busy_loops(count: int) -> Iterator[None]:
    """`count` processes spinning on the CPU (the load of a busy 2-core machine)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait(10)


async def fallbacks(urls: list[str]) -> float:
    """Decisions the gateways made without Redis (policygate_ratelimit_fallback_decisions_total)."""
    total = 0.0
    async with aiohttp.ClientSession() as session:
        for url in urls:
            async with session.get(url + "/metrics") as response:
                for line in (await response.text()).splitlines():
                    if line.startswith("policygate_ratelimit_fallback_decisions_total{"):
                        total += float(line.rsplit(" ", 1)[1])
    return total


GATEWAYS = 3
REQUESTS = 450


def test_exact_across_gateways_on_a_busy_machine(tmp_path: Path, redis_server: RedisServer) -> None:
    gateways, requests = GATEWAYS, REQUESTS
    spinners = max(2, (os.cpu_count() or 2) * 2)
    with Backend() as backend:
        config = write_gateway(tmp_path, backend, redis_server.url, calls=LIMIT)  # default settings
        with gateway_processes(config, gateways, admin=True) as (urls, admin_urls), busy_loops(spinners):
            results = asyncio.run(fire(urls, requests, concurrency=requests))
            fell_back = asyncio.run(fallbacks(admin_urls))
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: LIMIT, 429: requests - LIMIT}, (statuses, f"fallback decisions: {fell_back}")
    assert backend.calls == LIMIT
    assert fell_back == 0
