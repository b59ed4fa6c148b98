"""``System.Linq.Enumerable`` over runtime sequences (source first: ``Enumerable.Where(src, f)``).

Results are materialised lists (C# is lazy; the observable difference is only *when* lambdas run).
Sources are enumerated like C#'s ``foreach`` (strings give ``Char``s, dictionaries and ``JObject``s
give ``KeyValuePair``s). ``*OrDefault`` methods return ``null`` on empty sequences unless a default
is passed (C# would give ``0``/``false`` for value-type sequences); the errors are .NET's
(``Sequence contains no elements``...).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterable
from decimal import Decimal

from . import clrnumeric
from .clrnumeric import Int64Value
from .collectioncore import default_compare, iterate
from .containers import new_dictionary
from .equality import hash_key, object_equals
from .errors import (
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidCastException,
    InvalidOperationException,
    OverflowException,
)
from .keyed import KeyedDict
from .limits import LIMITS, bounded_list, check_count

_NO_ELEMENTS = "Sequence contains no elements"
_NO_MATCH = "Sequence contains no matching element"


def _items(source: typing.Any) -> list[typing.Any]:
    if source is None:
        raise ArgumentNullException("source")
    if isinstance(source, str | bytes | bytearray | dict):
        check_count(len(source))  # before a char/byte/pair per element is built
    return bounded_list(iterate(source))


def _non_null_values(source: typing.Any, selector: Callable[[typing.Any], typing.Any] | None) -> list[typing.Any]:
    """``Min``/``Max``: the (selected) values that are not null; none at all is an error."""
    values = [v for v in ([selector(x) for x in _items(source)] if selector else _items(source)) if v is not None]
    if not values:
        raise InvalidOperationException(_NO_ELEMENTS)
    return values


def _arity(func: Callable[..., typing.Any]) -> int:
    declared = getattr(func, "arity", None)  # compiled lambdas and method groups say it
    if declared is not None:
        return int(declared)
    code = getattr(func, "__code__", None)
    if code is None:
        return 1
    return int(code.co_argcount) - (1 if getattr(func, "__self__", None) is not None else 0)


def _indexed(func: Callable[..., typing.Any]) -> Callable[[typing.Any, int], typing.Any]:
    if _arity(func) >= 2:
        return func
    return lambda x, _i: func(x)


class Grouping(list[typing.Any]):
    """``IGrouping<TKey, TElement>``: a list with a ``Key``."""

    dotnet_name = "System.Linq.IGrouping"

    def __init__(self, key: typing.Any, items: Iterable[typing.Any] = ()) -> None:
        super().__init__(items)
        self._group_key = key

    @property
    def Key(self) -> typing.Any:
        return self._group_key


class Lookup(KeyedDict):
    """``ILookup<TKey, TElement>`` (``ToLookup``): groups by key; a missing key has no elements."""

    def __missing__(self, key: typing.Any) -> Grouping:
        return Grouping(key)

    def Contains(self, key: typing.Any) -> bool:
        return key in self


class OrderedList(list[typing.Any]):
    """The result of ``OrderBy``: remembers its sort keys so ``ThenBy`` can refine them."""

    def __init__(self, items: list[typing.Any], keys: list[tuple[Callable[[typing.Any], typing.Any], bool, typing.Any]]) -> None:
        super().__init__(items)
        self.sort_keys = keys


def _ordered(items: list[typing.Any], keys: list[tuple[Callable[[typing.Any], typing.Any], bool, typing.Any]]) -> OrderedList:
    def compare(a: typing.Any, b: typing.Any) -> int:
        for selector, descending, comparer in keys:
            ka, kb = selector(a), selector(b)
            c = comparer(ka, kb) if comparer is not None else default_compare(ka, kb)
            if c:
                return -c if descending else c
        return 0

    return OrderedList(sorted(items, key=functools.cmp_to_key(compare)), keys)


def _comparer_func(comparer: typing.Any) -> typing.Any:
    if comparer is None:
        return None
    return comparer.Compare if hasattr(comparer, "Compare") else comparer


def _sum(values: list[typing.Any]) -> typing.Any:
    """``Sum()``: checked arithmetic in the element type (``int`` overflow throws OverflowException)."""
    present = [v for v in values if v is not None]
    if not present:
        if any(isinstance(v, float) for v in values):
            return 0.0
        return 0
    kind = clrnumeric.kind_of(present[0])
    if kind is not None and kind.integral and kind is not clrnumeric.CHAR:
        kind = clrnumeric.unary_promote(kind)
        total, lo, hi = 0, kind.lo, kind.hi
        for v in present:
            total += int(v)
            if not lo <= total <= hi:
                raise OverflowException("Arithmetic operation resulted in an overflow.")
        return kind.box(total)
    total = present[0]
    for v in present[1:]:
        total = total + v
    return clrnumeric.SingleValue(total) if kind is clrnumeric.SINGLE else total


class Enumerable:
    """Statics of ``System.Linq.Enumerable`` (extension methods take the source first)."""

    dotnet_name = "System.Linq.Enumerable"

    # -- filtering / projection -----------------------------------------------------------------
    @staticmethod
    def Where(source: typing.Any, predicate: Callable[..., bool]) -> list[typing.Any]:
        f = _indexed(predicate)
        return [x for i, x in enumerate(_items(source)) if f(x, i)]

    @staticmethod
    def Select(source: typing.Any, selector: Callable[..., typing.Any]) -> list[typing.Any]:
        f = _indexed(selector)
        return [f(x, i) for i, x in enumerate(_items(source))]

    @staticmethod
    def SelectMany(
        source: typing.Any, selector: Callable[..., typing.Any], result: Callable[[typing.Any, typing.Any], typing.Any] | None = None
    ) -> list[typing.Any]:
        f = _indexed(selector)
        out: list[typing.Any] = []
        limit = LIMITS.max_collection
        for i, x in enumerate(_items(source)):
            for y in iterate(f(x, i)):
                out.append(result(x, y) if result else y)
                if len(out) > limit:
                    check_count(len(out))
        return out

    @staticmethod
    def OfType(source: typing.Any, type_arg: typing.Any) -> list[typing.Any]:
        from .conversions import is_type

        return [x for x in _items(source) if is_type(x, type_arg)]

    @staticmethod
    def Cast(source: typing.Any, type_arg: typing.Any) -> list[typing.Any]:
        from .conversions import is_type
        from .primitives import dotnet_type_name, type_ref

        out = []
        for x in _items(source):
            if x is not None and not is_type(x, type_arg):
                raise InvalidCastException(
                    f"Unable to cast object of type '{dotnet_type_name(x)}' to type '{type_ref(type_arg).name}'."
                )
            out.append(x)
        return out

    # -- element access -------------------------------------------------------------------------
    @staticmethod
    def First(source: typing.Any, predicate: Callable[[typing.Any], bool] | None = None) -> typing.Any:
        items = _items(source)
        if predicate is None:
            if not items:
                raise InvalidOperationException(_NO_ELEMENTS)
            return items[0]
        for x in items:
            if predicate(x):
                return x
        raise InvalidOperationException(_NO_MATCH)

    @staticmethod
    def FirstOrDefault(source: typing.Any, predicate: typing.Any = None, default: typing.Any = None) -> typing.Any:
        if predicate is not None and not callable(predicate):
            predicate, default = None, predicate
        for x in _items(source):
            if predicate is None or predicate(x):
                return x
        return default

    @staticmethod
    def Last(source: typing.Any, predicate: Callable[[typing.Any], bool] | None = None) -> typing.Any:
        items = _items(source)
        if predicate is None:
            if not items:
                raise InvalidOperationException(_NO_ELEMENTS)
            return items[-1]
        for x in reversed(items):
            if predicate(x):
                return x
        raise InvalidOperationException(_NO_MATCH)

    @staticmethod
    def LastOrDefault(source: typing.Any, predicate: typing.Any = None, default: typing.Any = None) -> typing.Any:
        if predicate is not None and not callable(predicate):
            predicate, default = None, predicate
        for x in reversed(_items(source)):
            if predicate is None or predicate(x):
                return x
        return default

    @staticmethod
    def Single(source: typing.Any, predicate: Callable[[typing.Any], bool] | None = None) -> typing.Any:
        items = _items(source) if predicate is None else [x for x in _items(source) if predicate(x)]
        if not items:
            raise InvalidOperationException(_NO_ELEMENTS if predicate is None else _NO_MATCH)
        if len(items) > 1:
            raise InvalidOperationException(
                "Sequence contains more than one element"
                if predicate is None
                else "Sequence contains more than one matching element"
            )
        return items[0]

    @staticmethod
    def SingleOrDefault(source: typing.Any, predicate: typing.Any = None, default: typing.Any = None) -> typing.Any:
        if predicate is not None and not callable(predicate):
            predicate, default = None, predicate
        items = _items(source) if predicate is None else [x for x in _items(source) if predicate(x)]
        if len(items) > 1:
            raise InvalidOperationException(
                "Sequence contains more than one element"
                if predicate is None
                else "Sequence contains more than one matching element"
            )
        return items[0] if items else default

    @staticmethod
    def ElementAt(source: typing.Any, index: int) -> typing.Any:
        items = _items(source)
        if not 0 <= index < len(items):
            raise ArgumentOutOfRangeException(
                "index",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            )
        return items[index]

    @staticmethod
    def ElementAtOrDefault(source: typing.Any, index: int) -> typing.Any:
        items = _items(source)
        return items[index] if 0 <= index < len(items) else None

    @staticmethod
    def DefaultIfEmpty(source: typing.Any, default: typing.Any = None) -> list[typing.Any]:
        items = _items(source)
        return items if items else [default]

    # -- quantifiers / aggregates ---------------------------------------------------------------
    @staticmethod
    def Any(source: typing.Any, predicate: Callable[[typing.Any], bool] | None = None) -> bool:
        items = _items(source)
        return bool(items) if predicate is None else any(predicate(x) for x in items)

    @staticmethod
    def All(source: typing.Any, predicate: Callable[[typing.Any], bool]) -> bool:
        return all(predicate(x) for x in _items(source))

    @staticmethod
    def Count(source: typing.Any, predicate: Callable[[typing.Any], bool] | None = None) -> int:
        items = _items(source)
        return len(items) if predicate is None else sum(1 for x in items if predicate(x))

    @staticmethod
    def LongCount(source: typing.Any, predicate: Callable[[typing.Any], bool] | None = None) -> int:
        return Int64Value(Enumerable.Count(source, predicate))

    @staticmethod
    def Contains(source: typing.Any, value: typing.Any, comparer: typing.Any = None) -> bool:
        if comparer is not None:
            return any(comparer.Equals(x, value) for x in _items(source))
        return any(object_equals(x, value) for x in _items(source))

    @staticmethod
    def Sum(source: typing.Any, selector: Callable[[typing.Any], typing.Any] | None = None) -> typing.Any:
        items = _items(source)
        return _sum([selector(x) for x in items] if selector else items)

    @staticmethod
    def Average(source: typing.Any, selector: Callable[[typing.Any], typing.Any] | None = None) -> typing.Any:
        items = [
            v
            for v in ([selector(x) for x in _items(source)] if selector else _items(source))
            if v is not None
        ]
        if not items:
            raise InvalidOperationException(_NO_ELEMENTS)
        total = _sum(items)
        if isinstance(total, Decimal):
            return total / len(items)
        return total / len(items)

    @staticmethod
    def Min(source: typing.Any, selector: Callable[[typing.Any], typing.Any] | None = None) -> typing.Any:
        return min(_non_null_values(source, selector), key=functools.cmp_to_key(default_compare))

    @staticmethod
    def Max(source: typing.Any, selector: Callable[[typing.Any], typing.Any] | None = None) -> typing.Any:
        return max(_non_null_values(source, selector), key=functools.cmp_to_key(default_compare))

    @staticmethod
    def MinBy(source: typing.Any, selector: Callable[[typing.Any], typing.Any]) -> typing.Any:
        items = _items(source)
        if not items:
            return None
        return min(items, key=functools.cmp_to_key(lambda a, b: default_compare(selector(a), selector(b))))

    @staticmethod
    def MaxBy(source: typing.Any, selector: Callable[[typing.Any], typing.Any]) -> typing.Any:
        items = _items(source)
        if not items:
            return None
        best = items[0]
        for x in items[1:]:
            if default_compare(selector(x), selector(best)) > 0:
                best = x
        return best

    @staticmethod
    def Aggregate(source: typing.Any, a: typing.Any, b: typing.Any = None, c: typing.Any = None) -> typing.Any:
        items = _items(source)
        if b is None:
            if not items:
                raise InvalidOperationException(_NO_ELEMENTS)
            acc = items[0]
            for x in items[1:]:
                acc = a(acc, x)
            return acc
        acc = a
        for x in items:
            acc = b(acc, x)
        return c(acc) if c is not None else acc

    @staticmethod
    def SequenceEqual(first: typing.Any, second: typing.Any) -> bool:
        a, b = _items(first), _items(second)
        return len(a) == len(b) and all(object_equals(x, y) for x, y in zip(a, b, strict=True))

    # -- ordering -------------------------------------------------------------------------------
    @staticmethod
    def OrderBy(source: typing.Any, selector: Callable[[typing.Any], typing.Any], comparer: typing.Any = None) -> OrderedList:
        return _ordered(_items(source), [(selector, False, _comparer_func(comparer))])

    @staticmethod
    def OrderByDescending(source: typing.Any, selector: Callable[[typing.Any], typing.Any], comparer: typing.Any = None) -> OrderedList:
        return _ordered(_items(source), [(selector, True, _comparer_func(comparer))])

    @staticmethod
    def ThenBy(source: typing.Any, selector: Callable[[typing.Any], typing.Any], comparer: typing.Any = None) -> OrderedList:
        keys = list(getattr(source, "sort_keys", []))
        return _ordered(_items(source), [*keys, (selector, False, _comparer_func(comparer))])

    @staticmethod
    def ThenByDescending(source: typing.Any, selector: Callable[[typing.Any], typing.Any], comparer: typing.Any = None) -> OrderedList:
        keys = list(getattr(source, "sort_keys", []))
        return _ordered(_items(source), [*keys, (selector, True, _comparer_func(comparer))])

    @staticmethod
    def Order(source: typing.Any) -> OrderedList:
        return _ordered(_items(source), [(lambda x: x, False, None)])

    @staticmethod
    def OrderDescending(source: typing.Any) -> OrderedList:
        return _ordered(_items(source), [(lambda x: x, True, None)])

    @staticmethod
    def Reverse(source: typing.Any) -> list[typing.Any]:
        return list(reversed(_items(source)))

    # -- partitioning ---------------------------------------------------------------------------
    @staticmethod
    def Skip(source: typing.Any, count: int) -> list[typing.Any]:
        return _items(source)[max(count, 0) :]

    @staticmethod
    def Take(source: typing.Any, count: int) -> list[typing.Any]:
        return _items(source)[: max(count, 0)]

    @staticmethod
    def SkipLast(source: typing.Any, count: int) -> list[typing.Any]:
        items = _items(source)
        return items[: len(items) - count] if count > 0 else items

    @staticmethod
    def TakeLast(source: typing.Any, count: int) -> list[typing.Any]:
        items = _items(source)
        return items[len(items) - count :] if count > 0 else []

    @staticmethod
    def SkipWhile(source: typing.Any, predicate: Callable[..., bool]) -> list[typing.Any]:
        f = _indexed(predicate)
        items = _items(source)
        for i, x in enumerate(items):
            if not f(x, i):
                return items[i:]
        return []

    @staticmethod
    def TakeWhile(source: typing.Any, predicate: Callable[..., bool]) -> list[typing.Any]:
        f = _indexed(predicate)
        out = []
        for i, x in enumerate(_items(source)):
            if not f(x, i):
                break
            out.append(x)
        return out

    @staticmethod
    def Chunk(source: typing.Any, size: int) -> list[list[typing.Any]]:
        if size < 1:
            raise ArgumentOutOfRangeException("size")
        items = _items(source)
        return [items[i : i + size] for i in range(0, len(items), size)]

    # -- sets -----------------------------------------------------------------------------------
    @staticmethod
    def Distinct(source: typing.Any, comparer: typing.Any = None) -> list[typing.Any]:
        seen: set[typing.Any] = set()
        out = []
        for x in _items(source):
            k = comparer.key(x) if comparer is not None and hasattr(comparer, "key") else hash_key(x)
            if k not in seen:
                seen.add(k)
                out.append(x)
        return out

    @staticmethod
    def DistinctBy(source: typing.Any, selector: Callable[[typing.Any], typing.Any]) -> list[typing.Any]:
        seen: set[typing.Any] = set()
        out = []
        for x in _items(source):
            k = hash_key(selector(x))
            if k not in seen:
                seen.add(k)
                out.append(x)
        return out

    @staticmethod
    def Union(first: typing.Any, second: typing.Any, comparer: typing.Any = None) -> list[typing.Any]:
        return Enumerable.Distinct(_items(first) + _items(second), comparer)

    @staticmethod
    def Intersect(first: typing.Any, second: typing.Any, comparer: typing.Any = None) -> list[typing.Any]:
        keyf = comparer.key if comparer is not None and hasattr(comparer, "key") else hash_key
        other = {keyf(x) for x in _items(second)}
        return [x for x in Enumerable.Distinct(first, comparer) if keyf(x) in other]

    @staticmethod
    def Except(first: typing.Any, second: typing.Any, comparer: typing.Any = None) -> list[typing.Any]:
        keyf = comparer.key if comparer is not None and hasattr(comparer, "key") else hash_key
        other = {keyf(x) for x in _items(second)}
        return [x for x in Enumerable.Distinct(first, comparer) if keyf(x) not in other]

    @staticmethod
    def Concat(first: typing.Any, second: typing.Any) -> list[typing.Any]:
        head, tail = _items(first), _items(second)
        check_count(len(head) + len(tail))
        return head + tail

    @staticmethod
    def Append(source: typing.Any, item: typing.Any) -> list[typing.Any]:
        return [*_items(source), item]

    @staticmethod
    def Prepend(source: typing.Any, item: typing.Any) -> list[typing.Any]:
        return [item, *_items(source)]

    @staticmethod
    def Zip(first: typing.Any, second: typing.Any, result: Callable[[typing.Any, typing.Any], typing.Any] | None = None) -> list[typing.Any]:
        from .containers import Tuple

        pairs = zip(_items(first), _items(second), strict=False)
        return [result(a, b) if result else Tuple(a, b) for a, b in pairs]

    # -- grouping / conversion ------------------------------------------------------------------
    @staticmethod
    def GroupBy(
        source: typing.Any, key_selector: Callable[[typing.Any], typing.Any], element_selector: typing.Any = None, result: typing.Any = None
    ) -> list[typing.Any]:
        groups: dict[typing.Any, Grouping] = {}
        for x in _items(source):
            k = key_selector(x)
            hk = hash_key(k)
            if hk not in groups:
                groups[hk] = Grouping(k)
            groups[hk].append(element_selector(x) if element_selector else x)
        out = list(groups.values())
        if result is not None:
            return [result(g.Key, g) for g in out]
        return out

    @staticmethod
    def ToList(source: typing.Any) -> list[typing.Any]:
        return _items(source)

    @staticmethod
    def ToArray(source: typing.Any) -> list[typing.Any]:
        return _items(source)

    @staticmethod
    def ToHashSet(source: typing.Any, comparer: typing.Any = None) -> set[typing.Any]:
        from .containers import new_hashset

        return new_hashset(_items(source), comparer) if comparer is not None else new_hashset(_items(source))

    @staticmethod
    def ToDictionary(
        source: typing.Any, key_selector: Callable[[typing.Any], typing.Any], element_selector: typing.Any = None, comparer: typing.Any = None
    ) -> dict[typing.Any, typing.Any]:
        if element_selector is not None and not callable(element_selector):
            element_selector, comparer = None, element_selector
        from .collectionmembers import DictionaryMembers

        result = new_dictionary(comparer) if comparer is not None else new_dictionary()
        for x in _items(source):
            DictionaryMembers.Add(result, key_selector(x), element_selector(x) if element_selector else x)
        return result

    @staticmethod
    def ToLookup(
        source: typing.Any, key_selector: Callable[[typing.Any], typing.Any], element_selector: typing.Any = None
    ) -> Lookup:
        lookup = Lookup()
        for group in Enumerable.GroupBy(source, key_selector, element_selector):
            lookup[group.Key] = group
        return lookup

    @staticmethod
    def AsEnumerable(source: typing.Any) -> typing.Any:
        return source

    # -- generation -----------------------------------------------------------------------------
    @staticmethod
    def Range(start: int, count: int) -> list[int]:
        if count < 0:
            raise ArgumentOutOfRangeException("count")
        check_count(count)
        return list(range(start, start + count))

    @staticmethod
    def Repeat(element: typing.Any, count: int) -> list[typing.Any]:
        if count < 0:
            raise ArgumentOutOfRangeException("count")
        check_count(count)
        return [element] * count

    @staticmethod
    def Empty(type_arg: typing.Any = None) -> list[typing.Any]:
        return []


__all__ = ["Enumerable", "Grouping", "OrderedList"]
