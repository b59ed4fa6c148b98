"""LINQ (Enumerable) and collection members."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.dotnet.collectioncore import KeyValuePair, iterate
from engine.dotnet.collectionmembers import ArrayMembers, DictionaryMembers, ListMembers, SetMembers
from engine.dotnet.containers import Array, Queue, Stack, Tuple, new_dictionary, new_hashset
from engine.dotnet.errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    IndexOutOfRangeException,
    InvalidCastException,
    InvalidOperationException,
    KeyNotFoundException,
)
from engine.dotnet.linq import Enumerable as E
from engine.dotnet.newtonsoft import JArray, JObject
from engine.dotnet.primitives import Char
from engine.dotnet.strings import StringComparer

NUMS = [5, 3, 8, 1]
WORDS = ["pear", "Apple", "fig", "banana"]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: E.Where(NUMS, lambda x: x > 3), [5, 8]),
        (lambda: E.Where(NUMS, lambda x, i: i % 2 == 0), [5, 8]),
        (lambda: E.Select(NUMS, lambda x: x * 2), [10, 6, 16, 2]),
        (lambda: E.Select(WORDS, lambda w, i: f"{i}:{w}"), ["0:pear", "1:Apple", "2:fig", "3:banana"]),
        (lambda: E.SelectMany([[1, 2], [3]], lambda x: x), [1, 2, 3]),
        (lambda: E.Any(NUMS), True),
        (lambda: E.Any([]), False),
        (lambda: E.Any(NUMS, lambda x: x > 7), True),
        (lambda: E.All(NUMS, lambda x: x > 0), True),
        (lambda: E.First(NUMS), 5),
        (lambda: E.First(NUMS, lambda x: x < 5), 3),
        (lambda: E.FirstOrDefault([]), None),
        (lambda: E.FirstOrDefault([], 7), 7),
        (lambda: E.FirstOrDefault(NUMS, lambda x: x > 100), None),
        (lambda: E.Last(NUMS), 1),
        (lambda: E.LastOrDefault(NUMS, lambda x: x > 4), 8),
        (lambda: E.Single([9]), 9),
        (lambda: E.SingleOrDefault([]), None),
        (lambda: E.SingleOrDefault(NUMS, lambda x: x == 8), 8),
        (lambda: E.ElementAt(NUMS, 2), 8),
        (lambda: E.ElementAtOrDefault(NUMS, 9), None),
        (lambda: E.Count(NUMS), 4),
        (lambda: E.Count(NUMS, lambda x: x % 2 == 1), 3),
        (lambda: E.Contains(NUMS, 8), True),
        (lambda: E.Contains(WORDS, "APPLE", StringComparer.OrdinalIgnoreCase), True),
        (lambda: E.Sum(NUMS), 17),
        (lambda: E.Sum([]), 0),
        (lambda: E.Sum([1.5, 2.5]), 4.0),
        (lambda: E.Sum([Decimal("1.1"), Decimal("2.2")]), Decimal("3.3")),
        (lambda: E.Sum(WORDS, lambda w: len(w)), 18),
        (lambda: E.Average(NUMS), 4.25),
        (lambda: E.Min(NUMS), 1),
        (lambda: E.Max(NUMS), 8),
        (lambda: E.Max(WORDS, lambda w: len(w)), 6),
        (lambda: E.MinBy(WORDS, lambda w: len(w)), "fig"),
        (lambda: E.MaxBy(WORDS, lambda w: len(w)), "banana"),
        (lambda: E.Aggregate(NUMS, lambda a, b: a * b), 120),
        (lambda: E.Aggregate(NUMS, 10, lambda a, b: a + b), 27),
        (lambda: E.Aggregate(NUMS, 0, lambda a, b: a + b, lambda r: r * 2), 34),
        (lambda: E.OrderBy(NUMS, lambda x: x), [1, 3, 5, 8]),
        (lambda: E.OrderByDescending(NUMS, lambda x: x), [8, 5, 3, 1]),
        (lambda: E.OrderBy(WORDS, lambda w: w), ["Apple", "banana", "fig", "pear"]),
        (lambda: E.OrderBy(["b", "B", "a", "A"], lambda w: w), ["a", "A", "b", "B"]),
        (
            lambda: E.ThenBy(E.OrderBy(WORDS, lambda w: len(w)), lambda w: w),
            ["fig", "pear", "Apple", "banana"],
        ),
        (
            lambda: E.ThenByDescending(
                E.OrderBy([("a", 1), ("a", 2), ("b", 0)], lambda t: t[0]), lambda t: t[1]
            ),
            [("a", 2), ("a", 1), ("b", 0)],
        ),
        (lambda: E.Skip(NUMS, 2), [8, 1]),
        (lambda: E.Take(NUMS, 2), [5, 3]),
        (lambda: E.Take(NUMS, -1), []),
        (lambda: E.SkipWhile(NUMS, lambda x: x > 2), [1]),
        (lambda: E.TakeWhile(NUMS, lambda x: x > 2), [5, 3, 8]),
        (lambda: E.TakeLast(NUMS, 2), [8, 1]),
        (lambda: E.Distinct([1, 2, 1, 3, 2]), [1, 2, 3]),
        (lambda: E.Distinct(["a", "A", "b"], StringComparer.OrdinalIgnoreCase), ["a", "b"]),
        (lambda: E.Union([1, 2], [2, 3]), [1, 2, 3]),
        (lambda: E.Intersect([1, 2, 3], [2, 3, 4]), [2, 3]),
        (lambda: E.Except([1, 2, 3], [2]), [1, 3]),
        (lambda: E.Concat([1], [2, 3]), [1, 2, 3]),
        (lambda: E.Reverse(NUMS), [1, 8, 3, 5]),
        (lambda: E.Append([1], 2), [1, 2]),
        (lambda: E.Prepend([1], 0), [0, 1]),
        (lambda: E.Zip([1, 2], ["a", "b"], lambda n, s: f"{n}{s}"), ["1a", "2b"]),
        (lambda: E.Range(2, 3), [2, 3, 4]),
        (lambda: E.Repeat("x", 2), ["x", "x"]),
        (lambda: E.DefaultIfEmpty([]), [None]),
        (lambda: E.SequenceEqual([1, 2], [1, 2]), True),
        (lambda: E.ToList("ab"), [Char("a"), Char("b")]),
        (lambda: E.Select("ab", lambda c: c + 1), [98, 99]),
        (lambda: E.Chunk([1, 2, 3], 2), [[1, 2], [3]]),
        (lambda: E.OfType([1, "a", None, 2.5], "string"), ["a"]),
        (lambda: E.Cast(["a", None], "string"), ["a", None]),
        (
            lambda: E.ToDictionary(WORDS, lambda w: w[0]),
            {"p": "pear", "A": "Apple", "f": "fig", "b": "banana"},
        ),
        (lambda: E.ToDictionary(WORDS, lambda w: w, lambda w: len(w))["fig"], 3),
        (lambda: E.ToHashSet([1, 1, 2]), {1, 2}),
    ],
)
def test_linq(call, expected) -> None:  # noqa: ANN001
    assert call() == expected


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: E.First([]), InvalidOperationException, "Sequence contains no elements"),
        (
            lambda: E.First([1], lambda x: x > 5),
            InvalidOperationException,
            "Sequence contains no matching element",
        ),
        (lambda: E.Last([]), InvalidOperationException, "Sequence contains no elements"),
        (lambda: E.Single([1, 2]), InvalidOperationException, "Sequence contains more than one element"),
        (
            lambda: E.Single([1, 2], lambda x: x > 0),
            InvalidOperationException,
            "Sequence contains more than one matching element",
        ),
        (
            lambda: E.SingleOrDefault([1, 2]),
            InvalidOperationException,
            "Sequence contains more than one element",
        ),
        (lambda: E.Max([]), InvalidOperationException, "Sequence contains no elements"),
        (lambda: E.Average([]), InvalidOperationException, "Sequence contains no elements"),
        (lambda: E.Aggregate([], lambda a, b: a), InvalidOperationException, "Sequence contains no elements"),
        (
            lambda: E.Where(None, lambda x: True),
            ArgumentNullException,
            "Value cannot be null. (Parameter 'source')",
        ),
        (
            lambda: E.ElementAt([1], 3),
            ArgumentOutOfRangeException,
            "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')",
        ),
        (
            lambda: E.Cast([1], "string"),
            InvalidCastException,
            "Unable to cast object of type 'System.Int32' to type 'System.String'.",
        ),
        (
            lambda: E.ToDictionary(["a", "a"], lambda w: w),
            ArgumentException,
            "An item with the same key has already been added. Key: a",
        ),
    ],
)
def test_linq_errors(call, exc, message) -> None:  # noqa: ANN001
    with pytest.raises(exc) as info:
        call()
    assert info.value.Message == message


def test_group_by_and_json_sources() -> None:
    groups = E.GroupBy(WORDS, lambda w: len(w))
    assert [(g.Key, list(g)) for g in groups] == [
        (4, ["pear"]),
        (5, ["Apple"]),
        (3, ["fig"]),
        (6, ["banana"]),
    ]
    by_parity = E.GroupBy(NUMS, lambda x: x % 2, lambda x: x * 10)
    assert [(g.Key, E.Count(g)) for g in by_parity] == [(1, 3), (0, 1)]
    arr = JArray.Parse('[{"n": 2}, {"n": 1}]')
    assert [t["n"].ToString() for t in E.OrderBy(arr, lambda t: t.ValueOf("int", "n"))] == ["1", "2"]
    obj = JObject.Parse('{"a": 1, "b": 2}')
    assert E.Select(obj, lambda kv: kv.Key) == ["a", "b"]
    assert E.Select(obj.Properties(), lambda p: p.Name) == ["a", "b"]
    assert E.Select({"x": 1}, lambda kv: kv.Value) == [1]


def test_dictionary_members() -> None:
    d: dict = {}
    DictionaryMembers.Add(d, "a", 1)
    assert DictionaryMembers.TryGetValue(d, "a") == (True, 1)
    assert DictionaryMembers.TryGetValue(d, "b") == (False, None)
    assert DictionaryMembers.ContainsKey(d, "a") and DictionaryMembers.Count(d) == 1
    assert DictionaryMembers.GetValueOrDefault(d, "zz", 5) == 5
    assert DictionaryMembers.TryAdd(d, "a", 2) is False
    assert DictionaryMembers.Remove(d, "a") is True and DictionaryMembers.Remove(d, "a") is False
    with pytest.raises(KeyNotFoundException) as info:
        DictionaryMembers.Item(d, "missing")
    assert info.value.Message == "The given key 'missing' was not present in the dictionary."
    with pytest.raises(ArgumentNullException):
        DictionaryMembers.ContainsKey(d, None)
    ci = new_dictionary(StringComparer.OrdinalIgnoreCase)
    ci["Content-Type"] = "json"
    assert ci["content-type"] == "json" and "CONTENT-TYPE" in ci
    ci["CONTENT-TYPE"] = "xml"
    assert list(ci.keys()) == ["Content-Type"] and ci["content-type"] == "xml"
    with pytest.raises(ArgumentException):
        DictionaryMembers.Add(ci, "content-type", "again")
    pairs = list(iterate({"k": "v"}))
    assert pairs[0].Key == "k" and pairs[0].Value == "v" and pairs[0].ToString() == "[k, v]"
    assert KeyValuePair("a", 1) == KeyValuePair("a", 1)


def test_list_and_array_members() -> None:
    items = [1, 2, 3]
    ListMembers.Add(items, 4)
    ListMembers.Insert(items, 0, 0)
    ListMembers.AddRange(items, [5])
    assert items == [0, 1, 2, 3, 4, 5]
    assert ListMembers.Remove(items, 3) is True and ListMembers.Remove(items, 99) is False
    ListMembers.RemoveAt(items, 0)
    assert items == [1, 2, 4, 5] and ListMembers.Count(items) == 4
    assert ListMembers.IndexOf(items, 4) == 2 and ListMembers.Contains(items, 5)
    assert ListMembers.RemoveAll(items, lambda x: x > 3) == 2 and items == [1, 2]
    words = ["b", "a", "C"]
    ListMembers.Sort(words)
    assert words == ["a", "b", "C"]
    ListMembers.Sort(words, lambda a, b: -1 if a > b else (1 if a < b else 0))
    assert words == ["b", "a", "C"]
    with pytest.raises(ArgumentOutOfRangeException):
        ListMembers.Item(items, 5)
    with pytest.raises(IndexOutOfRangeException):
        ArrayMembers.Item(items, 5)
    assert ArrayMembers.Length(b"abc") == 3
    dst = bytearray(4)
    Array.Copy(b"\x01\x02\x03", 0, dst, 1, 3)
    assert dst == bytearray(b"\x00\x01\x02\x03")
    arr = [3, 1, 2]
    Array.Sort(arr)
    Array.Reverse(arr)
    assert arr == [3, 2, 1] and Array.IndexOf(arr, 2) == 1
    assert Array.Resize([1, 2], 3) == (None, [1, 2, 0])  # `ref a`: the new array is written back
    assert Array.Empty() == []
    with pytest.raises(ArgumentException):
        Array.Copy([1, 2], [0], 2)


def test_sets_queues_stacks_tuples() -> None:
    s = new_hashset(["a", "A"], StringComparer.OrdinalIgnoreCase)
    assert len(s) == 1
    s2 = new_hashset([1, 2])
    assert SetMembers.Add(s2, 3) and not SetMembers.Add(s2, 3)
    assert SetMembers.Contains(s2, 2) and SetMembers.Count(s2) == 3
    q = Queue()
    q.Enqueue(1)
    q.Enqueue(2)
    assert q.Dequeue() == 1 and q.Count == 1 and q.Peek() == 2
    st = Stack([1, 2])
    st.Push(3)
    assert st.Pop() == 3 and st.ToArray() == [2, 1]
    with pytest.raises(InvalidOperationException):
        Queue().Dequeue()
    t = Tuple.Create("a", 1)
    assert t.Item1 == "a" and t.Item2 == 1 and t.ToString() == "(a, 1)"
