"""The Redis fixture starts a real server that answers commands."""

from __future__ import annotations

import socket

import pytest
import redis

from tests.support.redis_server import RedisServer


def test_redis_fixture_serves_real_commands(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("policygate:test:fixture", "ok")
    assert client.get("policygate:test:fixture") == b"ok"
    assert client.info("server")["redis_version"]


def test_a_port_taken_before_the_first_start_is_picked_again() -> None:
    """Another process may listen on the port found free before redis-server binds it."""
    server = RedisServer()
    taken = server.port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        server.start()
        try:
            assert server.port != taken
            assert redis.Redis.from_url(server.url).ping()
        finally:
            server.stop()
        fixed = RedisServer(port=taken)  # a port the caller chose is never moved
        with pytest.raises(RuntimeError, match="exited"):
            fixed.start()
