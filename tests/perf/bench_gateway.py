"""Gateway overhead, side by side in one run: bare Quart vs policygate pass-through vs direct backend.

    python -m tests.perf.bench_gateway [--seconds 5] [--connections 32] [--latency-requests 3000]

Starts three servers as separate processes on loopback (uvloop everywhere):
  backend  - a raw asyncio HTTP/1.1 server answering every request with fixed bytes;
  quart    - a bare Quart app on Hypercorn answering GET / with the same fixed bytes;
  gateway  - `policygate serve` with the default global policy (forward-request) to the backend.
Then measures, for each target:
  latency    - one keep-alive connection, sequential requests: p50 / p99 (a lean Python client);
  throughput - `wrk` with N connections when installed, else a Python asyncio load generator.
Prints a table and the ratios (gateway vs Quart, gateway vs direct, added p50 latency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.servers import Process

SELF = [sys.executable, "-m", "tests.perf.bench_gateway"]
BODY = b"Hello, world!"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(BODY)) + BODY


# ------------------------------------------------------------------------------------ servers
class _FixedHttp(asyncio.Protocol):
    """Answers each complete request head with RESPONSE (no request bodies in this benchmark)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            _, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]


def serve_backend(port: int) -> None:
    import uvloop

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_FixedHttp, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    uvloop.run(main())


def serve_quart(port: int) -> None:
    import uvloop
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from quart import Quart

    app = Quart("bare")

    @app.route("/", defaults={"path": ""}, methods=["GET"])
    @app.route("/<path:path>", methods=["GET"])
    async def index(path: str) -> tuple[bytes, int, dict[str, str]]:
        return BODY, 200, {"Content-Type": "text/plain"}

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.keep_alive_max_requests = 1_000_000  # as the gateway: do not recycle benchmark connections
    uvloop.run(serve(app, config))


# ------------------------------------------------------------------------------------ clients
async def _request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    chunked = False
    for line in head.split(b"\r\n"):
        lower = line.lower()
        if lower.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif lower.startswith(b"transfer-encoding:") and b"chunked" in lower:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())


def request_bytes(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


async def latency(port: int, path: str, count: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds over one keep-alive connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = request_bytes(port, path)
    for _ in range(200):  # warm up
        await _request(reader, writer, request)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await _request(reader, writer, request)
        samples.append((time.perf_counter() - started) * 1000)
    writer.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def python_throughput(port: int, path: str, connections: int, seconds: float) -> float:
    request = request_bytes(port, path)
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            await _request(reader, writer, request)
            done += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - started)


def wrk_throughput(port: int, path: str, connections: int, seconds: float) -> float:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split(":", 1)[1])
    raise RuntimeError(result.stdout)


# ------------------------------------------------------------------------------------ main
GATEWAY_CONFIG = """
server: {{ host: 127.0.0.1, port: {port}, admin-port: false }}
apis:
  bench:
    path: ""
    service-url: "http://127.0.0.1:{backend}"
    subscription-required: false
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--latency-requests", type=int, default=3000)
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk exists")
    parser.add_argument("--serve-backend", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-quart", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_backend:
        serve_backend(args.serve_backend)
        return 0
    if args.serve_quart:
        serve_quart(args.serve_quart)
        return 0

    use_wrk = shutil.which("wrk") is not None and not args.python_load
    processes: list[Process] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "gateway.yaml"

        def gateway(port: int) -> list[str]:
            config.write_text(GATEWAY_CONFIG.format(port=port, backend=backend_port))
            return [sys.executable, "-m", "engine", "serve", str(config)]

        try:
            processes.append(Process("backend", lambda port: [*SELF, "--serve-backend", str(port)], None))
            backend_port = processes[-1].port
            processes.append(Process("quart", lambda port: [*SELF, "--serve-quart", str(port)], None))
            quart_port = processes[-1].port
            processes.append(Process("gateway", gateway, None))
            gateway_port = processes[-1].port
            targets = [("bare Quart", quart_port), ("policygate pass-through", gateway_port), ("direct backend", backend_port)]
            results: dict[str, tuple[float, float, float]] = {}
            for name, port in targets:
                try:
                    p50, p99 = asyncio.run(latency(port, "/", args.latency_requests))
                except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
                    raise SystemExit(f"{name} on port {port} failed: {exc!r}") from None
                if use_wrk:
                    rps = wrk_throughput(port, "/", args.connections, args.seconds)
                else:
                    rps = asyncio.run(python_throughput(port, "/", args.connections, args.seconds))
                results[name] = (rps, p50, p99)
        finally:
            for process in processes:
                process.stop()
    loader = f"wrk -t2 -c{args.connections}" if use_wrk else f"python asyncio, {args.connections} connections"
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]} load={loader} {args.seconds:g}s; "
          f"latency: 1 connection, {args.latency_requests} sequential requests")
    print(f"{'target':<26}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, (rps, p50, p99) in results.items():
        print(f"{name:<26}{rps:>10.0f}{p50:>10.3f}{p99:>10.3f}")
    gw, quart, direct = results["policygate pass-through"], results["bare Quart"], results["direct backend"]
    print(f"throughput: gateway/Quart = {gw[0] / quart[0]:.2f}, gateway/direct = {gw[0] / direct[0]:.2f}")
    print(f"p50 added by the gateway over the direct backend: {gw[1] - direct[1]:.3f} ms "
          f"(bare Quart over direct: {quart[1] - direct[1]:.3f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
