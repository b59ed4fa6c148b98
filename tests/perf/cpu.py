"""CPU time per request of a gateway under load: a measure that survives a busy machine.

    python -m tests.perf.cpu [--scenarios b,c,d,c-redis,d-redis] [--servers native,granian,hypercorn]
                             [--seconds 4] [--rounds 3] [--connections 32]

Throughput on a shared machine moves with the neighbours; the CPU a process spends per answer
moves much less. For each scenario of tests/perf/run.py this starts the raw backend (and Redis for
the -redis scenarios), one `policygate serve` pinned to CPU 0 and wrk (or the Python load
generator) on CPU 1, and reports per round: requests/s, the gateway's CPU time (user + system,
all of its threads: with Granian that includes its Rust HTTP threads) per answered request, the
share of its main thread (event loop, Python app; the rest is the server's own threads), and
Redis's for the Redis scenarios. The best round is the one with the least interference.

With several `--servers`, one gateway per server runs for each scenario (all pinned to CPU 0, idle
but the one under load) and the rounds alternate between them, so drift in the neighbours' load
touches every server alike; the last line of a scenario compares their best rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from tests.perf.loadgen import LoadResult, run_load
from tests.perf.run import CACHE_POLICY, FULL_POLICY, KEY_HEADER, SERVERS, start_gateway
from tests.perf.servers import can_pin, cpu_seconds, pin_pid, start_backend

SCENARIOS: dict[str, dict[str, object]] = {
    "b": {},
    "c": {"policy": CACHE_POLICY.format(store="internal")},
    "c-redis": {"policy": CACHE_POLICY.format(store="external"), "redis": True},
    "d": {"policy": FULL_POLICY.format(store="internal"), "subscription": True},
    "d-redis": {"policy": FULL_POLICY.format(store="external"), "subscription": True, "redis": True},
}


def thread_seconds(pid: int) -> float:
    """User + system CPU time of a process's main thread (the one running the event loop and the app)."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, headers: dict[str, str], pid: int, extra: list[int], seconds: float, connections: int,
            cpus: str | None) -> tuple[LoadResult, float, float, float]:
    """One load run; (result, gateway CPU µs per answer, of which its main thread, `extra` processes' CPU µs per answer)."""
    before, before_main, before_extra = cpu_seconds([pid]), thread_seconds(pid), cpu_seconds(extra)
    result = run_load(url, seconds=seconds, connections=connections, headers=headers, cpus=cpus)
    used, used_main = cpu_seconds([pid]) - before, thread_seconds(pid) - before_main
    used_extra = cpu_seconds(extra) - before_extra
    answered = max(1, result.requests - result.errors)
    return result, 1e6 * used / answered, 1e6 * used_main / answered, 1e6 * used_extra / answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="b,c,d,d-redis", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--servers", default="native", help=f"comma-separated subset of {','.join(SERVERS)}")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if set(scenarios) - set(SCENARIOS):
        parser.error(f"--scenarios: choose from {','.join(SCENARIOS)}")
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if not servers or set(servers) - set(SERVERS):
        parser.error(f"--servers: choose from {','.join(SERVERS)}")
    server_cpus, load_cpus = ("0", "1") if can_pin() else (None, None)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="policygate-cpu-") as tmp:
        backend = start_backend(load_cpus)
        stack.callback(backend.stop)
        redis_url, redis_pids = None, []
        if any(SCENARIOS[s].get("redis") for s in scenarios):
            from tests.support.redis_server import RedisServer

            redis = RedisServer()
            redis.start()
            stack.callback(redis.stop)
            if redis.process is not None:
                pin_pid(redis.process.pid, load_cpus)
                redis_pids = [redis.process.pid]
            redis_url = redis.url
        print(f"servers {', '.join(servers)}; gateway on CPU {server_cpus}, load + backend + Redis on CPU {load_cpus}; "
              f"{args.connections} connections, {args.seconds:g} s x {args.rounds}")
        print(f"{'scenario':<18} {'req/s':>8} {'gateway CPU µs/req':>19} {'of which main thread':>21} {'Redis CPU µs/req':>17}")
        for scenario in scenarios:
            options = {k: v for k, v in SCENARIOS[scenario].items() if k != "redis"}
            if SCENARIOS[scenario].get("redis"):
                options["redis_url"] = redis_url
            headers = KEY_HEADER if options.get("subscription") else {}
            with ExitStack() as gateways:
                started = {}
                for server in servers:
                    gateway, url, _ = start_gateway(Path(tmp), f"{scenario}-{server}", backend, cpus=server_cpus,
                                                    server=server, **options)  # type: ignore[arg-type]
                    gateways.callback(gateway.stop)
                    run_load(url + "42", seconds=1, connections=args.connections, headers=headers, cpus=load_cpus)
                    started[server] = (gateway.pid, url)
                rows: dict[str, list[tuple[LoadResult, float, float, float]]] = {server: [] for server in servers}
                for _ in range(args.rounds):
                    for server, (pid, url) in started.items():
                        rows[server].append(measure(url + "42", headers, pid, redis_pids, args.seconds,
                                                    args.connections, load_cpus))
            best: dict[str, float] = {}
            for server in servers:
                label = f"{scenario}@{server}"
                for result, cpu, main_cpu, redis_cpu in rows[server]:
                    print(f"{label:<18} {result.rps:8.0f} {cpu:19.1f} {main_cpu:21.1f} {redis_cpu:17.1f}")
                top = min(rows[server], key=lambda row: row[1])
                best[server] = top[1]
                print(f"{label:<18} best: {top[1]:.1f} µs CPU per request ({top[0].rps:.0f} req/s)")
            if len(servers) > 1:
                first = servers[0]
                print(f"{scenario:<18} " + ", ".join(f"{server} {best[server] / best[first]:.2f}x {first}'s CPU"
                                                       for server in servers[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
