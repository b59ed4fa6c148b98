"""SIGHUP before a process can reload: remembered, never fatal.

SIGHUP's default action ends the process. `policygate serve` compiles its configuration for
1-2 s (longer on a busy machine) before the event loop's reload handler exists, and a
configuration tool or `kill -HUP` right after a rollout can land in that window. `defer()` is the
first thing `serve` (and each forked worker) does; the handler installed later asks `take()`
whether a SIGHUP came meanwhile, and reloads once if so.
"""

from __future__ import annotations

import signal

_pending = False


def _remember(_signum: int, _frame: object) -> None:
    global _pending
    _pending = True


def defer() -> None:
    """From now on a SIGHUP is remembered until `take()` (POSIX only)."""
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, _remember)


def take() -> bool:
    """Whether a SIGHUP came since `defer()` or the last `take()`; forgets it."""
    global _pending
    came, _pending = _pending, False
    return came
