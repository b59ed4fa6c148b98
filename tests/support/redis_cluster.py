"""A real 3-node Redis Cluster (3 primaries, no replicas) on free loopback ports, for tests."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.redis_server import RedisServer


def find_redis_cli() -> str | None:
    beside_python = Path(sys.executable).parent / "redis-cli"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("redis-cli")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and below 65536."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisClusterNodes:
    """Start three `--cluster-enabled` redis-servers and join them into one cluster."""

    def __init__(self, size: int = 3) -> None:
        self.nodes = [RedisServer(port=cluster_port(), extra_args=("--cluster-enabled", "yes", "--cluster-node-timeout", "2000"))
                      for _ in range(size)]
        for node in self.nodes:
            node.extra_args += ("--cluster-config-file", f"{node.workdir}/nodes.conf")

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self, timeout: float = 20.0) -> None:
        try:
            for node in self.nodes:
                node.start()
            self._create_cluster()
            self._wait_ok(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def _create_cluster(self) -> None:
        cli = find_redis_cli()
        if cli is not None:
            addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
            subprocess.run(
                [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30,
            )
            return
        self._create_with_commands()

    def _create_with_commands(self) -> None:
        import redis

        clients = [redis.Redis(host="127.0.0.1", port=n.port) for n in self.nodes]
        try:
            per_node = 16384 // len(clients)
            for i, client in enumerate(clients):
                end = 16384 if i == len(clients) - 1 else (i + 1) * per_node
                client.execute_command("CLUSTER ADDSLOTS", *range(i * per_node, end))
            for client in clients[1:]:
                client.execute_command("CLUSTER MEET", "127.0.0.1", self.nodes[0].port)
        finally:
            for client in clients:
                client.close()

    def _wait_ok(self, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for node in self.nodes:
                client = redis.Redis(host="127.0.0.1", port=node.port)
                try:
                    info = client.execute_command("CLUSTER INFO")
                    if isinstance(info, bytes):
                        info = dict(line.split(":", 1) for line in info.decode().split() if ":" in line)
                    states.append(
                        info.get("cluster_state") == "ok" and int(info.get("cluster_known_nodes", 0)) == len(self.nodes)
                    )
                finally:
                    client.close()
            if all(states):
                return
            time.sleep(0.05)
        raise RuntimeError("redis cluster did not reach cluster_state:ok")
