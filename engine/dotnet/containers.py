"""Collections: members of ``list``/``dict``/``set``/``bytes`` values, ``KeyValuePair``, ``Array``
statics, comparer-aware ``Dictionary``/``HashSet`` construction, ``Queue``/``Stack``/``Tuple``.

``ListMembers`` is ``List<T>`` (indexer errors are ``ArgumentOutOfRangeException``),
``ArrayMembers`` is ``T[]`` (``IndexOutOfRangeException``); ``ref`` parameters (``Array.Resize``)
return the new value.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from . import utf16
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    IndexOutOfRangeException,
    InvalidOperationException,
    KeyNotFoundException,
    NullReferenceException,
)
from .limits import bounded_list, check_count


def _equals(a: Any, b: Any) -> bool:
    """``object.Equals`` semantics for runtime values (reference equality for tokens)."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    equals = getattr(a, "Equals", None)
    if equals is not None and not isinstance(a, str | int | float):
        return bool(equals(b))
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return type(a) is type(b) and a == b or (isinstance(a, str) and isinstance(b, str) and str(a) == str(b))


_NO_ARGUMENT = object()


def _out_of_range(name: str = "index") -> ArgumentOutOfRangeException:
    return ArgumentOutOfRangeException(
        name, "Index was out of range. Must be non-negative and less than the size of the collection."
    )


def _default_compare(a: Any, b: Any) -> int:
    if a is None or b is None:
        return 0 if a is b else (-1 if a is None else 1)
    if isinstance(a, str) and isinstance(b, str):
        from .strings import compare_strings

        return compare_strings(a, b)
    compare_to = getattr(a, "CompareTo", None)
    if compare_to is not None and not isinstance(a, int | float | str):
        return compare_to(b)
    return (a > b) - (a < b)


def sort_key(comparison: Callable[[Any, Any], int] | None = None) -> Any:
    """A Python sort key implementing C#'s default (or given) comparison."""
    return functools.cmp_to_key(comparison or _default_compare)


class KeyValuePair:
    """``KeyValuePair<TKey, TValue>``."""

    dotnet_name = "System.Collections.Generic.KeyValuePair"
    __slots__ = ("_key", "_value")

    def __init__(self, key: Any, value: Any) -> None:
        self._key = key
        self._value = value

    @property
    def Key(self) -> Any:
        return self._key

    @property
    def Value(self) -> Any:
        return self._value

    def Deconstruct(self) -> tuple[Any, Any]:
        return self._key, self._value

    def to_json_object(self) -> dict[str, Any]:
        return {"Key": self._key, "Value": self._value}

    def ToString(self) -> str:
        from .conversions import to_string

        return f"[{to_string(self._key)}, {to_string(self._value)}]"

    def Equals(self, other: Any) -> bool:
        return (
            isinstance(other, KeyValuePair)
            and _equals(self._key, other._key)
            and _equals(self._value, other._value)
        )

    def __eq__(self, other: object) -> bool:
        return self.Equals(other)

    def __hash__(self) -> int:
        return hash((self._key,))

    def __repr__(self) -> str:
        return f"KeyValuePair({self._key!r}, {self._value!r})"


