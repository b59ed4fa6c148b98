"""One /metrics for every worker: each worker publishes a snapshot file, the admin merges them.

`policygate serve --workers N` points `POLICYGATE_METRICS_DIR` at a folder before the workers
start (a fresh temporary folder, removed at exit, unless the variable is already set). Each worker
writes `worker-<pid>.json` (its registry as plain data, plus its process statistics) once a second
and when it stops (`publish_loop`). `/metrics`, served by one worker, renders its own live registry
plus every other worker's latest snapshot (`render_all`), so other workers' counts lag by at most
`PUBLISH_INTERVAL`. Updating a metric stays a dict update: the request path pays nothing for this.

Snapshots of workers that have exited keep counting (counters and histograms stay monotonic when a
worker is restarted); their gauges and process statistics do not. The process series
(`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`: sums over the
live workers; `process_start_time_seconds`: the oldest) describe the gateway as a whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import resource
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.metrics import Metrics

log = logging.getLogger("policygate.metrics")

METRICS_DIR_ENV = "POLICYGATE_METRICS_DIR"
PUBLISH_INTERVAL = 1.0
_PREFIX = "worker-"


def metrics_dir() -> Path | None:
    """The folder the workers share snapshots through, or None for a single process."""
    value = os.environ.get(METRICS_DIR_ENV)
    return Path(value) if value else None


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """Set up the snapshot folder for the workers about to start (an empty temporary one by default)."""
    given = metrics_dir()
    directory = given or Path(tempfile.mkdtemp(prefix="policygate-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(f"{_PREFIX}*.json"):  # a previous run's workers are not ours
        stale.unlink(missing_ok=True)
    os.environ[METRICS_DIR_ENV] = str(directory)
    try:
        yield directory
    finally:
        if given is None:
            os.environ.pop(METRICS_DIR_ENV, None)
            shutil.rmtree(directory, ignore_errors=True)


async def publish_loop(metrics: Metrics, shutdown: asyncio.Event, directory: Path) -> None:
    """Write this worker's snapshot every PUBLISH_INTERVAL seconds and once more when stopping."""
    while not shutdown.is_set():
        publish(metrics, directory)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shutdown.wait(), PUBLISH_INTERVAL)
    publish(metrics, directory)


def publish(metrics: Metrics, directory: Path) -> None:
    data = {"pid": os.getpid(), "process": process_stats(), "metrics": metrics.snapshot()}
    target = directory / f"{_PREFIX}{os.getpid()}.json"
    temporary = target.with_suffix(".tmp")
    try:
        temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, target)  # readers see the old or the new snapshot, never half of one
    except OSError as exc:
        log.warning("cannot publish this worker's metrics to %s: %s", directory, exc.strerror or exc)


def read_snapshots(directory: Path) -> list[dict[str, Any]]:
    """Every worker's latest snapshot in the folder (unreadable ones are skipped)."""
    snapshots = []
    for file in sorted(directory.glob(f"{_PREFIX}*.json")):
        try:
            snapshots.append(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return snapshots


def render_all(metrics: Metrics, *, server: str = "") -> str:
    """The /metrics body: this process's registry plus every other worker's snapshot."""
    merged = Metrics()
    merged.absorb(metrics.snapshot())
    processes = [process_stats()]
    directory = metrics_dir()
    if directory is not None:
        for snapshot in read_snapshots(directory):
            pid = int(snapshot.get("pid", 0))
            if pid == os.getpid():
                continue
            alive = pid_alive(pid)
            merged.absorb(snapshot.get("metrics", {}), gauges=alive)
            if alive:
                processes.append(snapshot.get("process", {}))
    _add_process_series(merged, processes)
    merged.gauge("policygate_workers", "Worker processes serving the gateway port.").set(value=len(processes))
    merged.gauge("policygate_build_info", "The policygate version and Python running it (always 1).",
                 ("version", "python", "server")).set(_version(), platform.python_version(), server, value=1)
    return merged.render()


def process_stats() -> dict[str, float]:
    """CPU seconds, resident memory, open descriptors and start time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stats = {"cpu": usage.ru_utime + usage.ru_stime, "rss": 0.0, "fds": 0.0, "start": 0.0}
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime"))
        stats["rss"] = float(int(fields[21]) * os.sysconf("SC_PAGE_SIZE"))
        stats["start"] = boot + int(fields[19]) / ticks
        stats["fds"] = float(len(os.listdir("/proc/self/fd")))
    except (OSError, ValueError, IndexError, StopIteration):  # not Linux: CPU time only
        pass
    return stats


def _add_process_series(merged: Metrics, processes: list[dict[str, Any]]) -> None:
    def total(key: str) -> float:
        return sum(float(p.get(key, 0.0)) for p in processes)

    merged.counter("process_cpu_seconds_total", "User and system CPU time of the gateway's processes, in seconds.").inc(
        amount=total("cpu"))
    merged.gauge("process_resident_memory_bytes", "Resident memory of the gateway's processes, in bytes.").set(
        value=total("rss"))
    merged.gauge("process_open_fds", "Open file descriptors of the gateway's processes.").set(value=total("fds"))
    starts = [float(p["start"]) for p in processes if p.get("start")]
    merged.gauge("process_start_time_seconds", "Start time of the oldest gateway process, in Unix seconds.").set(
        value=min(starts) if starts else 0.0)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _version() -> str:
    from engine.lint import tool_version

    return tool_version()
