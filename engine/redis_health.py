"""One health state per Redis endpoint in this process, shared by every component that uses it.

The cache, the rate limiter, the semantic cache and the Redis loggers send their commands through
dispatchers of their own (engine.redis_loop, engine.redis_dispatcher), but a Redis that freezes or
goes away does so for all of them. So the dispatchers of one endpoint share one `RedisHealth`: one
circuit breaker, fed by what their connections see rather than by what callers make of a reply:

* a stall (Redis silent for `timeout` while it owes a reply, or a connect timeout) opens it at
  once: the first component to see it spares every other one its own timeout;
* other connection failures (refused, reset, closed while replies were owed) count towards
  `failures` consecutive ones;
* any reply from Redis closes it (an error reply too: that Redis is alive);
* when it opens, every dispatcher of the endpoint fails what its callers are waiting for (queued,
  or sent and unanswered) with `RedisUnavailable` at once: once a stall is known, nobody waits for
  that Redis any longer, whichever connection they are on (a late reply is read and dropped);
* while it is open, every dispatcher of the endpoint raises `RedisUnavailable` at once, without
  touching the network, and each component applies its own fallback;
* recovery is probed in the background: `reset_after` seconds after it opened, and every
  `reset_after` seconds after that while it stays open, one `PING` goes to Redis on the connection
  of a dispatcher that was refused (one probe at a time per endpoint). A reply closes the breaker.
  No request waits for a probe: on a frozen Redis Cluster, a probe can take a topology refresh
  that asks every node in turn.

An endpoint is what a connection reaches: the same hosts and ports, database, credentials and TLS
settings (timeouts and client names may differ). A Redis Cluster is one endpoint: its clients route
each command to a node, and a frozen node stalls every component's round trips alike.

The breaker's thresholds come from the configuration of the components using the endpoint
(`cache.breaker`, `rate-limits.breaker`); where they differ, the smaller of each applies.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.breaker import CircuitBreaker

if TYPE_CHECKING:
    from engine.cache.connection import RedisSettings


@dataclass(frozen=True)
class BreakerRule:
    """`breaker: {failures, reset-seconds}` of a component's configuration."""

    failures: int = 3
    reset_after: float = 1.0


DEFAULT_RULE = BreakerRule()


class RedisUnavailable(RedisConnectionError):
    """Redis was not asked: the endpoint's circuit breaker is open."""


Probe = Callable[[], Awaitable[bool]]  # sends a PING past the breaker; False: its dispatcher is closed


class Waiters(Protocol):
    def abandon(self, error: BaseException) -> None:
        """Fail every caller still waiting (from any thread); replies that come later are dropped."""


class RedisHealth:
    """The circuit breaker of one Redis endpoint, shared by its dispatchers, and its background probe."""

    def __init__(self, name: str) -> None:
        self.breaker = CircuitBreaker(name)
        self._rules: weakref.WeakKeyDictionary[object, BreakerRule] = weakref.WeakKeyDictionary()
        self._refusal = f"{name}: not asked, its circuit breaker is open"
        self._watch: asyncio.TimerHandle | None = None  # the next probe, on `_watch_loop`
        self._watch_loop: asyncio.AbstractEventLoop | None = None
        self._probing: asyncio.Task[None] | None = None
        self._dispatchers: weakref.WeakSet[Waiters] = weakref.WeakSet()
        self.breaker.listen(self._changed)
        # Plain attributes for the dispatchers' hot paths: the breaker is closed; a failure was
        # reported since the last reply (so a reply has something to reset).
        self.closed = True
        self.suspect = False

    def attach(self, dispatcher: Waiters) -> None:
        """`dispatcher` sends to this endpoint: its callers are failed when the breaker opens."""
        self._dispatchers.add(dispatcher)

    def join(self, holder: object, rule: BreakerRule) -> None:
        """Apply `rule` while `holder` (a dispatcher) lives or until it leaves."""
        self._rules[holder] = rule
        self._apply()

    def leave(self, holder: object) -> None:
        if self._rules.pop(holder, None) is not None:
            self._apply()

    def refuse(self, probe: Probe) -> None:
        """Raise `RedisUnavailable` (call it when `closed` is False); `probe` (of the refused
        dispatcher, on the running loop) sends the background probes unless someone already does."""
        if self.breaker.closed:
            return
        self._keep_watch(probe)
        raise RedisUnavailable(self._refusal)

    def answered(self) -> None:
        """Redis sent something (call it when `suspect`: nothing to reset otherwise)."""
        self.suspect = False
        self.breaker.success()

    def failed(self, error: BaseException) -> None:
        """A connection failed with `error`; a stall opens the breaker at once."""
        self.suspect = True
        self.breaker.failure(error, at_once=isinstance(error, RedisTimeoutError))

    def _changed(self, _previous: str, state: str) -> None:
        self.closed = state == "closed"
        if state == "open":
            error = RedisUnavailable(self._refusal)
            for dispatcher in list(self._dispatchers):
                dispatcher.abandon(error)

    def _keep_watch(self, probe: Probe) -> None:
        loop = self._watch_loop
        if self._watch is not None and loop is not None and not loop.is_closed():
            return
        loop = self._watch_loop = asyncio.get_running_loop()
        self._watch = loop.call_later(self.breaker.probe_in(), self._tick, probe)

    def _tick(self, probe: Probe) -> None:
        self._watch = None
        if self.breaker.closed:
            return
        loop = asyncio.get_running_loop()
        if self._probing is None:
            self._probing = loop.create_task(self._probe(probe))
        self._watch = loop.call_later(self.breaker.reset_after, self._tick, probe)

    async def _probe(self, probe: Probe) -> None:
        try:
            alive = await probe()  # its connection tells the breaker how it went
        except Exception:  # noqa: BLE001 - reported by the connection already
            alive = True
        finally:
            self._probing = None
        if not alive and self._watch is not None:  # that dispatcher is closed: the next refused one probes
            self._watch.cancel()
            self._watch = None

    def _apply(self) -> None:
        rules = list(self._rules.values()) or [DEFAULT_RULE]
        self.breaker.failure_threshold = min(rule.failures for rule in rules)
        self.breaker.reset_after = min(rule.reset_after for rule in rules)


_endpoints: weakref.WeakValueDictionary[tuple[object, ...], RedisHealth] = weakref.WeakValueDictionary()


def health_of(settings: RedisSettings) -> RedisHealth:
    """The health of the endpoint `settings` reach (created on first use; kept while anything holds it)."""
    key = endpoint(settings)
    health = _endpoints.get(key)
    if health is None:
        health = _endpoints[key] = RedisHealth(f"redis {settings.describe()}")
    return health


def endpoint(settings: RedisSettings) -> tuple[object, ...]:
    """What identifies the endpoint of `settings` (a cluster's nodes in any order)."""
    nodes = tuple(sorted(settings.nodes)) if settings.cluster else settings.nodes
    return (nodes, settings.cluster, settings.db, settings.username, settings.password, settings.ssl,
            settings.ssl_cert_reqs, settings.ssl_ca_certs)
