"""The OpenAI-compatible test server (tests/support/openai_server.py) speaks the wire format its docstring
promises: the gateway's AI-gateway tests rely on these facts."""

from __future__ import annotations

import http.client
import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.openai_server import OpenAIServer, embed, run_openai_server


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with run_openai_server("one") as running:
        yield running


@pytest.fixture(autouse=True)
def _reset(server: OpenAIServer) -> None:
    server.reset()


def post(server: OpenAIServer, path: str, body: Any, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


CHAT = {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": [{"type": "text", "text": "Hello, world: 2 cats"}]}]}


def test_chat_usage_follows_the_counting_rule() -> None:
    with run_openai_server("x") as server:
        status, headers, data = post(server, "/v1/chat/completions", CHAT, {"x-test-completion-tokens": "3"})
    answer = json.loads(data)
    assert status == 200 and headers["x-test-server"] == "x"
    assert answer["usage"] == {"prompt_tokens": 6, "completion_tokens": 3, "total_tokens": 9}
    assert answer["choices"][0]["message"]["content"] == "r1 w1 w2"
    assert answer["choices"][0]["finish_reason"] == "stop"


def test_max_tokens_caps_the_completion(server: OpenAIServer) -> None:
    status, _, data = post(server, "/openai/deployments/gpt/chat/completions?api-version=2024-10-21",
                           {**CHAT, "max_tokens": 2})
    answer = json.loads(data)
    assert status == 200
    assert answer["usage"]["completion_tokens"] == 2 and answer["choices"][0]["finish_reason"] == "length"
    assert post(server, "/openai/deployments/gpt/chat/completions", CHAT)[0] == 404  # no api-version


STREAM_CHUNK_DELAY = 0.25  # seconds between events


def test_stream_sends_events_then_usage_then_done(server: OpenAIServer) -> None:
    server.control(chunk_delay=STREAM_CHUNK_DELAY)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    connection.request("POST", "/v1/chat/completions", json.dumps(body), {"x-test-completion-tokens": "4"})
    response = connection.getresponse()
    assert response.getheader("Content-Type") == "text/event-stream"
    started = time.monotonic()
    first = response.readline()
    # Events arrive as they are written: a server that buffered the stream would send the first event after the
    # delays of all five (role + 4 words), 1.25 s; under 1 s leaves a busy machine most of a second.
    assert time.monotonic() - started < 5 * STREAM_CHUNK_DELAY - 0.25
    events = [json.loads(first.removeprefix(b"data: "))]
    rest = response.read().split(b"\n\n")
    assert rest[-2:] == [b"data: [DONE]", b""]
    events += [json.loads(e.strip().removeprefix(b"data: ")) for e in rest[:-2]]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert text == "r1 w1 w2 w3"
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[-1] == {**events[-1], "choices": [],
                          "usage": {"prompt_tokens": 6, "completion_tokens": 4, "total_tokens": 10}}
    assert all(e["usage"] is None for e in events[:-1])
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


def test_embeddings_are_similar_for_shared_words(server: OpenAIServer) -> None:
    texts = ["What is the capital of France?", "what is the capital of france", "How do bees make honey"]
    status, _, data = post(server, "/v1/embeddings", {"input": texts, "model": "e"})
    answer = json.loads(data)
    vectors = [d["embedding"] for d in answer["data"]]
    assert status == 200 and answer["usage"] == {"prompt_tokens": 17, "total_tokens": 17}
    assert vectors[0] == vectors[1] == embed(texts[0])
    assert len(vectors[0]) == 256 and math.isclose(sum(v * v for v in vectors[0]), 1.0)
    assert sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True)) < 0.3
    assert post(server, "/v1/embeddings", {"input": []})[0] == 400


def test_throttle_answers_429_with_retry_after_and_counts_calls(server: OpenAIServer) -> None:
    server.control(throttle=1, retry_after=7)
    status, headers, data = post(server, "/v1/chat/completions", CHAT)
    assert status == 429 and headers["retry-after"] == "7" and headers["retry-after-ms"] == "7000"
    assert json.loads(data)["error"]["code"] == "429"
    assert post(server, "/v1/chat/completions", CHAT)[0] == 200
    assert post(server, "/v1/embeddings", {"input": "x"}, {"x-test-status": "503"})[0] == 503
    calls = server.calls()
    assert (calls["calls"], calls["chat"], calls["embeddings"]) == (3, 2, 1)
    assert calls["requests"][0]["body"] == CHAT
