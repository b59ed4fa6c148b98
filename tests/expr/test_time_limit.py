"""The expression time limit counts the evaluating thread's CPU time, not time it spent waiting.

Other threads spinning on the GIL stand in for a busy machine: the evaluation is runnable but not
running for long stretches, so its wall time passes the limit while its CPU time does not.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from engine.errors import ExpressionError
from engine.expr import LIMITS, compile_expression
from tests.expr.helpers import make_context

LOOP = "@{{ long s = 0; for (int i = 0; i < {n}; i++) {{ s += i; }} return s; }}"


@contextmanager
def gil_contention(threads: int = 3, switch_interval: float = 0.02) -> Iterator[None]:
    """`threads` pure-Python busy loops; each holds the GIL for `switch_interval` at a time."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    saved = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)
    spinners = [threading.Thread(target=spin, daemon=True) for _ in range(threads)]
    for t in spinners:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in spinners:
            t.join()
        sys.setswitchinterval(saved)


def _timed(source: str) -> tuple[float, float, object]:
    compiled = compile_expression(source)
    ctx = make_context()
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        value: object = compiled.evaluate(ctx)
    except ExpressionError as exc:
        value = exc
    return time.perf_counter() - wall, time.thread_time() - cpu, value


@pytest.fixture
def no_iteration_limit() -> Iterator[None]:
    saved = LIMITS.max_iterations
    LIMITS.max_iterations = 10**9
    try:
        yield
    finally:
        LIMITS.max_iterations = saved


def _iterations_for(cpu_seconds: float) -> int:
    """Loop length that takes about `cpu_seconds` of this thread's CPU (measured, not guessed)."""
    n = 20000
    _timed(LOOP.format(n=n))  # warm
    _, cpu, _ = _timed(LOOP.format(n=n))
    return max(n, int(n * cpu_seconds / max(cpu, 1e-6)))


@pytest.mark.usefixtures("no_iteration_limit")
def test_an_evaluation_waiting_for_the_gil_is_not_stopped() -> None:
    n = _iterations_for(LIMITS.timeout * 0.5)
    # more spinning threads until the evaluation's wall time passes the limit (usually the first try)
    for threads in (3, 6, 12):
        with gil_contention(threads):
            wall, cpu, value = _timed(LOOP.format(n=n))
        if wall > LIMITS.timeout:
            break
    assert wall > LIMITS.timeout, f"no contention happened (wall {wall * 1000:.0f} ms): the test proves nothing"
    assert not isinstance(value, ExpressionError), (
        f"stopped after {cpu * 1000:.0f} ms of CPU ({wall * 1000:.0f} ms of wall time): {value}")
    assert value == n * (n - 1) // 2


@pytest.mark.usefixtures("no_iteration_limit")
def test_an_evaluation_that_uses_its_cpu_time_is_stopped_under_contention() -> None:
    with gil_contention():
        wall, cpu, value = _timed(LOOP.format(n=10**9))
    assert isinstance(value, ExpressionError) and "ran longer than" in str(value)
    # stopped once its CPU time is used (one loop step late at most), and never later than the wall cap
    assert cpu < LIMITS.timeout * 2, f"ran {cpu * 1000:.0f} ms of CPU"
    assert wall < LIMITS.timeout * 20 + 0.5, f"ran {wall * 1000:.0f} ms of wall time"
