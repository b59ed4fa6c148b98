"""Hostile expressions (tests/expr/hostile_expressions.txt) stay inside the sandbox's limits.

Each expression runs (1) through `policygate eval --file` in a child process, which reports the
CPU time and peak-memory growth of every evaluation, and (2) through a document served by a real
`policygate serve` process, whose CPU time and peak resident memory are read from /proc around
every request while another client keeps calling a cheap operation and a busy-loop process loads
the machine. Both children run under an
address-space limit so that a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from engine.diagnostics import Diagnostics
from engine.expr import check_expression
from tests.support.gateway import http_request, write_config
from tests.support.serving import start_serve

ROOT = Path(__file__).resolve().parents[2]
EXPRESSIONS_FILE = Path(__file__).with_name("hostile_expressions.txt")
LINES = EXPRESSIONS_FILE.read_text(encoding="utf-8").splitlines()
HOSTILE = [(n, line) for n, line in enumerate(LINES, 1) if line.strip() and not line.startswith("#")]

CPU_PER_EXPRESSION = 0.15  # seconds; the deadline is 50 ms of wall time, the rest is slack for a busy machine
PEAK_GROWTH = 64 << 20  # bytes of peak resident memory one evaluation may add
ADDRESS_SPACE = 2 << 30  # a child that tries to allocate more fails with MemoryError instead


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_the_suite_is_large_and_varied() -> None:
    assert len(HOSTILE) >= 100
    categories = [line for line in LINES if line.startswith("# --")]
    assert len(categories) >= 4


def test_hostile_expressions_through_eval() -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "engine", "eval", "--file", str(EXPRESSIONS_FILE), "--stats"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=_limit_memory)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    results = {}
    for line in done.stdout.splitlines():
        m = re.match(r"(\d+): (.*)  \[cpu ([0-9.]+) ms, peak \+([0-9.]+) MiB\]$", line)
        assert m, line[:300]
        results[int(m.group(1))] = (m.group(2), float(m.group(3)) / 1000, float(m.group(4)) * (1 << 20))
    assert sorted(results) == [n for n, _ in HOSTILE]  # every expression was evaluated and answered
    for number, source in HOSTILE:
        outcome, cpu, grown = results[number]
        assert cpu <= CPU_PER_EXPRESSION, f"line {number}: {cpu:.3f} s CPU: {source}"
        assert grown <= PEAK_GROWTH, f"line {number}: peak memory +{grown / 2**20:.0f} MiB: {source}"
        assert "out of memory" not in outcome and "nests too deeply" not in outcome, f"line {number}: {outcome}"
    refused = [results[n][0] for n, _ in HOSTILE if results[n][0].startswith("error: [expr-security]")]
    assert len(refused) >= len(HOSTILE) // 2  # most of them hit a limit (the rest end with a value or a .NET error)
    assert time.monotonic() - started < 120


def _document(cases: list[tuple[int, str]]) -> str:
    whens = "".join(
        f'<when condition=\'@(context.Request.Headers.GetValueOrDefault("X-Case", "") == "{n}")\'>'
        f'<set-variable name="r" value={quoteattr(source if source.startswith("@") else f"@({source})")} /></when>'
        for n, source in cases)
    return (f"<policies><inbound><choose>{whens}</choose>"
            '<return-response><set-status code="200" reason="OK" /><set-body>done</set-body></return-response>'
            "</inbound><backend /><outbound /><on-error /></policies>")


def _compiles(source: str) -> bool:
    diagnostics = Diagnostics()
    check_expression(source if source.startswith("@") else f"@({source})", diagnostics)
    return not list(diagnostics)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime in clock ticks (USER_HZ = 100)


def _peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time and memory from /proc")
def test_hostile_expressions_through_the_gateway(tmp_path: Path) -> None:
    cases = [(n, source) for n, source in HOSTILE if _compiles(source)]
    assert len(cases) >= 100
    config = write_config(tmp_path, {"apis": {
        "h": {"path": "h", "service-url": "http://127.0.0.1:9", "subscription-required": False,
              "operations": {"run": {"method": "GET", "url-template": "/run", "policy": "hostile.xml"},
                             "ping": {"method": "GET", "url-template": "/ping", "policy": "ping.xml"}}}}},
        {"hostile.xml": _document(cases),
         "ping.xml": "<policies><inbound><return-response><set-status code=\"200\" reason=\"OK\" />"
                     "<set-body>pong</set-body></return-response></inbound><backend /><outbound /><on-error />"
                     "</policies>"}, None)
    served = start_serve(config, pick_server=False, preexec_fn=_limit_memory)
    process = served.process
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # a loaded machine, as in production
    url = served.url
    stop = threading.Event()
    slowest_ping = [0.0]
    failures: list[str] = []

    def ping_loop() -> None:  # another client, served by the same worker throughout
        while not stop.is_set():
            begun = time.monotonic()
            try:
                answer = http_request(url, "GET", "/h/ping", timeout=10)
                if answer.status != 200 or answer.text != "pong":
                    failures.append(f"ping answered {answer.status}")
            except OSError as exc:
                failures.append(f"ping failed: {exc}")
            slowest_ping[0] = max(slowest_ping[0], time.monotonic() - begun)
            time.sleep(0.02)

    try:
        assert http_request(url, "GET", "/h/ping", timeout=30).status == 200
        pinger = threading.Thread(target=ping_loop, daemon=True)
        pinger.start()
        for number, source in cases:
            cpu, peak = _cpu_seconds(process.pid), _peak_rss(process.pid)
            answer = http_request(url, "GET", "/h/run", headers={"X-Case": str(number)}, timeout=30)
            assert answer.status in (200, 500), f"line {number}: {answer.status}: {source}"
            used, grown = _cpu_seconds(process.pid) - cpu, _peak_rss(process.pid) - peak
            assert used <= CPU_PER_EXPRESSION + 0.2, f"line {number}: {used:.2f} s CPU: {source}"
            assert grown <= PEAK_GROWTH, f"line {number}: peak memory +{grown / 2**20:.0f} MiB: {source}"
            assert "Traceback" not in answer.text
        stop.set()
        pinger.join(15)
        assert not failures, failures[:5]
        assert slowest_ping[0] < 5.0
        assert process.poll() is None  # the worker survived every request
    finally:
        stop.set()
        busy.kill()
        busy.wait()
        served.stop()
