"""Cache-hit throughput of the gateway vs a bare Quart app answering the same bytes, side by side.

    python -m tests.perf.bench_cache [--seconds 2] [--connections 32] [--rounds 10]

Starts, as separate processes on loopback: a bare Quart app on Hypercorn + uvloop (also the
gateway's backend), `policygate serve` with an in-process cache, `policygate serve` with a Redis
cache (a throwaway redis-server), and a load generator (wrk when installed, else a raw asyncio
HTTP/1.1 keep-alive client in its own process). Every target gets the same number of connections
and seconds; each round measures the three targets back to back, and the ratio to the bare app is
taken per round (so a noisy neighbour affects both sides of a ratio alike). Prints median
requests/s, the median and range of the per-round ratios (goal >= 0.8) and Redis commands per
cache hit from INFO commandstats over the gateway's own hit counter (goal: 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.servers import Process

ROOT = Path(__file__).resolve().parents[2]
BODY = json.dumps({"id": 42, "name": "widget", "tags": ["a", "b", "c"], "description": "x" * 900}).encode()

POLICY = """<policies>
  <inbound><base/><cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="{type}">
    <vary-by-header>Accept</vary-by-header></cache-lookup></inbound>
  <backend><base/></backend>
  <outbound><base/><cache-store duration="3600"/></outbound>
  <on-error><base/></on-error>
