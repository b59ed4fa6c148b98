"""The in-process limiter: bounded memory, expiry, concurrency slots."""

from __future__ import annotations

from engine.ratelimit.decisions import QuotaCounter, Window
from engine.ratelimit.memory import MemoryLimiter


def test_counters_whose_window_passed_are_dropped() -> None:
    now = [0.0]
    memory = MemoryLimiter(clock=lambda: now[0], max_keys=1000)
    for i in range(50):
        memory.decide([Window(f"k:{i}", "", 5, 10)])
    assert memory.sizes()["windows"] == 50
    now[0] = 10.0
    memory.decide([Window("k:new", "", 5, 10)])
    assert memory.sizes()["windows"] == 1


def test_at_most_max_keys_counters_are_kept() -> None:
    memory = MemoryLimiter(clock=lambda: 0.0, max_keys=100)
    for i in range(1000):
        memory.decide([Window(f"k:{i}", "", 5, 60)])
        memory.quota("q", [QuotaCounter(f"c{i}", 5, 1, 1, 60.0)], now=0.0)
    sizes = memory.sizes()
    assert sizes["windows"] == 100 and sizes["quotas"] == 100
    # The most recent keys are the ones kept.
    assert not memory.decide([Window("k:999", "", 1, 60)]).allowed


def test_quota_counters_expire_with_their_period() -> None:
    memory = MemoryLimiter(clock=lambda: 0.0)
    memory.quota("q", [QuotaCounter("c", 5, 1, 1, 100.0)], now=0.0)
    assert memory.quota("q", [QuotaCounter("c", 5, 1, 0, 100.0)], now=50.0).used == (1,)
    assert memory.quota("q", [QuotaCounter("other", 5, 1, 0, 300.0)], now=150.0).allowed
    assert memory.sizes()["quotas"] == 0


def test_concurrency_slots() -> None:
    memory = MemoryLimiter()
    assert memory.try_enter("k", 2) and memory.try_enter("k", 2)
    assert not memory.try_enter("k", 2)
    memory.leave("k")
    assert memory.held("k") == 1 and memory.try_enter("k", 2)
    memory.leave("k")
    memory.leave("k")
    assert memory.held("k") == 0 and memory.sizes()["concurrency"] == 0
