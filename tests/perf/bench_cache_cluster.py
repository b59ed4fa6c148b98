"""The response cache on a 6-node Redis Cluster: how keys and commands spread, and what a purge costs.

    python -m tests.perf.bench_cache_cluster [--variants 10000] [--operations 3] [--nodes 6]

Starts a real cluster (no replicas), stores and reads back `--variants` response variants of each
of `--operations` hot operations through `RedisStore` (as cache-lookup/cache-store do), then
prints the keys and the GET/SET/INCRBY/EVALSHA commands each node received, and their ratio to the
mean. For comparison it prints which nodes the earlier layout (one hash tag per operation) would
have used. Finally it purges one operation and times it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMMANDS = ("get", "set", "incrby", "hsetnx", "evalsha", "eval")


def node_stats(cluster: object, prefix: str) -> list[tuple[int, int, int]]:
    """(port, keys under prefix, request commands) per node."""
    import redis

    rows = []
    for node in cluster.nodes:  # type: ignore[attr-defined]
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            keys = sum(1 for _ in client.scan_iter(match=prefix + "*", count=2000))
            stats = client.info("commandstats")
            calls = sum(int(stats.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in COMMANDS)
            rows.append((node.port, keys, calls))
        finally:
            client.close()
    return rows


def old_layout_nodes(cluster: object, operations: list[str]) -> set[int]:
    """Ports of the nodes that held the hash tags `{shop|<operation>}` of the earlier layout."""
    import redis

    client = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)  # type: ignore[attr-defined]
    try:
        return {int(client.get_node_from_key(f"policygate:r:{{shop|{op}}}:x").port) for op in operations}
    finally:
        client.close()


async def main(args: argparse.Namespace) -> None:
    from engine.cache.connection import RedisSettings
    from engine.cache.keys import KeyGroup
    from engine.cache.redis_store import RedisStore
    from tests.cache.test_cluster_spread import fill
    from tests.support.redis_cluster import RedisClusterNodes

    cluster = RedisClusterNodes(args.nodes)
    cluster.start()
    try:
        settings = RedisSettings.parse(cluster.url, timeout=2.0, connect_timeout=2.0)
        store = RedisStore(settings)
        prefix = "bench:"
        operations = [f"op{i}" for i in range(args.operations)]
        groups = [KeyGroup(prefix, "shop", op) for op in operations]
        started = time.monotonic()
        await fill(store, groups, args.variants)
        took = time.monotonic() - started
        rows = node_stats(cluster, prefix + "r:")
        mean_keys = sum(r[1] for r in rows) / len(rows)
        mean_calls = sum(r[2] for r in rows) / len(rows)
        total = args.variants * args.operations
        print(f"{args.operations} operations x {args.variants} variants = {total} entries on {args.nodes} nodes "
              f"(stored and read back in {took:.1f} s)")
        print("| node | keys | keys / mean | commands | commands / mean |")
        print("|---|---:|---:|---:|---:|")
        for port, keys, calls in rows:
            print(f"| {port} | {keys} | {keys / mean_keys:.2f} | {calls} | {calls / mean_calls:.2f} |")
        used = old_layout_nodes(cluster, operations)
        print(f"earlier layout (one hash tag per operation): {len(used)} of {args.nodes} nodes would hold every entry")
        started = time.monotonic()
        removed = await store.purge(prefix, "shop", operations[0])
        print(f"purge of one operation: {removed} entries invalidated in {(time.monotonic() - started) * 1000:.1f} ms (one script)")
        await store.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--operations", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=6)
    asyncio.run(main(parser.parse_args()))
