"""/metrics counts every worker: snapshots merge into one registry; `serve --workers 2` end to end."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from engine.metrics import Metrics
from tests.support.gateway import http_request, write_config
from tests.support.serving import serve_process

ROOT = Path(__file__).resolve().parents[2]


def test_snapshots_add_counters_and_histograms_and_take_the_highest_gauge() -> None:
    one, two = Metrics(), Metrics()
    for registry, count, breaker in ((one, 2, 0.0), (two, 3, 1.0)):
        registry.counter("c_total", "c", ("api",)).inc("a", amount=count)
        registry.histogram("h", "h", ("api",), buckets=(0.1, 1.0)).observe(0.5, "a")
        registry.gauge("breaker", "g").set(value=breaker)
    two.counter("only_in_two_total", "x").inc(amount=1234567)
    merged = Metrics()
    merged.absorb(json.loads(json.dumps(one.snapshot())))
    merged.absorb(json.loads(json.dumps(two.snapshot())))
    text = merged.render()
    assert 'c_total{api="a"} 5' in text and "only_in_two_total 1234567\n" in text
    assert 'h_bucket{api="a",le="1"} 2' in text and 'h_count{api="a"} 2' in text and 'h_sum{api="a"} 1' in text
    assert "breaker 1" in text


def test_a_family_with_other_labels_is_left_out_and_exited_workers_gauges_are_ignored() -> None:
    ours, theirs = Metrics(), Metrics()
    ours.counter("m_total", "m", ("a",)).inc("x")
    theirs.counter("m_total", "m", ("b",)).inc("y")
    theirs.gauge("g", "g").set(value=7)
    ours.absorb(theirs.snapshot(), gauges=False)
    text = ours.render()
    assert 'm_total{a="x"} 1' in text and 'b="y"' not in text and "\ng " not in text


def test_metrics_count_the_requests_of_every_worker(tmp_path: Path, backend) -> None:
    shared = tmp_path / "metrics"
    config = write_config(tmp_path, {"server": {"admin-port": 0},
                                     "apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False}}}, None, backend)
    with serve_process(config, "--workers", "2", admin=True,
                       env={**os.environ, "POLICYGATE_METRICS_DIR": str(shared)}) as served:
        assert served.admin_url is not None
        deadline = time.monotonic() + 30
        while len(list(shared.glob("worker-*.json"))) < 2:  # a worker publishes once it listens
            assert time.monotonic() < deadline, f"the second worker did not start:\n{served.stderr}"
            time.sleep(0.05)
        sent = 0
        for i in range(60):  # a new connection each: the kernel spreads them over the workers
            assert http_request(served.url, "GET", f"/a/{i}").status == 200
            sent += 1
        per_worker = _requests_per_worker(shared, sent)
        assert len([n for n in per_worker.values() if n]) == 2, per_worker  # both workers served some
        text = _metrics_when(served.admin_url, f'policygate_requests_total{{api="a",operation="all",status="200"}} {sent}')
        assert "policygate_workers 2" in text
        assert f'policygate_backend_duration_seconds_count{{api="a"}} {sent}' in text
        assert re.search(r"^process_cpu_seconds_total [0-9.e+-]+$", text, re.MULTILINE)
        assert re.search(r"^process_resident_memory_bytes [1-9]", text, re.MULTILINE)
        assert re.search(r'^policygate_build_info\{version="[^"]+",python="[^"]+",server="[^"]*"\} 1$', text, re.MULTILINE)
    assert served.returncode == 0 and "Traceback" not in served.stderr, served.stderr


def _requests_per_worker(shared: Path, expected: int) -> dict[int, float]:
    """pid -> requests counted in its published snapshot, once they add up to `expected`."""
    deadline = time.monotonic() + 15
    while True:
        counts = {}
        for file in shared.glob("worker-*.json"):
            try:
                snapshot = json.loads(file.read_text())
            except ValueError:
                continue
            family = snapshot["metrics"].get("policygate_requests_total", {"series": []})
            counts[snapshot["pid"]] = sum(value for _, value in family["series"])
        if sum(counts.values()) >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def _metrics_when(admin_url: str, line: str) -> str:
    deadline = time.monotonic() + 15
    while True:
        text = http_request(admin_url, "GET", "/metrics").text
        if line in text.splitlines() or time.monotonic() > deadline:
            assert line in text.splitlines(), text
            return text
        time.sleep(0.2)
