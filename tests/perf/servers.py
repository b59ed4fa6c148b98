"""The processes a benchmark run starts on loopback, and how it starts, pins, measures and stops them.

    python -m tests.perf.servers backend PORT   # raw asyncio HTTP/1.1 server answering BODY
    python -m tests.perf.servers quart PORT     # bare Quart on Hypercorn answering BODY

Both answer every request with the same fixed bytes (a 972-byte JSON document), so the bare
Quart app is the reference for "a Python app that does nothing", and the raw backend is as cheap
as an origin gets in Python (it is the gateway's and nginx's upstream). Both run on uvloop; the
Quart app uses the gateway's own Hypercorn settings so only the application differs.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BODY = json.dumps({"id": 42, "name": "widget", "tags": ["a", "b", "c"], "description": "x" * 900}).encode()
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)) + BODY


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different loopback ports free at the moment of the call. Another process may take one before
    the server started on it binds it: `Process` checks that its own server listens there."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


# -- the two reference servers -----------------------------------------------------------------
class _FixedHttp(asyncio.Protocol):
    """Answers each request head with RESPONSE (the benchmark sends no request bodies)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer.rpartition(b"\r\n\r\n")[2]
            self.transport.write(RESPONSE * count)


def serve_backend(port: int) -> None:
    import uvloop

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_FixedHttp, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    uvloop.run(main())


def serve_quart(port: int) -> None:
    import uvloop
    from hypercorn.asyncio import serve
    from quart import Quart, Response

    from engine.gateway.listeners import hypercorn_config

    app = Quart("bare")

    @app.route("/", defaults={"path": ""}, methods=["GET"])
    @app.route("/<path:path>", methods=["GET"])
    async def answer(path: str) -> Response:
        return Response(BODY, content_type="application/json")

    config = hypercorn_config()
    config.bind = [f"127.0.0.1:{port}"]
    uvloop.run(serve(app, config))  # type: ignore[arg-type]


# -- process control ---------------------------------------------------------------------------
def can_pin() -> bool:
    """taskset exists and there are at least two CPUs: servers on CPU 0, load and helpers on CPU 1."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(command: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


def pin_pid(pid: int, cpus: str | None) -> None:
    if cpus:
        subprocess.run(["taskset", "-a", "-cp", cpus, str(pid)], check=False, capture_output=True)


class PortTaken(RuntimeError):
    """Another process listens on a port picked for a child server (so the child cannot bind it)."""


def listening_inodes(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on `port` (any address, IPv4 and IPv6), from /proc/net."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:  # 0A: LISTEN
                found.add(fields[9])
    return found


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets open in `pid` and in all its descendants (workers, nginx's master and workers)."""
    found: set[str] = set()
    pending = [pid]
    while pending:
        current = pending.pop()
        pending += children(current)
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{current}/fd").iterdir()]
        except OSError:  # gone, or an fd closed while listing
            continue
        found.update(link[8:-1] for link in links if link.startswith("socket:["))
    return found


def wait_port(ports: list[int], process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until `process` (or a descendant) listens on every one of `ports`. A port where only another
    process listens raises PortTaken: something else answers there, and the benchmark must not measure it
    (nor send its load to another program's server, e.g. a test backend of a suite running beside it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listeners = {port: listening_inodes(port) for port in ports}
        own = socket_inodes(process.pid) if any(listeners.values()) else set()
        if all(inodes & own for inodes in listeners.values()):
            return
        taken = [port for port, inodes in listeners.items() if inodes and not inodes & own]
        if taken:
            raise PortTaken(f"another process listens on 127.0.0.1:{taken[0]}")
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"process exited with {process.returncode}: {error.strip()[-2000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"process {process.pid} does not listen on 127.0.0.1:{ports} after {timeout:g} s")


PORT_TRIES = 5


class Process:
    """A child process in its own session (stopping it stops its workers too), serving on loopback ports.

    `command(*ports)` is its command line for `ports` free ports picked here (`port` is the first). When
    another process takes one of them before the child binds it, the child is stopped and started again on
    new ports."""

    def __init__(self, name: str, command: Callable[..., list[str]], cpus: str | None, start_seconds: float = 30.0,
                 *, ports: int = 1) -> None:
        self.name = name
        for _ in range(PORT_TRIES):
            self.ports = free_ports(ports)
            self.popen = subprocess.Popen(pinned(command(*self.ports), cpus), cwd=ROOT, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, start_new_session=True)
            try:
                wait_port(self.ports, self.popen, start_seconds)
                return
            except PortTaken:
                self.stop()
        raise RuntimeError(f"{name}: its ports were taken by other processes {PORT_TRIES} times")

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        if self.popen.stderr is not None:
            self.popen.stderr.close()


def start_backend(cpus: str | None) -> Process:
    return Process("backend", lambda port: [sys.executable, "-m", "tests.perf.servers", "backend", str(port)], cpus)


def start_quart(cpus: str | None) -> Process:
    return Process("bare quart", lambda port: [sys.executable, "-m", "tests.perf.servers", "quart", str(port)], cpus)


# -- memory ------------------------------------------------------------------------------------
def rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by `pids` (from /proc; 0 for processes that are gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def connections_per_process(port: int, pids: list[int]) -> list[int] | None:
    """Established connections to `port` held by each of `pids` (None without `ss`)."""
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    return [out.count(f"pid={pid},") for pid in pids]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("backend", "quart"):
        print(__doc__, file=sys.stderr)
        return 2
    (serve_backend if argv[0] == "backend" else serve_quart)(int(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
