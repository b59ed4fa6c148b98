"""A circuit breaker for remote stores: stop trying after repeated failures, probe again later.

Used by the Redis-backed cache and rate limiter so a dead Redis costs at most one bounded timeout
per `reset_after` seconds instead of one per request. State changes are logged once, not per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
F = TypeVar("F")

log = logging.getLogger("policygate.breaker")


class CircuitBreaker:
    """closed → (failure_threshold consecutive failures) → open → (reset_after s) → half-open → closed/open."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 3,
        reset_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._on_change = on_change
        self._failures = 0
        self._opened_at = 0.0
        self._state = "closed"

    @property
    def state(self) -> str:
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_after:
            return "half-open"
        return self._state

    def allow(self) -> bool:
        """May the caller try the remote store now? (half-open lets a probe through)."""
        state = self.state
        if state == "half-open":
            # Let one probe through; push the next probe out by another period.
            self._opened_at = self._clock()
            return True
        return state == "closed"

    def success(self) -> None:
        self._failures = 0
        if self._state != "closed":
            self._set("closed")

    def failure(self, error: BaseException | None = None) -> None:
        self._failures += 1
        if self._state == "open":
            self._opened_at = self._clock()
            return
        if self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._set("open", error)

    async def guard(
        self, call: Callable[[], Awaitable[T]], fallback: F, on_failure: Callable[[BaseException], None] | None = None,
    ) -> T | F:
        """`await call()` while the breaker lets calls through, else `fallback`; a call that raises
        counts as a failure, is told to `on_failure` and gives `fallback` too (fail open)."""
        if not self.allow():
            return fallback
        try:
            result = await call()
        except Exception as exc:  # noqa: BLE001 - fail open: the caller decided what a failure gives
            self.failure(exc)
            if on_failure is not None:
                on_failure(exc)
            return fallback
        self.success()
        return result

    def _set(self, state: str, error: BaseException | None = None) -> None:
        previous, self._state = self._state, state
        if state == "open":
            log.warning("%s unavailable (%s); using fallback for %.1fs", self.name, error or "errors", self.reset_after)
        else:
            log.warning("%s available again", self.name)
        if self._on_change is not None:
            self._on_change(previous, state)
