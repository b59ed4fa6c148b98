"""Two gateway processes sharing one real Redis admit exactly the token budget between them: concurrent
chat requests of a known token usage (the OpenAI-compatible test server reports the gateway's own
prompt estimate and no completion tokens), against a per-minute limit and a quota."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp
import redis

from tests.ratelimit.gateway_process import gateway_processes
from tests.support.gateway import write_config
from tests.support.openai_server import run_openai_server
from tests.support.redis_server import RedisServer

PROMPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three four five"}]}
COST = 12  # the gateway's o200k_base estimate of PROMPT (3 per message + 1 + 5 + 3 priming)
PER_MINUTE = 5  # calls admitted per minute; the bucket holds half a call more, which refills in 5.45 s
QUOTA = 7  # calls admitted by the quota
REQUESTS = 24  # per API, spread over both gateways


def limit(key: str, budget: str) -> str:
    return (f'<policies><inbound><llm-token-limit counter-key="{key}" {budget} estimate-prompt-tokens="true" />'
            "</inbound><backend><forward-request /></backend><outbound /><on-error /></policies>")


async def burst(urls: list[str], path: str) -> Counter[int]:
    body = json.dumps(PROMPT)
    headers = {"Content-Type": "application/json", "x-test-prompt-tokens": str(COST), "x-test-completion-tokens": "0"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def one(i: int) -> int:
            async with session.post(f"{urls[i % len(urls)]}{path}", data=body, headers=headers) as response:
                await response.read()
                return response.status

        return Counter(await asyncio.gather(*(one(i) for i in range(REQUESTS))))


def test_two_gateways_admit_exactly_the_token_budget(tmp_path: Path, redis_server: RedisServer) -> None:
    with run_openai_server() as ai:
        def api(path: str, policy: str) -> dict[str, object]:
            return {"path": path, "service-url": ai.url, "subscription-required": False, "policy": policy}

        settings = {
            "apis": {"tpm": api("tpm", "tpm.xml"), "quota": api("quota", "quota.xml")},
            "rate-limits": {"external": redis_server.url, "failure-mode": "closed", "timeout-ms": 5000},
        }
        policies = {
            "tpm.xml": limit("per-minute", f'tokens-per-minute="{COST * PER_MINUTE + COST // 2}"'),
            "quota.xml": limit("quota", f'token-quota="{COST * QUOTA + COST // 2}" token-quota-period="Yearly"'),
        }
        config = write_config(tmp_path, settings, policies, None)
        with gateway_processes(config, 2) as urls:
            per_minute = asyncio.run(burst(urls, "/tpm/v1/chat/completions"))
            quota = asyncio.run(burst(urls, "/quota/v1/chat/completions"))
        calls = ai.calls()["chat"]
    assert per_minute == {200: PER_MINUTE, 429: REQUESTS - PER_MINUTE}
    assert quota == {200: QUOTA, 403: REQUESTS - QUOTA}
    assert calls == PER_MINUTE + QUOTA
    client = redis.Redis.from_url(redis_server.url)
    (counter,) = list(client.scan_iter(match="*tk:{quota}:q:*"))
    assert int(client.get(counter) or 0) == COST * QUOTA