class Tuple:
    """``System.Tuple``/``ValueTuple``: ``Item1``... and ``Tuple.Create``."""

    dotnet_name = "System.Tuple"
    __slots__ = ("_items",)

    def __init__(self, *items: Any) -> None:
        self._items = items

    def _item(self, i: int) -> Any:
        if i >= len(self._items):
            raise AttributeError(f"Item{i + 1}")
        return self._items[i]

    Item1 = property(lambda self: self._item(0))
    Item2 = property(lambda self: self._item(1))
    Item3 = property(lambda self: self._item(2))
    Item4 = property(lambda self: self._item(3))
    Item5 = property(lambda self: self._item(4))
    Item6 = property(lambda self: self._item(5))
    Item7 = property(lambda self: self._item(6))

    @staticmethod
    def Create(*items: Any) -> Tuple:
        return Tuple(*items)

    def to_json_object(self) -> dict[str, Any]:
        return {f"Item{i + 1}": item for i, item in enumerate(self._items)}

    def ToString(self) -> str:
        from .conversions import to_string

        return "(" + ", ".join(to_string(x) for x in self._items) + ")"

    def Equals(self, other: Any) -> bool:
        return (
            isinstance(other, Tuple)
            and len(other._items) == len(self._items)
            and all(_equals(a, b) for a, b in zip(self._items, other._items, strict=True))
        )

    def __eq__(self, other: object) -> bool:
        return self.Equals(other)

    def __hash__(self) -> int:
        return hash(len(self._items))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)


# ---------------------------------------------------------------------------------------------
# dictionaries with comparers
# ---------------------------------------------------------------------------------------------


class ComparerDict(dict):  # type: ignore[type-arg]
    """A ``Dictionary<string, T>`` created with ``StringComparer.OrdinalIgnoreCase`` (or another
    case-insensitive comparer): lookups fold case, iteration keeps the keys as first added."""

    def __init__(self, comparer: Any, source: Any = None) -> None:
        super().__init__()
        self.comparer = comparer
        self._index: dict[Any, Any] = {}
        if source:
            for k, v in source.items() if isinstance(source, dict) else source:
                DictionaryMembers.Add(self, k, v)

    def _k(self, key: Any) -> Any:
        return self.comparer.key(key)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._index.get(self._k(key), key))

    def __setitem__(self, key: Any, value: Any) -> None:
        folded = self._k(key)
        original = self._index.setdefault(folded, key)
        super().__setitem__(original, value)

    def __delitem__(self, key: Any) -> None:
        original = self._index.pop(self._k(key))
        super().__delitem__(original)

    def __contains__(self, key: object) -> bool:
        return self._k(key) in self._index

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def clear(self) -> None:
        super().clear()
        self._index.clear()


def new_dictionary(*args: Any) -> dict[Any, Any]:
    """``new Dictionary<K,V>(...)``: ``()``, ``(comparer)``, ``(capacity)``, ``(source[, comparer])``."""
    comparer = next((a for a in args if hasattr(a, "key") and hasattr(a, "ignore_case")), None)
    source = next((a for a in args if isinstance(a, dict) or isinstance(a, list)), None)
    if comparer is not None and comparer.ignore_case:
        return ComparerDict(comparer, source)
    result: dict[Any, Any] = {}
    if source:
        for k, v in source.items() if isinstance(source, dict) else ((kv.Key, kv.Value) for kv in source):
            DictionaryMembers.Add(result, k, v)
    return result


class ComparerSet(set):  # type: ignore[type-arg]
    """A ``HashSet<string>`` created with a case-insensitive comparer: membership folds case, the
    first spelling added is kept."""

    def __init__(self, comparer: Any, items: Iterable[Any] = ()) -> None:
        super().__init__()
        self.comparer = comparer
        self._index: dict[Any, Any] = {}
        for item in items:
            self.add(item)

    def add(self, item: Any) -> None:
        folded = self.comparer.key(item)
        if folded not in self._index:
            self._index[folded] = item
            super().add(item)

    def __contains__(self, item: object) -> bool:
        return self.comparer.key(item) in self._index

    def remove(self, item: Any) -> None:
        super().remove(self._index.pop(self.comparer.key(item)))

    def discard(self, item: Any) -> None:
        if item in self:
            self.remove(item)

    def clear(self) -> None:
        super().clear()
        self._index.clear()


def new_hashset(*args: Any) -> set[Any]:
    """``new HashSet<T>(...)``: ``()``, ``(source)``, ``(source, comparer)``, ``(comparer)``."""
    comparer = next((a for a in args if hasattr(a, "key") and hasattr(a, "ignore_case")), None)
    source = next((a for a in args if a is not comparer and a is not None and not isinstance(a, int)), None)
    items = bounded_list(iterate(source)) if source is not None else []
    if comparer is not None and comparer.ignore_case:
        return ComparerSet(comparer, items)
    return set(items)


