"""The benchmark harness (tests/perf/servers.py) measures only servers it started itself.

It picks a free port, writes it into a server's command line and waits for the server to listen. Another
process may take the port in between (a test suite running beside the benchmark binds hundreds of ports a
minute); before this check, "something listens" counted as started, and the benchmark sent its load to
that other program: a test backend of another suite then counted requests nobody in its test sent.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.perf.servers import BODY, PortTaken, Process, wait_port


def backend_command(port: int) -> list[str]:
    return [sys.executable, "-m", "tests.perf.servers", "backend", str(port)]


def test_a_port_another_process_listens_on_is_not_taken_for_the_started_server() -> None:
    squatter = socket.create_server(("127.0.0.1", 0))
    port = squatter.getsockname()[1]
    child = subprocess.Popen(backend_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with pytest.raises(PortTaken, match=f"127.0.0.1:{port}"):
            wait_port([port], child, timeout=30)
    finally:
        child.kill()
        child.wait(10)
        assert child.stderr is not None
        child.stderr.close()
        squatter.close()


def test_a_server_whose_port_was_taken_is_started_again_on_another_port() -> None:
    squatters: list[socket.socket] = []

    def command(port: int) -> list[str]:
        if not squatters:  # another process takes the first port picked before the server binds it
            squatters.append(socket.create_server(("127.0.0.1", port)))
        return backend_command(port)

    process = Process("backend", command, None)
    try:
        taken = squatters[0].getsockname()[1]
        assert process.port != taken
        with urllib.request.urlopen(f"http://127.0.0.1:{process.port}/items/42", timeout=10) as answer:
            assert answer.read() == BODY  # the benchmark's own backend answers on the port it reports
    finally:
        process.stop()
        squatters[0].close()
