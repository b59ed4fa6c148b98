"""Members of collections held as Python built-ins: ``Dictionary<K,V>`` (``dict``), ``List<T>``
and ``T[]`` (``list``), ``byte[]`` (``bytes``/``bytearray``), ``HashSet<T>`` (``set``).

``ListMembers`` is ``List<T>`` (indexer errors are ``ArgumentOutOfRangeException``),
``ArrayMembers`` is ``T[]`` (``IndexOutOfRangeException``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .collectioncore import (
    KeyValuePair,
    add_entry,
    binary_search,
    check_index,
    copy_array,
    index_of,
    iterate,
    last_index_of,
    sort_key,
)
from .equality import hash_key, object_equals
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    KeyNotFoundException,
)
from .keyed import KeyedSet, hashset_add, hashset_contains
from .limits import bounded_list, check_count

_NO_ARGUMENT = object()  # `e.Elements().Remove()`: LINQ to XML's Remove() extension, not List.Remove(value)
_ABSENT: Any = object()  # TryGetValue: no entry (a value may be null)


class StringArrayDictionary(dict[str, Any]):
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
        return any(object_equals(v, value) for v in d.values())

    @staticmethod
    def TryGetValue(d: dict[Any, Any], key: Any) -> tuple[bool, Any]:
        if key is None:
            raise ArgumentNullException("key")
        value = d.get(key, _ABSENT)
        return (False, None) if value is _ABSENT else (True, value)

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

    Add = staticmethod(add_entry)

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

    BinarySearch = staticmethod(binary_search)

    @staticmethod
    def Item(items: list[Any], index: int) -> Any:
        return items[check_index(items, index, False)]

    @staticmethod
    def SetItem(items: list[Any], index: int, value: Any) -> None:
        items[check_index(items, index, False)] = value

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
            if object_equals(item, value):
                del items[i]
                return True
        return False

    @staticmethod
    def RemoveAt(items: list[Any], index: int) -> None:
        del items[check_index(items, index, False)]

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
        return any(object_equals(x, value) for x in items)

    IndexOf = staticmethod(index_of)
    LastIndexOf = staticmethod(last_index_of)

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
        return items[check_index(items, index, True)]

    @staticmethod
    def SetItem(items: Any, index: int, value: Any) -> None:
        items[check_index(items, index, True)] = value

    @staticmethod
    def Clone(items: Any) -> Any:
        return bytearray(items) if isinstance(items, bytes | bytearray) else list(items)

    @staticmethod
    def CopyTo(items: Any, target: Any, index: int) -> None:
        copy_array(items, 0, target, index, len(items))

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


def _keys(s: set[Any], other: Iterable[Any]) -> set[Any]:
    """The keys of ``other``'s items under the comparison of ``s``."""
    key = s.key_function if isinstance(s, KeyedSet) else hash_key
    return {key(x) for x in iterate(other)}


def _own_keys(s: set[Any]) -> set[Any]:
    return s.key_set() if isinstance(s, KeyedSet) else {hash_key(x) for x in s}


def _distinct(s: set[Any], other: Iterable[Any]) -> list[Any]:
    """``other``'s items, the first of each key under the comparison of ``s``."""
    key = s.key_function if isinstance(s, KeyedSet) else hash_key
    seen: set[Any] = set()
    found = []
    for x in iterate(other):
        k = key(x)
        if k not in seen:
            seen.add(k)
            found.append(x)
    return found


def _retain(s: set[Any], keep: Callable[[Any], bool]) -> None:
    if isinstance(s, KeyedSet):
        s.retain(keep)
    else:
        for item in list(s):
            if not keep(hash_key(item)):
                s.discard(item)


class SetMembers:
    """Members of ``HashSet<T>`` values (``set``)."""

    @staticmethod
    def Count(s: set[Any]) -> int:
        return len(s)

    Add = staticmethod(hashset_add)

    @staticmethod
    def Remove(s: set[Any], value: Any) -> bool:
        if value in s:
            s.remove(value)
            return True
        return False

    Contains = staticmethod(hashset_contains)

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
        keys = _keys(s, other)
        _retain(s, lambda k: k in keys)

    @staticmethod
    def ExceptWith(s: set[Any], other: Iterable[Any]) -> None:
        keys = _keys(s, other)
        _retain(s, lambda k: k not in keys)

    @staticmethod
    def SymmetricExceptWith(s: set[Any], other: Iterable[Any]) -> None:
        for item in _distinct(s, other):
            if item in s:
                s.discard(item)
            else:
                s.add(item)

    @staticmethod
    def RemoveWhere(s: set[Any], predicate: Callable[[Any], bool]) -> int:
        """Remove the members ``predicate`` holds for; how many were removed."""
        doomed = [x for x in list(s) if predicate(x)]
        for item in doomed:
            s.discard(item)
        return len(doomed)

    @staticmethod
    def SetEquals(s: set[Any], other: Iterable[Any]) -> bool:
        return _own_keys(s) == _keys(s, other)

    @staticmethod
    def IsSubsetOf(s: set[Any], other: Iterable[Any]) -> bool:
        return _own_keys(s) <= _keys(s, other)

    @staticmethod
    def IsProperSubsetOf(s: set[Any], other: Iterable[Any]) -> bool:
        return _own_keys(s) < _keys(s, other)

    @staticmethod
    def IsSupersetOf(s: set[Any], other: Iterable[Any]) -> bool:
        return _own_keys(s) >= _keys(s, other)

    @staticmethod
    def IsProperSupersetOf(s: set[Any], other: Iterable[Any]) -> bool:
        return _own_keys(s) > _keys(s, other)

    @staticmethod
    def Overlaps(s: set[Any], other: Iterable[Any]) -> bool:
        return any(x in s for x in iterate(other))

    @staticmethod
    def GetEnumerator(s: set[Any]) -> Iterator[Any]:
        return iter(list(s))


__all__ = [
    "ArrayMembers",
    "BytesMembers",
    "DictionaryMembers",
    "ListMembers",
    "SetMembers",
    "StringArrayDictionary",
]