def iterate(value: Any) -> Iterator[Any]:
    """What C#'s ``foreach`` yields: chars for strings, ``KeyValuePair`` for dictionaries and
    ``JObject``s, elements otherwise."""
    from .primitives import Char

    if value is None:
        raise NullReferenceException()
    if isinstance(value, str):
        return (Char(c) for c in utf16.units(value))
    if isinstance(value, dict):
        return (KeyValuePair(k, v) for k, v in list(value.items()))
    if isinstance(value, bytes | bytearray):
        return iter(list(value))
    get_enumerator = getattr(value, "GetEnumerator", None)
    if get_enumerator is not None:
        return iter(get_enumerator())
    try:
        return iter(value)
    except TypeError as exc:
        from .errors import InvalidCastException

        raise InvalidCastException("Object is not enumerable.") from exc


# ---------------------------------------------------------------------------------------------
# members of built-in-represented collections
# ---------------------------------------------------------------------------------------------


class StringArrayDictionary(dict):  # type: ignore[type-arg]
    """An APIM ``IReadOnlyDictionary<string, string[]>`` (JWT claims): ``GetValueOrDefault`` joins
    the values with commas, like APIM's extension for headers and query parameters."""


class DictionaryMembers:
    """Members of ``Dictionary<K,V>`` / ``IDictionary`` values (``dict``)."""

    @staticmethod
    def Count(d: dict[Any, Any]) -> int:
        return len(d)

    @staticmethod
    def Keys(d: dict[Any, Any]) -> list[Any]:
        return list(d.keys())

    @staticmethod
    def Values(d: dict[Any, Any]) -> list[Any]:
        return list(d.values())

    @staticmethod
    def Item(d: dict[Any, Any], key: Any) -> Any:
        if key is None:
            raise ArgumentNullException("key")
        if key not in d:
            from .conversions import to_string

            raise KeyNotFoundException(f"The given key '{to_string(key)}' was not present in the dictionary.")
        return d[key]

    @staticmethod
    def SetItem(d: dict[Any, Any], key: Any, value: Any) -> None:
        if key is None:
            raise ArgumentNullException("key")
        d[key] = value

    @staticmethod
    def ContainsKey(d: dict[Any, Any], key: Any) -> bool:
        if key is None:
            raise ArgumentNullException("key")
        return key in d

    @staticmethod
    def ContainsValue(d: dict[Any, Any], value: Any) -> bool:
        return any(_equals(v, value) for v in d.values())

    @staticmethod
    def TryGetValue(d: dict[Any, Any], key: Any) -> tuple[bool, Any]:
        if key is None:
            raise ArgumentNullException("key")
        if key in d:
            return True, d[key]
        return False, None

    @staticmethod
    def GetValueOrDefault(d: dict[Any, Any], key: Any, default: Any = None) -> Any:
        if key is None:
            raise ArgumentNullException("key")
        if key not in d:
            return default
        value = d[key]
        if isinstance(d, StringArrayDictionary) and isinstance(value, list):
            return ",".join(value)
        return value

    @staticmethod
    def Add(d: dict[Any, Any], key: Any, value: Any = None) -> None:
        if isinstance(key, KeyValuePair):
            key, value = key.Key, key.Value
        if key is None:
            raise ArgumentNullException("key")
        if key in d:
            from .conversions import to_string

            raise ArgumentException(
                f"An item with the same key has already been added. Key: {to_string(key)}"
            )
        d[key] = value

    @staticmethod
    def TryAdd(d: dict[Any, Any], key: Any, value: Any) -> bool:
        if key is None:
            raise ArgumentNullException("key")
        if key in d:
            return False
        d[key] = value
        return True

    @staticmethod
    def Remove(d: dict[Any, Any], key: Any) -> bool:
        if key is None:
            raise ArgumentNullException("key")
        if key in d:
            del d[key]
            return True
        return False

    @staticmethod
    def Clear(d: dict[Any, Any]) -> None:
        d.clear()

    @staticmethod
    def GetEnumerator(d: dict[Any, Any]) -> Iterator[KeyValuePair]:
        return (KeyValuePair(k, v) for k, v in list(d.items()))

    @staticmethod
    def ToString(d: dict[Any, Any]) -> str:
        return "System.Collections.Generic.Dictionary`2[System.String,System.Object]"

    @staticmethod
    def Equals(d: dict[Any, Any], other: Any) -> bool:
        """``object.Equals``: a dictionary equals only itself."""
        return d is other


