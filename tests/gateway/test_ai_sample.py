"""The AI-gateway sample (samples/ai-gateway) does what its README says, in front of two OpenAI-compatible
test servers run as their own processes (the sample's model servers, on free ports instead of 9101 and
9102)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.support.gateway import HttpAnswer, RunningGateway, run_gateway
from tests.support.openai_server import OpenAIServer, run_openai_server

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ai-gateway"


def sample_config(primary: OpenAIServer, secondary: OpenAIServer) -> dict[str, Any]:
    text = (SAMPLE / "gateway.yaml").read_text()
    text = text.replace("127.0.0.1:9101", f"127.0.0.1:{primary.port}").replace("127.0.0.1:9102", f"127.0.0.1:{secondary.port}")
    config: dict[str, Any] = yaml.safe_load(text)
    for api in config["apis"].values():
        api["policy"] = str(SAMPLE / api["policy"])
    return config


def chat(gateway: RunningGateway, content: str, completion: int = 5) -> HttpAnswer:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": content}]})
    return gateway.request("POST", "/ai/v1/chat/completions", body=body,
                           headers={"Content-Type": "application/json", "x-test-completion-tokens": str(completion)})


def test_ai_sample_tour(tmp_path: Path) -> None:
    with run_openai_server("primary") as primary, run_openai_server("secondary") as secondary, \
            run_gateway(tmp_path, sample_config(primary, secondary)) as gateway:
        first = chat(gateway, "What is the capital of France?")
        paraphrase = chat(gateway, "what is the capital of france")  # the semantic cache answers
        assert first.status == paraphrase.status == 200
        assert first.json()["id"] == paraphrase.json()["id"]
        assert first.headers.get("x-tokens-consumed") == "11"  # 6 prompt + 5 completion tokens, reported
        assert first.headers.get("x-test-server") == "primary"
        assert (primary.calls()["chat"], secondary.calls()["embeddings"]) == (1, 2)

        primary.control(throttle=1)  # its next call: 429 with Retry-After: 1
        failover = chat(gateway, "Which server answers")
        assert failover.status == 200 and failover.headers.get("x-test-server") == "secondary"
        assert (primary.calls()["chat"], secondary.calls()["chat"]) == (2, 1)

        # 200 tokens a minute per client (19 used): distinct prompts (10 tokens estimated, 3 + 40 reported)
        # use them up: four leave 9 tokens. One more fits once a token has refilled (0.3 s; the fifth or, on a
        # busy machine, the sixth after a refused fifth) and overdraws the bucket; another would need 43 tokens
        # of refill (12.9 s).
        answers = [chat(gateway, f"{i} {i} {i}", completion=40) for i in range(1, 7)]
        codes = [answer.status for answer in answers]
        admitted = codes.count(200)
        assert codes[:4] == [200] * 4 and sorted(codes[4:]) in ([200, 429], [429, 429]), codes
        refused = next(answer for answer in answers if answer.status == 429)
        assert int(refused.headers.get("Retry-After") or 0) > 0
        assert refused.json()["message"].startswith("Token limit is exceeded. Try again in ")

        metrics = gateway.metrics()
    labels = 'namespace="ai-sample",api_id="chat",client_ip="127.0.0.1"'
    assert f"policygate_llm_total_tokens_total{{{labels}}} {11 + 8 + admitted * 43}" in metrics.splitlines()
    assert f"policygate_llm_completion_tokens_total{{{labels}}} {5 + 5 + admitted * 40}" in metrics.splitlines()
