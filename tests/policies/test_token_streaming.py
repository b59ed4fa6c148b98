"""Token accounting of streamed answers (`"stream": true`): the answer passes through event by event while
the token policies read its final `usage` chunk, or estimate it, through the real gateway and the
OpenAI-compatible test server."""

from __future__ import annotations

import gzip
import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import bpe_openai  # type: ignore[import-untyped]
import pytest

from tests.support.gateway import RunningGateway, run_gateway
from tests.support.openai_server import OpenAIServer, run_openai_server

PROMPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three four five"}]}
ESTIMATE = 12  # o200k_base: 3 per message + "user" (1) + five words (5) + 3 priming the reply
POLICY = """<policies>
    <inbound>
        <llm-token-limit counter-key="s" token-quota="1000" token-quota-period="Yearly" estimate-prompt-tokens="false"
                         remaining-quota-tokens-header-name="x-quota-left" />
        <llm-emit-token-metric namespace="s"><dimension name="API ID" /></llm-emit-token-metric>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"""


@pytest.fixture(scope="module")
def ai() -> Iterator[OpenAIServer]:
    with run_openai_server("ai") as server:
        yield server


def gateway_for(ai: OpenAIServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    api = {"path": "ai", "service-url": ai.url, "subscription-required": False, "policy": "api.xml"}
    return run_gateway(tmp_path, {"apis": {"ai": api}}, {"api.xml": POLICY})


def stream(gateway: RunningGateway, include_usage: bool, completion: int = 4) -> tuple[float, float, bytes]:
    """(seconds to the first event, seconds to the end, the body) of one streamed call."""
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    body = {**PROMPT, "stream": True, **({"stream_options": {"include_usage": True}} if include_usage else {})}
    started = time.monotonic()
    connection.request("POST", "/ai/v1/chat/completions", json.dumps(body),
                       {"Content-Type": "application/json", "x-test-completion-tokens": str(completion)})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
    first = response.readline()
    first_at = time.monotonic() - started
    rest = response.read()
    connection.close()
    return first_at, time.monotonic() - started, first + rest


def quota_left(gateway: RunningGateway) -> int:
    """Send a plain call (5 prompt + 5 completion tokens); the quota left after it."""
    answer = gateway.request("POST", "/ai/v1/chat/completions", body=json.dumps(PROMPT),
                             headers={"Content-Type": "application/json", "x-test-completion-tokens": "5"})
    assert answer.status == 200, answer.text
    return int(answer.headers.get("x-quota-left") or -1)


def counter(metrics: str, name: str) -> float:
    (line,) = [line for line in metrics.splitlines() if line.startswith(name + "{")]
    return float(line.rsplit(" ", 1)[1])


def test_stream_passes_event_by_event_and_its_usage_chunk_is_counted(ai: OpenAIServer, tmp_path: Path) -> None:
    ai.control(chunk_delay=0.3)
    try:
        with gateway_for(ai, tmp_path) as gateway:
            first_at, total, body = stream(gateway, include_usage=True)
            left = quota_left(gateway)
            metrics = gateway.metrics()
    finally:
        ai.reset()
    assert first_at < total - 1.0  # 6 events 0.3 s apart: the first one is not held back
    assert body.rstrip().endswith(b"data: [DONE]")
    assert left == 1000 - (5 + 4) - 10  # the stream counted its reported usage, not the estimate
    assert counter(metrics, "policygate_llm_prompt_tokens_total") == 5 + 5
    assert counter(metrics, "policygate_llm_completion_tokens_total") == 4 + 5


def test_stream_without_usage_is_estimated(ai: OpenAIServer, tmp_path: Path) -> None:
    completion = len(bpe_openai.get_encoding("o200k_base").encode_ordinary("r1 w1 w2 w3"))
    ai.reset()
    with gateway_for(ai, tmp_path) as gateway:
        stream(gateway, include_usage=False)
        left = quota_left(gateway)
        metrics = gateway.metrics()
    assert left == 1000 - (ESTIMATE + completion) - 10
    assert counter(metrics, "policygate_llm_prompt_tokens_total") == ESTIMATE + 5
    assert counter(metrics, "policygate_llm_completion_tokens_total") == completion + 5


def test_gzip_coded_stream_is_read_as_it_passes(ai: OpenAIServer, tmp_path: Path) -> None:
    ai.reset()
    with gateway_for(ai, tmp_path) as gateway:
        host, port = gateway.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        body = {**PROMPT, "stream": True, "stream_options": {"include_usage": True}}
        connection.request("POST", "/ai/v1/chat/completions", json.dumps(body),
                           {"x-test-gzip": "1", "x-test-completion-tokens": "4"})
        response = connection.getresponse()
        assert response.getheader("Content-Encoding") == "gzip"
        assert gzip.decompress(response.read()).rstrip().endswith(b"data: [DONE]")
        connection.close()
        left = quota_left(gateway)
    assert left == 1000 - (5 + 4) - 10