def _check_list_index(items: list[Any], index: Any, array: bool) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(items):
        if array:
            raise IndexOutOfRangeException()
        raise _out_of_range()
    return index


class ListMembers:
    """Members of ``List<T>`` values (``list``)."""

    @staticmethod
    def Count(items: list[Any]) -> int:
        return len(items)

    @staticmethod
    def Capacity(items: list[Any]) -> int:
        return len(items)

    @staticmethod
    def Equals(items: list[Any], other: Any) -> bool:
        """``object.Equals``: a list equals only itself."""
        return items is other

    @staticmethod
    def BinarySearch(items: list[Any], value: Any, comparer: Any = None) -> int:
        """Index of ``value`` in the sorted list, or the bitwise complement of where it would go."""
        compare = comparer.Compare if comparer is not None and hasattr(comparer, "Compare") else _default_compare
        lo, hi = 0, len(items) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            order = compare(items[mid], value)
            if order == 0:
                return mid
            if order < 0:
                lo = mid + 1
            else:
                hi = mid - 1
        return ~lo

    @staticmethod
    def Item(items: list[Any], index: int) -> Any:
        return items[_check_list_index(items, index, False)]

    @staticmethod
    def SetItem(items: list[Any], index: int, value: Any) -> None:
        items[_check_list_index(items, index, False)] = value

    @staticmethod
    def Add(items: list[Any], value: Any) -> None:
        items.append(value)

    @staticmethod
    def AddRange(items: list[Any], values: Iterable[Any]) -> None:
        if values is None:
            raise ArgumentNullException("collection")
        added = bounded_list(iterate(values))
        check_count(len(items) + len(added))
        items.extend(added)

    @staticmethod
    def Insert(items: list[Any], index: int, value: Any) -> None:
        if not 0 <= index <= len(items):
            raise ArgumentOutOfRangeException("index", "Index must be within the bounds of the List.")
        items.insert(index, value)

    @staticmethod
    def InsertRange(items: list[Any], index: int, values: Iterable[Any]) -> None:
        if not 0 <= index <= len(items):
            raise ArgumentOutOfRangeException("index", "Index must be within the bounds of the List.")
        added = bounded_list(iterate(values))
        check_count(len(items) + len(added))
        items[index:index] = added

    @staticmethod
    def Remove(items: list[Any], value: Any = _NO_ARGUMENT) -> Any:
        """``list.Remove(value)``; without an argument LINQ to XML's ``Remove()`` extension on a
        sequence of nodes or attributes (``e.Elements("b").Remove()``) removes each from its parent."""
        if value is _NO_ARGUMENT:
            from .xlinq import XAttribute, XNode

            if not all(isinstance(item, XNode | XAttribute) for item in items):
                raise ArgumentException("Remove() without an argument removes XML nodes or attributes.")
            for item in list(items):
                if item.Parent is not None or isinstance(item, XNode) and item.Document is not None:
                    item.Remove()
            return None
        for i, item in enumerate(items):
            if _equals(item, value):
                del items[i]
                return True
        return False

    @staticmethod
    def RemoveAt(items: list[Any], index: int) -> None:
        del items[_check_list_index(items, index, False)]

    @staticmethod
    def RemoveRange(items: list[Any], index: int, count: int) -> None:
        if index < 0 or count < 0 or index + count > len(items):
            raise ArgumentException(
                "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection."
            )
        del items[index : index + count]

    @staticmethod
    def RemoveAll(items: list[Any], predicate: Callable[[Any], bool]) -> int:
        keep = [x for x in items if not predicate(x)]
        removed = len(items) - len(keep)
        items[:] = keep
        return removed

    @staticmethod
    def Clear(items: list[Any]) -> None:
        items.clear()

    @staticmethod
    def Contains(items: list[Any], value: Any, comparer: Any = None) -> bool:
        """``List.Contains(value)`` and LINQ's ``Contains(value, comparer)``."""
        if comparer is not None:
            return any(comparer.Equals(x, value) for x in items)
        return any(_equals(x, value) for x in items)

    @staticmethod
    def IndexOf(items: list[Any], value: Any, start: int = 0) -> int:
        for i in range(start, len(items)):
            if _equals(items[i], value):
                return i
        return -1

    @staticmethod
    def LastIndexOf(items: list[Any], value: Any) -> int:
        for i in range(len(items) - 1, -1, -1):
            if _equals(items[i], value):
                return i
        return -1

    @staticmethod
    def Sort(items: list[Any], comparison: Any = None) -> None:
        if comparison is not None and hasattr(comparison, "Compare"):
            comparison = comparison.Compare
        items.sort(key=sort_key(comparison))

    @staticmethod
    def Reverse(items: list[Any], index: int | None = None, count: int | None = None) -> None:
        if index is None:
            items.reverse()
        else:
            items[index : index + (count or 0)] = items[index : index + (count or 0)][::-1]

    @staticmethod
    def ToArray(items: list[Any]) -> list[Any]:
        return list(items)

    @staticmethod
    def Find(items: list[Any], predicate: Callable[[Any], bool]) -> Any:
        return next((x for x in items if predicate(x)), None)

    @staticmethod
    def FindLast(items: list[Any], predicate: Callable[[Any], bool]) -> Any:
        return next((x for x in reversed(items) if predicate(x)), None)

    @staticmethod
    def FindAll(items: list[Any], predicate: Callable[[Any], bool]) -> list[Any]:
        return [x for x in items if predicate(x)]

    @staticmethod
    def FindIndex(items: list[Any], predicate: Callable[[Any], bool]) -> int:
        return next((i for i, x in enumerate(items) if predicate(x)), -1)

    @staticmethod
    def Exists(items: list[Any], predicate: Callable[[Any], bool]) -> bool:
        return any(predicate(x) for x in items)

    @staticmethod
    def TrueForAll(items: list[Any], predicate: Callable[[Any], bool]) -> bool:
        return all(predicate(x) for x in items)

    @staticmethod
    def ForEach(items: list[Any], action: Callable[[Any], Any]) -> None:
        for x in list(items):
            action(x)

    @staticmethod
    def GetRange(items: list[Any], index: int, count: int) -> list[Any]:
        if index < 0 or count < 0 or index + count > len(items):
            raise ArgumentException(
                "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection."
            )
        return items[index : index + count]

    @staticmethod
    def ConvertAll(items: list[Any], converter: Callable[[Any], Any]) -> list[Any]:
        return [converter(x) for x in items]

    @staticmethod
    def GetEnumerator(items: list[Any]) -> Iterator[Any]:
        return iter(list(items))

    @staticmethod
    def ToString(items: list[Any]) -> str:
        return "System.Collections.Generic.List`1[System.Object]"


