"""`--workers N` on the native server: the workers share one socket and balance their connections exactly.

engine/gateway/balance.py: each worker accepts only while it holds no more connections than the
least-loaded accepting worker, so the counts stay within one of each other whatever the clients'
addresses are (the kernel's SO_REUSEPORT hash, used before, put 64 connections 27/37 on 2 workers);
a stopped worker's share goes to the others after STALL_SECONDS; a dead worker's waiting
connections are not lost. The claims are checked beside busy-loop processes (a busy 2-core machine).
"""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

from engine.gateway.balance import ABSENT, ConnectionTable
from tests.support.gateway import Backend, http_request, write_config
from tests.support.serving import ServeProcess, serve_process

CONNECTIONS = 41  # odd: the counts can only be 20/21


def test_the_least_loaded_accepting_worker_may_accept() -> None:
    table = ConnectionTable(3)
    first, second, third = table.slot(0), table.slot(1), table.slot(2)
    assert first.may_accept(5)  # nobody else accepts yet
    second.publish(4)
    assert not first.may_accept(5) and first.may_accept(4) and first.may_accept(0)
    third.publish(4)
    second.withdraw()  # draining: no longer waited for
    assert not first.may_accept(5) and first.may_accept(4)
    table.slot_left(2)  # dead
    assert first.may_accept(100) and list(table.counts) == [ABSENT, ABSENT, ABSENT]


@contextmanager
def busy_machine(loops: int = 2) -> Iterator[None]:
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(loops)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def workers_of(served: ServeProcess, count: int, tls: ssl.SSLContext | None = None) -> list[int]:
    """The worker processes, once each of them accepts connections (a starting one leaves them to the others)."""
    deadline = time.monotonic() + 60
    port = int(served.url.rsplit(":", 1)[1])
    while True:
        found = sorted({int(pid) for task in Path(f"/proc/{served.pid}/task").glob("*")
                        for pid in (task / "children").read_text().split()})
        if len(found) == count:
            with ExitStack() as stack:
                open_connections(served.url, count, stack, tls)
                serving = all(connections_held(found, port))
            if serving:
                while any(connections_held(found, port)):  # the workers saw those connections close
                    assert time.monotonic() < deadline, "closed connections still held"
                    time.sleep(0.01)
                return found
        assert time.monotonic() < deadline, f"{count} workers did not start accepting: {found}"
        time.sleep(0.05)


