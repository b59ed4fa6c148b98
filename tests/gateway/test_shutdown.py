"""Graceful shutdown and worker supervision of `policygate serve`, on every HTTP server.

SIGTERM: the port refuses new connections at once, requests in flight finish, and those that
outlive `server.graceful-timeout` get a clean 503. `--workers N`: a worker that dies is logged and
restarted, and the parent drains all workers on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.gateway import Backend, HttpAnswer, http_request, write_config
from tests.support.serving import ServeProcess, start_serve

pytestmark = pytest.mark.every_server

GRACE = 1.0  # server.graceful-timeout of these tests
SLOW = GRACE + 5  # backend delay of the request that outlives the drain by far


def start(tmp_path: Path, backend: Backend, *extra: str) -> ServeProcess:
    config = write_config(tmp_path, {"server": {"graceful-timeout": GRACE},
                                     "apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False}}}, None, backend)
    return start_serve(config, *extra)


def in_background(url: str, delay: float) -> tuple[threading.Thread, dict[str, HttpAnswer | BaseException]]:
    """GET /a/slow with the backend waiting `delay` seconds, in a thread; the answer lands in the dict."""
    result: dict[str, HttpAnswer | BaseException] = {}

    def call() -> None:
        try:
            result["answer"] = http_request(url, "GET", "/a/slow", headers={"X-Test-Delay": str(delay)}, timeout=30)
        except BaseException as exc:  # noqa: BLE001  # reported by the test
            result["answer"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread, result


def refused_soon(url: str, within: float = 1.0) -> float:
    """Seconds until a new connection to `url` is refused (fails the test if it is still accepted later)."""
    host, port = url.rsplit("//", 1)[1].split(":")
    started = time.monotonic()
    while time.monotonic() - started < within:
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                pass
        except ConnectionRefusedError:
            return time.monotonic() - started
        except ConnectionResetError:
            pass  # the handshake completed as the listener closed (it resets its backlog): try again
        time.sleep(0.02)
    raise AssertionError(f"the port still accepts connections {within:g} s after SIGTERM")


def at_backend(backend: Backend, count: int, within: float = 10.0) -> None:
    """Wait until the backend has received `count` requests for /slow (they are in flight at the gateway)."""
    deadline = time.monotonic() + within
    while sum(r.path == "/slow" for r in list(backend.requests)) < count:
        assert time.monotonic() < deadline, f"the requests did not reach the backend within {within:g} s"
        time.sleep(0.01)


def stop_and_check_drain(served: ServeProcess, backend: Backend) -> str:
    """SIGTERM with one request that finishes in time and one that outlives the drain; returns stderr."""
    quick, quick_result = in_background(served.url, 0.3)
    slow, slow_result = in_background(served.url, SLOW)
    at_backend(backend, 2)  # both are in flight: a request the gateway has not read yet is not the drain's to finish
    served.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    refused_soon(served.url)
    quick.join(10)
    slow.join(10)
    served.wait()
    # The slow request reached the backend before SIGTERM, so it would end at least SLOW seconds
    # after it: an exit sooner than that (with 1 s to spare) proves the slow request did not hold it.
    assert time.monotonic() - signalled < SLOW - 1, f"the exit waited for the slow request:\n{served.stderr}"
    stderr = served.stderr
    finished, cut = quick_result["answer"], slow_result["answer"]
    assert isinstance(finished, HttpAnswer) and finished.status == 200, (finished, stderr)
    assert isinstance(cut, HttpAnswer), (cut, stderr)
    assert cut.status == 503
    assert cut.json() == {"statusCode": 503, "message": cut.json()["message"]} and "shutting down" in cut.json()["message"]
    assert served.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stderr


def test_sigterm_drains_in_flight_requests_then_answers_503(tmp_path: Path, backend: Backend) -> None:
    served = start(tmp_path, backend)
    try:
        stop_and_check_drain(served, backend)
    finally:
        served.stop(signal.SIGKILL)


def worker_pids(parent: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{parent}/task").glob("*"):
        try:
            found |= {int(pid) for pid in (task / "children").read_text().split()}
        except OSError:
            continue
    return found


def test_a_dead_worker_is_restarted_and_sigterm_drains_every_worker(tmp_path: Path, backend: Backend) -> None:
    if not Path(f"/proc/{os.getpid()}/task").exists():
        pytest.skip("needs /proc to find the worker processes")
    served = start(tmp_path, backend, "--workers", "2")
    try:
        deadline = time.monotonic() + 10
        while len(workers := worker_pids(served.pid)) < 2:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while len(replaced := worker_pids(served.pid) - {victim}) < 2:
            assert time.monotonic() < deadline, "the dead worker was not restarted"
            time.sleep(0.05)
        assert victim not in replaced
        statuses = {http_request(served.url, "GET", f"/a/{i}").status for i in range(20)}  # every worker serves
        assert statuses == {200}
        stderr = stop_and_check_drain(served, backend)
        assert f"(pid {victim}) was killed by signal 9; restarting it" in stderr
    finally:
        served.stop(signal.SIGKILL)