class ArrayMembers:
    """Members of ``T[]`` values (``list``; ``byte[]`` is ``bytes``/``bytearray``)."""

    @staticmethod
    def Length(items: Any) -> int:
        return len(items)

    LongLength = Length

    @staticmethod
    def Rank(items: Any) -> int:
        return 1

    @staticmethod
    def Item(items: Any, index: int) -> Any:
        return items[_check_list_index(items, index, True)]

    @staticmethod
    def SetItem(items: Any, index: int, value: Any) -> None:
        items[_check_list_index(items, index, True)] = value

    @staticmethod
    def Clone(items: Any) -> Any:
        return bytearray(items) if isinstance(items, bytes | bytearray) else list(items)

    @staticmethod
    def CopyTo(items: Any, target: Any, index: int) -> None:
        Array.Copy(items, 0, target, index, len(items))

    @staticmethod
    def GetValue(items: Any, index: int) -> Any:
        return ArrayMembers.Item(items, index)

    @staticmethod
    def GetLength(items: Any, dimension: int) -> int:
        return len(items)

    @staticmethod
    def ToString(items: Any) -> str:
        from .conversions import to_string

        return to_string(items)


class BytesMembers(ArrayMembers):
    """Members of ``byte[]`` values."""


class SetMembers:
    """Members of ``HashSet<T>`` values (``set``)."""

    @staticmethod
    def Count(s: set[Any]) -> int:
        return len(s)

    @staticmethod
    def Add(s: set[Any], value: Any) -> bool:
        if value in s:
            return False
        s.add(value)
        return True

    @staticmethod
    def Remove(s: set[Any], value: Any) -> bool:
        if value in s:
            s.remove(value)
            return True
        return False

    @staticmethod
    def Contains(s: set[Any], value: Any) -> bool:
        return value in s

    @staticmethod
    def Equals(s: set[Any], other: Any) -> bool:
        """``object.Equals``: a set equals only itself."""
        return s is other

    @staticmethod
    def Clear(s: set[Any]) -> None:
        s.clear()

    @staticmethod
    def UnionWith(s: set[Any], other: Iterable[Any]) -> None:
        s.update(iterate(other))

    @staticmethod
    def IntersectWith(s: set[Any], other: Iterable[Any]) -> None:
        s.intersection_update(set(iterate(other)))

    @staticmethod
    def ExceptWith(s: set[Any], other: Iterable[Any]) -> None:
        s.difference_update(set(iterate(other)))

    @staticmethod
    def SetEquals(s: set[Any], other: Iterable[Any]) -> bool:
        return s == set(iterate(other))

    @staticmethod
    def IsSubsetOf(s: set[Any], other: Iterable[Any]) -> bool:
        return s <= set(iterate(other))

    @staticmethod
    def IsSupersetOf(s: set[Any], other: Iterable[Any]) -> bool:
        return s >= set(iterate(other))

    @staticmethod
    def Overlaps(s: set[Any], other: Iterable[Any]) -> bool:
        return bool(s & set(iterate(other)))

    @staticmethod
    def GetEnumerator(s: set[Any]) -> Iterator[Any]:
        return iter(list(s))


