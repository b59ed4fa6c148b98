"""`--workers N`: a supervising parent that forks N gateway workers, restarts dead ones, drains on SIGTERM.

The parent compiles the configuration once (so a bad one fails before anything is forked) and
binds the port (engine/commands/serve.py). Native workers share the parent's listening socket and
balance their connections exactly (engine/gateway/balance.py); a worker that stops accepting
(drain, death) leaves the waiting connections to the others. Granian and Hypercorn workers each
bind their own listening SO_REUSEPORT socket on the port the parent reserved, and the kernel
hashes each new connection to one of them.

Signals to the parent: SIGTERM/SIGINT first stop the shared listener (`stop_listening`: new
connections are refused at once), then are passed on to every worker, which stops accepting, lets
its in-flight requests finish for `server.graceful-timeout` seconds and answers 503 to the rest;
workers still alive `KILL_MARGIN` seconds later are killed. SIGHUP is passed on (each worker
reloads its configuration). A worker that exits while the parent is not stopping is logged and
restarted (after a back-off when it keeps dying right after its start); a restarted worker reads
the configuration files again, so it serves what its siblings serve after a reload.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.gateway import hup

log = logging.getLogger("policygate.workers")

KILL_MARGIN = 5.0  # seconds past the graceful timeout before the parent kills a worker
QUICK_DEATH = 10.0  # a worker that dies sooner than this after its start counts as crash-looping
MAX_BACKOFF = 10.0
POLL = 0.1
_PR_SET_PDEATHSIG = 1
_FORWARDED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}  # what the parent passes on to its workers


@dataclass
class _Slot:
    index: int
    pid: int = 0
    started: float = 0.0
    quick_deaths: int = 0
    due: float = 0.0  # when a dead worker is started again


def _end_with_parent(parent: int) -> None:
    """SIGTERM this worker when the parent dies (Linux PR_SET_PDEATHSIG), so a parent killed with
    SIGKILL leaves no orphan serving the port with a configuration nobody supervises."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: orphans are possible
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """Forks `count` workers running `work(index, respawn)` (which returns an exit code) and watches them."""

    def __init__(self, count: int, work: Callable[[int, bool], int], graceful_timeout: float, *,
                 stop_listening: Callable[[], None] | None = None, exited: Callable[[int], None] | None = None) -> None:
        self.slots = [_Slot(index) for index in range(count)]
        self.parent = os.getpid()
        self.work = work
        self.stop_listening = stop_listening  # at SIGTERM/SIGINT, before the workers are told
        self.exited = exited  # told the index of each worker that exited
        self.graceful_timeout = graceful_timeout
        self.stopping = False
        self.deadline = float("inf")
        self.status = 0

    def run(self) -> int:
        early_hup = hup.take()  # a SIGHUP while the parent compiled: the workers are told once they can reload
        for slot in self.slots:
            self._spawn(slot, respawn=False)
        log.warning("%d workers: %s", len(self.slots), ", ".join(str(s.pid) for s in self.slots))
        previous = {name: signal.signal(getattr(signal, name), self._on_signal) for name in ("SIGINT", "SIGTERM", "SIGHUP")}
        if hup.take() or early_hup:
            log.warning("a SIGHUP came during start-up: passing it to the workers")
            self._on_signal(signal.SIGHUP, None)
        try:
            self._watch()
            return self.status
        finally:
            for name, handler in previous.items():
                signal.signal(getattr(signal, name), handler)

    @property
    def pids(self) -> list[int]:
        return [slot.pid for slot in self.slots if slot.pid]

    def _spawn(self, slot: _Slot, *, respawn: bool) -> None:
        # The signals stay blocked over the fork until the child has its dispositions: CPython forgets a
        # signal that reaches the child before its post-fork set-up, and one is sent right after a fork
        # (a SIGHUP that came during start-up; SIGTERM while workers restart). Blocked, it waits.
        signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
        try:
            pid = os.fork()
            if pid == 0:  # the worker: default signal dispositions until its event loop installs its own
                code = 1
                try:
                    for name in ("SIGINT", "SIGTERM"):
                        signal.signal(getattr(signal, name), signal.SIG_DFL)
                    hup.defer()  # a SIGHUP before the worker can reload is remembered (engine/gateway/hup.py)
                    _end_with_parent(self.parent)
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
                    code = self.work(slot.index, respawn)
                finally:
                    os._exit(code)
        finally:
            if os.getpid() == self.parent:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
        slot.pid, slot.started = pid, time.monotonic()

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum in (signal.SIGINT, signal.SIGTERM) and not self.stopping:
            self.stopping = True
            if self.stop_listening is not None:
                try:
                    self.stop_listening()
                except OSError as exc:
                    log.error("stopping: cannot close the listener: %s", exc)
            self.deadline = time.monotonic() + self.graceful_timeout + KILL_MARGIN
            log.warning("stopping: draining %d workers for up to %g s", len(self.pids), self.graceful_timeout)
        for pid in self.pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def _watch(self) -> None:
        while True:
            self._reap()
            if self.stopping:
                if not self.pids:
                    return
                if time.monotonic() > self.deadline:
                    for pid in self.pids:
                        log.error("worker %d did not stop in time; killing it", pid)
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    self.deadline = float("inf")
            else:
                now = time.monotonic()
                for slot in self.slots:
                    if not slot.pid and now >= slot.due:
                        self._spawn(slot, respawn=True)
                        log.warning("worker %d restarted as pid %d", slot.index + 1, slot.pid)
            time.sleep(POLL)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is None:
                continue
            slot.pid = 0
            if self.exited is not None:
                self.exited(slot.index)
            code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                self.status = self.status or (code if code > 0 else 0)
                continue
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            now = time.monotonic()
            slot.quick_deaths = slot.quick_deaths + 1 if now - slot.started < QUICK_DEATH else 0
            delay = min(MAX_BACKOFF, 0.5 * 2 ** (slot.quick_deaths - 1)) if slot.quick_deaths > 1 else 0.0
            slot.due = now + delay
            log.error("worker %d (pid %d) %s; restarting it%s", slot.index + 1, pid, how,
                      f" in {delay:g} s" if delay else "")
