"""llm-semantic-cache-lookup/-store through the real gateway, a real Redis and a real OpenAI-compatible
server process (tests/support/openai_server.py: chat completions and bag-of-words embeddings)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import Backend, RunningGateway, run_gateway
from tests.support.openai_server import OpenAIServer, run_openai_server

POLICY = """<policies>
  <inbound>
    <{prefix}-semantic-cache-lookup score-threshold="0.1" embeddings-backend-id="embeddings"
        embeddings-backend-auth="system-assigned" ignore-system-messages="true" max-message-count="3">
      <vary-by>@(context.Request.Headers.GetValueOrDefault("X-User", "anonymous"))</vary-by>
    </{prefix}-semantic-cache-lookup>
  </inbound>
  <outbound>
    <{prefix}-semantic-cache-store duration="60" />
    <set-header name="X-Outbound" exists-action="override"><value>ran</value></set-header>
  </outbound>
</policies>"""

FRANCE = "What is the capital of France today"
FRANCE_AGAIN = "what is the capital of France"  # cosine distance 0.074 in the server's bag of words
CATS = "Tell me a joke about cats"


@pytest.fixture(scope="module")
def openai() -> Iterator[OpenAIServer]:
    with run_openai_server() as server:
        yield server


@pytest.fixture(params=["redis-6.2-scan", "redis-8-vector-sets"])
def shared_redis(request: pytest.FixtureRequest) -> str:
    """The Redis both gateways use: without vector sets (exact scan of mirrors), and Redis 8 (vector sets)."""
    return str(request.getfixturevalue("redis_url" if request.param.endswith("scan") else "redis8_url"))


def config(openai: OpenAIServer, cache: dict[str, Any] | None, embeddings: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "backends": {"embeddings": embeddings or f"{openai.url}/v1/embeddings"},
        "apis": {"llm": {"path": "llm", "service-url": f"{openai.url}/v1", "subscription-required": False,
                         "policy": "api.xml"}},
    }
    if cache is not None:
        result["cache"] = cache
    return result


def chat(gateway: RunningGateway, *messages: tuple[str, str], user: str = "alice", **extra: Any) -> tuple[int, str, Any]:
    body = {"model": "gpt-4o", "messages": [{"role": r, "content": c} for r, c in messages], **extra}
    answer = gateway.request("POST", "/llm/chat/completions", body=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json", "X-User": user})
    json_answer = (answer.headers.get("Content-Type") or "").startswith("application/json")
    return answer.status, answer.headers.get("X-Outbound") or "", answer.json() if json_answer else answer.text


def chat_calls(openai: OpenAIServer) -> int:
    return int(openai.calls()["chat"])


def test_similar_prompts_hit_across_gateways_sharing_redis(openai: OpenAIServer, shared_redis: str, tmp_path: Path) -> None:
    cache = {"external": shared_redis, "prefix": f"t{uuid.uuid4().hex[:8]}:"}
    openai.reset()
    with run_gateway(tmp_path / "a", config(openai, cache), {"api.xml": POLICY.format(prefix="llm")}) as one, \
            run_gateway(tmp_path / "b", config(openai, cache), {"api.xml": POLICY.format(prefix="azure-openai")}) as two:
        status, outbound, first = chat(one, ("system", "You are terse."), ("user", FRANCE))
        assert status == 200 and outbound == "ran" and chat_calls(openai) == 1
        # a similar prompt (system message ignored) is answered from the cache: same body, outbound resumes
        # after the store, and the other gateway (azure-openai twin) sees the entry through Redis
        assert chat(one, ("user", FRANCE_AGAIN)) == (200, "ran", first)
        assert chat(two, ("system", "Be verbose."), ("user", FRANCE_AGAIN)) == (200, "ran", first)
        assert chat_calls(openai) == 1
        # misses: another prompt, another vary-by value, a streamed request, too many messages
        assert chat(one, ("user", CATS))[2] != first
        assert chat(one, ("user", FRANCE_AGAIN), user="bob")[2] != first
        assert chat(one, ("user", FRANCE), stream=True)[0] == 200
        many = [("user", FRANCE), ("assistant", "Paris"), ("user", FRANCE), ("user", FRANCE)]
        assert chat(one, *many)[2] != first
        assert chat_calls(openai) == 5
        # what the misses stored is found again
        assert chat(two, ("user", CATS + " please"))[2] == chat(one, ("user", CATS))[2]
        assert chat_calls(openai) == 5
        metrics = one.metrics()
        assert 'policygate_semantic_cache_lookups_total{store="external",result="hit"} 2' in metrics
        assert 'policygate_semantic_cache_lookups_total{store="none",result="skipped"} 2' in metrics
    embedded = [r for r in openai.calls()["requests"] if r["path"] == "/v1/embeddings"]
    assert embedded[0]["body"] == {"input": f"user: {FRANCE}"}  # system message left out


def test_in_process_cache_without_redis(openai: OpenAIServer, tmp_path: Path) -> None:
    openai.reset()
    with run_gateway(tmp_path, config(openai, None), {"api.xml": POLICY.format(prefix="llm")}) as gateway:
        first = chat(gateway, ("user", FRANCE))
        assert chat(gateway, ("user", FRANCE_AGAIN)) == first
        assert chat_calls(openai) == 1
        assert 'policygate_semantic_cache_lookups_total{store="internal",result="hit"} 1' in gateway.metrics()


def test_embeddings_or_redis_down_is_a_miss_not_an_error(openai: OpenAIServer, tmp_path: Path) -> None:
    openai.reset()
    down = Backend.unused_url()
    with run_gateway(tmp_path / "e", config(openai, None, embeddings=f"{down}/v1/embeddings"),
                     {"api.xml": POLICY.format(prefix="llm")}) as gateway:
        assert chat(gateway, ("user", FRANCE))[:2] == (200, "ran")
        assert chat(gateway, ("user", FRANCE))[:2] == (200, "ran")
        assert chat_calls(openai) == 2  # nothing was stored without an embedding
        assert 'policygate_semantic_cache_lookups_total{store="internal",result="error"} 2' in gateway.metrics()
    openai.reset()
    redis_down = {"external": down.replace("http://", "redis://"), "timeout-ms": 200, "connect-timeout-ms": 50}
    with run_gateway(tmp_path / "r", config(openai, redis_down), {"api.xml": POLICY.format(prefix="llm")}) as gateway:
        assert chat(gateway, ("user", FRANCE))[:2] == (200, "ran")
        assert chat(gateway, ("user", FRANCE))[:2] == (200, "ran")
        assert chat_calls(openai) == 2
        assert 'policygate_semantic_cache_lookups_total{store="external",result="error"} 2' in gateway.metrics()


def test_lint_flags_a_threshold_read_as_a_similarity() -> None:
    from tests.policies.support import lint

    def lookup(threshold: str) -> str:
        return (f'<azure-openai-semantic-cache-lookup score-threshold="{threshold}" embeddings-backend-id="e" '
                'embeddings-backend-auth="system-assigned" />')

    found = lint(lookup("0.8")).sorted()
    assert [(d.code, d.severity.name) for d in found] == [("semantic-cache-loose-threshold", "WARNING")]
    assert "write 0.2 for its 0.8" in (found[0].hint or "")
    assert [d.code for d in lint(lookup("1.5")).sorted()] == ["policy-bad-value"]
    assert lint(lookup("0.05")).sorted() == [] and lint(lookup("@(0.9)")).sorted() == []
