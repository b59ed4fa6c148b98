"""Where semantic-cache entries live: in this process, or in Redis (engine.semantic.redis_store).

A store holds, per partition (the digest of cache-id, API and vary-by values), the unit vectors of
cached prompts and the responses stored for them, each with a time to live. `search` answers the
closest live prompt within a cosine distance; it never raises: an unreachable store is a miss.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from engine import clock
from engine.semantic.index import Vector, VectorIndex

CANDIDATES = 4  # closest entries tried in turn when the best one has expired meanwhile


@dataclass(frozen=True)
class Match:
    """A hit: the stored response (`payload`) and how far its prompt is from the query."""

    entry_id: str
    distance: float
    payload: bytes


class SemanticStore(Protocol):
    kind: str  # "internal" or "external"

    async def search(self, partition: str, query: Vector, threshold: float) -> tuple[Match | None, bool]:
        """(the closest entry within `threshold` cosine distance or None, whether the store could be asked)."""
        ...

    async def add(self, partition: str, vector: Vector, payload: bytes, ttl: float) -> None:
        """Store `payload` for the prompt `vector` for `ttl` seconds (failures are counted, never raised)."""
        ...

    async def close(self) -> None: ...


def new_entry_id() -> str:
    return uuid.uuid4().hex


class MemorySemanticStore:
    """Entries in this process: vectors and responses together in the index, lost on restart."""

    kind = "internal"

    def __init__(self, *, max_per_partition: int = 10_000, max_vectors: int = 100_000) -> None:
        self.index = VectorIndex(max_per_partition=max_per_partition, max_vectors=max_vectors)

    async def search(self, partition: str, query: Vector, threshold: float) -> tuple[Match | None, bool]:
        for candidate in self.index.nearest(partition, query, clock.now(), limit=1):
            if candidate.distance <= threshold and candidate.data is not None:
                return Match(candidate.entry_id, candidate.distance, candidate.data), True
        return None, True

    async def add(self, partition: str, vector: Vector, payload: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        now = clock.now()
        self.index.add(partition, new_entry_id(), vector, now + ttl, now, payload)

    async def close(self) -> None:
        self.index.clear()
