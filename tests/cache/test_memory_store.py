"""The in-process store: TTL, entry and byte bounds, purge by API/operation."""

from __future__ import annotations

from engine.cache.keys import KeyGroup
from engine.cache.memory import ENTRY_OVERHEAD, MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_get_set_delete_and_ttl() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    await store.set("k", b"v", 10)
    assert await store.get("k") == b"v"
    assert await store.fetch("missing") == (None, True)
    clock.now += 9.9
    assert await store.get("k") == b"v"
    clock.now += 0.2
    assert await store.get("k") is None
    await store.set("k", b"v", 10)
    assert await store.delete("k") and not await store.delete("k")


async def test_bounded_by_entries_least_recently_used_first() -> None:
    store = MemoryStore(max_entries=3)
    for key in "abc":
        await store.set(key, b"x", 60)
    await store.get("a")  # a is now more recent than b
    await store.set("d", b"x", 60)
    assert len(store) == 3
    assert await store.get("b") is None
    assert all([await store.get(k) for k in "acd"])


async def test_bounded_by_bytes() -> None:
    store = MemoryStore(max_bytes=3 * (1 + 100 + ENTRY_OVERHEAD))
    for key in "abcd":
        await store.set(key, b"x" * 100, 60)
    assert len(store) == 3 and store.size_bytes <= store.max_bytes
    await store.set("huge", b"x" * 10_000, 60)  # larger than the whole cache: not stored
    assert await store.get("huge") is None


async def test_zero_ttl_is_not_stored() -> None:
    store = MemoryStore()
    await store.set("k", b"v", 0)
    assert await store.get("k") is None


async def test_purge_operation_and_api() -> None:
    store = MemoryStore()
    orders, items, other = KeyGroup("p:", "shop", "orders"), KeyGroup("p:", "shop", "items"), KeyGroup("p:", "shop2", "orders")
    for group in (orders, items, other):
        for i in range(3):
            await store.set(group.response_key(f"d{i}"), b"v", 60, group)
    await store.set("p:v:shop", b"value", 60)
    assert await store.purge("p:", "shop", "orders") == 3
    assert await store.purge("p:", "shop") == 3
    assert await store.purge("p:", "shop") == 0
    assert await store.get(other.response_key("d0")) == b"v"
    assert await store.get("p:v:shop") == b"value"
