"""A cache lookup right after a rate limit or quota reads its entry in the decision's Redis round trip.

Real gateway, real backend, real Redis; Redis's own MONITOR stream shows which connection sent
each command, so "one round trip" is observed, not inferred: the hit's GET arrives on the rate
limiter's connection right behind its EVALSHA, and the cache's own connection sends nothing.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from tests.ratelimit.gateway_process import gateway_processes
from tests.ratelimit.test_exact_under_load import busy_loops, fallbacks
from tests.ratelimit.test_multi_gateway import fire
from tests.support.gateway import Backend, run_gateway, simple_config, write_config
from tests.support.redis_server import RedisServer


def policy(calls: int = 100, between: str = "") -> str:
    return f"""<policies>
  <inbound><base/>
    <rate-limit-by-key calls="{calls}" renewal-period="60" counter-key="one"/>{between}
    <cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="external"/>
  </inbound>
  <backend><base/></backend>
  <outbound><base/><cache-store duration="60"/></outbound>
  <on-error><base/></on-error>
</policies>"""


class Monitor:
    """Redis's MONITOR stream in a thread: (client address, command words) of every command."""

    def __init__(self, url: str) -> None:
        # No read timeout: redis-py drops a connection whose read timed out, which ended MONITOR
        # after any 0.2 s without commands on a loaded machine. The listener is woken to stop by
        # a command of its own (see __exit__).
        self.client = redis.Redis.from_url(url)
        self.marker = redis.Redis.from_url(url, socket_timeout=5)
        self.seen: list[tuple[str, list[str]]] = []
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        with self.client.monitor() as monitor:
            self._started.set()
            while not self._stop.is_set():
                command = monitor.next_command()
                self.seen.append((f"{command['client_address']}:{command['client_port']}", command["command"].split()))

    def __enter__(self) -> Monitor:
        self.marker.ping()  # connected (and its hello commands sent) before anything is watched
        self._thread.start()
        assert self._started.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.marker.echo("monitor-stop")  # wakes the listener, which then sees the stop
        self._thread.join(5)
        self.client.close()
        self.marker.close()

    def mark(self) -> int:
        """Send a marker and wait until MONITOR shows it (so everything before it is in `seen`); its index."""
        token = uuid.uuid4().hex
        self.marker.echo(token)
        for _ in range(500):
            for i, (_, words) in enumerate(self.seen):
                if words[-1].strip('"') == token:
                    return i
            time.sleep(0.01)
        raise AssertionError("MONITOR did not show the marker")


def commands_between(monitor: Monitor, start: int, end: int) -> list[tuple[str, str, str]]:
    """(client, command, first key) of the commands clients sent between two marks (not those run by scripts)."""
    rows = []
    for client, words in monitor.seen[start + 1 : end]:
        if client.startswith("lua"):
            continue
        name = words[0].strip('"').upper()
        key = words[3].strip('"') if name == "EVALSHA" and len(words) > 3 else words[1].strip('"') if len(words) > 1 else ""
        rows.append((client, name, key))
    return rows


def gateway(tmp_path: Path, backend: Backend, xml: str, cache_url: str, limits_url: str | None = None) -> Any:
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    limits: dict[str, Any] = {"prefix": prefix, "timeout-ms": 1000}
    if limits_url is not None:
        limits["external"] = limits_url
    config = simple_config(api_policy="api.xml", cache={"external": cache_url, "prefix": prefix, "timeout-ms": 1000},
                           **{"rate-limits": limits})
    return run_gateway(tmp_path, config, {"api.xml": xml}, backend=backend)


def hit_commands(gw: Any, monitor: Monitor, path: str) -> tuple[Any, list[tuple[str, str, str]]]:
    start = monitor.mark()
    answer = gw.get(path)
    return answer, commands_between(monitor, start, monitor.mark())


def test_a_hit_is_one_round_trip_on_the_limiters_connection(tmp_path: Path, redis_url: str) -> None:
    with Backend() as backend, gateway(tmp_path, backend, policy(), redis_url) as gw, Monitor(redis_url) as monitor:
        assert gw.get("/echo/items/1").status == 200  # a miss: reads the generations, stores the entry
        answer, commands = hit_commands(gw, monitor, "/echo/items/1")
        assert answer.status == 200 and backend.calls == 1
        names = [name for _, name, _ in commands]
        assert names == ["EVALSHA", "GET"], commands
        assert commands[0][0] == commands[1][0]  # the GET rode on the decision's connection, right behind it
        assert 'policygate_cache_requests_total{store="external",result="hit"} 1' in gw.metrics()


