"""The benchmark suite: every performance claim of docs/performance.md, measured side by side in one run.

    python -m tests.perf.run [--duration S] [--rounds N] [--only a,b,c,d,e,latency,workers,ws] [--soak MINUTES]
                             [--servers native,granian,hypercorn]
    python -m tests.perf.run semantic-cache [--sizes 1000,10000,100000] [--dims 1536] [--lookups 200]

Everything runs on 127.0.0.1 and every step is bounded in time (the plan and its expected length
are printed first). With two or more CPUs and `taskset`, servers run on CPU 0 and the load
generator, the raw backend and Redis on CPU 1.

Throughput (wrk -t1 -cN, or the Python load generator when wrk is missing), `--rounds` rounds of
`--duration` seconds per target; a ratio to (a) is taken per round and the median is reported:
  (a) bare Quart on Hypercorn answering fixed bytes (the same 972 bytes every target returns)
  (b) policygate pass-through to the raw local backend
  (c) policygate cache hit: in-process store, and Redis store
  (d) full pipeline: subscription key + rate-limit-by-key + cache-lookup hit + set-header
      (in-process cache and counters, and both on Redis)
  (e) nginx (1 worker) proxy_cache hit and plain keep-alive proxy to the same backend, when installed
Every gateway target (b)-(d) runs once per HTTP server in `--servers` (key suffix @native, @granian...),
and the nginx goals (one gateway worker against one nginx worker, same CPU) are printed per server.
Latency: one connection, p50/p99 of the direct backend, (a), (b) and nginx plain proxy; added latency of (b)
(the goal) and of nginx (a reference); pinned as above, then once more with nothing pinned.
Workers: (c, in-process) with `--workers 1` and `--workers 2`, unpinned, per server, and nginx with 1 and 2 worker
processes as a reference; first under a CPU budget of `--worker-budget` CPUs per worker (tests/perf/cpubudget.py,
so the load generator keeps CPU of its own), then without; connections and requests per worker; RSS of every worker.
WebSocket (ws): messages/s relayed and added latency per message, through the gateway (per server) against a direct
connection to the same WebSocket backend (tests/perf/bench_websocket.py).
Soak (`--soak MINUTES`): (d) under load over 200 URLs, RSS sampled; growth after the first minute.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from engine.gateway.listeners import SERVERS
from engine.gateway.worker_metrics import METRICS_DIR_ENV, PUBLISH_INTERVAL, read_snapshots
from tests.perf.cpubudget import BudgetUnavailable, CpuBudget
from tests.perf.loadgen import LoadResult, run_load, wrk_available
from tests.perf.nginx import Nginx, find_nginx
from tests.perf.servers import (
    BODY,
    Process,
    can_pin,
    children,
    connections_per_process,
    cpu_seconds,
    pin_pid,
    rss_kib,
    start_backend,
    start_quart,
)

SUBSCRIPTION_KEY = "bench-key-0123456789"
KEY_HEADER = {"Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}
SCENARIOS = ("a", "b", "c", "d", "e", "latency", "workers", "ws")


# -- goals (issues 7 and 16) -------------------------------------------------------------------
CACHE_HIT_GOAL = 0.8       # (c) >= 0.8 of (a)
FULL_PIPELINE_GOAL = 0.7   # (d) >= 0.7 of (a)
ADDED_P50_GOAL_MS = 0.25   # p50 of (b) minus p50 of the direct backend
WORKERS_GOAL = 1.8         # 2 workers >= 1.8x one worker, each worker count under the same CPU budget per worker
WORKER_BUDGET = 0.5        # CPUs per worker in the workers scenario (--worker-budget)
SPREAD_GOAL = 0.4          # each of 2 workers holds >= 40% of the connections and serves >= 40% of a round's requests
# (gateway target, nginx target, least ratio, what): one gateway worker against one nginx worker
NGINX_GOALS = (
    ("c-mem", "e-cache", 0.25, "in-process cache hit / nginx proxy_cache hit"),
    ("b", "e-proxy", 0.15, "pass-through / nginx plain proxy"),
    ("d-redis", "e-cache", 0.15, "full pipeline on Redis / nginx proxy_cache hit"),
)
SOAK_GROWTH_GOAL = 0.05    # RSS growth over the soak

CACHE_POLICY = """<policies>
  <inbound><base/>
    <cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="{store}"/>
  </inbound>
  <backend><base/></backend>
  <outbound><base/><cache-store duration="3600"/></outbound>
  <on-error><base/></on-error>
</policies>"""

FULL_POLICY = """<policies>
  <inbound><base/>
    <rate-limit-by-key calls="100000000" renewal-period="10" counter-key="@(context.Subscription.Id)"/>
    <cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="{store}"/>
  </inbound>
  <backend><base/></backend>
  <outbound><base/>
    <set-header name="X-Served-By" exists-action="override"><value>policygate</value></set-header>
    <cache-store duration="3600"/>
  </outbound>
  <on-error><base/></on-error>
