"""A CPU budget for one measured server: a cgroup with a CPU quota that the server starts in.

On a 2-CPU machine the load generator and the kernel's loopback work need CPU too, so an
unbudgeted server with two workers cannot get two CPUs. The workers scenario of tests/perf/run.py
gives each measured server a budget proportional to its workers instead (a quota of `cores` CPUs
per scheduling period, shared by all of its processes and threads), so both worker counts are
CPU-bound at their budget and the load generator keeps CPU of its own.

    budget = CpuBudget.create("workers2")   # raises BudgetUnavailable (with the reason) without cgroup access
    command = budget.launcher + command     # the process (and every worker it forks) starts in the group
    budget.limit(1.2)                       # or budget.limit(None): no quota
    budget.favour()                         # optional: a high CPU weight against other work on the machine
    budget.adopt(os.getpid())               # optional: move a running process in (its later children follow)
    budget.close()                          # moves what is left back to the parent group, removes the group

cgroup v1 (the `cpu` controller: cpu.cfs_quota_us / cpu.cfs_period_us) and cgroup v2 (cpu.max) are
supported. Groups are named `policygate-perf-<pid of the run>-<name>`; a group left behind by a
run that was killed is removed by the next one.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

from engine.gateway.worker_metrics import pid_alive

PERIOD_US = 100_000
HIGH_WEIGHT = {1: ("cpu.shares", "262144"), 2: ("cpu.weight", "10000")}  # the largest each version takes
PREFIX = "policygate-perf-"


class BudgetUnavailable(RuntimeError):
    """No writable cgroup CPU controller here (the message says why)."""


@dataclass(frozen=True)
class _Controller:
    version: int
    directory: Path  # the cgroup this process is in, under which budgets are created


def _own_path(version: int) -> str:
    """This process's cgroup path in the v1 `cpu` hierarchy or the v2 unified one."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if (version == 2 and number == "0" and controllers == "") or (version == 1 and "cpu" in controllers.split(",")):
            return path
    raise BudgetUnavailable(f"this process is in no cgroup v{version} CPU hierarchy")


def _controller() -> _Controller:
    mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
    for _device, mountpoint, kind, options, *_ in mounts:
        if kind == "cgroup" and "cpu" in options.split(","):
            return _Controller(1, Path(mountpoint + _own_path(1)))
    for _device, mountpoint, kind, *_ in mounts:
        if kind == "cgroup2":
            directory = Path(mountpoint + _own_path(2))
            if "cpu" in (directory / "cgroup.controllers").read_text().split():
                return _Controller(2, directory)
    raise BudgetUnavailable("no cgroup CPU controller is mounted (cgroup v1 `cpu` or v2 with `cpu` delegated)")


def _write(file: Path, text: str) -> None:
    file.write_text(text)


def _pids(group: Path) -> list[int]:
    try:
        return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def _remove(group: Path, parent: Path) -> None:
    """Move the group's processes back to `parent`, then remove it (a dying process may hold it a moment)."""
    deadline = time.monotonic() + 5.0
    while True:
        for pid in _pids(group):
            try:
                _write(parent / "cgroup.procs", str(pid))
            except OSError:
                pass  # gone meanwhile
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def remove_stale(directory: Path) -> None:
    """Remove groups left behind by runs that no longer exist."""
    for group in directory.glob(f"{PREFIX}*"):
        owner = group.name[len(PREFIX):].split("-", 1)[0]
        if group.is_dir() and owner.isdigit() and not pid_alive(int(owner)):
            _remove(group, directory)


class CpuBudget:
    """One cgroup with a CPU quota; see the module docstring."""

    def __init__(self, controller: _Controller, group: Path) -> None:
        self.version = controller.version
        self.parent = controller.directory
        self.group = group
        # `sh` puts itself in the group, then becomes the command (same pid): nothing runs outside it.
        self.launcher = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs")]

    @classmethod
    def create(cls, name: str) -> CpuBudget:
        """A new group under this process's own; BudgetUnavailable when that is not possible here."""
        try:
            controller = _controller()
            remove_stale(controller.directory)
            if controller.version == 2:
                control = controller.directory / "cgroup.subtree_control"
                if "cpu" not in control.read_text().split():
                    _write(control, "+cpu")
            group = controller.directory / f"{PREFIX}{os.getpid()}-{name}"
            group.mkdir()
        except OSError as exc:
            raise BudgetUnavailable(f"cannot create a cgroup: {exc.strerror or exc} ({exc.filename or ''})") from exc
        budget = cls(controller, group)
        try:
            budget.limit(None)
        except OSError as exc:
            budget.close()
            raise BudgetUnavailable(f"cannot set a CPU quota: {exc.strerror or exc}") from exc
        return budget

    def limit(self, cores: float | None) -> None:
        """Let the group's processes use `cores` CPUs per period together (None: no limit)."""
        quota = -1 if cores is None else max(1000, round(cores * PERIOD_US))
        if self.version == 1:
            _write(self.group / "cpu.cfs_period_us", str(PERIOD_US))
            _write(self.group / "cpu.cfs_quota_us", str(quota))
        else:
            _write(self.group / "cpu.max", f"{'max' if quota < 0 else quota} {PERIOD_US}")

    def favour(self) -> None:
        """Give the group the largest CPU weight: other work on the machine then barely slows it (its
        quota still caps it). Fair to nobody else, so only for a measurement."""
        name, value = HIGH_WEIGHT[self.version]
        _write(self.group / name, value)

    def adopt(self, pid: int) -> None:
        """Move a running process (all of its threads) into the group."""
        _write(self.group / "cgroup.procs", str(pid))

    def close(self) -> None:
        _remove(self.group, self.parent)
