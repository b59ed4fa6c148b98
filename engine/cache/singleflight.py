"""Request coalescing: concurrent identical cache misses in one process make one backend call.

The first miss for a key becomes the leader and goes to the backend; later misses for the same key
wait for the leader's outcome (`Flight.wait`). The leader publishes the entry it stored (followers
serve it as a hit) or None (the response was not cacheable: followers go to the backend
themselves). The leader's request publishes None when it finishes without storing, whatever the
outcome (backend refused or timed out, on-error answered, a policy failed: cache-lookup registers
that with the pipeline's end hook), so followers are released the moment the leader is done. As a
backstop for requests that never reach the end of the pipeline (cancelled), the flight is also
released when the leader's request context is garbage-collected, and followers never wait longer
than `timeout` seconds in any case.
"""

from __future__ import annotations

import asyncio
import weakref


class SingleFlight:
    """Leader election and result hand-off per key, within one event loop."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._flights: dict[str, asyncio.Future[bytes | None]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def join(self, key: str, owner: object | None = None) -> tuple[bool, asyncio.Future[bytes | None]]:
        """(True, flight) when the caller became the leader for `key`, else (False, leader's flight).

        `owner` (the leader's request context) releases the flight with None if it is collected
        before publishing.
        """
        pending = self._flights.get(key)
        if pending is not None and not pending.done():
            return False, pending
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        if owner is not None:
            weakref.finalize(owner, self._abandon, key, future)
        return True, future

    async def wait(self, pending: asyncio.Future[bytes | None]) -> bytes | None:
        """The leader's published entry, or None (not cacheable, leader failed, or timeout)."""
        try:
            return await asyncio.wait_for(asyncio.shield(pending), self.timeout)
        except TimeoutError:
            return None

    def publish(self, key: str, flight: asyncio.Future[bytes | None], entry: bytes | None) -> None:
        """The leader's outcome; wakes every follower of `flight`. Idempotent."""
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.done():
            flight.set_result(entry)

    def _abandon(self, key: str, future: asyncio.Future[bytes | None]) -> None:
        if self._flights.get(key) is future:
            del self._flights[key]
        if not future.done() and not future.get_loop().is_closed():
            future.get_loop().call_soon_threadsafe(_resolve_none, future)


def _resolve_none(future: asyncio.Future[bytes | None]) -> None:
    if not future.done():
        future.set_result(None)
