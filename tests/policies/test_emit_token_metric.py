"""llm-emit-token-metric / azure-openai-emit-token-metric through the real gateway and the OpenAI-compatible
test server: token counters with their dimensions on the admin /metrics endpoint."""

from __future__ import annotations

import json
from pathlib import Path

from tests.policies.support import codes
from tests.support.gateway import run_gateway
from tests.support.openai_server import run_openai_server

POLICY = """<policies>
    <inbound>
        <azure-openai-emit-token-metric namespace="openai">
            <dimension name="API ID" />
            <dimension name="Client IP" />
            <dimension name="User" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-user-id&quot;, &quot;none&quot;))" />
        </azure-openai-emit-token-metric>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"""


def series(metrics: str, name: str) -> dict[str, float]:
    return {line.split("{", 1)[1].rsplit("}", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines() if line.startswith(name + "{")}


def test_prompt_completion_and_total_tokens_per_dimension(tmp_path: Path) -> None:
    with run_openai_server() as ai:
        api = {"path": "ai", "service-url": ai.url, "subscription-required": False, "policy": "api.xml"}
        with run_gateway(tmp_path, {"apis": {"chat": api}}, {"api.xml": POLICY}) as gateway:
            def call(user: str, completion: int, status: str = "") -> None:
                body = json.dumps({"messages": [{"role": "user", "content": "a b c"}]})
                headers = {"x-user-id": user, "x-test-completion-tokens": str(completion)}
                if status:
                    headers["x-test-status"] = status
                gateway.request("POST", "/ai/v1/chat/completions", body=body, headers=headers)

            call("ann", 4)
            call("ann", 6)
            call("bob", 1)
            call("bob", 1, status="500")  # no usage: nothing counted
            metrics = gateway.metrics()
    labels = 'namespace="openai",api_id="chat",client_ip="127.0.0.1",user="{}"'
    assert series(metrics, "policygate_llm_prompt_tokens_total") == {labels.format("ann"): 6.0, labels.format("bob"): 3.0}
    assert series(metrics, "policygate_llm_completion_tokens_total") == {labels.format("ann"): 10.0, labels.format("bob"): 1.0}
    assert series(metrics, "policygate_llm_total_tokens_total") == {labels.format("ann"): 16.0, labels.format("bob"): 4.0}


def test_dimensions_are_checked() -> None:
    six = "".join(f'<dimension name="d{i}" value="v" />' for i in range(6))
    assert codes('<llm-emit-token-metric><dimension name="Custom" /></llm-emit-token-metric>') == [
        "policy-missing-attribute"]
    assert codes('<llm-emit-token-metric><dimension name="Client IP" /></llm-emit-token-metric>') == []
    assert codes(f"<llm-emit-token-metric>{six}</llm-emit-token-metric>") != []  # llm-*: at most 5
    assert codes(f"<azure-openai-emit-token-metric>{six}</azure-openai-emit-token-metric>") == []
