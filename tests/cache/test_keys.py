"""The documented key scheme and the request -> key / response -> entry helpers."""

from __future__ import annotations

import pytest

from engine.cache.keys import (
    KeyGroup,
    ResponseKeyParts,
    api_response_prefix,
    check_prefix,
    generations_key,
    value_key,
)
from engine.cache.responses import cache_control, developer_of, select_query
from engine.context import Context, Group, Subscription, User


def test_documented_layout() -> None:
    group = KeyGroup("policygate:", "orders", "get-order")
    assert group.response_key("ab12") == "policygate:r:{orders|get-order}:ab12"  # in-process cache
    assert group.generations_key == generations_key("policygate:", "orders") == "policygate:g:{orders}"
    assert value_key("policygate:", "user-1") == "policygate:v:user-1"
    assert group.response_key("x").startswith(api_response_prefix("policygate:", "orders"))
    spread = group.spread_key("ab12", "0.0")
    assert spread.startswith("policygate:r:") and len(spread) == len("policygate:r:") + 32 and "{" not in spread


def test_spread_keys_change_with_every_part() -> None:
    group = KeyGroup("p:", "orders", "get-order")
    keys = {
        group.spread_key("ab12", "0.0"), group.spread_key("ab12", "1.0"), group.spread_key("ab12", "0.1"),
        group.spread_key("ab13", "0.0"), KeyGroup("p:", "orders", "other").spread_key("ab12", "0.0"),
        KeyGroup("p:", "other", "get-order").spread_key("ab12", "0.0"), KeyGroup("q:", "orders", "get-order").spread_key("ab12", "0.0"),
    }
    assert len(keys) == 7


def test_ids_cannot_break_the_hash_tag_or_collide() -> None:
    tricky = KeyGroup("p:", "a}b|c", "{op}")
    assert tricky.tag == "{a%7Db%7Cc|%7Bop%7D}"
    assert KeyGroup("p:", "a|b", "c").tag != KeyGroup("p:", "a", "b|c").tag
    assert KeyGroup("p:", "", "").tag == "{-|-}"


@pytest.mark.parametrize("bad", ["a{b", "x}", "has space"])
def test_prefix_validation(bad: str) -> None:
    with pytest.raises(ValueError):
        check_prefix(bad)


def test_variants_differ_by_everything_they_vary_by() -> None:
    base = ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])])
    variants = [
        base,
        ResponseKeyParts("api", "op", "2", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/q", [("a", ["1"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["2"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1", "2"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1,2"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["y"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", [])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", [""])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", [])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", [""])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])], developer="user:1"),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])], groups=[]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1&b=2"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"]), ("b", ["2"])], [("Accept", ["x"])]),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])], backend="http://b:80"),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])], backend="http://b:81"),
        ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("Accept", ["x"])], backend="https://b:80"),
    ]
    assert len({v.digest() for v in variants}) == len(variants)
    same = ResponseKeyParts("api", "op", "1", "GET", "/p", [("a", ["1"])], [("ACCEPT", ["x"])])
    assert same.digest() == base.digest()  # header names are case-insensitive
    assert "Bearer" not in base.key("p:")[1]


def test_query_selection() -> None:
    query = {"b": ["2"], "a": ["1", "3"], "noise": ["x"]}
    assert select_query(query, []) == [("a", ["1", "3"]), ("b", ["2"]), ("noise", ["x"])]
    assert select_query(query, ["*"]) == select_query(query, [])
    assert select_query(query, ["b", "a", "missing"]) == [("a", ["1", "3"]), ("b", ["2"])]


def test_developer_identity() -> None:
    assert developer_of(Context()) == "anonymous"
    assert developer_of(Context(subscription=Subscription(id="s1"))) == "subscription:s1"
    user = User(id="u1", groups=[Group("g2"), Group("g1")])
    assert developer_of(Context(subscription=Subscription(id="s1"), user=user)) == "user:u1"


@pytest.mark.parametrize(
    ("downstream", "revalidate", "age", "expected"),
    [
        ("none", True, 60, "no-store"),
        ("private", True, 59.7, "private, max-age=59, must-revalidate"),
        ("public", False, 10, "public, max-age=10"),
        ("public", False, -3, "public, max-age=0"),
    ],
)
def test_cache_control(downstream: str, revalidate: bool, age: float, expected: str) -> None:
    assert cache_control(downstream, revalidate, age) == expected
