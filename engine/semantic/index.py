"""Exact nearest-prompt search: the unit vectors of each cache partition in one float32 matrix.

A lookup is one matrix-vector product over the partition (cosine similarity of unit vectors),
so the cost grows linearly with the partition and is bounded by `max_per_partition`; there is no
approximation (every cached prompt is compared). The whole index holds at most `max_vectors`
vectors: past that, the least recently used partitions are dropped (`on_drop` tells the owner,
which reloads them from Redis when they are used again). Memory: 4 bytes x dimensions per vector
(6 KiB for a 1,536-dimension embedding).

numpy does the arithmetic: a pure-Python scan costs over 1,000x more (docs/performance.md).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]
_INITIAL_ROWS = 64


def unit_vector(values: object) -> Vector | None:
    """`values` (a list of numbers or float32 bytes) as a float32 unit vector; None when unusable."""
    try:
        if isinstance(values, (bytes, bytearray, memoryview)):
            vector = np.frombuffer(values, dtype=np.float32).copy()
        else:
            vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        return None
    if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
        return None
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        return None
    return (vector / norm).astype(np.float32, copy=False)


@dataclass(frozen=True)
class Candidate:
    """A cached prompt close to the query: its entry id, cosine distance (0 = same direction) and the
    data stored with it (the in-process cache keeps the response there; Redis entries have none)."""

    entry_id: str
    distance: float
    data: bytes | None = None


class Partition:
    """The vectors of one partition (all of one dimension) with their entry ids and expiry times."""

    def __init__(self, dims: int, capacity: int) -> None:
        self.dims = dims
        self.capacity = capacity
        self._matrix: NDArray[np.float32] = np.empty((min(_INITIAL_ROWS, capacity), dims), dtype=np.float32)
        self._expiry: NDArray[np.float64] = np.empty(self._matrix.shape[0], dtype=np.float64)
        self._ids: list[str] = []
        self._data: list[bytes | None] = []
        self._rows: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, entry_id: str, vector: Vector, expires_at: float, data: bytes | None = None) -> None:
        """Add (or replace) `entry_id`; when full, the entry that expires first makes room."""
        row = self._rows.get(entry_id)
        if row is None:
            if len(self._ids) >= self.capacity:
                self.remove(self._ids[int(np.argmin(self._expiry[: len(self._ids)]))])
            row = len(self._ids)
            if row == self._matrix.shape[0]:
                self._grow()
            self._ids.append(entry_id)
            self._data.append(None)
            self._rows[entry_id] = row
        self._data[row] = data
        self._matrix[row] = vector
        self._expiry[row] = expires_at

    def remove(self, entry_id: str) -> bool:
        row = self._rows.pop(entry_id, None)
        if row is None:
            return False
        last = len(self._ids) - 1
        if row != last:  # move the last row into the hole
            moved = self._ids[last]
            self._matrix[row] = self._matrix[last]
            self._expiry[row] = self._expiry[last]
            self._ids[row] = moved
            self._data[row] = self._data[last]
            self._rows[moved] = row
        self._ids.pop()
        self._data.pop()
        return True

    def nearest(self, query: Vector, now: float, limit: int) -> list[Candidate]:
        """Up to `limit` live entries, closest first (exact cosine distance)."""
        count = len(self._ids)
        if count == 0 or query.shape[0] != self.dims:
            return []
        scores = self._matrix[:count] @ query
        scores[self._expiry[:count] <= now] = -np.inf
        if count > limit:
            best = np.argpartition(scores, count - limit)[count - limit:]
            best = best[np.argsort(scores[best])[::-1]]
        else:
            best = np.argsort(scores)[::-1]
        return [
            Candidate(self._ids[int(i)], max(0.0, 1.0 - float(scores[i])), self._data[int(i)])
            for i in best if scores[i] != -np.inf
        ]

    def drop_expired(self, now: float) -> int:
        count = len(self._ids)
        expired = [self._ids[int(i)] for i in np.nonzero(self._expiry[:count] <= now)[0]]
        for entry_id in expired:
            self.remove(entry_id)
        return len(expired)

    def _grow(self) -> None:
        rows = min(self.capacity, self._matrix.shape[0] * 2)
        matrix = np.empty((rows, self.dims), dtype=np.float32)
        matrix[: self._matrix.shape[0]] = self._matrix
        expiry = np.empty(rows, dtype=np.float64)
        expiry[: self._expiry.shape[0]] = self._expiry
        self._matrix, self._expiry = matrix, expiry


class VectorIndex:
    """Partitions by name, least recently used first out once `max_vectors` is exceeded."""

    def __init__(
        self, *, max_per_partition: int = 10_000, max_vectors: int = 100_000,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        self.max_per_partition = max_per_partition
        self.max_vectors = max_vectors
        self._partitions: OrderedDict[str, Partition] = OrderedDict()
        self._on_drop = on_drop

    def __len__(self) -> int:
        return sum(len(p) for p in self._partitions.values())

    def partition(self, name: str) -> Partition | None:
        partition = self._partitions.get(name)
        if partition is not None:
            self._partitions.move_to_end(name)
        return partition

    def add(
        self, name: str, entry_id: str, vector: Vector, expires_at: float, now: float, data: bytes | None = None,
    ) -> None:
        partition = self._partitions.get(name)
        if partition is None or partition.dims != vector.shape[0]:  # new, or the embeddings model changed
            partition = Partition(vector.shape[0], self.max_per_partition)
            self._partitions[name] = partition
        self._partitions.move_to_end(name)
        partition.add(entry_id, vector, expires_at, data)
        if len(self) > self.max_vectors:
            self.enforce_bound(now, keep=name)

    def remove(self, name: str, entry_id: str) -> bool:
        partition = self._partitions.get(name)
        return partition is not None and partition.remove(entry_id)

    def nearest(self, name: str, query: Vector, now: float, limit: int = 4) -> list[Candidate]:
        partition = self.partition(name)
        return partition.nearest(query, now, limit) if partition is not None else []

    def enforce_bound(self, now: float, keep: str | None = None) -> None:
        """Drop expired vectors, then least recently used partitions (never `keep`) while over `max_vectors`."""
        total = 0
        for partition in self._partitions.values():
            partition.drop_expired(now)
            total += len(partition)
        for name in list(self._partitions):
            if total <= self.max_vectors:
                break
            if name == keep:
                continue
            total -= len(self._partitions.pop(name))
            if self._on_drop is not None:
                self._on_drop(name)

    def drop(self, name: str) -> None:
        if self._partitions.pop(name, None) is not None and self._on_drop is not None:
            self._on_drop(name)

    def clear(self) -> None:
        self._partitions.clear()
