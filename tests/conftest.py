"""Shared fixtures: a real redis-server per test session (REDIS_URL overrides it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway import current_server, use_server
from tests.support.redis_server import RedisServer, external_redis_url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `every_server` run once per HTTP server; the rest on `current_server()`."""
    if metafunc.definition.get_closest_marker("every_server") is not None:
        from engine.gateway.listeners import SERVERS

        metafunc.parametrize("http_server", SERVERS, indirect=True)


@pytest.fixture(autouse=True)
def http_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The HTTP server this test's gateways run on."""
    name = getattr(request, "param", None) or current_server()
    with use_server(name):
        yield name


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


@pytest.fixture(scope="session")
def redis8_url() -> Iterator[str]:
    """URL of a throwaway Redis 8 server (vector sets), for the semantic cache's tests."""
    from tests.support.redis8_server import Redis8Server

    server = Redis8Server()
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