</policies>"""


@dataclass
class Target:
    key: str
    label: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    goal: float | None = None  # least ratio to (a)
    pid: int | None = None     # its server's process (RSS is reported for the gateways')
    admin: str | None = None   # a gateway's admin URL (cache hit counts)


@dataclass
class Settings:
    duration: float
    rounds: int
    connections: int
    use_wrk: bool
    server_cpus: str | None
    load_cpus: str | None


# -- starting things ---------------------------------------------------------------------------
def start_gateway(directory: Path, name: str, backend: Process, *, policy: str | None = None, redis_url: str | None = None,
                  subscription: bool = False, workers: int = 1, cpus: str | None = None,
                  server: str = "native", launcher: list[str] | None = None,
                  start_seconds: float = 30.0) -> tuple[Process, str, str]:
    """`policygate serve` for one scenario (its command after `launcher`); returns the process, the gateway URL
    and the admin URL."""
    api: dict[str, object] = {"path": "items", "service-url": f"http://127.0.0.1:{backend.port}",
                              "subscription-required": subscription}
    config: dict[str, object] = {"apis": {"items": api}}
    if policy is not None:
        (directory / f"{name}.xml").write_text(policy)
        api["policy"] = f"{name}.xml"
    if redis_url is not None:
        config["cache"] = {"external": redis_url, "timeout-ms": 1000}
    if subscription:
        config["subscriptions"] = [{"id": "bench", "key": SUBSCRIPTION_KEY}]
    name = name.replace("@", "-")
    file = directory / f"{name}.yaml"

    def command(port: int, admin: int) -> list[str]:
        server_config = {"server": {"host": "127.0.0.1", "port": port, "admin-port": admin}}
        file.write_text(yaml.safe_dump({**server_config, **config}, sort_keys=False))
        return [*(launcher or []), sys.executable, "-m", "engine", "serve", str(file), "--workers", str(workers),
                "--server", server]

    process = Process(f"gateway {name}", command, cpus, start_seconds, ports=2)
    port, admin = process.ports
    return process, f"http://127.0.0.1:{port}/items/", f"http://127.0.0.1:{admin}"


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_answers(target: Target, body: bytes) -> None:
    status, content = fetch(target.url, target.headers)
    if status != 200 or content != body:
        raise SystemExit(f"{target.label}: expected 200 with the fixed body, got {status}: {content[:200]!r}")


def cache_hits(admin: str) -> float:
    text = fetch(f"{admin}/metrics")[1].decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("policygate_cache_requests_total{") and 'result="hit"' in line)


# -- measuring ---------------------------------------------------------------------------------
def load(settings: Settings, target: Target, seconds: float | None = None, connections: int | None = None,
         cpus: str | None | bool = True, paths: int = 0) -> LoadResult:
    return run_load(target.url, seconds=seconds or settings.duration, connections=connections or settings.connections,
                    headers=target.headers, paths=paths, cpus=settings.load_cpus if cpus is True else (cpus or None),
                    use_wrk=settings.use_wrk)


def throughput_rounds(settings: Settings, targets: list[Target]) -> dict[str, list[LoadResult]]:
    results: dict[str, list[LoadResult]] = {t.key: [] for t in targets}
    for number in range(settings.rounds):
        print(f"  round {number + 1}/{settings.rounds}:", end="", flush=True)
        for target in targets:
            result = load(settings, target)
            results[target.key].append(result)
            print(f" {target.key}={result.rps:.0f}", end="", flush=True)
        print()
    return results


def median_ratio(results: dict[str, list[LoadResult]], key: str, reference: str = "a") -> float | None:
    if reference not in results or key not in results:
        return None
    return statistics.median(r.rps / max(1e-9, ref.rps) for r, ref in zip(results[key], results[reference], strict=True))


def verdict(value: float | None, goal: float | None, *, at_most: bool = False) -> str:
    if value is None or goal is None:
        return ""
    ok = value <= goal if at_most else value >= goal
    return "pass" if ok else "FAIL"


# -- the report --------------------------------------------------------------------------------
def print_throughput(targets: list[Target], results: dict[str, list[LoadResult]], settings: Settings) -> list[str]:
    failures: list[str] = []
    print(f"\nThroughput: {settings.connections} connections, {settings.duration:g} s x {settings.rounds} rounds per target "
          "(medians; ratio = median of per-round ratios to (a))")
    print(f"{'':18}{'target':<40}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>7}{'goal':>7}{'':>6}{'errors':>8}")
    for target in targets:
        rounds = results[target.key]
        ratio = median_ratio(results, target.key)
        state = verdict(ratio, target.goal)
        if state == "FAIL":
            failures.append(f"({target.key}) {target.label}: {ratio:.2f} of (a), goal >= {target.goal}")
        goal = f">={target.goal}" if target.goal else ""
        print(f"{target.key:<18}{target.label:<40}{statistics.median(r.rps for r in rounds):>8.0f}"
              f"{statistics.median(r.p50_ms for r in rounds):>9.2f}{statistics.median(r.p99_ms for r in rounds):>9.2f}"
              f"{ratio if ratio is not None else 0:>7.2f}{goal:>7}{state:>6}{sum(r.errors for r in rounds):>8}")
    return failures


def print_checks(targets: list[Target], results: dict[str, list[LoadResult]], hits_before: dict[str, float]) -> None:
    """Cache hits really happened, nginx side by side, RSS of the gateways after load."""
    for key, before in hits_before.items():
        target = next(t for t in targets if t.key == key)
        served = sum(r.requests - r.errors for r in results[key])
        hits = cache_hits(target.admin or "") - before
        print(f"    ({key}) cache hits counted by the gateway: {hits:.0f} for {served} answers the load generator counted "
              "(the gateway also counts requests in flight when the load stopped)")
    for target in targets:
        if target.key.split("@")[0] in ("b", "d-mem"):
            print(f"    RSS of ({target.key}) after load: {rss_kib(target.pid or 0) / 1024:.1f} MiB")


def print_nginx_goals(results: dict[str, list[LoadResult]], servers: list[str]) -> list[str]:
    """The issue 16 goals: each gateway target as a share of one nginx worker, per HTTP server."""
    if "e-cache" not in results:
        return []
    failures: list[str] = []
    print("\nAgainst nginx (median of per-round ratios; one worker each, same CPU):")
    print(f"{'server':<11}{'ratio':<52}{'value':>7}{'goal':>8}{'':>6}")
    for server in servers:
        for key, reference, goal, what in NGINX_GOALS:
            ratio = median_ratio(results, f"{key}@{server}", reference)
            if ratio is None:
                continue
            state = verdict(ratio, goal)
            print(f"{server:<11}{what:<52}{ratio:>7.3f}{f'>={goal}':>8}{state:>6}")
            if state == "FAIL":
                failures.append(f"{server}: {what} {ratio:.3f}, goal >= {goal}")
    return failures


def measure_latency(settings: Settings, targets: list[Target], unpin: list[tuple[int, str | None]] | None = None) -> list[str]:
    """The latency block (one connection): p50/p99 per target, the pass-through's added latency (the
    goal) and nginx plain proxy's (the peer's cost of the same extra hop, a reference). With `unpin`
    (each process and the CPUs it is pinned to), the block runs once more with nothing pinned, then
    the processes are pinned again; the goal is judged on the pinned block only."""
    failures = _latency_block(settings, targets, pinned=settings.load_cpus is not None, judged=True)
    if unpin and settings.load_cpus is not None:
        every_cpu = f"0-{(os.cpu_count() or 1) - 1}"
        try:
            _pin_all(unpin, every_cpu)
            _latency_block(Settings(settings.duration, settings.rounds, settings.connections, settings.use_wrk, None, None),
                           targets, pinned=False, judged=False)
        finally:
            for pid, cpus in unpin:
                _pin_all([(pid, cpus)], cpus)
    return failures


def _pin_all(processes: list[tuple[int, str | None]], cpus: str | None) -> None:
    """Pin each process, every thread and its child processes (nginx's worker) to `cpus`."""
    for pid, _ in processes:
        for each in (pid, *children(pid)):
            pin_pid(each, cpus)


def _latency_block(settings: Settings, targets: list[Target], *, pinned: bool, judged: bool) -> list[str]:
    layout = "servers on CPU 0, load generator + backend on CPU 1" if pinned else "nothing pinned"
    print(f"\nLatency: 1 connection, {settings.duration:g} s per target, {layout}")
    rows = {t.key: load(settings, t, connections=1) for t in targets}
    print(f"{'':18}{'target':<36}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for target in targets:
        row = rows[target.key]
        print(f"{target.key:<18}{target.label:<36}{row.rps:>8.0f}{row.p50_ms:>9.3f}{row.p99_ms:>9.3f}")
    direct = rows["direct"]
    failures: list[str] = []
    for key, gateway in rows.items():
        if not key.startswith("b@"):
            continue
        added_p50, added_p99 = gateway.p50_ms - direct.p50_ms, gateway.p99_ms - direct.p99_ms
        state = verdict(added_p50, ADDED_P50_GOAL_MS, at_most=True)
        goal = f"goal <= {ADDED_P50_GOAL_MS} ms: {state}" if judged else "not judged: the goal is the block above"
        print(f"added by ({key}) over the direct backend: p50 {added_p50:+.3f} ms ({goal}), p99 {added_p99:+.3f} ms")
        if state == "FAIL":
            failures.append(f"added p50 of ({key}): {added_p50:.3f} ms, goal <= {ADDED_P50_GOAL_MS} ms")
    if "e-proxy" in rows:
        nginx = rows["e-proxy"]
        print(f"added by (e-proxy) nginx plain proxy over the direct backend (reference): "
              f"p50 {nginx.p50_ms - direct.p50_ms:+.3f} ms, p99 {nginx.p99_ms - direct.p99_ms:+.3f} ms")
    if "a" in rows:
        print(f"added by (a) bare Quart over the direct backend: p50 {rows['a'].p50_ms - direct.p50_ms:+.3f} ms")
    return failures if judged else []


# -- workers: 1 against 2, under a CPU budget per worker (tests/perf/cpubudget.py) -------------
@dataclass
class Scaling:
    """One server started with 1 and with 2 workers, and what the workers scenario measured of it."""

    name: str
    processes: dict[int, Process] = field(default_factory=dict)
    urls: dict[int, str] = field(default_factory=dict)
    budgets: dict[int, CpuBudget] = field(default_factory=dict)
    metrics: Path | None = None  # where the 2-worker gateway's workers publish their counts
    rps: dict[tuple[str, int], list[float]] = field(default_factory=dict)     # (phase, workers) -> per round
    cores: dict[tuple[str, int], list[float]] = field(default_factory=dict)   # CPUs used, per round
    load_cores: dict[tuple[str, int], list[float]] = field(default_factory=dict)  # the load generator's
    connections: dict[str, list[list[int]]] = field(default_factory=dict)     # phase -> per round, per worker
    served: dict[str, list[list[float]]] = field(default_factory=dict)        # phase -> per round, per worker
    _open: tuple[str, dict[int, float]] | None = None  # a 2-worker run whose requests are not read yet
    _quiet_from: float = 0.0

    def requests_per_worker(self) -> dict[int, float]:
        """Requests each worker has answered, from the snapshots it publishes every PUBLISH_INTERVAL."""
        assert self.metrics is not None
        time.sleep(max(0.0, self._quiet_from - time.monotonic()))
        return {int(snapshot["pid"]): sum(float(value) for _, value in
                                          snapshot["metrics"].get("policygate_requests_total", {}).get("series", []))
                for snapshot in read_snapshots(self.metrics)}

    def workers(self, workers: int) -> list[int]:
        """The serving processes under the `workers` parent (not nginx's cache manager and loader)."""
        found = children(self.processes[workers].pid)
        if self.name == "nginx":
            found = [pid for pid in found if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"nginx: worker")]
        return found

    def open_run(self, phase: str) -> None:
        """A 2-worker run of `phase` starts: close the previous one, note where the counts stand."""
        if self.metrics is not None:
            self.close_run()
            self._open = (phase, self.requests_per_worker())

    def ran(self) -> None:
        """A run ended: its last counts are published within PUBLISH_INTERVAL."""
        self._quiet_from = time.monotonic() + PUBLISH_INTERVAL + 0.3

    def close_run(self) -> None:
        """Attribute the requests since the open 2-worker run started to that run."""
        if self._open is None or self.metrics is None:
            return
        phase, before = self._open
        after = self.requests_per_worker()
        self.served.setdefault(phase, []).append([after[pid] - before.get(pid, 0.0) for pid in sorted(after)])
        self._open = None


def start_scaling(settings: Settings, directory: Path, backend: Process, stack: ExitStack, server: str,
                  budgeted: bool, nginx_binary: str | None) -> Scaling:
    """A gateway (or nginx, server "nginx") with 1 and 2 workers, each in its own CPU budget group when `budgeted`."""
    scaling = Scaling(server)
    for workers in (1, 2):
        launcher: list[str] = []
        if budgeted:
            budget = CpuBudget.create(f"{server}-{workers}")
            stack.callback(budget.close)  # registered first: runs after the process below has stopped
            scaling.budgets[workers] = budget
            launcher = budget.launcher
        if server == "nginx":
            nginx = Nginx(nginx_binary or "nginx", backend.port, None, workers=workers, launcher=launcher)
            process, url = nginx.process, f"{nginx.url}/cached/items/42"
            stack.callback(nginx.stop)
        else:
            if workers == 2:
                scaling.metrics = directory / f"metrics-{server}"
                scaling.metrics.mkdir()
                launcher = [*launcher, "env", f"{METRICS_DIR_ENV}={scaling.metrics}"]
            process, url, _ = start_gateway(directory, f"workers{workers}-{server}", backend, launcher=launcher,
                                            policy=CACHE_POLICY.format(store="internal"), workers=workers, server=server)
            url += "42"
            stack.callback(process.stop)
        scaling.processes[workers], scaling.urls[workers] = process, url
        check_answers(Target(server, server, url), BODY)
        run_load(url, seconds=1, connections=settings.connections * 2, use_wrk=settings.use_wrk)  # warm up
    return scaling


def children_cpu_seconds() -> float:
    """CPU time of this process's finished children (the load generator once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_scaling(settings: Settings, scaling: Scaling, workers: int, phase: str) -> None:
    """One load run against the `workers` process of `scaling`: req/s, CPUs used, connections per worker."""
    process = scaling.processes[workers]
    pids = [process.pid, *children(process.pid)]
    counts: list[list[int]] = []
    watcher = threading.Timer(min(1.0, settings.duration / 2),
                              lambda: counts.append(connections_per_process(process.port, scaling.workers(2)) or []))
    if workers == 2:
        scaling.open_run(phase)
        watcher.start()
    used, load_used = cpu_seconds(pids), children_cpu_seconds()
    result = run_load(scaling.urls[workers], seconds=settings.duration, connections=settings.connections * 2,
                      use_wrk=settings.use_wrk)
    watcher.cancel()
    scaling.ran()
    scaling.rps.setdefault((phase, workers), []).append(result.rps)
    scaling.cores.setdefault((phase, workers), []).append((cpu_seconds(pids) - used) / result.seconds)
    scaling.load_cores.setdefault((phase, workers), []).append((children_cpu_seconds() - load_used) / result.seconds)
    if counts and counts[0]:
        scaling.connections.setdefault(phase, []).append(counts[0])


def spread_failures(scaling: Scaling, phase: str) -> tuple[str, list[str]]:
    """The connections and requests per worker in `phase`, and what misses SPREAD_GOAL."""
    failures: list[str] = []
    parts: list[str] = []
    rounds = scaling.connections.get(phase, [])
    if rounds:
        total = [sum(column) for column in zip(*rounds, strict=True)]
        per_round = " ".join("/".join(map(str, r)) for r in rounds)
        if scaling.name == "native":  # balanced by the workers: every round counts
            share, which = min(min(r) / max(1, sum(r)) for r in rounds), "a round's"
        else:  # hashed by the kernel like coin tosses: all rounds together
            share, which = min(total) / max(1, sum(total)), "all rounds'"
        parts.append(f"connections per round {per_round}, all rounds {'/'.join(map(str, total))} (least of {which} {share:.0%})")
        if share < SPREAD_GOAL:
            failures.append(f"{scaling.name}: a worker held {share:.0%} of {which} connections, goal >= {SPREAD_GOAL:.0%}")
    served = scaling.served.get(phase, [])
    if served:
        shares = [min(r) / max(1.0, sum(r)) for r in served]
        parts.append(f"requests per round {', '.join('/'.join(f'{v / max(1.0, sum(r)):.0%}' for v in r) for r in served)}"
                     f" (least {min(shares):.0%})")
        if min(shares) < SPREAD_GOAL:
            failures.append(f"{scaling.name}: a worker served {min(shares):.0%} of a round's requests, "
                            f"goal >= {SPREAD_GOAL:.0%}")
    return "; ".join(parts), failures


def measure_workers(settings: Settings, directory: Path, backend: Process, stack: ExitStack, servers: list[str],
                    nginx: str | None, budget: float, isolate: bool) -> list[str]:
    """The workers goal: 2 workers >= 1.8x one worker, each worker count under a CPU budget proportional to it."""
    connections = settings.connections * 2
    print(f"\nWorkers: cache hit (in-process; nginx: proxy_cache hit) with 1 and 2 workers, nothing pinned, "
          f"{connections} connections, {settings.duration:g} s x {settings.rounds} rounds per phase")
    reason = "--worker-budget 0"
    if budget > 0:
        try:
            CpuBudget.create("probe").close()
            reason = ""
        except BudgetUnavailable as exc:
            reason = str(exc)
    if reason:
        print(f"no CPU budget ({reason}): only the unbudgeted measurement, bounded by the machine's {os.cpu_count()} CPUs")
        phases: list[tuple[str, float | None]] = [("no budget", None)]
    else:
        print(f"CPU budget: a cgroup CPU quota of {budget:g} CPU per worker ({budget:g} for 1 worker, {2 * budget:g} for 2, "
              f"shared by all of the server's processes); the load generator keeps the rest of the {os.cpu_count()} CPUs")
        phases = [(f"{budget:g} CPU/worker", budget), ("no budget", None)]
    subjects = [start_scaling(settings, directory, backend, stack, server, not reason, nginx)
                for server in [*servers, *(["nginx"] if nginx else [])]]
    if isolate and not reason:
        print("--isolate: the servers' groups and this run's own (the load generator starts in it) get the largest "
              "CPU weight: other work on the machine barely slows them")
        load = CpuBudget.create("load")
        stack.callback(load.close)
        load.favour()
        load.adopt(os.getpid())
        for subject in subjects:
            for group in subject.budgets.values():
                group.favour()
    for phase, cores in phases:
        for subject in subjects:
            for workers, group in subject.budgets.items():
                group.limit(cores * workers if cores else None)
        for number in range(settings.rounds):
            print(f"  {phase}, round {number + 1}/{settings.rounds}:", end="", flush=True)
            for subject in subjects:
                for workers in (1, 2):
                    measure_scaling(settings, subject, workers, phase)
                    print(f" {subject.name}/{workers}w={subject.rps[phase, workers][-1]:.0f}", end="", flush=True)
            print()
    for subject in subjects:
        subject.close_run()

    failures: list[str] = []
    print(f"{'':27}{'1 worker':-^31}  {'2 workers':-^31}")
    print(f"{'phase':<16}{'server':<11}{'req/s':>8}{'server CPUs':>13}{'load CPUs':>10}  {'req/s':>8}{'server CPUs':>13}"
          f"{'load CPUs':>10}{'2w/1w':>8}{'per CPU':>9}  rounds")
    for phase, cores in phases:
        for subject in subjects:
            one, two = subject.rps[phase, 1], subject.rps[phase, 2]
            per_round = [b / max(1e-9, a) for a, b in zip(one, two, strict=True)]
            scaling = statistics.median(per_round)
            used = [statistics.median(subject.cores[phase, w]) for w in (1, 2)]
            load_used = [statistics.median(subject.load_cores[phase, w]) for w in (1, 2)]
            per_cpu = (statistics.median(two) / max(1e-9, used[1])) / max(1e-9, statistics.median(one) / max(1e-9, used[0]))
            shown = [f"{u:.2f}/{cores * w:g}" if cores else f"{u:.2f}" for u, w in zip(used, (1, 2), strict=True)]
            judged = subject.name != "nginx" and phase == phases[0][0]
            if judged:
                state = verdict(scaling, WORKERS_GOAL)
                note = f"goal >= {WORKERS_GOAL}x: {state}"
                if state == "FAIL":
                    failures.append(f"{subject.name}: 2 workers {scaling:.2f}x one worker ({phase}), goal >= {WORKERS_GOAL}x")
            else:
                note = "reference" if subject.name == "nginx" else ""
            if not cores:
                note = f"{note}; bounded by the machine's {os.cpu_count()} CPUs".lstrip("; ")
            if cores and min(u / (cores * w) for u, w in zip(used, (1, 2), strict=True)) < 0.9:
                note += "; below 90% of its budget: not CPU-bound, the load generator or the machine limits it"
            print(f"{phase:<16}{subject.name:<11}{statistics.median(one):>8.0f}{shown[0]:>13}{load_used[0]:>10.2f}  "
                  f"{statistics.median(two):>8.0f}{shown[1]:>13}{load_used[1]:>10.2f}{scaling:>7.2f}x{per_cpu:>8.2f}x  "
                  f"{', '.join(f'{r:.2f}' for r in per_round)}  {note}")
    print(f"spread over the 2 workers (goal: each holds >= {SPREAD_GOAL:.0%} of a round's connections and answers "
          f">= {SPREAD_GOAL:.0%} of its requests; native workers share one socket and balance their connections, "
          "Granian's, Hypercorn's and nginx's are hashed by the kernel to SO_REUSEPORT listeners):")
    for phase, _ in phases:
        for subject in subjects:
            text, missed = spread_failures(subject, phase)
            if text:
                print(f"  {subject.name}, {phase}: {text}")
            if subject.name != "nginx" and phase == phases[0][0]:
                failures += missed
    for subject in subjects:
        if subject.name != "nginx":
            parent = subject.processes[2]
            print(f"RSS of {subject.name} after load: 1 worker {rss_kib(subject.processes[1].pid) / 1024:.1f} MiB; 2 workers "
                  f"{', '.join(f'{rss_kib(pid) / 1024:.1f}' for pid in subject.workers(2))} MiB "
                  f"(+ parent {rss_kib(parent.pid) / 1024:.1f} MiB)")
    return failures


def soak(settings: Settings, target: Target, minutes: float) -> list[str]:
    assert target.pid is not None
    seconds = minutes * 60
    print(f"\nSoak: ({target.key}) {target.label} over 200 URLs for {minutes:g} min; RSS every 10 s")
    samples: list[tuple[float, int]] = []
    outcome: dict[str, LoadResult] = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("load", load(settings, target, seconds=seconds, paths=200)))
    started = time.monotonic()
    runner.start()
    while runner.is_alive():
        samples.append((time.monotonic() - started, rss_kib(target.pid)))
        runner.join(10)
    result = outcome.get("load")
    after_warmup = next((kib for at, kib in samples if at >= min(60.0, seconds / 5)), samples[0][1])
    final = samples[-1][1]
    growth = (final - after_warmup) / max(1, after_warmup)
    print("RSS MiB: " + " ".join(f"{at:.0f}s={kib / 1024:.1f}" for at, kib in samples[:: max(1, len(samples) // 12)]))
    if result is not None:
        print(f"load: {result.rps:.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors}")
    state = verdict(growth, SOAK_GROWTH_GOAL, at_most=True)
    print(f"RSS {after_warmup / 1024:.1f} MiB after warm-up -> {final / 1024:.1f} MiB at the end: growth {growth * 100:+.1f}% "
          f"(goal < {SOAK_GROWTH_GOAL * 100:.0f}%: {state})")
    return [f"soak RSS growth {growth * 100:.1f}%, goal < {SOAK_GROWTH_GOAL * 100:.0f}%"] if state == "FAIL" else []


# -- main --------------------------------------------------------------------------------------
def plan_seconds(only: set[str], settings: Settings, nginx: bool, soak_minutes: float, servers: int) -> float:
    per_round = sum({"a": 1, "b": servers, "c": 2 * servers, "d": 2 * servers, "e": 2 if nginx else 0}.get(k, 0)
                    for k in only)
    total = per_round * settings.rounds * settings.duration + per_round * 1.5
    if "latency" in only:
        total += 2 * (3 + servers) * settings.duration + 2  # pinned, then unpinned
    if "workers" in only:  # 1 and 2 workers per server and nginx, with and without a CPU budget
        total += (servers + int(nginx)) * (4 * settings.rounds * (settings.duration + 0.5) + 6)
    if "ws" in only:  # direct + one gateway per server: throughput rounds, then latency
        total += (1 + servers) * (settings.rounds + 1) * settings.duration + 5
    return total + soak_minutes * 60 + 15


def main(argv: list[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else argv
    if args_given[:1] == ["semantic-cache"]:  # sub-command: tests/perf/bench_semantic_cache.py
        from tests.perf.bench_semantic_cache import main as semantic_cache

        return semantic_cache(args_given[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--soak", type=float, default=0.0, metavar="MINUTES", help="also run the memory soak (goal: 5)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and load generator to CPUs")
    parser.add_argument("--servers", default=",".join(SERVERS), help="HTTP servers to run the gateway on (default: all)")
    parser.add_argument("--worker-budget", type=float, default=WORKER_BUDGET, metavar="CPUS",
                        help=f"workers scenario: CPU quota per worker (default {WORKER_BUDGET}; 0 = none)")
    parser.add_argument("--isolate", action="store_true",
                        help="workers scenario: the largest CPU weight for its servers and load generator (busy machines)")
    args = parser.parse_args(argv)
    servers = [part.strip() for part in args.servers.split(",") if part.strip()]
    if not servers or set(servers) - set(SERVERS):
        parser.error(f"--servers: choose from {','.join(SERVERS)}")
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = only - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; choose from {','.join(SCENARIOS)}")
    if args.duration < 1 or args.rounds < 1:
        parser.error("--duration must be >= 1 and --rounds >= 1")
    if only & {"b", "c", "d", "e"}:
        only.add("a")  # every ratio is to (a)
    pin = can_pin() and not args.no_pin
    use_wrk = wrk_available() and not args.python_load
    settings = Settings(args.duration, args.rounds, args.connections, use_wrk, "0" if pin else None, "1" if pin else None)
    nginx_binary = find_nginx() if only & {"e", "workers"} else None

    load_tool = "wrk -t1" if use_wrk else "Python asyncio load generator (wrk not installed)" if not wrk_available() \
        else "Python asyncio load generator (--python-load)"
    print(f"policygate benchmark suite - {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; load: {load_tool}; "
          + ("servers on CPU 0, load generator + backend + Redis on CPU 1" if pin else "no CPU pinning"))
    if only & {"e", "workers"} and nginx_binary is None:
        print("nginx not installed: skipped (e) and the workers' nginx reference  (install: apt-get install -y nginx-light)")
    if not wrk_available():
        print("wrk not installed: using the Python load generator  (install: apt-get install -y wrk)")
    print(f"scenarios: {','.join(s for s in SCENARIOS if s in only)}; expected length about "
          f"{plan_seconds(only, settings, nginx_binary is not None, args.soak, len(servers)) / 60:.1f} min; "
          f"gateway on {', '.join(servers)}")

    failures: list[str] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop every process and remove every CPU budget group
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="policygate-perf-") as tmp:
        directory = Path(tmp)
        backend = start_backend(settings.load_cpus)
        stack.callback(backend.stop)
        targets: list[Target] = []
        if "a" in only:
            quart = start_quart(settings.server_cpus)
            stack.callback(quart.stop)
            targets.append(Target("a", "bare Quart, fixed bytes", f"http://127.0.0.1:{quart.port}/items/42", pid=quart.pid))
        redis_url = None
        if only & {"c", "d"}:
            from tests.support.redis_server import RedisServer

            redis_server = RedisServer()
            redis_server.start()
            stack.callback(redis_server.stop)
            if redis_server.process is not None:
                pin_pid(redis_server.process.pid, settings.load_cpus)
            redis_url = redis_server.url

        def gateway(key: str, label: str, goal: float | None, server: str, **options: object) -> None:
            key, label = f"{key}@{server}", f"{label} ({server})"
            process, url, admin = start_gateway(directory, key, backend, cpus=settings.server_cpus, server=server,
                                                **options)  # type: ignore[arg-type]
            stack.callback(process.stop)
            headers = KEY_HEADER if options.get("subscription") else {}
            targets.append(Target(key, label, url + "42", headers, goal, process.pid, admin))

        for server in servers:
            if "b" in only:
                gateway("b", "pass-through", None, server)
            if "c" in only:
                gateway("c-mem", "cache hit, in-process", CACHE_HIT_GOAL, server, policy=CACHE_POLICY.format(store="internal"))
                gateway("c-redis", "cache hit, Redis", CACHE_HIT_GOAL, server, policy=CACHE_POLICY.format(store="external"),
                        redis_url=redis_url)
            if "d" in only:
                gateway("d-mem", "full pipeline, in-process", FULL_PIPELINE_GOAL, server,
                        policy=FULL_POLICY.format(store="internal"), subscription=True)
                gateway("d-redis", "full pipeline, Redis", FULL_PIPELINE_GOAL, server,
                        policy=FULL_POLICY.format(store="external"), subscription=True, redis_url=redis_url)
        if nginx_binary is not None and "e" in only:
            nginx = Nginx(nginx_binary, backend.port, settings.server_cpus)
            stack.callback(nginx.stop)
            targets.append(Target("e-cache", "nginx proxy_cache hit (1 worker)", f"{nginx.url}/cached/items/42"))
            targets.append(Target("e-proxy", "nginx plain proxy (1 worker)", f"{nginx.url}/proxy/items/42", pid=nginx.pid))

        for target in targets:
            check_answers(target, BODY)
            load(settings, target, seconds=1)  # warm up: fill caches, grow connection pools
        if targets:
            hits_before = {t.key: cache_hits(t.admin) for t in targets if t.admin and t.key[0] in "cd"}
            results = throughput_rounds(settings, targets)
            failures += print_throughput(targets, results, settings)
            print_checks(targets, results, hits_before)
            failures += print_nginx_goals(results, servers)
        if "latency" in only:
            direct = Target("direct", "direct backend (raw asyncio)", f"http://127.0.0.1:{backend.port}/items/42",
                            pid=backend.pid)
            latency_targets = [direct] + [t for t in targets if t.key in ("a", "e-proxy") or t.key.startswith("b@")]
            for server in servers:
                if not any(t.key == f"b@{server}" for t in latency_targets):
                    gateway("b", "pass-through", None, server)
                    latency_targets.append(targets[-1])
            nginx_binary = nginx_binary or find_nginx()
            if nginx_binary is not None and not any(t.key == "e-proxy" for t in latency_targets):
                reference = Nginx(nginx_binary, backend.port, settings.server_cpus)
                stack.callback(reference.stop)
                latency_targets.append(Target("e-proxy", "nginx plain proxy (1 worker)", f"{reference.url}/proxy/items/42",
                                              pid=reference.pid))
            unpin = [(t.pid, settings.load_cpus if t is direct else settings.server_cpus)
                     for t in latency_targets if t.pid is not None]
            failures += measure_latency(settings, latency_targets, unpin)
        if "workers" in only:
            failures += measure_workers(settings, directory, backend, stack, servers, nginx_binary, args.worker_budget,
                                        args.isolate)
        if "ws" in only:
            from tests.perf.bench_websocket import measure_websocket

            failures += measure_websocket(settings.duration, settings.rounds, settings.connections, directory, stack,
                                          servers, settings.server_cpus, settings.load_cpus)
        if args.soak > 0:
            full = next((t for t in targets if t.key == f"d-mem@{servers[0]}"), None)
            if full is None:
                gateway("d-mem", "full pipeline, in-process", FULL_PIPELINE_GOAL, servers[0],
                        policy=FULL_POLICY.format(store="internal"), subscription=True)
                full = targets[-1]
            failures += soak(settings, full, args.soak)

    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (other work on the machine skews latency and scaling)")
    print("Goals: " + ("all measured goals met" if not failures else f"{len(failures)} missed"))
    for failure in failures:
        print(f"  missed: {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
