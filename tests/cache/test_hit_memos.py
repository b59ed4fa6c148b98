"""The per-lookup memories of a cache hit: variant digests and decoded entries are reused only while
every input is the same."""

from __future__ import annotations

from typing import Any

import pytest

from engine.cache.entry import CachedResponse, EntryFormatError
from engine.cache.responses import DecodedEntries, VariantKeys, key_parts
from engine.context import Api, Context, Group, Headers, Operation, Request, Subscription, Url, User


def request_context(**changes: Any) -> Context:
    parts: dict[str, Any] = {
        "method": "GET", "scheme": "http", "host": "backend", "port": 80, "path": "/items/1",
        "query": {"a": ["1"]}, "headers": [("Accept", "json")], "api": Api(id="api", revision="1"),
        "operation": Operation(id="op"), "subscription": None, "user": None,
    }
    parts.update(changes)
    url = Url(parts["scheme"], parts["host"], parts["port"], parts["path"], parts["query"])
    request = Request(method=parts["method"], url=url, headers=Headers(parts["headers"]))
    return Context(request=request, api=parts["api"], operation=parts["operation"],
                   subscription=parts["subscription"], user=parts["user"])


VARIATIONS: list[dict[str, Any]] = [
    {}, {"method": "HEAD"}, {"scheme": "https"}, {"host": "other"}, {"port": 81}, {"path": "/items/2"},
    {"query": {"a": ["2"]}}, {"query": {"a": ["1"], "b": ["2"]}}, {"query": {}}, {"headers": [("Accept", "xml")]},
    {"headers": []}, {"api": Api(id="api", revision="2")}, {"api": Api(id="other", revision="1")},
    {"operation": Operation(id="op2")}, {"subscription": Subscription(id="s2")},
    {"user": User(id="u1", groups=[Group("g1")])}, {"user": User(id="u1", groups=[Group("g2")])},
]


@pytest.mark.parametrize("by_developer", [False, True])
def test_every_input_of_the_key_gives_the_digest_key_parts_gives(by_developer: bool) -> None:
    variants = VariantKeys(["Accept"], [])
    for _ in range(2):  # the second pass is answered from the memory
        for change in VARIATIONS:
            ctx = request_context(**change)
            group, digest = variants.of(ctx, "p:", by_developer=by_developer, by_groups=by_developer)
            parts = key_parts(ctx, headers=["Accept"], query_names=[], by_developer=by_developer, by_groups=by_developer)
            assert (group, digest) == (parts.group("p:"), parts.digest()), change
    assert variants.of(request_context(), "q:", by_developer=False, by_groups=False)[0].prefix == "q:"


def test_the_memory_is_bounded() -> None:
    variants = VariantKeys([], [], size=4)
    digests = {variants.of(request_context(path=f"/items/{i}"), "p:", by_developer=False, by_groups=False)[1]
               for i in range(10)}
    assert len(digests) == 10 and len(variants._known) <= 4


def test_a_decoded_entry_is_reused_only_for_the_same_bytes() -> None:
    entries = DecodedEntries(size=2)
    first = CachedResponse(200, "OK", [("Content-Type", "text/plain")], b"one", 1.0, 2.0).encode()
    second = CachedResponse(200, "OK", [("Content-Type", "text/plain")], b"two", 1.0, 2.0).encode()
    entry = entries.decode("k", first)
    assert entries.decode("k", bytes(first)) is entry  # equal bytes (a Redis reply is a new object each time)
    assert entries.decode("k", second).body == b"two"
    with pytest.raises(EntryFormatError):
        entries.decode("k", b"not an entry")
    assert entries.decode("k", second).body == b"two"
    for i in range(5):
        entries.decode(f"other{i}", first)
    assert len(entries._known) <= 2


def test_large_entries_are_not_kept() -> None:
    entries = DecodedEntries(max_bytes=100)
    data = CachedResponse(200, "OK", [], b"x" * 200).encode()
    assert entries.decode("k", data) is not entries.decode("k", data)
