"""A circuit breaker for a remote store: stop trying after repeated failures, probe again later.

One breaker guards one Redis endpoint for every component of the process that uses it
(engine.redis_health), so a dead Redis costs at most one bounded timeout per `reset_after` seconds
instead of one per request. State changes are logged once, not per call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("policygate.breaker")

Listener = Callable[[str, str], None]  # (previous state, new state)


class CircuitBreaker:
    """closed → (failure_threshold consecutive failures, or one failure `at_once`) → open →
    (reset_after s) → half-open: a probe is due → closed (success) / open (failure)."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 3,
        reset_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Listener | None = None,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._listeners: list[Listener] = [] if on_change is None else [on_change]
        self._failures = 0
        self._opened_at = 0.0
        self._state = "closed"

    @property
    def state(self) -> str:
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_after:
            return "half-open"
        return self._state

    @property
    def closed(self) -> bool:
        return self._state == "closed"

    def probe_in(self) -> float:
        """Seconds until a probe is due (0 when it is, or when the breaker is closed)."""
        if self._state == "closed":
            return 0.0
        return max(0.0, self._opened_at + self.reset_after - self._clock())

    def success(self) -> None:
        self._failures = 0
        if self._state != "closed":
            self._set("closed")

    def failure(self, error: BaseException | None = None, *, at_once: bool = False) -> None:
        """One failure; `at_once`: a failure that alone proves the store unusable (it opens the breaker)."""
        self._failures += 1
        if self._state == "open":
            self._opened_at = self._clock()
            return
        if at_once or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._set("open", error)

    def listen(self, listener: Listener) -> None:
        """Call `listener(previous, state)` on every state change from now on."""
        self._listeners.append(listener)

    def forget(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _set(self, state: str, error: BaseException | None = None) -> None:
        previous, self._state = self._state, state
        if state == "open":
            log.warning("%s unavailable (%s); using fallback for %.1fs", self.name, error or "errors", self.reset_after)
        else:
            log.warning("%s available again", self.name)
        for listener in list(self._listeners):
            listener(previous, state)
