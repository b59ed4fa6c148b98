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

from engine.dotnet.limits import STARVED_WALL
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


@pytest.fixture
def half_second_limit() -> Iterator[None]:
    saved = LIMITS.timeout
    LIMITS.timeout = 0.5
    try:
        yield
    finally:
        LIMITS.timeout = saved


@pytest.mark.usefixtures("no_iteration_limit", "half_second_limit")
def test_an_evaluation_waiting_for_the_gil_is_not_stopped() -> None:
    # The defect (the limit counts wall time) stops an evaluation whose wall time passes the limit, so the test
    # needs limit < wall time < wall cap (past the cap a starved evaluation is stopped by design). The evaluation
    # uses a tenth of the limit in CPU time, so its wall time must be 10x to 200x its CPU time: spinning threads
    # give 7x (6 threads) on a quiet machine, 14x with 12; a busy machine multiplies that by its own load
    # (measured 13x with 3 threads at load 15 on 2 CPUs). A 0.5 s limit keeps the GIL's 5 ms turns and the
    # scheduler's ticks small against the CPU time. More threads while the wall time stays under the limit,
    # fewer while the machine pushes it past the cap.
    n = _iterations_for(LIMITS.timeout * 0.1)
    cap = LIMITS.timeout * STARVED_WALL
    threads = 6
    for _ in range(6):
        with gil_contention(threads, switch_interval=0.005):
            wall, cpu, value = _timed(LOOP.format(n=n))
        if wall <= LIMITS.timeout:
            threads *= 2
        elif wall >= cap:
            threads = max(1, threads // 2)
        else:
            break
    assert LIMITS.timeout < wall < cap, (
        f"could not starve the evaluation between the limit and the wall cap (wall {wall * 1000:.0f} ms): "
        "the test proves nothing")
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