class Queue:
    """``Queue<T>``."""

    dotnet_name = "System.Collections.Generic.Queue"

    def __init__(self, source: Any = None) -> None:
        self._items: deque[Any] = deque(
            iterate(source) if source is not None and not isinstance(source, int) else []
        )

    @property
    def Count(self) -> int:
        return len(self._items)

    def Enqueue(self, item: Any) -> None:
        self._items.append(item)

    def Dequeue(self) -> Any:
        if not self._items:
            raise InvalidOperationException("Queue empty.")
        return self._items.popleft()

    def Peek(self) -> Any:
        if not self._items:
            raise InvalidOperationException("Queue empty.")
        return self._items[0]

    def TryDequeue(self) -> tuple[bool, Any]:
        return (True, self._items.popleft()) if self._items else (False, None)

    def Contains(self, item: Any) -> bool:
        return any(_equals(x, item) for x in self._items)

    def Clear(self) -> None:
        self._items.clear()

    def ToArray(self) -> list[Any]:
        return list(self._items)

    def GetEnumerator(self) -> Iterator[Any]:
        return iter(list(self._items))


class Stack:
    """``Stack<T>``."""

    dotnet_name = "System.Collections.Generic.Stack"

    def __init__(self, source: Any = None) -> None:
        self._items: list[Any] = (
            bounded_list(iterate(source)) if source is not None and not isinstance(source, int) else []
        )

    @property
    def Count(self) -> int:
        return len(self._items)

    def Push(self, item: Any) -> None:
        self._items.append(item)

    def Pop(self) -> Any:
        if not self._items:
            raise InvalidOperationException("Stack empty.")
        return self._items.pop()

    def Peek(self) -> Any:
        if not self._items:
            raise InvalidOperationException("Stack empty.")
        return self._items[-1]

    def TryPop(self) -> tuple[bool, Any]:
        return (True, self._items.pop()) if self._items else (False, None)

    def Contains(self, item: Any) -> bool:
        return any(_equals(x, item) for x in self._items)

    def Clear(self) -> None:
        self._items.clear()

    def ToArray(self) -> list[Any]:
        return list(reversed(self._items))

    def GetEnumerator(self) -> Iterator[Any]:
        return iter(list(reversed(self._items)))


