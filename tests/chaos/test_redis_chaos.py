"""Chaos: Redis is killed, frozen and brought back while a real gateway is under steady concurrent load.

A real Hypercorn gateway (tests/support/gateway.py) keeps its response cache and rate-limit
counters in a private redis-server (`redis_server` fixture). Client tasks send a steady stream of
requests for two operations:

  /cached   cache-lookup + cache-store on Redis (plus a high rate-limit-by-key in fail-open mode);
  /limited  rate-limit-by-key on Redis (a low limit for fail-open, a high one for fail-closed).

While the load runs, Redis is stopped (SIGKILL) or frozen (SIGSTOP) and then started again. Every
answer is recorded with its time, and the tests assert:
  - not one 5xx (and no hung request) for cacheable traffic, whatever Redis does;
  - rate limits follow the configured failure mode: fail-open keeps limiting with in-process
    counters (429s, never 5xx), fail-closed answers 503 while Redis is away;
  - recovery: the gateway serves cache hits from Redis again (and fail-closed limits pass again)
    within about a second of Redis coming back (the breaker probes once per `reset-seconds`, 1 s
    by default; the assertion allows CI slack but requires recovery).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import redis

from tests.ratelimit.test_multi_gateway import counted
from tests.support.gateway import Backend, run_gateway, simple_config
from tests.support.redis_server import RedisServer

RECOVERY_SLACK_SECONDS = 6.0  # goal ~1 s (one breaker period, measured 0.06-0.21 s); a loaded CI machine is slower
REQUEST_TIMEOUT = 5.0          # a request slower than this counts as a hang

POLICY = """<policies>
  <inbound><base/>{inbound}</inbound>
  <backend><base/></backend>
  <outbound><base/>{outbound}</outbound>
  <on-error><base/></on-error>
</policies>"""
CACHE_LOOKUP = '<cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="external"/>'
CACHE_STORE = '<cache-store duration="300"/>'


def rate_limit(calls: int, key: str) -> str:
    return f'<rate-limit-by-key calls="{calls}" renewal-period="60" counter-key="{key}"/>'


@dataclass
class Answer:
    at: float
    path: str
    status: int  # 0: no answer (connection error or timeout)
    seconds: float


@dataclass
class Load:
    """Client tasks hammering the gateway; every answer is kept with its time."""

    base: str
    answers: list[Answer] = field(default_factory=list)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def _client(self, session: aiohttp.ClientSession, path: str, pause: float) -> None:
        while not self.stopped.is_set():
            started = time.monotonic()
            try:
                async with session.get(self.base + path) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            self.answers.append(Answer(started, path, status, time.monotonic() - started))
            await asyncio.sleep(pause)

    async def run(self, clients: dict[str, tuple[int, float]]) -> None:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            tasks = [asyncio.create_task(self._client(session, path, pause))
                     for path, (count, pause) in clients.items() for _ in range(count)]
            await asyncio.gather(*tasks)

    def between(self, path: str, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if a.path == path and start <= a.at < end]


async def external_hits(admin_url: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(admin_url + "/metrics") as response:
        text = await response.text()
    match = re.search(r'policygate_cache_requests_total\{store="external",result="hit"\} ([\d.e+]+)', text)
    return float(match.group(1)) if match else 0.0


async def wait_until(condition: Callable[[], object], limit: float) -> float | None:
    """Seconds until `await condition()` is true, or None after `limit` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if await condition():  # type: ignore[misc]
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


async def answered(load: Load, path: str, status: int, count: int = 1, limit: float = 15.0) -> None:
    """Wait until `count` requests for `path` got `status` (on a busy machine the first ones can take seconds)."""
    async def enough() -> bool:
        return sum(a.path == path and a.status == status for a in load.answers) >= count

    assert await wait_until(enough, limit) is not None, f"no {count} x {status} for {path} in {limit:g} s: {statuses(load.answers)}"


def gateway_config(redis: RedisServer, rate_limits: dict[str, object]) -> dict[str, object]:
    operations = {
        "cached": {"method": "GET", "url-template": "/cached", "policy": "cached.xml"},
        "limited": {"method": "GET", "url-template": "/limited", "policy": "limited.xml"},
    }
    return simple_config(operations=operations, cache={"external": redis.url}, **{"rate-limits": rate_limits})


