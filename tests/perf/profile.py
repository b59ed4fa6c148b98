"""Where a gateway worker spends its CPU under load: py-spy samples, summarised per function.

    python -m tests.perf.profile [--scenario b|c|d|d-redis] [--server granian|native|hypercorn] [--seconds 10] [--top 25]
                                 [--raw FILE]

Starts the raw backend (and Redis for d-redis), one gateway for the scenario of tests/perf/run.py
(b pass-through, c in-process cache hit, d full pipeline), loads it with wrk (or the Python load
generator) and records the gateway with `py-spy record --format raw` (a dev tool, not a project
dependency: `pip install py-spy`). Prints the functions with the most samples on CPU, "self" (the
function itself) and "total" (the function and what it calls), as a share of all samples.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from tests.perf.loadgen import run_load, wrk_available
from tests.perf.run import CACHE_POLICY, FULL_POLICY, KEY_HEADER, start_gateway
from tests.perf.servers import can_pin, start_backend

SCENARIOS = {
    "b": {},
    "c": {"policy": CACHE_POLICY.format(store="internal")},
    "d": {"policy": FULL_POLICY.format(store="internal"), "subscription": True},
    "d-redis": {"policy": FULL_POLICY.format(store="external"), "subscription": True},
}


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def summarise(raw: str, top: int) -> str:
    """Self and total sample shares per function from py-spy's raw (collapsed stack) output."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        samples += count
        frames = [_function(frame) for frame in stack.split(";")]
        own[frames[-1]] += count
        parts[component(frames)] += count
        for name in set(frames):
            total[name] += count
    lines = [f"{samples} samples on CPU", "", f"{'share %':>7}  component (its own code + the stdlib it calls)"]
    lines += [f"{100 * n / samples:7.1f}  {name}" for name, n in parts.most_common()]
    lines += ["", f"{'self %':>7}  function (self time)"]
    lines += [f"{100 * n / samples:7.1f}  {name}" for name, n in own.most_common(top)]
    lines += ["", f"{'total %':>7}  function (including callees)"]
    lines += [f"{100 * n / samples:7.1f}  {name}" for name, n in total.most_common(top * 2)]
    return "\n".join(lines)


COMPONENTS = (
    ("(engine/gateway/h1", "native HTTP server (engine/gateway/h1server.py, h1protocol.py)"),
    ("(engine/gateway/", "policygate: gateway (routing, context, pipeline, response)"),
    ("(engine/cache/", "policygate: cache"),
    ("(policies/cache_", "policygate: cache"),
    ("(engine/ratelimit/", "policygate: rate limits"),
    ("(policies/rate_limit", "policygate: rate limits"),
    ("(engine/expr/", "policygate: expressions"),
    ("(policies/", "policygate: other policies"),
    ("(engine/", "policygate: other engine (context, metrics, ...)"),
    ("(hypercorn/", "Hypercorn"),
    ("(granian/", "Granian (its Python side; HTTP parsing runs in Rust threads py-spy does not sample)"),
    ("(h11/", "h11 (HTTP/1.1 parser used by Hypercorn)"),
    ("(aiohttp/", "aiohttp (backend client)"),
    ("(multidict/", "aiohttp (backend client)"),
    ("(yarl/", "aiohttp (backend client)"),
    ("(redis/", "redis-py"),
)
BOOTSTRAP = ("(engine/commands/", "(engine/cli.py", "(engine/__main__.py", "(hypercorn/asyncio/run.py", "(hypercorn/asyncio/task_group.py")
EVENT_LOOP = "event loop (uvloop: epoll, socket I/O, callbacks)"


def component(frames: list[str]) -> str:
    """The innermost frame that belongs to a known component owns the sample (stdlib helpers count for their caller)."""
    for frame in reversed(frames):
        if any(marker in frame for marker in BOOTSTRAP):
            continue
        for marker, label in COMPONENTS:
            if marker in frame:
                return label
    return EVENT_LOOP


def _function(frame: str) -> str:
    """`name (path/to/file.py:12)` -> `name (file.py)`, keeping the package for project files."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("/engine/", "/policies/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = marker.strip("/").replace("lib/python3", "stdlib") + "/" + path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="b")
    parser.add_argument("--server", choices=("granian", "native", "hypercorn"), default="granian")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--raw", help="also keep py-spy's raw output in this file")
    parser.add_argument("--native", action="store_true", help="also sample native frames (C extensions, Granian's Rust)")
    args = parser.parse_args()
    py_spy = find_py_spy()
    if py_spy is None:
        print("py-spy not installed: pip install py-spy", file=sys.stderr)
        return 1
    pin = can_pin()
    server_cpus, load_cpus = ("0", "1") if pin else (None, None)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="policygate-profile-") as tmp:
        backend = start_backend(load_cpus)
        stack.callback(backend.stop)
        options: dict[str, object] = dict(SCENARIOS[args.scenario])
        if args.scenario == "d-redis":
            from tests.support.redis_server import RedisServer

            redis = RedisServer()
            redis.start()
            stack.callback(redis.stop)
            options["redis_url"] = redis.url
        gateway, url, _ = start_gateway(Path(tmp), args.scenario, backend, cpus=server_cpus, server=args.server,
                                        **options)  # type: ignore[arg-type]
        stack.callback(gateway.stop)
        headers = KEY_HEADER if options.get("subscription") else {}
        run_load(url + "42", seconds=2, connections=args.connections, headers=headers, cpus=load_cpus)  # warm up
        raw = Path(tmp) / "profile.txt"
        outcome: dict[str, object] = {}
        loader = threading.Thread(target=lambda: outcome.setdefault("load", run_load(
            url + "42", seconds=args.seconds + 2, connections=args.connections, headers=headers, cpus=load_cpus)))
        loader.start()
        command = [py_spy, "record", "--format", "raw", "--rate", "250", "-d", str(args.seconds), "-o", str(raw),
                   "-p", str(gateway.pid)]
        command += ["--native"] if args.native else ["--nonblocking"]  # native unwinding needs the process paused
        subprocess.run(command, check=True, capture_output=True)
        loader.join()
        text = raw.read_text()
        if args.raw:
            Path(args.raw).write_text(text)
    result = outcome.get("load")
    print(f"scenario {args.scenario} on {args.server}: {getattr(result, 'rps', 0):.0f} req/s while sampled "
          f"({'wrk' if wrk_available() else 'python load generator'}, {args.connections} connections)")
    print(summarise(text, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
