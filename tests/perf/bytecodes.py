"""Python bytecodes per request of a pass-through, per function, split like `tests.perf.instructions --segments`.

    python -m tests.perf.instructions --segments     # how many instructions each segment costs
    python -m tests.perf.bytecodes [--requests 200] [--top 40]   # which Python functions they run

Builds the pass-through gateway (tests/perf/inprocess.py, scenario b) in this process, serves it
with the native server on a loopback port, and sends requests on one keep-alive connection from a
thread (which is not traced). `sys.settrace` counts every bytecode the event loop's thread runs and
puts it in one of three parts: from the client connection's `data_received` to the backend
request's `transport.write` (critical), from the backend connection's `data_received` to the
client response's `transport.write` (critical), and the rest (off the latency's path). Counts are
exact and repeatable (tracing makes the run slow; only counts are reported), so they show where a
segment's instructions come from, function by function.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import socket
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from tests.perf.instructions import requests_in_turn
from tests.perf.servers import start_backend

PARTS = ("client bytes -> backend write", "backend answer -> client write", "off the critical path")


class SegmentCounter:
    """A trace function counting bytecodes per (part, function) and calls per (part, function)."""

    def __init__(self) -> None:
        self.part = 2
        self.bytecodes: list[Counter[str]] = [Counter() for _ in PARTS]
        self.calls: list[Counter[str]] = [Counter() for _ in PARTS]
        self.writes = self._write_lines()

    @staticmethod
    def _write_lines() -> dict[CodeType, set[int]]:
        """The lines where the backend request and the client response are written."""
        from engine.gateway import h1protocol, http1

        found: dict[CodeType, set[int]] = {}
        for function in (http1._Connection.write, h1protocol.Exchange.send, h1protocol.Exchange._respond):
            lines, start = inspect.getsourcelines(function)
            found[function.__code__] = {start + i for i, line in enumerate(lines) if "transport.write(" in line}
        return found

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        if event == "call" and code.co_name == "data_received":
            if code.co_filename.endswith("h1protocol.py"):
                self.part = 0
            elif code.co_filename.endswith("http1.py"):
                self.part = 1
        key = "/".join(code.co_filename.split("/")[-2:]) + ":" + code.co_name
        if event == "call":
            self.calls[self.part][key] += 1
        frame.f_trace_opcodes = True
        writes = self.writes.get(code)

        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "opcode":
                self.bytecodes[self.part][key] += 1
            elif event == "line" and writes and frame.f_lineno in writes:
                self.part = 2  # the bytes are handed to the transport: the rest waits for nobody
            return local

        return local


async def measure(app: Any, gateway: Any, requests: int) -> SegmentCounter:
    from engine.gateway.h1server import serve_native

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.ensure_future(serve_native(app, sock, stop, http=gateway.handle))
    await asyncio.sleep(0.3)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, requests_in_turn, port, 300, {})  # warm-up, not traced
    counter = SegmentCounter()
    sys.settrace(counter)
    try:
        await loop.run_in_executor(None, requests_in_turn, port, requests, {})
    finally:
        sys.settrace(None)
    stop.set()
    await server
    return counter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    import uvloop

    from tests.perf.inprocess import build

    backend = start_backend(None)
    try:
        server = build(Path(tempfile.mkdtemp(prefix="policygate-bytecodes-")), backend.port, "b")
        counter = uvloop.run(measure(server.app, server.app.gateway, args.requests))
    finally:
        backend.stop()
    n = args.requests
    for part, label in enumerate(PARTS):
        total, calls = counter.bytecodes[part], counter.calls[part]
        print(f"{label}: {sum(total.values()) / n:,.0f} bytecodes, {sum(calls.values()) / n:.0f} Python calls per request")
        for key, count in total.most_common(args.top):
            if count >= n:
                print(f"  {count / n:7.1f} {calls[key] / n:5.1f}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