</policies>"""


# -- the bare app (also the backend) -------------------------------------------------------------
def serve_bare(port: int) -> None:
    import uvloop
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from quart import Quart, Response

    app = Quart("bare")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    async def answer(path: str) -> Response:
        return Response(BODY, content_type="application/json")

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    uvloop.install()
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


# -- the load generator --------------------------------------------------------------------------
async def _connection(host: str, port: int, path: str, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if match is None:
                raise RuntimeError(f"no content-length in {head[:200]!r}")
            await reader.readexactly(int(match.group(1)))
            counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    finally:
        writer.close()


async def _load(url: str, seconds: float, connections: int) -> dict[str, float]:
    host_port, _, path = url.split("://", 1)[1].partition("/")
    host, _, port = host_port.partition(":")
    counts = [0, 0]
    started = time.perf_counter()
    await asyncio.gather(*[_connection(host, int(port), "/" + path, started + seconds, counts) for _ in range(connections)])
    elapsed = time.perf_counter() - started
    return {"ok": counts[0], "errors": counts[1], "rps": counts[0] / elapsed}


def run_load(url: str, seconds: float, connections: int) -> dict[str, float]:
    wrk = shutil.which("wrk")
    if wrk is not None:
        out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{int(seconds)}s", "-H", "Accept: application/json", url],
                             capture_output=True, text=True, check=True).stdout
        total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
        if total is None:
            raise RuntimeError(f"cannot read wrk output:\n{out}")
        elapsed = float(total.group(2)) / (1000.0 if total.group(3) == "ms" else 1.0)
        non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
        errors = float(non_2xx.group(1)) if non_2xx else 0.0
        requests = float(total.group(1))
        return {"ok": requests - errors, "errors": errors, "rps": (requests - errors) / elapsed}
    out = subprocess.run([sys.executable, "-m", "tests.perf.bench_cache", "--load", url, str(seconds), str(connections)],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(out)


# -- orchestration -------------------------------------------------------------------------------
def wait_http(url: str, timeout: float = 20.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def gateway(directory: Path, name: str, backend: str, cache: dict[str, object] | None, caching_type: str,
            admin: bool = False) -> tuple[Process, str]:
    """`policygate serve` with the cache policy (and an admin port, the process's second port, when `admin`)."""
    import yaml

    (directory / f"{name}.xml").write_text(POLICY.format(type=caching_type))
    file = directory / f"{name}.yaml"

    def command(port: int, admin_port: int | bool = False) -> list[str]:
        config = {
            "server": {"host": "127.0.0.1", "port": port, "admin-port": admin_port},
            "apis": {"items": {"path": "items", "service-url": backend, "subscription-required": False,
                               "policy": f"{name}.xml"}},
        }
        if cache:
            config["cache"] = cache
        file.write_text(yaml.safe_dump(config))
        return [sys.executable, "-m", "engine", "serve", str(file)]

    process = Process(f"gateway {name}", command, None, ports=2 if admin else 1)
    return process, f"http://127.0.0.1:{process.port}/items/42"


def external_hits(admin_port: int) -> float:
    """The gateway's own count of external cache hits (exact, unlike the load generator's count)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(r'policygate_cache_requests_total\{store="external",result="hit"\} ([\d.e+]+)', text)
    return float(match.group(1)) if match else 0.0


def command_calls(client: object) -> int:
    """Every command Redis executed so far, except this measuring connection's INFO."""
    stats = client.info("commandstats")  # type: ignore[attr-defined]
    return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--load", nargs=3, metavar=("URL", "SECONDS", "CONNECTIONS"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if args.load:
        import uvloop

        uvloop.install()
        print(json.dumps(asyncio.run(_load(args.load[0], float(args.load[1]), int(args.load[2])))))
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.support.redis_server import RedisServer

    processes: list[Process] = []
    redis_server = RedisServer()
    redis_server.start()
    directory = Path(tempfile.mkdtemp(prefix="policygate-bench-cache-"))
    try:
        processes.append(Process("bare quart", lambda port: [sys.executable, "-m", "tests.perf.bench_cache",
                                                              "--serve-bare", str(port)], None))
        bare_port = processes[-1].port
        bare_url = f"http://127.0.0.1:{bare_port}/items/42"
        internal, internal_url = gateway(directory, "internal", f"http://127.0.0.1:{bare_port}", None, "internal")
        processes.append(internal)
        external, external_url = gateway(directory, "redis", f"http://127.0.0.1:{bare_port}",
                                         {"external": redis_server.url, "timeout-ms": 1000}, "external", admin=True)
        processes.append(external)
        admin_port = external.ports[1]
        targets = {"bare quart": bare_url, "gateway, internal cache hit": internal_url, "gateway, redis cache hit": external_url}
        for url in targets.values():
            wait_http(url)
        for url in targets.values():  # warm: store the entry, grow connection pools to full size
            run_load(url, 1.0, args.connections)
        import redis

        stats_client = redis.Redis(port=redis_server.port)
        command_calls(stats_client)  # open the measuring connection before counting
        rounds: list[dict[str, dict[str, float]]] = []
        redis_commands = redis_hits = 0.0
        for _ in range(args.rounds):
            results: dict[str, dict[str, float]] = {}
            for name, url in targets.items():
                if "redis" in name:
                    commands_before, hits_before = command_calls(stats_client), external_hits(admin_port)
                results[name] = run_load(url, args.seconds, args.connections)
                if "redis" in name:
                    time.sleep(0.5)  # let requests still in flight when the load stopped finish
                    redis_commands += command_calls(stats_client) - commands_before
                    redis_hits += external_hits(admin_port) - hits_before
            rounds.append(results)
        stats_client.close()
        print(f"cache-hit throughput, {args.connections} connections, {args.seconds:g} s per target, {args.rounds} rounds, "
              f"body {len(BODY)} bytes, {os.cpu_count()} CPUs, load: {'wrk' if shutil.which('wrk') else 'python asyncio client'}")
        print(f"{'target':32} {'median req/s':>12} {'median ratio':>13} {'ratio range':>13} {'errors':>7}")
        for name in targets:
            rps = sorted(r[name]["rps"] for r in rounds)
            ratios = sorted(r[name]["rps"] / r["bare quart"]["rps"] for r in rounds)
            errors = sum(int(r[name]["errors"]) for r in rounds)
            print(f"{name:32} {statistics.median(rps):12.0f} {statistics.median(ratios):13.2f} "
                  f"{ratios[0]:6.2f}-{ratios[-1]:<6.2f} {errors:7d}")
        print(f"redis commands per cache hit: {redis_commands / max(1.0, redis_hits):.3f} "
              f"({int(redis_commands)} commands (INFO commandstats) / {int(redis_hits)} hits (gateway metric))")
        return 0
    finally:
        for process in processes:
            process.stop()
        redis_server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
