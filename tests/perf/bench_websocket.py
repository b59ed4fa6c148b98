"""WebSocket APIs: messages relayed per second and the latency the gateway adds per message, against a
direct connection to the same backend, side by side in one run (scenario `ws` of tests.perf.run).

The backend is tests/support/websocket_server.py (`/echo`, its own process, pinned with the load
generator); the gateway serves one WebSocket API in front of it, once per HTTP server. The client
is the websockets asyncio client in the benchmark process:

- throughput: `connections` connections, each keeping `WINDOW` messages of `SIZE` bytes in flight
  (send, echo, send again) for `duration` seconds; messages/s counts echoes received, so each one
  crossed the gateway twice. The ratio to the direct connection is taken per round; the median is
  reported.
- latency: one connection, one message at a time; p50 and p99 of the round trip, and what the
  gateway adds to them over the direct connection.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import yaml
from websockets.asyncio.client import connect

from tests.perf.servers import Process

SIZE = 64  # bytes per message: the relay's per-message cost, not the copy's, is what is measured
WINDOW = 16  # messages in flight per connection


async def _throughput(url: str, connections: int, seconds: float) -> float:
    payload = b"x" * SIZE
    stop = time.perf_counter() + seconds
    counts: list[int] = []

    async def one() -> None:
        received = 0
        async with connect(url, compression=None, max_queue=None) as ws:
            for _ in range(WINDOW):
                await ws.send(payload)
            while time.perf_counter() < stop:
                await ws.recv()
                received += 1
                await ws.send(payload)
            for _ in range(WINDOW):
                await ws.recv()
        counts.append(received)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return sum(counts) / (time.perf_counter() - started)


async def _latency(url: str, seconds: float) -> tuple[float, float]:
    payload = b"x" * SIZE
    samples: list[float] = []
    async with connect(url, compression=None) as ws:
        for _ in range(50):  # warm up
            await ws.send(payload)
            await ws.recv()
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            await ws.send(payload)
            await ws.recv()
            samples.append((time.perf_counter() - sent) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def start_gateway(directory: Path, backend_port: int, server: str, cpus: str | None) -> tuple[Process, str]:
    file = directory / f"ws-{server}.yaml"

    def command(port: int, admin: int) -> list[str]:
        config = {"server": {"host": "127.0.0.1", "port": port, "admin-port": admin},
                  "apis": {"echo": {"path": "echo", "service-url": f"ws://127.0.0.1:{backend_port}/echo",
                                    "subscription-required": False, "websocket": {}}}}
        file.write_text(yaml.safe_dump(config, sort_keys=False))
        return [sys.executable, "-m", "engine", "serve", str(file), "--server", server]

    process = Process(f"gateway ws-{server}", command, cpus, ports=2)
    return process, f"ws://127.0.0.1:{process.port}/echo"


def measure_websocket(duration: float, rounds: int, connections: int, directory: Path, stack: ExitStack,
                      servers: list[str], server_cpus: str | None, load_cpus: str | None) -> list[str]:
    """Print the WebSocket block; returns missed goals (none: the numbers are recorded, not judged)."""
    backend = Process("websocket backend",
                      lambda port: [sys.executable, "-m", "tests.support.websocket_server", str(port)], load_cpus)
    stack.callback(backend.stop)
    port = backend.port
    targets = {"direct": f"ws://127.0.0.1:{port}/echo"}
    for server in servers:
        process, url = start_gateway(directory, port, server, server_cpus)
        stack.callback(process.stop)
        targets[f"ws@{server}"] = url
    for url in targets.values():
        asyncio.run(_throughput(url, 2, 0.5))  # warm up
    rates: dict[str, list[float]] = {key: [] for key in targets}
    for _ in range(rounds):
        for key, url in targets.items():
            rates[key].append(asyncio.run(_throughput(url, connections, duration)))
    print(f"\nWebSocket relay: {connections} connections x {WINDOW} messages of {SIZE} bytes in flight, "
          f"{rounds} rounds of {duration:g} s; echoes/s (each message crosses the gateway twice)")
    print(f"{'':18}{'msgs/s (median)':>16}{'ratio to direct':>17}")
    for key in targets:
        ratios = [rate / direct for rate, direct in zip(rates[key], rates["direct"], strict=True) if direct]
        print(f"{key:<18}{statistics.median(rates[key]):>16.0f}{statistics.median(ratios):>17.2f}")
    print(f"\nWebSocket latency: 1 connection, one {SIZE}-byte message at a time, {duration:g} s per target")
    print(f"{'':18}{'p50 ms':>9}{'p99 ms':>9}{'added p50':>11}{'added p99':>11}")
    latencies = {key: asyncio.run(_latency(url, duration)) for key, url in targets.items()}
    base = latencies["direct"]
    for key, (p50, p99) in latencies.items():
        print(f"{key:<18}{p50:>9.3f}{p99:>9.3f}{p50 - base[0]:>+11.3f}{p99 - base[1]:>+11.3f}")
    return []
