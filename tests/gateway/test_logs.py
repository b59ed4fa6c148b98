"""`serve --log-format json --log-level`: application logs as JSON lines; <trace> at its severity."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.gateway.logs import JsonFormatter
from tests.gateway.conftest import document
from tests.support.gateway import http_request, write_config
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
TRACES = document(inbound="""<base />
  <trace source="audit" severity="information"><message>@("seen " + context.Request.Url.Path)</message></trace>
  <trace source="noise" severity="verbose"><message>only at debug</message></trace>
  <trace source="alarm" severity="error"><message>bad</message><metadata name="k" value="v" /></trace>""")


def test_trace_entries_reach_the_json_log_at_their_severity(tmp_path: Path, backend) -> None:
    port = free_port()
    config = write_config(tmp_path, {"apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False, "policy": "a.xml"}}},
                          {"a.xml": TRACES}, backend)
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", str(config), "--port", str(port), "--admin-port", "0",
         "--log-format", "json", "--log-level", "info"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = http_request(f"http://127.0.0.1:{port}", "GET", "/a/x", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
                time.sleep(0.1)
        assert answer.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    traces = {r["source"]: r for r in records if r["logger"] == "policygate.trace"}
    assert set(traces) == {"audit", "alarm"}  # verbose is DEBUG: below --log-level info
    assert traces["audit"]["level"] == "info" and "seen /x" in traces["audit"]["message"]
    assert traces["alarm"]["level"] == "error" and "[k=v]" in traces["alarm"]["message"]
    assert traces["audit"]["request_id"] == traces["alarm"]["request_id"] != ""
    assert (traces["audit"]["api"], traces["audit"]["severity"]) == ("a", "information")
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)


def test_json_records_carry_tracebacks_as_a_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed here" and "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")