class RectangularArray:
    """A C# multi-dimensional array (`new int[2, 3]`): `a[i, j]`, `Length`, `Rank`, `GetLength(d)`."""

    dotnet_name = "System.Array"
    __slots__ = ("_dims", "_items")

    def __init__(self, dims: list[int], default: Any) -> None:
        total = 1
        for d in dims:
            if not isinstance(d, int) or d < 0:
                from .errors import OverflowException

                raise OverflowException("Arithmetic operation resulted in an overflow.")
            total *= d
        self._dims = list(dims)
        self._items = [default] * total

    def _offset(self, key: tuple[Any, ...]) -> int:
        if len(key) != len(self._dims):
            from .errors import ArgumentException

            raise ArgumentException("Indices length does not match the array rank.")
        offset = 0
        for index, dim in zip(key, self._dims, strict=True):
            if not isinstance(index, int) or not 0 <= index < dim:
                raise IndexOutOfRangeException()
            offset = offset * dim + index
        return offset

    def __getitem__(self, key: tuple[Any, ...]) -> Any:
        return self._items[self._offset(key)]

    def __setitem__(self, key: tuple[Any, ...], value: Any) -> None:
        self._items[self._offset(key)] = value

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items))

    @property
    def Length(self) -> int:
        return len(self._items)

    @property
    def Rank(self) -> int:
        return len(self._dims)

    def GetLength(self, dimension: int) -> int:
        if not 0 <= dimension < len(self._dims):
            raise IndexOutOfRangeException()
        return self._dims[dimension]

    def GetUpperBound(self, dimension: int) -> int:
        return self.GetLength(dimension) - 1

    def GetLowerBound(self, dimension: int) -> int:
        self.GetLength(dimension)
        return 0


def _zero_like(value: Any) -> Any:
    """``default(T)`` for the element type of an array holding ``value``."""
    from .primitives import Char

    if isinstance(value, bool):
        return False
    if isinstance(value, Char):
        return Char("\0")
    if isinstance(value, int | float | Decimal):
        return type(value)(0)
    return None


