"""Instructions a gateway worker executes per request: a measure that does not move with the machine's load.

    python -m tests.perf.instructions [--scenario b|c|d] [--requests 1000] [--server native]

Starts the raw backend and one `policygate serve` for a scenario of tests/perf/run.py under
valgrind's callgrind (a dev tool, not a project dependency: `apt-get install -y valgrind`) with
instrumentation off, sends warm-up requests on one keep-alive connection, then counts the
user-space instructions (Python, uvloop, llhttp, libc; not the kernel) of `--requests` more and
prints the count per request. Counts repeat within about 1 % from run to run, on a busy machine
too, so a change of a few percent in what one request costs shows, where timings (tests/perf/cpu.py)
drown in the neighbours' noise. Start-up under valgrind takes a minute or more.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.gateway.listeners import SERVERS
from tests.perf.run import CACHE_POLICY, FULL_POLICY, KEY_HEADER, start_gateway
from tests.perf.servers import start_backend

SCENARIOS: dict[str, dict[str, object]] = {
    "b": {},
    "c": {"policy": CACHE_POLICY.format(store="internal")},
    "d": {"policy": FULL_POLICY.format(store="internal"), "subscription": True},
}
START_SECONDS = 300  # start-up of the gateway under valgrind


def requests_in_turn(port: int, count: int, headers: dict[str, str]) -> None:
    """`count` GETs one after the other on one keep-alive connection; each must answer 200."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET /items/42 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        for _ in range(count):
            sock.sendall(request)
            while True:
                end = buffer.find(b"\r\n\r\n")
                if end >= 0:
                    head = buffer[:end].decode("latin-1")
                    length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n")
                                  if line.lower().startswith("content-length:"))
                    if len(buffer) >= end + 4 + length:
                        if not head.startswith("HTTP/1.1 200"):
                            raise SystemExit(f"expected 200, got {head.splitlines()[0]!r}")
                        buffer = buffer[end + 4 + length:]
                        break
                chunk = sock.recv(65536)
                if not chunk:
                    raise SystemExit("the gateway closed the connection")
                buffer += chunk


def total_instructions(out: Path) -> int:
    """The `totals:` (or `summary:`) line of a callgrind dump."""
    for line in out.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="b")
    parser.add_argument("--server", choices=SERVERS, default="native")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind not installed (apt-get install -y valgrind)", file=sys.stderr)
        return 2
    options = SCENARIOS[args.scenario]
    headers = KEY_HEADER if options.get("subscription") else {}
    backend = start_backend(None)
    try:
        with tempfile.TemporaryDirectory(prefix="policygate-instructions-") as tmp:
            out = Path(tmp) / "callgrind.out"
            launcher = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
            gateway, url, _ = start_gateway(Path(tmp), args.scenario, backend, server=args.server, launcher=launcher,
                                            start_seconds=START_SECONDS, **options)  # type: ignore[arg-type]
            try:
                port = int(url.split(":")[2].split("/")[0])
                requests_in_turn(port, 300, headers)  # warm up uninstrumented: caches, pools, specialised bytecode

                def control(*flags: str) -> None:
                    subprocess.run(["callgrind_control", *flags, str(gateway.pid)], check=True, capture_output=True)

                control("--instr=on")
                requests_in_turn(port, 100, headers)
                control("--zero")
                requests_in_turn(port, args.requests, headers)
                control("--dump")
                dump = Path(f"{out}.1")
                for _ in range(300):  # the dump is written by the gateway process
                    if dump.exists() and "totals:" in dump.read_text()[-4096:]:
                        break
                    time.sleep(0.1)
                per_request = total_instructions(dump) / args.requests
            finally:
                gateway.stop()
    finally:
        backend.stop()
    print(f"scenario {args.scenario} on {args.server}: {per_request:,.0f} user-space instructions per request "
          f"({args.requests} requests on one connection)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