def connections_held(pids: list[int], port: int) -> list[int]:
    """Established TCP connections on local `port` whose socket each process holds (from /proc)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(fields[9])
    held = []
    for pid in pids:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(fd.readlink().name)
            except OSError:
                continue  # closed meanwhile
        held.append(sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links))
    return held


def open_connections(url: str, count: int, stack: ExitStack, tls: ssl.SSLContext | None = None) -> None:
    """`count` keep-alive connections that stay open, each with one answered request (it was accepted)."""
    host, port = url.rsplit("//", 1)[1].split(":")
    for _ in range(count):
        conn = stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
        if tls is not None:
            conn = stack.enter_context(tls.wrap_socket(conn, server_hostname=host))
        conn.sendall(b"GET /a/x HTTP/1.1\r\nHost: t\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 200"), "no answer on a new connection"


def serve(tmp_path: Path, backend: Backend, workers: int = 2, **server: object) -> AbstractContextManager[ServeProcess]:
    config = write_config(tmp_path, {"server": server, "apis": {"a": {"path": "a", "service-url": "{{backend-url}}",
                                                                      "subscription-required": False}}}, None, backend)
    return serve_process(config, "--workers", str(workers), "--server", "native")


def test_connections_are_spread_within_one_on_a_busy_machine(tmp_path: Path, backend: Backend) -> None:
    with serve(tmp_path, backend) as served, busy_machine(), ExitStack() as stack:
        workers = workers_of(served, 2)
        port = int(served.url.rsplit(":", 1)[1])
        open_connections(served.url, CONNECTIONS, stack)
        held = connections_held(workers, port)
        assert sum(held) == CONNECTIONS and max(held) - min(held) <= 1, held


def test_a_stopped_workers_share_goes_to_the_others(tmp_path: Path, backend: Backend) -> None:
    with serve(tmp_path, backend) as served, ExitStack() as stack:
        workers = workers_of(served, 2)
        port = int(served.url.rsplit(":", 1)[1])
        open_connections(served.url, 2, stack)  # one each
        stopped = workers[0]
        subprocess.run(["kill", "-STOP", str(stopped)], check=True)
        try:
            started = time.monotonic()
            open_connections(served.url, 6, stack)  # all taken by the other worker, after its short wait
            assert time.monotonic() - started < 5, "a stopped worker held up new connections"
            assert connections_held(workers, port) == [1, 7]
        finally:
            subprocess.run(["kill", "-CONT", str(stopped)], check=True)


def test_a_dead_workers_waiting_connections_are_served(tmp_path: Path, backend: Backend) -> None:
    with serve(tmp_path, backend) as served:
        victim = workers_of(served, 2)[0]
        subprocess.run(["kill", "-STOP", str(victim)], check=True)
        statuses = []
        with ExitStack() as stack:  # with SO_REUSEPORT, those hashed to its own queue were reset at its death
            host, port = served.url.rsplit("//", 1)[1].split(":")
            waiting = [stack.enter_context(socket.create_connection((host, int(port)), timeout=10)) for _ in range(8)]
            subprocess.run(["kill", "-KILL", str(victim)], check=True)
            for conn in waiting:
                conn.sendall(b"GET /a/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                statuses.append(conn.recv(65536)[:12])
        assert statuses == [b"HTTP/1.1 200"] * 8
        restarted = time.monotonic() + 30
        while f"(pid {victim}) was killed by signal 9; restarting it" not in served.stderr:
            assert time.monotonic() < restarted, served.stderr
            time.sleep(0.05)
        assert all(http_request(served.url, "GET", f"/a/{i}").status == 200 for i in range(10))
    assert served.returncode == 0 and "Traceback" not in served.stderr


def test_sigterm_refuses_new_connections_in_every_worker_at_once(tmp_path: Path, backend: Backend) -> None:
    with serve(tmp_path, backend, workers=3) as served:
        host, port = served.url.rsplit("//", 1)[1].split(":")
        workers_of(served, 3)
        served.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 2
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
            except ConnectionRefusedError:
                break
            except ConnectionResetError:
                pass
            assert time.monotonic() < deadline, "the shared port still accepted connections 2 s after SIGTERM"
            time.sleep(0.01)
        served.wait()
    assert served.returncode == 0 and "Traceback" not in served.stderr


def test_tls_connections_are_balanced_and_failed_handshakes_are_not_held(tmp_path: Path, backend: Backend) -> None:
    from tests.gateway.test_tls import self_signed

    certfile, keyfile = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(certfile))
    with serve(tmp_path, backend, tls={"certfile": str(certfile), "keyfile": str(keyfile)}) as served, \
            ExitStack() as stack:
        workers = workers_of(served, 2, trust)
        host, port = served.url.rsplit("//", 1)[1].split(":")
        for _ in range(4):  # no handshake: each worker counts them while they last, then no longer
            with socket.create_connection((host, int(port)), timeout=10) as plain:
                plain.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                plain.recv(100)
        open_connections(served.url, 10, stack, trust)
        assert connections_held(workers, int(port)) == [5, 5]


def test_workers_end_when_their_parent_is_killed(tmp_path: Path, backend: Backend) -> None:
    """A parent killed with SIGKILL leaves no orphan workers serving the port (PR_SET_PDEATHSIG)."""
    with serve(tmp_path, backend) as served:
        workers = workers_of(served, 2)
        served.process.kill()
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in workers):
            assert time.monotonic() < deadline, f"orphaned workers still run: {workers}"
            time.sleep(0.05)
        host, port = served.url.rsplit("//", 1)[1].split(":")
        try:
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError:
            pass
        else:
            raise AssertionError("the port still accepts connections after the parent and its workers ended")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (OSError, IndexError):
        return "zombie"
