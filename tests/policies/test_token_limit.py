"""llm-token-limit / azure-openai-token-limit through the real gateway, in front of the OpenAI-compatible
test server (tests/support/openai_server.py, its own process), with in-process counters and a real Redis."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.gateway import HttpAnswer, RunningGateway, http_request, run_gateway, write_config
from tests.support.openai_server import OpenAIServer, run_openai_server
from tests.support.serving import serve_process

PROMPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three four five"}]}
ESTIMATE = 12  # 3 per message + "user" (1) + five words (5) + 3 priming the reply, in o200k_base
SERVER_PROMPT = 5  # the test server counts words


@pytest.fixture(scope="module")
def ai() -> Iterator[OpenAIServer]:
    with run_openai_server("ai") as server:
        yield server


def policy(limit: str, outbound: str = "", inbound_after: str = "") -> str:
    return f"""<policies>
    <inbound>{limit}{inbound_after}</inbound>
    <backend><forward-request /></backend>
    <outbound>{outbound}</outbound>
    <on-error>
        <set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
    </on-error>
</policies>"""


def config(ai: OpenAIServer, **extra: Any) -> dict[str, Any]:
    api = {"path": "ai", "service-url": ai.url, "subscription-required": False, "policy": "api.xml"}
    return {"apis": {"ai": api}, **extra}


def chat(gateway: RunningGateway, completion: int = 5, body: dict[str, Any] | None = None, **headers: str) -> HttpAnswer:
    return gateway.request("POST", "/ai/v1/chat/completions", body=json.dumps(body or PROMPT),
                           headers={"Content-Type": "application/json", "x-test-completion-tokens": str(completion),
                                    **headers})


def test_counts_the_reported_usage_and_refuses_once_used_up(ai: OpenAIServer, tmp_path: Path) -> None:
    limit = ('<llm-token-limit counter-key="k" tokens-per-minute="20" estimate-prompt-tokens="false" '
             'remaining-tokens-header-name="x-left" tokens-consumed-header-name="x-used" '
             'remaining-tokens-variable-name="left" tokens-consumed-variable-name="used" '
             'retry-after-header-name="x-wait" retry-after-variable-name="wait" />')
    outbound = ('<set-header name="x-vars" exists-action="override"><value>@(context.Variables["left"] + "/" + '
                'context.Variables["used"])</value></set-header>')
    with run_gateway(tmp_path, config(ai), {"api.xml": policy(limit, outbound)}) as gateway:
        first = chat(gateway)  # 5 prompt + 5 completion, reported by the server
        second = chat(gateway)
        third = chat(gateway)
    assert first.status == 200, first.text
    assert (first.headers.get("x-used"), first.headers.get("x-left"), first.headers.get("x-vars")) == ("10", "10", "10/10")
    assert (second.status, second.headers.get("x-left")) == (200, "0")
    assert third.status == 429
    assert third.json() == {"statusCode": 429, "message": "Token limit is exceeded. Try again in 3 seconds."}
    assert third.headers.get("x-wait") == "3" and third.headers.get("x-left") == "0"  # 1 token refills in 3 s
    assert third.headers.get("x-reason") == "OpenAITokenLimitExceeded"


def test_estimated_prompt_must_fit_and_is_corrected_by_the_usage(ai: OpenAIServer, tmp_path: Path) -> None:
    limit = ('<azure-openai-token-limit counter-key="e" tokens-per-minute="30" estimate-prompt-tokens="true" '
             'remaining-tokens-header-name="x-left" consumed-tokens-variable-name="used" />')
    to_backend = ('<set-header name="x-estimate" exists-action="override"><value>@(context.Variables["used"].ToString())'
                  '</value></set-header>')
    outbound = ('<set-header name="x-used" exists-action="override"><value>@(context.Variables["used"].ToString())'
                '</value></set-header>')
    ai.reset()
    with run_gateway(tmp_path, config(ai), {"api.xml": policy(limit, outbound, to_backend)}) as gateway:
        first = chat(gateway, completion=3)  # takes the estimate (12), then the usage says 5 + 3
        refunded = chat(gateway, completion=1, **{"x-test-status": "429"})  # the backend's 429 used nothing
        second = chat(gateway, completion=3)
        refused = chat(gateway, completion=3)  # 30 - 8 - 8 = 14 left, refill aside: 12 fit once more
        third = chat(gateway, completion=3)
    assert ai.calls()["requests"][0]["headers"]["x-estimate"] == str(ESTIMATE)
    assert (first.status, first.headers.get("x-used"), first.headers.get("x-left")) == (200, "8", "22")
    assert (refunded.status, refunded.headers.get("x-left")) == (429, "22")
    assert (second.status, second.headers.get("x-left")) == (200, "14")
    assert (refused.status, refused.headers.get("x-left")) == (200, "6")
    assert third.status == 429 and third.headers.get("x-reason") == "OpenAITokenLimitExceeded"
    assert ai.calls()["chat"] == 4  # the refused prompt never reached the backend


def test_quota_in_redis_answers_403_until_the_period_ends(ai: OpenAIServer, redis_url: str, tmp_path: Path) -> None:
    key = f"quota-{uuid.uuid4().hex}"
    limit = (f'<llm-token-limit counter-key="{key}" token-quota="15" token-quota-period="Yearly" '
             'estimate-prompt-tokens="false" remaining-quota-tokens-header-name="x-quota-left" '
             'remaining-quota-tokens-variable-name="ql" />')
    with run_gateway(tmp_path, config(ai, **{"rate-limits": {"external": redis_url}}), {"api.xml": policy(limit)}) as gateway:
        first = chat(gateway)
        second = chat(gateway)
        refused = chat(gateway)
    assert (first.status, first.headers.get("x-quota-left")) == (200, "5")
    assert (second.status, second.headers.get("x-quota-left")) == (200, "0")
    assert refused.status == 403 and refused.headers.get("x-reason") == "OpenAITokenQuotaExceeded"
    assert refused.json()["message"].startswith("Token quota is exceeded. Quota will be replenished in ")
    assert int(refused.headers.get("Retry-After") or 0) > 0
    client = redis.Redis.from_url(redis_url)
    (counter,) = list(client.scan_iter(match=f"*tk:{{{key}}}:q:*"))
    assert int(client.get(counter) or 0) == 20


def test_streamed_request_is_estimated_before_forwarding(ai: OpenAIServer, tmp_path: Path) -> None:
    limit = '<llm-token-limit counter-key="s" tokens-per-minute="20" estimate-prompt-tokens="false" />'
    streamed = {**PROMPT, "stream": True}
    ai.reset()
    with run_gateway(tmp_path, config(ai), {"api.xml": policy(limit)}) as gateway:
        too_big = chat(gateway, body={**streamed, "messages": PROMPT["messages"] * 2})  # 3 + 2 * 9 > 20
        fits = chat(gateway, body=streamed)
    assert too_big.status == 429 and too_big.headers.get("x-reason") == "OpenAITokenLimitExceeded"
    assert fits.status == 200 and "data: [DONE]" in fits.text
    assert ai.calls()["chat"] == 1


def test_store_down_fails_closed_with_503(ai: OpenAIServer, tmp_path: Path) -> None:
    limits = {"external": "redis://127.0.0.1:1", "failure-mode": "closed", "timeout-ms": 200}
    limit = '<llm-token-limit counter-key="x" tokens-per-minute="100" estimate-prompt-tokens="false" />'
    with run_gateway(tmp_path, config(ai, **{"rate-limits": limits}), {"api.xml": policy(limit)}) as gateway:
        answer = chat(gateway)
    assert answer.status == 503 and answer.headers.get("x-reason") == "RateLimitStoreUnavailable"


def test_gzip_coded_answers_are_read_for_their_usage(ai: OpenAIServer, tmp_path: Path) -> None:
    limit = ('<llm-token-limit counter-key="z" tokens-per-minute="100" estimate-prompt-tokens="false" '
             'tokens-consumed-header-name="x-used" />')
    with run_gateway(tmp_path, config(ai), {"api.xml": policy(limit)}) as gateway:
        answer = chat(gateway, completion=7, **{"x-test-gzip": "1"})
    assert answer.status == 200 and answer.headers.get("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(answer.body))["usage"]["total_tokens"] == 12  # passed on as it came
    assert answer.headers.get("x-used") == "12"


def test_workers_forked_while_the_tokenizer_loads_still_answer(ai: OpenAIServer, tmp_path: Path) -> None:
    """`serve --workers 2` forks right after compiling, while the encoding is still loading on a thread
    the children do not inherit: before the fix every request that counted tokens hung."""
    limit = '<llm-token-limit counter-key="k" tokens-per-minute="100000" estimate-prompt-tokens="true" />'
    file = write_config(tmp_path, config(ai), {"api.xml": policy(limit)}, None)
    with serve_process(file, "--workers", "2") as served:
        for _ in range(6):  # a new connection each: the kernel spreads them over both workers
            answer = http_request(served.url, "POST", "/ai/v1/chat/completions", body=json.dumps(PROMPT).encode(),
                                  headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status == 200, answer
