"""engine.backends: the breaker's window and thresholds, and pool selection, on an explicit clock."""

from __future__ import annotations

from email.utils import formatdate

from engine.backends import (
    Backends,
    BackendSpec,
    BreakerRule,
    Circuit,
    Pool,
    PoolMember,
    Single,
    retry_after_seconds,
)
from engine.context import Headers
from engine.metrics import Metrics

SERVER_ERRORS = ((500, 599),)


def test_count_rule_trips_within_the_interval_only() -> None:
    circuit = Circuit(BreakerRule("r", interval=10, trip_duration=30, count=3, status_ranges=SERVER_ERRORS), "b", None)
    for now in (0.0, 4.0, 11.0):  # the first failure has left the 10 s window when the third comes
        circuit.record(now, True, None)
    assert not circuit.is_open(11.0)
    circuit.record(12.0, True, None)
    assert circuit.is_open(12.0) and circuit.is_open(41.9) and not circuit.is_open(42.0)
    circuit.record(42.0, True, None)  # closed again with a fresh window
    assert not circuit.is_open(42.0)


def test_percentage_rule_needs_a_minimum_of_requests() -> None:
    rule = BreakerRule("r", interval=60, trip_duration=5, percentage=50, status_ranges=((429, 429),))
    circuit = Circuit(rule, "b", None)
    for i in range(4):
        circuit.record(float(i), True, None)  # 4 of 4 failed, but fewer than 10 requests were seen
    assert not circuit.is_open(4.0)
    for i in range(5):
        circuit.record(5.0 + i, False, None)
    circuit.record(10.0, True, None)  # 5 failures of 10 requests = 50 %
    assert circuit.is_open(10.0)


def test_retry_after_sets_the_trip_only_when_accepted() -> None:
    for accept, until in ((True, 102.0), (False, 160.0)):
        rule = BreakerRule("r", interval=60, trip_duration=60, count=1, status_ranges=((429, 429),), accept_retry_after=accept)
        circuit = Circuit(rule, "b", None)
        circuit.record(100.0, True, 2.0)
        assert circuit.is_open(until - 0.01) and not circuit.is_open(until)


def test_failures_without_a_response_match_status_ranges_and_reasons() -> None:
    ranges = BreakerRule("r", 1, 1, count=1, status_ranges=((500, 599),))
    assert ranges.is_failure(502, "BackendConnectionFailure") and ranges.is_failure(504, "Timeout")
    assert not ranges.is_failure(429, "")
    timeouts = BreakerRule("r", 1, 1, count=1, error_reasons=("timeout",))
    assert timeouts.is_failure(504, "Timeout") and not timeouts.is_failure(502, "BackendConnectionFailure")
    free_text = BreakerRule("r", 1, 1, count=1, error_reasons=("Server errors",))
    assert free_text.is_failure(502, "BackendConnectionFailure") and not free_text.is_failure(500, "")


def pool(*members: PoolMember, breakers: dict[str, BreakerRule] | None = None) -> tuple[Pool, dict[str, Single]]:
    specs = {m.backend: BackendSpec(m.backend, url=f"http://{m.backend}", breaker=(breakers or {}).get(m.backend))
             for m in members}
    specs["p"] = BackendSpec("p", members=members)
    backends = Backends(specs, Metrics())
    entity = backends.get("p")
    assert isinstance(entity, Pool)
    return entity, {k: v for k, v in backends.entities.items() if isinstance(v, Single)}


def test_smooth_weighted_round_robin_spreads_evenly() -> None:
    p, _ = pool(PoolMember("a", weight=5), PoolMember("b", weight=1), PoolMember("c", weight=1))
    picks = [p.choose(0.0, []).id for _ in range(14)]  # type: ignore[union-attr]
    assert picks[:7] == ["a", "a", "b", "a", "c", "a", "a"] and picks[7:] == picks[:7]


def test_lower_priority_group_only_when_the_higher_one_is_all_open() -> None:
    rule = BreakerRule("r", 60, 10, count=1, status_ranges=SERVER_ERRORS)
    p, singles = pool(PoolMember("a", priority=1), PoolMember("b", priority=1), PoolMember("c", priority=2),
                      breakers={"a": rule, "b": rule})
    assert {p.choose(0.0, []).id for _ in range(4)} == {"a", "b"}  # type: ignore[union-attr]
    singles["a"].circuit.record(1.0, True, None)  # type: ignore[union-attr]
    assert {p.choose(1.0, []).id for _ in range(4)} == {"b"}  # type: ignore[union-attr]
    singles["b"].circuit.record(1.0, True, None)  # type: ignore[union-attr]
    assert p.choose(1.0, []).id == "c"  # type: ignore[union-attr]
    assert p.choose(1.0, ["c"]).id == "c"  # tried already, but the only one left  # type: ignore[union-attr]
    assert p.choose(11.0, ["a"]).id == "b"  # both closed again; the untried one first  # type: ignore[union-attr]


def test_reload_keeps_the_state_of_unchanged_backends() -> None:
    rule = BreakerRule("r", 60, 1000, count=1, status_ranges=SERVER_ERRORS)
    specs = {"a": BackendSpec("a", url="http://a", breaker=rule), "b": BackendSpec("b", url="http://b", breaker=rule)}
    old = Backends(specs)
    for single in old.entities.values():
        assert isinstance(single, Single) and single.circuit is not None
        single.circuit.record(1.0, True, None)
    changed = {**specs, "b": BackendSpec("b", url="http://b2", breaker=rule)}
    new = Backends(changed, previous=old)
    assert not new.entities["a"].available(2.0)  # type: ignore[union-attr]
    assert new.entities["b"].available(2.0)  # type: ignore[union-attr]


def test_retry_after_forms() -> None:
    assert retry_after_seconds(Headers([("Retry-After", "7")])) == 7
    assert retry_after_seconds(Headers([("Retry-After", "7"), ("retry-after-ms", "1500")])) == 1.5
    soon = retry_after_seconds(Headers([("Retry-After", formatdate(usegmt=True))]))
    assert soon is not None and soon <= 1
    assert retry_after_seconds(Headers([("Retry-After", "soon")])) is None
    assert retry_after_seconds(Headers()) is None
