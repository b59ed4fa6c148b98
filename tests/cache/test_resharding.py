"""Resharding a Redis Cluster under traffic (issue 19): slots move while the gateway serves from the cache."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from pathlib import Path

import aiohttp
import redis

from tests.cache.test_gateway_cache import policy
from tests.support.gateway import Backend, run_gateway, simple_config
from tests.support.redis_cluster import RedisClusterNodes, find_redis_cli

PATHS = [f"/echo/item{i}" for i in range(40)]


def node_ids(cluster: RedisClusterNodes) -> list[str]:
    ids = []
    for node in cluster.nodes:
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            ident = client.execute_command("CLUSTER MYID")
        finally:
            client.close()
        ids.append(ident.decode() if isinstance(ident, bytes) else str(ident))
    return ids


def placement(cluster: RedisClusterNodes) -> dict[bytes, int]:
    """Cached response key -> port of the node holding it."""
    where = {}
    for node in cluster.nodes:
        client = redis.Redis(host="127.0.0.1", port=node.port)
        try:
            where.update({key: node.port for key in client.scan_iter(match="policygate:r:*")})
        finally:
            client.close()
    return where


def reshard(cluster: RedisClusterNodes, source: str, target: str, slots: int) -> None:
    cli = find_redis_cli()
    assert cli is not None, "redis-cli comes with the test extras"
    subprocess.run(
        [cli, "--cluster", "reshard", f"127.0.0.1:{cluster.nodes[0].port}", "--cluster-from", source,
         "--cluster-to", target, "--cluster-slots", str(slots), "--cluster-yes", "--cluster-pipeline", "50"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120,
    )


def test_slots_move_under_traffic_without_a_failed_or_wrong_answer(tmp_path: Path) -> None:
    cluster = RedisClusterNodes(3)
    cluster.start()
    try:
        cache = {"external": cluster.url, "timeout-ms": 1000, "connect-timeout-ms": 1000}
        with Backend() as backend, run_gateway(tmp_path, simple_config(api_policy="api.xml", cache=cache),
                                                {"api.xml": policy(store='duration="300"')}, backend=backend) as gw:
            for path in PATHS:
                assert gw.get(path).status == 200
            ids = node_ids(cluster)
            before = placement(cluster)
            answers: list[tuple[str, int, str, bool]] = []
            moved = threading.Event()

            async def load() -> None:
                async with aiohttp.ClientSession() as session:
                    rounds = 0
                    while not moved.is_set() or rounds < 2:
                        for path in PATHS:
                            async with session.get(gw.url + path) as response:
                                body = await response.text()
                                answers.append((path, response.status, body, "Age" in response.headers))
                        rounds += 1 if moved.is_set() else 0

            def move() -> None:
                try:  # half of node 0's slots to node 1, then back: keys migrate both ways under traffic
                    reshard(cluster, ids[0], ids[1], 2730)
                    reshard(cluster, ids[1], ids[2], 2730)
                finally:
                    moved.set()

            mover = threading.Thread(target=move)
            mover.start()
            asyncio.run(load())
            mover.join(120)
            after = placement(cluster)
            purge = gw.run(lambda: gw.server.services.cache.purge("echo"))
            fresh = gw.get(PATHS[0])
    finally:
        cluster.stop()
    assert len(before) == len(PATHS) and set(after) == set(before)
    assert any(after[key] != port for key, port in before.items()), "some cached entries moved to another node"
    assert len(answers) > len(PATHS) * 2
    assert {status for _, status, _, _ in answers} == {200}, "no request failed while slots moved"
    assert all(json.loads(body)["path"] == path.removeprefix("/echo") for path, _, body, _ in answers), "no wrong answer"
    hits = sum(1 for *_, hit in answers if hit)
    assert hits > len(answers) * 0.8, f"served from the cache while resharding: {hits} of {len(answers)}"
    assert purge >= 0 and "Age" not in fresh.headers, "purged after the reshard: the next answer is fresh"