def test_a_refused_request_gets_429_and_the_read_is_dropped(tmp_path: Path, redis_url: str) -> None:
    with Backend() as backend, gateway(tmp_path, backend, policy(calls=2), redis_url) as gw, Monitor(redis_url) as monitor:
        assert [gw.get("/echo/items/1").status for _ in range(2)] == [200, 200]
        answer, commands = hit_commands(gw, monitor, "/echo/items/1")
        assert answer.status == 429
        assert "Rate limit is exceeded" in answer.text
        assert [name for _, name, _ in commands] == ["EVALSHA", "GET"]  # read, then dropped
        assert backend.calls == 1
        assert 'policygate_cache_requests_total{store="external",result="hit"} 1' in gw.metrics()


def test_a_quota_decision_carries_the_read_too(tmp_path: Path, redis_url: str) -> None:
    """quota-by-key then cache-lookup: the hit's GET rides behind the quota's EVALSHA; a request
    over quota gets its 403, and the read is dropped."""
    xml = policy().replace('<rate-limit-by-key calls="100" renewal-period="60" counter-key="one"/>',
                           '<quota-by-key calls="3" renewal-period="3600" counter-key="one"/>')
    with Backend() as backend, gateway(tmp_path, backend, xml, redis_url) as gw, Monitor(redis_url) as monitor:
        assert gw.get("/echo/items/1").status == 200  # a miss: reads the generations, stores the entry
        answer, commands = hit_commands(gw, monitor, "/echo/items/1")
        assert answer.status == 200 and backend.calls == 1
        assert [name for _, name, _ in commands] == ["EVALSHA", "GET"], commands
        assert commands[0][0] == commands[1][0]  # one connection, back to back
        assert gw.get("/echo/items/1").status == 200
        refused, commands = hit_commands(gw, monitor, "/echo/items/1")
        assert refused.status == 403 and "Out of call volume quota" in refused.text
        assert [name for _, name, _ in commands] == ["EVALSHA", "GET"]  # read, then dropped
        assert 'policygate_cache_requests_total{store="external",result="hit"} 2' in gw.metrics()


def test_a_step_between_keeps_the_lookups_own_read(tmp_path: Path, redis_url: str) -> None:
    """A policy between the two may change the key (here the query): the lookup asks on its own
    connection, for the changed request's variant."""
    between = '<set-query-parameter name="v" exists-action="override"><value>2</value></set-query-parameter>'
    with Backend() as backend, gateway(tmp_path, backend, policy(between=between), redis_url) as gw, \
            Monitor(redis_url) as monitor:
        assert gw.get("/echo/items/1?v=1").status == 200
        answer, commands = hit_commands(gw, monitor, "/echo/items/1?v=3")
        assert answer.status == 200 and backend.calls == 1  # v=3 became v=2: the stored variant
        assert "v=2" in answer.text
        assert [name for _, name, _ in commands] == ["EVALSHA", "GET"]
        assert commands[0][0] != commands[1][0]  # two connections: two round trips


def test_a_limiter_on_another_redis_does_not_carry_the_read(tmp_path: Path, redis_url: str) -> None:
    other = RedisServer()
    other.start()
    try:
        with Backend() as backend, gateway(tmp_path, backend, policy(), redis_url, other.url) as gw, \
                Monitor(redis_url) as monitor:
            assert gw.get("/echo/items/1").status == 200
            answer, commands = hit_commands(gw, monitor, "/echo/items/1")
            assert answer.status == 200 and backend.calls == 1
            assert [name for _, name, _ in commands] == ["GET"]  # the decision went to the other Redis
    finally:
        other.stop()


def test_exact_across_two_gateways_on_a_busy_machine_with_the_read_riding(tmp_path: Path, redis_server: RedisServer) -> None:
    """Two gateway processes, busy loops beside them, a burst of cache hits behind one counter: the
    decisions carrying the lookups' reads still admit exactly `calls` and refuse the rest."""
    calls, requests = 40, 240
    policy_xml = policy(calls=calls).replace("<base/>", "").replace("<backend>", "<backend><forward-request/>")
    config = {"policy": "global.xml", "cache": {"external": redis_server.url},
              "apis": {"echo": {"path": "echo", "service-url": "{{backend-url}}", "subscription-required": False}}}
    with Backend() as backend:
        path = write_config(tmp_path, config, {"global.xml": policy_xml}, backend)
        with gateway_processes(path, 2, admin=True) as (urls, admin_urls):
            for url in urls:  # fill the entry, and each gateway's cached generations
                assert asyncio.run(fire([url], 1))[0][0] == 200
            with busy_loops(max(2, (os.cpu_count() or 2) * 2)):
                results = asyncio.run(fire(urls, requests, concurrency=requests))
            fell_back = asyncio.run(fallbacks(admin_urls))
    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: calls - 2, 429: requests - calls + 2}, (statuses, f"fallback decisions: {fell_back}")
    assert backend.calls == 1  # every admitted request was a hit
    assert fell_back == 0
