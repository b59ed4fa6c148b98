"""engine/dotnet/keyed.py: HashSet/Dictionary storage keyed by `equality.hash_key` (or a comparer).

The oracle rows (tests/oracle/cases/containers.txt, "HashSet<object> and Dictionary<object, V>")
check the C# answers through expressions; these check what expressions cannot see: the inherited
set/dict storage stays a faithful mirror, the slot order, and enumeration after a change."""

from __future__ import annotations

import json

import pytest

from engine.dotnet.clrnumeric import INT64
from engine.dotnet.containers import new_dictionary, new_hashset
from engine.dotnet.errors import InvalidOperationException
from engine.dotnet.keyed import KeyedDict, KeyedSet
from engine.dotnet.linq import Enumerable
from engine.dotnet.primitives import Char
from engine.dotnet.strings import StringComparer

LONG_ONE = INT64.box(1)


def test_members_keep_their_clr_type() -> None:
    s = KeyedSet([1, LONG_ONE, 1.0, Char("a"), "a", None, float("nan"), float("nan")])
    assert len(s) == 7 and [type(x).__name__ for x in s][:3] == ["int", "Int64Value", "float"]
    assert LONG_ONE in s and 2 not in s
    s.remove(LONG_ONE)
    assert 1 in s and LONG_ONE not in s and len(s) == 6


def test_slot_order_reuses_the_last_freed_slot() -> None:
    s = KeyedSet([5, 3, 9, 1])
    s.remove(3)
    s.remove(5)
    for x in (7, 8, 2):
        s.add(x)
    assert list(s) == [7, 8, 9, 1, 2]  # what .NET (Mono) enumerates
    d = KeyedDict()
    for k in "abc":
        d[k] = k.upper()
    del d["a"]
    d["z"] = "Z"
    assert list(d) == ["z", "b", "c"] and d.values() == ["Z", "B", "C"]


def test_the_inherited_storage_mirrors_the_entries() -> None:
    d = new_dictionary()
    d["a"], d["b"] = 1, 2
    d.pop("a")
    assert json.dumps(d) == '{"b": 2}' and dict(d) == {"b": 2} and set(new_hashset(["x"])) == {"x"}


def test_a_present_key_keeps_its_first_spelling() -> None:
    d = new_dictionary(StringComparer.OrdinalIgnoreCase)
    d["Key"] = 1
    d["KEY"] = 2
    assert list(d.items()) == [("Key", 2)] and "kEy" in d
    s = new_hashset(["Ab", "aB"], StringComparer.OrdinalIgnoreCase)
    assert list(s) == ["Ab"]


def test_enumeration_fails_after_a_change_only() -> None:
    s = KeyedSet([1, 2])
    for x in s:
        s.add(x)  # present: no change
    with pytest.raises(InvalidOperationException):
        for x in s:
            s.add(x + 10)


def test_lookup_of_a_missing_key_is_empty() -> None:
    lookup = Enumerable.ToLookup([1, LONG_ONE, 1], lambda x: x)
    assert len(lookup) == 2 and len(lookup[1]) == 2 and len(lookup[LONG_ONE]) == 1 and list(lookup[3]) == []
    assert lookup.Contains(1) and not lookup.Contains(1.0)


def test_two_collections_are_equal_only_when_the_same_object() -> None:
    a, b = KeyedSet([1]), KeyedSet([1])
    assert a != b and a == a and a == {1}  # C#'s == on reference types; a Python set by contents
    d = new_dictionary()
    d["x"] = 1
    assert d != new_dictionary() and d == {"x": 1} and d != {"x": 2}


def test_removal_switches_to_slot_order_and_an_empty_table_starts_over() -> None:
    d = new_dictionary()
    for k in (1, LONG_ONE, 1.0, "a", Char("a")):
        d[k] = str(k)
    assert len(d) == 5 and [type(k).__name__ for k in d] == ["int", "Int64Value", "float", "str", "Char"]
    del d[LONG_ONE]
    d[2] = "2"  # takes the freed slot
    assert list(d) == [1, 2, 1.0, "a", "a"] and d[1.0] == "1.0" and LONG_ONE not in d and d.get(2) == "2"
    for k in list(d):
        del d[k]
    d["x"], d["y"] = 1, 2
    assert list(d.items()) == [("x", 1), ("y", 2)] and json.dumps(d) == '{"x": 1, "y": 2}'
    s = new_hashset([3, 1, 2])
    s.remove(3)
    s.remove(1)
    s.remove(2)
    s.add(9)
    s.add(8)
    assert list(s) == [9, 8] and len(s) == 2


def test_string_and_int_keys_are_their_own_storage_keys() -> None:
    d = new_dictionary()
    d["k"], d[7] = 1, 2
    assert dict.get(d, "k") == "k" and dict.get(d, 7) == 7  # the storage maps a key's key to the key
    assert Char("k") not in d and INT64.box(7) not in d and 7.0 not in d and True not in d
    big = 2**40  # a long beyond the Int32 range: plain or boxed, the same key
    s = new_hashset([big, "s"])
    assert INT64.box(big) in s and 2**40 + 0.0 not in s and set(s) == {big, "s"}
