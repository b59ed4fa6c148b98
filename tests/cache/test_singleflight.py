"""Coalescing of concurrent identical misses."""

from __future__ import annotations

import asyncio
import gc

from engine.cache.singleflight import SingleFlight


async def test_followers_get_the_leaders_entry() -> None:
    flights = SingleFlight()
    leader, flight = flights.join("k")
    assert leader
    followers = [flights.join("k") for _ in range(5)]
    assert all(not lead and f is flight for lead, f in followers)
    waiting = [asyncio.create_task(flights.wait(f)) for _, f in followers]
    await asyncio.sleep(0)
    flights.publish("k", flight, b"entry")
    assert await asyncio.gather(*waiting) == [b"entry"] * 5
    assert len(flights) == 0
    assert flights.join("k")[0]  # the next miss leads again


async def test_not_cacheable_releases_followers_with_none() -> None:
    flights = SingleFlight()
    _, flight = flights.join("k")
    waiter = asyncio.create_task(flights.wait(flights.join("k")[1]))
    await asyncio.sleep(0)
    flights.publish("k", flight, None)
    assert await waiter is None


async def test_follower_wait_is_bounded() -> None:
    flights = SingleFlight(timeout=0.05)
    flights.join("k")
    assert await flights.wait(flights.join("k")[1]) is None


async def test_abandoned_leader_is_released_when_its_request_is_collected() -> None:
    class Ctx:
        pass

    flights = SingleFlight(timeout=30)
    owner = Ctx()
    flights.join("k", owner)
    waiter = asyncio.create_task(flights.wait(flights.join("k")[1]))
    await asyncio.sleep(0)
    del owner
    gc.collect()
    assert await asyncio.wait_for(waiter, 5) is None
    assert len(flights) == 0


async def test_stale_publish_does_not_resolve_a_newer_flight() -> None:
    flights = SingleFlight()
    _, old = flights.join("k")
    flights.publish("k", old, None)
    _, new = flights.join("k")
    flights.publish("k", old, b"late")
    assert not new.done()
