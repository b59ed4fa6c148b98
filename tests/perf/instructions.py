"""Instructions a gateway worker executes per request: a measure that does not move with the machine's load.

    python -m tests.perf.instructions [--scenario b|c|d] [--requests 1000] [--server native] [--segments]

Starts the raw backend and one `policygate serve` for a scenario of tests/perf/run.py under
valgrind's callgrind (a dev tool, not a project dependency: `apt-get install -y valgrind`) with
instrumentation off, sends warm-up requests on one keep-alive connection, then counts the
user-space instructions (Python, uvloop, llhttp, libc; not the kernel) of `--requests` more and
prints the count per request. Counts repeat within about 1 % from run to run, on a busy machine
too, so a change of a few percent in what one request costs shows, where timings (tests/perf/cpu.py)
drown in the neighbours' noise. Start-up under valgrind takes a minute or more.

`--segments` (native server, pass-through b) splits each request's count at its system calls, the
order in which a request's bytes cross the gateway at one connection: callgrind dumps its counters
after every `read` and before every `write`, so each request's instructions fall into four parts:
client bytes read -> backend request written (the first segment on the latency's critical path),
the rest of that turn while the backend works, backend answer read -> client response written
(the second critical segment), and the rest of that turn after the client has its answer (plus
the event loop's wait for the next request). Medians over the requests are printed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
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
SEGMENT_TRIGGERS = ("--dump-after=read", "--dump-before=write", "--dump-after=__read", "--dump-before=__write")
SEGMENTS = (  # one request's parts, in order, each ended by the system call named
    ("client bytes read -> backend request written (critical)", "write"),
    ("backend works: rest of that turn", "read"),
    ("backend answer read -> client response written (critical)", "write"),
    ("client has its answer: rest of that turn", "read"),
)


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


def segment_counts(dumps: list[Path]) -> list[list[int]]:
    """Per request, the instructions of each of SEGMENTS, from callgrind's dumps in the order written.

    The first dump ends with the first request's `read` (before it the loop was waiting): skipped.
    Then every request contributes one dump per segment; a dump whose trigger is not the expected
    system call (a `read` or `write` of something else) stops the analysis with an error."""
    rows: list[list[int]] = []
    parts: list[int] = []
    for dump in dumps[1:]:
        text = dump.read_text()
        trigger = re.search(r"^desc: Trigger: (.*)$", text, re.MULTILINE)
        if trigger is None or "--dump-" not in trigger.group(1):
            break  # the final dump asked for by callgrind_control: the last request's tail
        kind = "read" if "--dump-after" in trigger.group(1) else "write"
        if kind != SEGMENTS[len(parts)][1]:
            raise SystemExit(f"{dump.name}: a {kind} where a {SEGMENTS[len(parts)][1]} was expected: another "
                             "read or write ran on the gateway's thread; the segments cannot be told apart")
        parts.append(total_instructions(dump))
        if len(parts) == len(SEGMENTS):
            rows.append(parts)
            parts = []
    return rows


def print_segments(rows: list[list[int]], scenario: str, server: str) -> None:
    print(f"scenario {scenario} on {server}: user-space instructions per request by segment "
          f"(median of {len(rows)} requests on one connection)")
    medians = [statistics.median(row[i] for row in rows) for i in range(len(SEGMENTS))]
    for i, ((label, _), median) in enumerate(zip(SEGMENTS, medians, strict=True)):
        low, high = (statistics.quantiles([row[i] for row in rows], n=10) or [median])[::8]
        print(f"  {median:10,.0f}  {label} (10-90 %: {low:,.0f}-{high:,.0f})")
    print(f"  {medians[0] + medians[2]:10,.0f}  on the critical path (both critical segments)")
    print(f"  {sum(medians):10,.0f}  in all")


def dumps_of(out: Path) -> list[Path]:
    """callgrind's numbered dumps (`out.1`, `out.2`, ...) in the order they were written."""
    return sorted(out.parent.glob(f"{out.name}.*"), key=lambda path: int(path.name.rsplit(".", 1)[1].split("-")[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="b")
    parser.add_argument("--server", choices=SERVERS, default="native")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--segments", action="store_true",
                        help="split each request's count by the critical path (pass-through on the native server)")
    args = parser.parse_args(argv)
    if args.segments and (args.scenario != "b" or args.server != "native"):
        parser.error("--segments measures the pass-through (b) on the native server")
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
            if args.segments:
                launcher += [*SEGMENT_TRIGGERS, "--dump-instr=no", "--dump-line=no"]
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
                before = set(dumps_of(out))
                requests_in_turn(port, args.requests, headers)
                control("--dump")
                dump = Path(f"{out}.1")
                for _ in range(300):  # the dumps are written by the gateway process
                    last = dumps_of(out)[-1] if dumps_of(out) else dump
                    if last.exists() and "totals:" in last.read_text()[-4096:]:
                        break
                    time.sleep(0.1)
                if args.segments:
                    rows = segment_counts([path for path in dumps_of(out) if path not in before])
                else:
                    per_request = total_instructions(dump) / args.requests
            finally:
                gateway.stop()
    finally:
        backend.stop()
    if args.segments:
        print_segments(rows, args.scenario, args.server)
        return 0
    print(f"scenario {args.scenario} on {args.server}: {per_request:,.0f} user-space instructions per request "
          f"({args.requests} requests on one connection)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
