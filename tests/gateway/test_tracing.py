"""OpenTelemetry: spans reach a real OTLP/HTTP receiver (its own process) with the caller's context."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.gateway.conftest import document
from tests.support.gateway import simple_config

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
POLICY = document(
    inbound="""<base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" />
      <send-request mode="new" response-variable-name="side" timeout="10">
        <set-url>{{backend-url}}/side</set-url><set-method>GET</set-method>
      </send-request>""",
    outbound='<base /><cache-store duration="60" />',
)


def test_spans_reach_the_collector_and_the_backend_continues_the_trace(gateway, backend, redis_url,
                                                                       tmp_path: Path) -> None:
    spans_file = tmp_path / "spans.jsonl"
    receiver = subprocess.Popen([sys.executable, "-m", "tests.support.otlp_receiver", str(spans_file)], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        config = simple_config(api_policy="api.xml", cache={"external": redis_url}, tracing={
            "otlp-endpoint": f"http://127.0.0.1:{port}/v1/traces", "service-name": "gateway-under-test"})
        with gateway(config, {"api.xml": POLICY}) as gw:
            answer = gw.request("GET", "/echo/pets?x=1", headers={
                "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01", "tracestate": "vendor=blue"})
            assert answer.status == 200
        spans = _spans(spans_file, lambda found: any(s["kind"] == "SERVER" for s in found))
    finally:
        receiver.terminate()
        receiver.wait(10)

    (server,) = [s for s in spans if s["kind"] == "SERVER"]
    assert (server["trace_id"], server["parent_span_id"]) == (TRACE_ID, CALLER_SPAN)
    assert server["service"] == "gateway-under-test" and server["name"] == "GET echo/all"
    attributes = server["attributes"]
    assert (attributes["policygate.api"], attributes["policygate.operation"]) == ("echo", "all")
    assert attributes["http.response.status_code"] == 200 and "policygate.subscription" in attributes

    children = [s for s in spans if s["parent_span_id"] == server["span_id"]]
    assert all(s["kind"] == "CLIENT" and s["trace_id"] == TRACE_ID for s in children)
    calls = {s["name"]: s for s in children}
    assert {"forward-request", "send-request"} <= calls.keys()
    redis = [s for s in children if s["attributes"].get("db.system") == "redis"]
    assert {"GET", "EVALSHA"} <= {s["name"] for s in redis}  # the cache lookup and the cache store

    # W3C context propagated: each call carries its own span as the parent, and the caller's tracestate
    received = {request.path.split("?")[0]: request for request in backend.requests}
    for path, name in (("/pets", "forward-request"), ("/side", "send-request")):
        assert received[path].header("traceparent") == f"00-{TRACE_ID}-{calls[name]['span_id']}-01"
        assert received[path].header("tracestate") == "vendor=blue"


def test_tracing_settings_are_validated(tmp_path: Path) -> None:
    from engine.errors import ConfigError
    from engine.gateway.config import parse_settings

    settings = parse_settings("tracing: {otlp-endpoint: 'http://c:4318/v1/traces', headers: {x-key: k}}\n",
                              file=tmp_path / "g.yaml", environ={})
    assert settings.tracing is not None and settings.tracing.headers == (("x-key", "k"),)
    assert parse_settings("{}", file=tmp_path / "g.yaml", environ={}).tracing is None
    for bad, where in (("{otlp-endpoint: 'grpc://c'}", "tracing.otlp-endpoint"), ("{otlp-endpoint: 'http://c', sample-ratio: 2}", "tracing.sample-ratio")):
        try:
            parse_settings(f"tracing: {bad}\n", file=tmp_path / "g.yaml", environ={})
        except ConfigError as exc:
            assert where in str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")


def _spans(path: Path, done: Any, seconds: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while True:
        spans = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        if done(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)
