"""`policygate serve` as a child process, on ports the operating system picks.

    with serve_process(config, "--workers", "2") as served:
        answer = http_request(served.url, "GET", "/a/x")
    assert served.returncode == 0 and "Traceback" not in served.stderr

The process is started with `--port 0` (and `--admin-port 0`, no admin listener, unless
`admin=True`: then the configuration must say `server: {admin-port: 0}`), and `serve_process`
returns once the process has printed its "policygate: serving ... on URL" line, which names the
ports it bound. A test that picks a free port itself and passes it races every other process of
the machine (other test runs included) for that port between the pick and the bind: when another
server takes it, the test talks to the wrong server.

A thread reads stderr as it comes (the pipe never fills); `served.stderr` is everything so far.
`stop()` (also on leaving the `with` block) sends SIGTERM, waits for the exit and keeps the exit
code in `returncode`; `wait()` only waits (for a test that sent its own signal). The process is
killed if it has not exited `timeout` seconds later.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.gateway import serve_args

ROOT = Path(__file__).resolve().parents[2]
ANNOUNCEMENT = re.compile(r"^policygate: serving .* on (https?://\S+) \(\w+\)(?:, admin on (http://\S+))?$")
START_SECONDS = 60.0  # a cold start on a busy machine (imports, compiling the configuration)


class ServeProcess:
    """A running `policygate serve` child: `url`, `admin_url`, `process`, `stderr`, `stop()`."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.url = ""
        self.admin_url: str | None = None
        self.returncode: int | None = None
        self._lines: list[str] = []
        self._announced = threading.Event()
        self._reader = threading.Thread(target=self._read, name="serve-stderr", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stderr(self) -> str:
        return "".join(self._lines)

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.append(line)
            match = ANNOUNCEMENT.match(line.rstrip("\n"))
            if match and not self._announced.is_set():
                self.url, self.admin_url = match.group(1), match.group(2)
                self._announced.set()
        self._announced.set()  # stderr closed: the process is gone

    def wait_until_serving(self, timeout: float = START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not self._announced.wait(0.1):
            assert time.monotonic() < deadline, f"policygate serve did not start within {timeout:g} s:\n{self.stderr}"
        if not self.url:
            self.process.wait(10)
            self._reader.join(10)
            raise AssertionError(f"policygate serve exited with {self.process.returncode}:\n{self.stderr}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` (unless it has exited), wait for the exit; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the exit (killed after `timeout` seconds); the exit code."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._reader.join(10)
        self.returncode = self.process.returncode
        return self.returncode


def start_serve(config: Path | str, *args: str, admin: bool = False, pick_server: bool = True,
                **popen: Any) -> ServeProcess:
    """Start `policygate serve CONFIG --port 0 ...ARGS` and wait until it serves: on `current_server()`,
    or with `pick_server=False` on the server the configuration chooses (as a deployment runs it)."""
    ports = ["--port", "0"] if admin else ["--port", "0", "--admin-port", "0"]
    server = serve_args() if pick_server else []
    popen.setdefault("stdout", subprocess.DEVNULL)
    process = subprocess.Popen([sys.executable, "-m", "engine", "serve", *server, str(config), *ports, *args],
                               cwd=ROOT, text=True, stderr=subprocess.PIPE, **popen)
    served = ServeProcess(process)
    try:
        served.wait_until_serving()
    except BaseException:
        served.stop(signal.SIGKILL)
        raise
    return served


@contextmanager
def serve_process(config: Path | str, *args: str, admin: bool = False, pick_server: bool = True,
                  **popen: Any) -> Iterator[ServeProcess]:
    """`start_serve(...)`, stopped (SIGTERM) when the block ends."""
    served = start_serve(config, *args, admin=admin, pick_server=pick_server, **popen)
    try:
        yield served
    finally:
        served.stop()
