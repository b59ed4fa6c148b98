"""context.Request.OriginalUrl's host and port come from the Host header (remembered per distinct
value, within a bound) or, without one, from the listening socket."""

from __future__ import annotations

import pytest

from engine.context import Headers
from engine.gateway import app


@pytest.mark.parametrize(
    ("scheme", "host", "expected"),
    [
        ("http", "api.example.com", ("api.example.com", 80)),
        ("https", "api.example.com", ("api.example.com", 443)),
        ("http", "api.example.com:8080", ("api.example.com", 8080)),
        ("https", "api.example.com:x", ("api.example.com", 443)),
        ("http", "[::1]:9000", ("[::1]", 9000)),
        ("https", "[::1]", ("[::1]", 443)),
    ],
)
def test_host_and_port_from_the_host_header(scheme: str, host: str, expected: tuple[str, int]) -> None:
    for _ in range(2):  # the second answer comes from the memory
        url = app._original_url({}, scheme, Headers([("Host", host)]), "/p", {})
        assert (url.scheme, url.host, url.port, url.path) == (scheme, *expected, "/p")


def test_without_a_host_header_the_listening_address() -> None:
    url = app._original_url({"server": ("10.0.0.1", 8443)}, "https", Headers(), "", {})
    assert (url.host, url.port, url.path) == ("10.0.0.1", 8443, "/")


def test_many_distinct_host_values_do_not_grow_the_memory() -> None:
    for i in range(600):
        url = app._original_url({}, "http", Headers([("Host", f"h{i}.example:{1000 + i}")]), "/", {})
        assert (url.host, url.port) == (f"h{i}.example", 1000 + i)
    assert len(app._AUTHORITIES) <= 256
