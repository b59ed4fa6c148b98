"""One Redis stall per request, however many Redis-backed policies the request runs (engine.redis_health).

A request with rate-limit-by-key, quota-by-key, cache-lookup and cache-store asks Redis four
times. When Redis freezes (SIGSTOP: connections stay open, nothing answers), the first component
that sees the stall opens the endpoint's shared breaker and the others fall back at once: the
request answers after about one `timeout-ms`, not one per policy. The test runs beside two
busy-loop processes (a busy 2-core machine), against a standalone Redis, and checks that Redis
serves again after SIGCONT.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.chaos.test_redis_chaos import (
    CACHE_LOOKUP,
    CACHE_STORE,
    POLICY,
    Load,
    external_hits,
    statuses,
    wait_until,
)
from tests.ratelimit.test_exact_under_load import busy_loops
from tests.support.gateway import Backend, run_gateway, simple_config
from tests.support.redis_cluster import RedisClusterNodes
from tests.support.redis_server import RedisServer

TIMEOUT_MS = 1000  # cache.timeout-ms and rate-limits.timeout-ms: one stall
# A request that paid a stall per Redis policy (the defect) takes at least two full stalls, so any
# request under two stalls paid at most one: the machine keeps a whole stall of scheduling slack.
BOUND = 2 * TIMEOUT_MS / 1000
FREEZE = 2.5  # seconds: the stall, one breaker period (1 s), a probe that stalls until the thaw
RECOVERY_LIMIT = 6.0

INBOUND = ('<rate-limit-by-key calls="1000000" renewal-period="60" counter-key="@(context.Request.IpAddress)"/>'
           '<quota-by-key calls="100000000" renewal-period="3600" counter-key="@(context.Request.IpAddress)"/>'
           + CACHE_LOOKUP)


@contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@pytest.fixture(params=["standalone", "cluster"])
def redis_target(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[int]]]:
    """(URL, pids to freeze) of a private Redis: one server, or every node of a 3-node cluster."""
    if request.param == "standalone":
        server = RedisServer()
        server.start()
        try:
            assert server.process is not None
            yield server.url, [server.process.pid]
        finally:
            server.stop()
        return
    cluster = RedisClusterNodes(3)
    cluster.start()
    try:
        yield cluster.url, [node.process.pid for node in cluster.nodes if node.process is not None]
    finally:
        cluster.stop()


async def test_a_frozen_redis_costs_a_request_one_stall(tmp_path: Path, redis_target: tuple[str, list[int]]) -> None:
    url, pids = redis_target
    config = simple_config(
        operations={"cached": {"method": "GET", "url-template": "/cached", "policy": "cached.xml"}},
        cache={"external": url, "timeout-ms": TIMEOUT_MS},
    )
    config["rate-limits"] = {"timeout-ms": TIMEOUT_MS}
    policies = {"cached.xml": POLICY.format(inbound=INBOUND, outbound=CACHE_STORE)}
    with Backend() as backend, run_gateway(tmp_path, config, policies, backend=backend) as gateway:
        load = Load(gateway.url + "/echo")
        runner = asyncio.create_task(load.run({"/cached": (6, 0.01)}))
        await wait_until(lambda: external_hits(gateway.admin_url), 10.0)  # Redis answers: hits from it
        with busy_loops(2):
            await asyncio.sleep(0.5)
            frozen_at = time.monotonic()
            with frozen(pids):
                await asyncio.sleep(FREEZE)
            thawed = time.monotonic()
            hits_at_thaw = await external_hits(gateway.admin_url)

            async def hits_again() -> bool:
                return await external_hits(gateway.admin_url) > hits_at_thaw

            recovered_after = await wait_until(hits_again, 10.0)
        load.stopped.set()
        await runner

    assert statuses(load.answers) == {200: len(load.answers)}, statuses(load.answers)
    during = [a for a in load.answers if frozen_at <= a.at < thawed]
    slowest = max(a.seconds for a in load.answers)
    # The stall was real (someone waited for it), and nobody waited for it twice.
    assert slowest >= TIMEOUT_MS / 1000 * 0.8, f"no request waited for the frozen Redis ({slowest:.2f} s)"
    assert slowest < BOUND, f"a request took {slowest:.2f} s: more than one stall of {TIMEOUT_MS} ms"
    assert len(during) > 12, f"only {len(during)} requests while Redis was frozen"
    assert recovered_after is not None and recovered_after < RECOVERY_LIMIT, recovered_after
