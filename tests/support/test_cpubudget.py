"""The CPU budget of the workers benchmark (tests/perf/cpubudget.py) holds and cleans up after itself.

Needs a writable cgroup CPU controller (root with cgroup v1 `cpu`, or v2 with `cpu` delegated); elsewhere
the benchmark says it has no budget and so does this test's skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.perf.cpubudget import PREFIX, BudgetUnavailable, CpuBudget
from tests.perf.servers import children, cpu_seconds

SPIN = "import os\nos.fork()\nwhile True:\n    pass\n"  # two processes, each wanting a whole CPU


@pytest.fixture
def budget() -> CpuBudget:
    try:
        return CpuBudget.create("test")
    except BudgetUnavailable as exc:
        pytest.skip(f"no CPU budget on this machine: {exc}")


def test_a_budget_caps_a_forking_process_and_its_children_and_is_removed(budget: CpuBudget) -> None:
    budget.limit(0.3)
    spinner = subprocess.Popen([*budget.launcher, sys.executable, "-c", SPIN], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(children(spinner.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        pids = [spinner.pid, *children(spinner.pid)]
        assert len(pids) == 2
        assert sorted(int(pid) for pid in (budget.group / "cgroup.procs").read_text().split()) == sorted(pids)
        used, started = cpu_seconds(pids), time.monotonic()
        time.sleep(1.0)
        cores = (cpu_seconds(pids) - used) / (time.monotonic() - started)
        assert 0.05 < cores <= 0.3 * 1.15  # one period's slack on top of the quota; a busy machine gives less
    finally:
        os.killpg(spinner.pid, signal.SIGKILL)
        spinner.wait()
        budget.close()  # also moves a process still dying out of the group
    assert not budget.group.exists()


def test_a_group_left_by_a_killed_run_is_removed_by_the_next(budget: CpuBudget) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = budget.parent / f"{PREFIX}{dead.pid}-old"
    stale.mkdir()
    budget.close()
    CpuBudget.create("next").close()
    assert not stale.exists()