async def warm_cache(load: Load, backend: Backend) -> None:
    """One miss stores the entry; the next request must be a hit (the backend is not called)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.get(load.base + "/cached") as response:
                assert response.status == 200
                await response.read()
    assert backend.calls == 1


def statuses(answers: list[Answer]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return counts


async def test_redis_killed_fail_open(tmp_path: Path, redis_server: RedisServer) -> None:
    """Default failure mode: no 5xx at all, limits still enforced in-process, Redis hits resume after restart."""
    policies = {
        "cached.xml": POLICY.format(inbound=rate_limit(1_000_000, "@(context.Request.IpAddress)") + CACHE_LOOKUP,
                                    outbound=CACHE_STORE),
        "limited.xml": POLICY.format(inbound=rate_limit(3, "greedy-client"), outbound=""),
    }
    with Backend() as backend, run_gateway(tmp_path, gateway_config(redis_server, {}), policies, backend=backend) as gateway:
        load = Load(gateway.url + "/echo")
        await warm_cache(load, backend)
        runner = asyncio.create_task(load.run({"/cached": (6, 0.005), "/limited": (1, 0.05)}))
        await answered(load, "/limited", 429)  # Redis counted the 3 calls and refuses the next ones
        outage_start = time.monotonic()
        redis_server.stop()
        await asyncio.sleep(2.5)
        outage_end = time.monotonic()
        await asyncio.to_thread(redis_server.start)
        restarted = time.monotonic()
        hits_at_restart = await external_hits(gateway.admin_url)

        async def hits_again() -> bool:
            return await external_hits(gateway.admin_url) > hits_at_restart

        recovered_after = await wait_until(hits_again, 10.0)
        await asyncio.sleep(0.5)
        load.stopped.set()
        await runner

    cached = [a for a in load.answers if a.path == "/cached"]
    assert len(cached) > 100, "the load did not run"
    assert statuses(cached) == {200: len(cached)}, f"cacheable traffic must always succeed: {statuses(cached)}"
    assert len(load.between("/cached", outage_start + 0.2, outage_end)) > 20, "no traffic during the outage"

    limited_all = [a for a in load.answers if a.path == "/limited"]
    # Answered before the outage: Redis decided. Answered during it (whenever sent): the in-process
    # counters decided. A request sent just before the kill is decided after it, so it belongs to
    # the second group, not the first.
    limited_before = [a for a in limited_all if a.at + a.seconds < outage_start]
    limited_during = [a for a in limited_all if outage_start <= a.at + a.seconds < outage_end]
    assert not [a for a in limited_all if a.status >= 500 or a.status == 0], statuses(limited_all)
    # Redis counted 3, then 429: while Redis is healthy it decides, however loaded the machine is.
    assert statuses(limited_before).get(200, 0) == 3, statuses(limited_before)
    assert statuses(limited_before).get(429, 0) > 0, statuses(limited_before)
    # Fail-open: in-process counters take over; they start empty, so at most `calls` more pass.
    assert statuses(limited_during).get(429, 0) > 0, statuses(limited_during)
    assert statuses(limited_during).get(200, 0) <= 3, statuses(limited_during)

    assert recovered_after is not None, "no cache hit from Redis within 10 s of its restart"
    assert recovered_after < RECOVERY_SLACK_SECONDS, f"cache hits from Redis resumed only after {recovered_after:.2f} s"
    assert restarted - outage_end < 5


async def test_redis_killed_fail_closed(tmp_path: Path, redis_server: RedisServer) -> None:
    """failure-mode closed: rate-limited requests get 503 while Redis is away; cacheable ones never fail."""
    policies = {
        "cached.xml": POLICY.format(inbound=CACHE_LOOKUP, outbound=CACHE_STORE),
        "limited.xml": POLICY.format(inbound=rate_limit(1_000_000, "everyone"), outbound=""),
    }
    config = gateway_config(redis_server, {"failure-mode": "closed"})
    with Backend() as backend, run_gateway(tmp_path, config, policies, backend=backend) as gateway:
        load = Load(gateway.url + "/echo")
        await warm_cache(load, backend)
        runner = asyncio.create_task(load.run({"/cached": (4, 0.005), "/limited": (2, 0.01)}))
        await answered(load, "/limited", 200, count=5)  # Redis decides
        outage_start = time.monotonic()
        redis_server.stop()
        await asyncio.sleep(2.0)
        outage_end = time.monotonic()
        await asyncio.to_thread(redis_server.start)
        restarted = time.monotonic()

        def limits_pass_since(moment: float) -> Callable[[], object]:
            async def check() -> bool:
                recent = load.between("/limited", moment, time.monotonic())
                return len(recent) >= 3 and all(a.status == 200 for a in recent[-3:])
            return check

        recovered_after = await wait_until(limits_pass_since(restarted), 10.0)
        await asyncio.sleep(0.5)
        load.stopped.set()
        await runner

    cached = [a for a in load.answers if a.path == "/cached"]
    assert len(cached) > 100, "the load did not run"
    assert statuses(cached) == {200: len(cached)}, f"cacheable traffic must always succeed: {statuses(cached)}"

    # answered before the outage (a request sent just before it may be decided after Redis is gone: 503 is right)
    before = [a for a in load.between("/limited", 0, outage_start) if a.at + a.seconds < outage_start]
    assert statuses(before) == {200: len(before)}, statuses(before)
    # Sent after the kill (this loop was blocked in stop()) and answered before the restart began:
    # no Redis existed for the whole request, so every one must be refused.
    sent_after_kill = load.between("/limited", outage_start, float("inf"))
    during = [a for a in sent_after_kill if a.at + a.seconds < outage_end]
    assert len(during) > 20 and statuses(during) == {503: len(during)}, f"fail-closed must answer 503: {statuses(during)}"
    # A request sent during the outage but decided after the restart may pass, if the restarted
    # Redis counted it. It starts empty, so its log holds exactly the requests it admitted: every
    # 200 sent after the kill must be one entry there (a client timeout may hide an admission).
    admitted = statuses(sent_after_kill).get(200, 0)
    client = redis.Redis.from_url(redis_server.url)
    in_redis = counted(client)
    client.close()
    unanswered = statuses(sent_after_kill).get(0, 0)
    late = [(round(a.at - outage_end, 3), round(a.seconds, 3)) for a in sent_after_kill if a.status == 200 and a.at < outage_end]
    assert admitted <= in_redis <= admitted + unanswered, (
        f"{admitted} admitted after the kill, {in_redis} counted by Redis; sent before the restart and admitted"
        f" (start - outage end, seconds): {late}"
    )
    assert recovered_after is not None, "rate-limited requests did not pass again within 10 s of the restart"
    assert recovered_after < RECOVERY_SLACK_SECONDS, f"limits recovered only after {recovered_after:.2f} s"


async def test_redis_frozen_requests_stay_fast(tmp_path: Path, redis_server: RedisServer) -> None:
    """A Redis that accepts connections but never answers (SIGSTOP): bounded latency, no 5xx, recovery after SIGCONT."""
    policies = {
        "cached.xml": POLICY.format(inbound=rate_limit(1_000_000, "@(context.Request.IpAddress)") + CACHE_LOOKUP,
                                    outbound=CACHE_STORE),
        "limited.xml": POLICY.format(inbound=rate_limit(1_000_000, "everyone"), outbound=""),
    }
    with Backend() as backend, run_gateway(tmp_path, gateway_config(redis_server, {}), policies, backend=backend) as gateway:
        load = Load(gateway.url + "/echo")
        await warm_cache(load, backend)
        runner = asyncio.create_task(load.run({"/cached": (4, 0.005), "/limited": (1, 0.02)}))
        await asyncio.sleep(0.8)
        assert redis_server.process is not None
        pid = redis_server.process.pid
        frozen_at = time.monotonic()
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(2.0)
        finally:
            os.kill(pid, signal.SIGCONT)
        thawed = time.monotonic()
        hits_at_thaw = await external_hits(gateway.admin_url)

        async def hits_again() -> bool:
            return await external_hits(gateway.admin_url) > hits_at_thaw

        recovered_after = await wait_until(hits_again, 10.0)
        await asyncio.sleep(0.3)
        load.stopped.set()
        await runner

    assert len(load.answers) > 100, "the load did not run"
    assert statuses(load.answers) == {200: len(load.answers)}, statuses(load.answers)
    frozen = [a for a in load.answers if frozen_at <= a.at < thawed]
    assert len(frozen) > 20, "no traffic while Redis was frozen"
    slowest = max(a.seconds for a in frozen)
    assert slowest < 1.0, f"a request took {slowest:.2f} s while Redis was frozen: more than one 500 ms stall"
    assert recovered_after is not None and recovered_after < RECOVERY_SLACK_SECONDS, recovered_after
