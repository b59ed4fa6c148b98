"""`policygate serve`: startup errors are diagnostics and exit 1; a real process serves, reloads on SIGHUP, stops on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gateway.conftest import document
from tests.support.gateway import http_request, serve_args, write_config
from tests.support.serving import ServeProcess, serve_process

# The tests that serve run on every HTTP server; the start-up failures serve nothing, so they run once.

ROOT = Path(__file__).resolve().parents[2]


def test_bad_config_exits_1_with_key_path(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text("apis:\n  a:\n    service-url: http://x\n    operations:\n      o: {method: FETCH, url-template: /x}\n")
    result = subprocess.run([sys.executable, "-m", "engine", "serve", str(tmp_path / "gateway.yaml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "gateway.yaml:5:19: apis.a.operations.o.method: 'FETCH' is not an HTTP method" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_document_exits_1_with_diagnostics(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"apis": {"a": {"service-url": "http://x", "policy": "api.xml"}}},
                          {"api.xml": document(inbound='<base />\n<set-status code="abc" />')}, None)
    result = subprocess.run([sys.executable, "-m", "engine", "serve", str(config)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "api.xml:3:" in result.stderr and "error[" in result.stderr
    assert "^" in result.stderr  # the source line with a caret
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("argument", "message"), [
    (["--port", "80000"], "argument --port: 80000 is out of range 0..65535"),
    (["--admin-port", "-1"], "argument --admin-port: -1 is out of range 0..65535"),
    (["--port", "http"], "argument --port: 'http' is not a port number"),
])
def test_a_bad_port_is_a_usage_error(tmp_path: Path, argument: list[str], message: str) -> None:
    (tmp_path / "gateway.yaml").write_text("apis: {}\n")
    result = subprocess.run([sys.executable, "-m", "engine", "serve", str(tmp_path / "gateway.yaml"), *argument],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr and "Error:" not in result.stderr, result.stderr


def test_a_folder_without_configuration_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to serve")
    result = subprocess.run([sys.executable, "-m", "engine", "serve", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"{tmp_path}: no gateway.yaml here, and not an APIOps folder" in result.stderr
    assert "Is a directory" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.every_server
def test_serve_reload_on_sighup_and_stop(tmp_path: Path, backend) -> None:
    v1 = document(outbound='<base /><set-header name="X-V" exists-action="override"><value>1</value></set-header>')
    config = write_config(tmp_path, {"server": {"admin-port": 0},
                                     "apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False, "policy": "api.xml"}}},
                          {"api.xml": v1}, backend)
    with serve_process(config, admin=True) as served:
        assert http_request(served.url, "GET", "/a/x").headers.get("X-V") == "1"
        (tmp_path / "api.xml").write_text(v1.replace("<value>1</value>", "<value>2</value>"))
        served.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while http_request(served.url, "GET", "/a/x").headers.get("X-V") != "2":
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.1)
        assert served.admin_url is not None
        assert http_request(served.admin_url, "GET", "/metrics").status == 200
    assert served.returncode == 0, served.stderr
    assert "Traceback" not in served.stderr


def catches_sighup(pid: int) -> bool:
    """Whether the process has a handler for SIGHUP (bit 0 of SigCgt in /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return bool(int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16) & 1)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_sighup_during_start_up_is_one_reload_once_serving(tmp_path: Path, backend, workers: str) -> None:
    v1 = document(outbound='<base /><set-header name="X-V" exists-action="override"><value>1</value></set-header>')
    config = write_config(tmp_path, {"apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False, "policy": "api.xml"}}},
                          {"api.xml": v1}, backend)
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", *serve_args(), str(config), "--port", "0",
                                "--admin-port", "0", "--workers", workers],
                               cwd=ROOT, text=True, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    served = ServeProcess(process)
    try:
        deadline = time.monotonic() + 30
        while not catches_sighup(process.pid):  # the default action (exit) is replaced early in `serve`
            assert time.monotonic() < deadline and process.poll() is None, served.stderr
            time.sleep(0.005)
        assert not served.url, "the test must signal before the gateway serves"
        process.send_signal(signal.SIGHUP)
        (tmp_path / "api.xml").write_text(v1.replace("<value>1</value>", "<value>2</value>"))
        served.wait_until_serving()
        reloads = int(workers)  # one per serving process
        while served.stderr.count("reloaded ") < reloads:
            assert time.monotonic() < deadline and process.poll() is None, served.stderr
            time.sleep(0.05)
        assert {http_request(served.url, "GET", f"/a/{i}").headers.get("X-V") for i in range(10)} == {"2"}
        remembered = "reloading once now" if workers == "1" else "passing it to the workers"
        assert f"a SIGHUP came during start-up: {remembered}" in served.stderr
    finally:
        served.stop()
    assert served.returncode == 0 and "Traceback" not in served.stderr, served.stderr


def test_a_client_breaking_or_leaving_its_body_is_not_an_error_in_the_log(tmp_path: Path, backend) -> None:
    config = write_config(tmp_path, {"apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False}}}, None, backend)
    with serve_process(config, "--server", "native") as served:
        host, port = served.url.rsplit("//", 1)[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:  # broken chunk framing
            conn.sendall(b"POST /a/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
            assert conn.recv(200).startswith(b"HTTP/1.1 400")
        with socket.create_connection((host, int(port)), timeout=10) as conn:  # leaves mid-body
            conn.sendall(b"POST /a/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc")
        assert http_request(served.url, "GET", "/a/x").status == 200  # the requests before were handled
        time.sleep(0.3)  # an error line would be logged within the backend's time (none is waited for)
    assert served.returncode == 0 and "ERROR" not in served.stderr, served.stderr


@pytest.mark.every_server
def test_workers_share_the_port(tmp_path: Path, backend) -> None:
    config = write_config(tmp_path, {"apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                    "subscription-required": False}}}, None, backend)
    with serve_process(config, "--workers", "2") as served:
        statuses = {http_request(served.url, "GET", f"/a/{i}").status for i in range(20)}
        assert statuses == {200}
        workers = [int(pid) for task in Path(f"/proc/{served.pid}/task").iterdir()
                   for pid in (task / "children").read_text().split()]
        assert len(workers) == 2
        for pid in workers:  # the parent froze the compiled state before forking: the workers share its pages
            memory = {line.split(":")[0]: int(line.split()[1]) for line in
                      Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]}
            assert memory["Private_Dirty"] < 0.35 * memory["Rss"], memory  # 0.52 when each worker copied them
    assert served.returncode == 0, served.stderr
    assert "2 workers" in served.stderr and "Traceback" not in served.stderr
