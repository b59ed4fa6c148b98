"""Added cost of a rate-limit-by-key decision, in-process and in Redis, side by side in one run.

    python -m tests.perf.bench_ratelimit [--requests 4000] [--rounds 5] [--concurrency 64]

Builds the same compiled pipeline twice — with and without
`<rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Request.IpAddress)"/>`
(1,000 client addresses in rotation, so every request is admitted and counted) — and runs requests
straight through `Pipeline.run` (no HTTP, so the difference is the decision itself). Each round
measures the baseline, the in-process limiter and the Redis limiter (a throwaway redis-server on
loopback) back to back, plus a plain PING round trip for scale; per-round differences are reported
as median and range. A second part
runs `--concurrency` requests at a time against Redis (decisions/s). Redis commands per decision
come from INFO commandstats: client commands (EVALSHA) over decisions (goal 1), with the commands
the Lua script runs inside Redis listed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LIMIT = '<rate-limit-by-key calls="1000000000" renewal-period="60" counter-key="@(context.Request.IpAddress)" />'
DOCUMENT = """<policies>
  <inbound><set-variable name="client" value="@(context.Request.IpAddress)" />{limit}</inbound>
  <backend/>
  <outbound><set-header name="X-Served-By" exists-action="override"><value>policygate</value></set-header></outbound>
  <on-error/>
</policies>"""
SCRIPT_COMMANDS = {"hget", "hset", "hincrby", "zadd", "zrange", "zrangebyscore", "zremrangebyscore", "pexpire", "time"}


def build_pipeline(with_limit: bool) -> Any:
    from engine.diagnostics import Diagnostics
    from engine.document import load_document
    from engine.gateway.builder import PipelineBuilder
    from engine.registry import default_registry

    registry = default_registry()
    diagnostics = Diagnostics()
    text = DOCUMENT.format(limit=LIMIT if with_limit else "")
    document = load_document("bench.xml", text=text, registry=registry, diagnostics=diagnostics)
    if document is None or diagnostics.has_errors:
        raise SystemExit("\n".join(d.format() for d in diagnostics.sorted()))
    builder = PipelineBuilder(registry)
    pipeline = builder.pipeline({s: document.policies(s) for s in ("inbound", "backend", "outbound", "on-error")})
    builder.finish()
    return pipeline


def context(services: Any, i: int) -> Any:
    from engine.context import Context, Request, Url

    url = Url.parse("http://gateway.local/echo/items?id=1")
    return Context(request=Request("GET", url, url.copy(), ip_address=f"10.0.{i % 1000 // 250}.{i % 250}"), services=services)


async def sequential(pipeline: Any, services: Any, requests: int) -> float:
    """Microseconds per request, one request at a time."""
    started = time.perf_counter()
    for i in range(requests):
        await pipeline.run(context(services, i))
    return (time.perf_counter() - started) / requests * 1e6


async def concurrent(pipeline: Any, services: Any, requests: int, concurrency: int) -> float:
    """Requests per second with `concurrency` requests in flight."""
    counter = iter(range(requests))

    async def worker() -> None:
        for i in counter:
            await pipeline.run(context(services, i))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


async def ping_round_trip(client: Any, requests: int) -> float:
    """Microseconds per PING, one at a time: the network and client floor under a Redis decision."""
    started = time.perf_counter()
    for _ in range(requests):
        await client.ping()
    return (time.perf_counter() - started) / requests * 1e6


async def commandstats(client: Any) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def main(args: argparse.Namespace) -> None:
    import redis.asyncio as aioredis

    from engine.ratelimit import LimitService
    from engine.redis_dispatcher import MAX_BATCH
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    admin = aioredis.Redis.from_url(server.url)
    internal = LimitService()
    external = LimitService.from_config({"external": server.url, "timeout-ms": 1000}, where="bench")
    await external.start()
    try:
        plain, limited = build_pipeline(False), build_pipeline(True)
        services = {
            "baseline": SimpleNamespace(limits=internal),
            "in-process": SimpleNamespace(limits=internal),
            "redis": SimpleNamespace(limits=external),
        }
        pipelines = {"baseline": plain, "in-process": limited, "redis": limited}
        for name in pipelines:  # warm up (compiled code, connections, scripts)
            await sequential(pipelines[name], services[name], 300)
        per_round: dict[str, list[float]] = {name: [] for name in pipelines}
        pings: list[float] = []
        assert external.redis is not None
        for _ in range(args.rounds):
            for name in pipelines:
                per_round[name].append(await sequential(pipelines[name], services[name], args.requests))
            pings.append(await ping_round_trip(external.redis, args.requests))
        print(f"sequential, {args.requests} requests x {args.rounds} rounds (microseconds per request, median of rounds):")
        base = statistics.median(per_round["baseline"])
        print(f"  pipeline without the policy   {base:8.1f} us")
        for name in ("in-process", "redis"):
            added = [v - b for v, b in zip(per_round[name], per_round["baseline"], strict=True)]
            print(
                f"  with rate-limit-by-key, {name:<10} {statistics.median(per_round[name]):8.1f} us"
                f"   added {statistics.median(added):7.1f} us (range {min(added):.1f} .. {max(added):.1f})"
            )
        print(f"  for scale: one Redis PING round trip on the same client {statistics.median(pings):8.1f} us")

        await admin.config_resetstat()
        decisions = args.requests * 2
        rates = {
            name: await concurrent(pipelines[name], services[name], decisions, args.concurrency)
            for name in ("baseline", "in-process", "redis")
        }
        external.redis.dispatcher.max_batch = 1
        rates["redis, no batching"] = await concurrent(limited, services["redis"], decisions, args.concurrency)
        external.redis.dispatcher.max_batch = MAX_BATCH
        print(f"\n{args.concurrency} requests in flight ({decisions} requests each):")
        for name, rate in rates.items():
            print(f"  {name:<19} {rate:10.0f} requests/s   ({rate / rates['baseline']:.2f} of baseline)")
        stats = await commandstats(admin)
        client = {k: v for k, v in stats.items() if k not in SCRIPT_COMMANDS | {"config", "info", "ping"}}
        inside = {k: v for k, v in stats.items() if k in SCRIPT_COMMANDS}
        decisions *= 2  # both Redis runs
        print(f"\nRedis commands per decision (INFO commandstats over {decisions} Redis decisions):")
        print(f"  sent by the gateway: {sum(client.values()) / decisions:.2f}  {client}")
        print(f"  run inside the Lua script: {sum(inside.values()) / decisions:.2f}  {inside}")
    finally:
        await external.close()
        await admin.aclose()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64)
    arguments = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(arguments))