class Array:
    """Statics of ``System.Array``."""

    dotnet_name = "System.Array"

    @staticmethod
    def Copy(src: Any, a: Any, b: Any = None, c: Any = None, d: Any = None) -> None:
        if d is None:
            dst, length, si, di = a, b, 0, 0
        else:
            si, dst, di, length = a, b, c, d
        if src is None:
            raise ArgumentNullException("sourceArray")
        if dst is None:
            raise ArgumentNullException("destinationArray")
        if length < 0 or si < 0 or di < 0:
            raise ArgumentOutOfRangeException("length", "Non-negative number required.")
        if si + length > len(src):
            raise ArgumentException(
                "Source array was not long enough. Check the source index, length, and the array's lower bounds.",
                "sourceArray",
            )
        if di + length > len(dst):
            raise ArgumentException(
                "Destination array was not long enough. Check the destination index, length, and the array's lower bounds.",
                "destinationArray",
            )
        if isinstance(dst, bytes):
            from .errors import NotSupportedException

            raise NotSupportedException(
                "The destination byte array is read-only here; create it with new byte[n]."
            )
        dst[di : di + length] = src[si : si + length]

    @staticmethod
    def Empty(type_arg: Any = None) -> list[Any]:
        return []

    @staticmethod
    def IndexOf(items: Any, value: Any, start: int = 0) -> int:
        return ListMembers.IndexOf(list(items), value, start)

    @staticmethod
    def LastIndexOf(items: Any, value: Any) -> int:
        return ListMembers.LastIndexOf(list(items), value)

    @staticmethod
    def Reverse(items: Any, index: int | None = None, length: int | None = None) -> None:
        if index is None:
            items[:] = items[::-1]
        else:
            items[index : index + (length or 0)] = items[index : index + (length or 0)][::-1]

    @staticmethod
    def Sort(items: Any, comparison: Any = None) -> None:
        if comparison is not None and hasattr(comparison, "Compare"):
            comparison = comparison.Compare
        items[:] = sorted(items, key=sort_key(comparison))

    @staticmethod
    def Resize(items: Any, size: int) -> tuple[None, Any]:
        """``Array.Resize(ref a, n)``: the new array is written back to ``a`` (a ``ref`` argument)."""
        if size < 0:
            raise ArgumentOutOfRangeException("newSize", "Non-negative number required.")
        base = list(items) if items is not None else []
        if isinstance(items, bytes | bytearray):
            return None, bytearray(bytes(base[:size]).ljust(size, b"\0"))
        return None, base[:size] + [_zero_like(base[0]) if base else None] * max(0, size - len(base))

    @staticmethod
    def BinarySearch(items: Any, value: Any, comparer: Any = None) -> int:
        return ListMembers.BinarySearch(list(items), value, comparer)

    @staticmethod
    def Exists(items: Any, predicate: Callable[[Any], bool]) -> bool:
        return any(predicate(x) for x in items)

    @staticmethod
    def Find(items: Any, predicate: Callable[[Any], bool]) -> Any:
        return next((x for x in items if predicate(x)), None)

    @staticmethod
    def FindAll(items: Any, predicate: Callable[[Any], bool]) -> list[Any]:
        return [x for x in items if predicate(x)]

    @staticmethod
    def FindIndex(items: Any, predicate: Callable[[Any], bool]) -> int:
        return next((i for i, x in enumerate(items) if predicate(x)), -1)

    @staticmethod
    def TrueForAll(items: Any, predicate: Callable[[Any], bool]) -> bool:
        return all(predicate(x) for x in items)

    @staticmethod
    def ConvertAll(items: Any, converter: Callable[[Any], Any]) -> list[Any]:
        return [converter(x) for x in items]

    @staticmethod
    def Clear(items: Any, index: int = 0, length: int | None = None) -> None:
        end = len(items) if length is None else index + length
        zero: Any = 0 if isinstance(items, bytearray) else None
        for i in range(index, end):
            items[i] = zero

    @staticmethod
    def Fill(items: Any, value: Any) -> None:
        for i in range(len(items)):
            items[i] = value


__all__ = [
    "Array",
    "ArrayMembers",
    "BytesMembers",
    "ComparerDict",
    "ComparerSet",
    "DictionaryMembers",
    "KeyValuePair",
    "ListMembers",
    "Queue",
    "SetMembers",
    "Stack",
    "StringArrayDictionary",
    "Tuple",
    "iterate",
    "new_dictionary",
    "new_hashset",
    "sort_key",
]
