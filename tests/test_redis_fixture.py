"""The Redis fixture starts a real server that answers commands."""

from __future__ import annotations

import redis


def test_redis_fixture_serves_real_commands(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("policygate:test:fixture", "ok")
    assert client.get("policygate:test:fixture") == b"ok"
    assert client.info("server")["redis_version"]
