"""Shared fixtures: a real redis-server per test session (REDIS_URL overrides it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_server import RedisServer, external_redis_url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis: $REDIS_URL, or a throwaway redis-server started for the session."""
    url = external_redis_url()
    if url:
        yield url
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server that a test may stop and restart (failure tests)."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
