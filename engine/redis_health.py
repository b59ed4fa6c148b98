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
* while it is open, every dispatcher of the endpoint raises `RedisUnavailable` at once, without
  touching the network, and each component applies its own fallback; `reset_after` seconds later
  one command, of whichever component comes first, probes Redis for all of them.

An endpoint is what a connection reaches: the same hosts and ports, database, credentials and TLS
settings (timeouts and client names may differ). A Redis Cluster is one endpoint: its clients route
each command to a node, and a frozen node stalls every component's round trips alike.

The breaker's thresholds come from the configuration of the components using the endpoint
(`cache.breaker`, `rate-limits.breaker`); where they differ, the smaller of each applies.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


class RedisHealth:
    """The circuit breaker of one Redis endpoint, shared by its dispatchers."""

    def __init__(self, name: str) -> None:
        self.breaker = CircuitBreaker(name)
        self._rules: weakref.WeakKeyDictionary[object, BreakerRule] = weakref.WeakKeyDictionary()
        self._refusal = f"{name}: not asked, its circuit breaker is open"

    def join(self, holder: object, rule: BreakerRule) -> None:
        """Apply `rule` while `holder` (a dispatcher) lives or until it leaves."""
        self._rules[holder] = rule
        self._apply()

    def leave(self, holder: object) -> None:
        if self._rules.pop(holder, None) is not None:
            self._apply()

    def check(self) -> None:
        """Raise `RedisUnavailable` unless a command may be sent now (a half-open breaker lets one through)."""
        if not self.breaker.allow():
            raise RedisUnavailable(self._refusal)

    def answered(self) -> None:
        """Redis sent something."""
        self.breaker.success()

    def failed(self, error: BaseException) -> None:
        """A connection failed with `error`; a stall opens the breaker at once."""
        self.breaker.failure(error, at_once=isinstance(error, RedisTimeoutError))

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
