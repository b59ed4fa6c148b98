"""Cost of the token limits' work per request, in-process and in Redis, in one run.

    python -m tests.perf.bench_tokens [--requests 4000] [--rounds 5] [--concurrency 64]

Per request an `llm-token-limit` makes two token-budget decisions (engine/ratelimit/tokens.py):
admission, taking the estimated prompt tokens, and the correction once the answer's usage is known.
This runs both, for 1,000 keys in rotation with a per-minute bucket and a monthly quota, on the
in-process store and on Redis (a throwaway redis-server on loopback), one request at a time and with
`--concurrency` requests in flight, and counts Redis commands per decision from INFO commandstats
(goal: 1). It also times the prompt estimate (o200k_base) of chat requests of three sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from engine.ratelimit import LimitService, Mode
from engine.ratelimit.tokens import TokenBudget

SCRIPT_COMMANDS = {"hmget", "hset", "pexpire", "get", "incrby", "set", "del", "time"}


def budget(i: int) -> TokenBudget:
    return TokenBudget(f"client-{i % 1000}", 1_000_000_000, 1_000_000_000, "M2026120100", 3600.0)


async def one_request(service: LimitService, i: int) -> None:
    admitted = await service.tokens(budget(i), 120, Mode.ACQUIRE)
    assert admitted.allowed
    await service.tokens(budget(i), -20, Mode.ADD)  # the answer used 100 tokens


async def sequential(service: LimitService, requests: int) -> float:
    started = time.perf_counter()
    for i in range(requests):
        await one_request(service, i)
    return (time.perf_counter() - started) / requests * 1e6


async def concurrent(service: LimitService, requests: int, concurrency: int) -> float:
    counter = iter(range(requests))

    async def worker() -> None:
        for i in counter:
            await one_request(service, i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - started)


async def estimates(rounds: int) -> list[tuple[int, float]]:
    from engine.llm.tokenizer import estimate_prompt_tokens, preload

    preload().result()
    results = []
    for words in (30, 300, 3000):
        text = " ".join(f"word{i % 50} is here" for i in range(words // 3))
        body = {"messages": [{"role": "system", "content": "You are a helpful assistant."},
                             {"role": "user", "content": text}]}
        tokens = await estimate_prompt_tokens(body)
        count = max(20, 20000 // words)
        started = time.perf_counter()
        for _ in range(count * rounds):
            await estimate_prompt_tokens(body)
        results.append((tokens, (time.perf_counter() - started) / (count * rounds) * 1e6))
    return results


async def main(args: argparse.Namespace) -> None:
    import redis.asyncio as aioredis

    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    admin = aioredis.Redis.from_url(server.url)
    services: dict[str, Any] = {"in-process": LimitService()}
    services["redis"] = LimitService.from_config({"external": server.url, "timeout-ms": 1000}, where="bench")
    await services["redis"].start()
    try:
        for service in services.values():
            await sequential(service, 300)  # warm up
        per_round: dict[str, list[float]] = {name: [] for name in services}
        for _ in range(args.rounds):
            for name, service in services.items():
                per_round[name].append(await sequential(service, args.requests))
        print(f"one request at a time, {args.requests} requests x {args.rounds} rounds (two decisions per request):")
        for name, values in per_round.items():
            print(f"  {name:<11} {statistics.median(values):8.1f} us per request (range {min(values):.1f} .. {max(values):.1f})")
        await admin.config_resetstat()
        rates = {name: await concurrent(service, args.requests, args.concurrency) for name, service in services.items()}
        print(f"\n{args.concurrency} requests in flight:")
        for name, rate in rates.items():
            print(f"  {name:<11} {rate:10.0f} requests/s")
        stats = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in (await admin.info("commandstats")).items()}
        client = {k: v for k, v in stats.items() if k not in SCRIPT_COMMANDS | {"config", "info"}}
        decisions = args.requests * 2
        print(f"\nRedis commands sent per decision: {sum(client.values()) / decisions:.2f} {client}")
        print("\nprompt estimate (o200k_base), one chat request:")
        for tokens, micros in await estimates(args.rounds):
            print(f"  {tokens:5d} tokens  {micros:8.1f} us")
    finally:
        await services["redis"].close()
        await admin.aclose()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64)
    asyncio.run(main(parser.parse_args()))
