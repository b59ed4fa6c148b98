"""What the collection members and the collection types share: how items are ordered by default,
``KeyValuePair``, what ``foreach`` yields, and the operations that are both an instance member and an ``Array`` static (``IndexOf``, ``BinarySearch``, ``Copy``...)
or both a member and a constructor's work (``Dictionary.Add``). How items compare is
``equality``'s one rule.

``collectionmembers`` (members of ``list``/``dict``/``set``/``bytes`` values) and ``containers``
(``Tuple``, ``Queue``, ``Stack``, ``Array`` statics, comparer-aware ``Dictionary``/``HashSet``)
both build on this module and not on each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from . import utf16
from .equality import object_equals
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    IndexOutOfRangeException,
    NotSupportedException,
    NullReferenceException,
)


def default_compare(a: Any, b: Any) -> int:
    """``Comparer<T>.Default``: null first, strings culture-aware, else the value's ``CompareTo``."""
    if a is None or b is None:
        return 0 if a is b else (-1 if a is None else 1)
    if isinstance(a, str) and isinstance(b, str):
        from .strings import compare_strings

        return compare_strings(a, b)
    compare_to = getattr(a, "CompareTo", None)
    if compare_to is not None and not isinstance(a, int | float | str):
        order: int = compare_to(b)
        return order
    return int(a > b) - int(a < b)


def sort_key(comparison: Callable[[Any, Any], int] | None = None) -> Any:
    """A Python sort key implementing C#'s default (or given) comparison."""
    return functools.cmp_to_key(comparison or default_compare)


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
            and object_equals(self._key, other._key)
            and object_equals(self._value, other._value)
        )

    def __eq__(self, other: object) -> bool:
        return self.Equals(other)

    def __hash__(self) -> int:
        return hash((self._key,))

    def __repr__(self) -> str:
        return f"KeyValuePair({self._key!r}, {self._value!r})"


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


def check_index(items: Any, index: Any, array: bool) -> int:
    """``index`` if it is inside ``items``; else what ``T[]`` (``array``) or ``List<T>`` throws."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(items):
        if array:
            raise IndexOutOfRangeException()
        raise ArgumentOutOfRangeException(
            "index", "Index was out of range. Must be non-negative and less than the size of the collection."
        )
    return index


def add_entry(d: dict[Any, Any], key: Any, value: Any = None) -> None:
    """``Dictionary.Add(key, value)`` (or ``Add(KeyValuePair)``): a present key is an error."""
    if isinstance(key, KeyValuePair):
        key, value = key.Key, key.Value
    if key is None:
        raise ArgumentNullException("key")
    if key in d:
        from .conversions import to_string

        raise ArgumentException(f"An item with the same key has already been added. Key: {to_string(key)}")
    d[key] = value


def index_of(items: Any, value: Any, start: int = 0) -> int:
    """``IndexOf(value[, start])`` of a list or an array: -1 when absent."""
    for i in range(start, len(items)):
        if object_equals(items[i], value):
            return i
    return -1


def last_index_of(items: Any, value: Any) -> int:
    for i in range(len(items) - 1, -1, -1):
        if object_equals(items[i], value):
            return i
    return -1


def binary_search(items: Any, value: Any, comparer: Any = None) -> int:
    """Index of ``value`` in the sorted ``items``, or the bitwise complement of where it would go."""
    compare = comparer.Compare if comparer is not None and hasattr(comparer, "Compare") else default_compare
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


def copy_array(src: Any, a: Any, b: Any = None, c: Any = None, d: Any = None) -> None:
    """``Array.Copy(src, dst, length)`` / ``Array.Copy(src, srcIndex, dst, dstIndex, length)``."""
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
        raise NotSupportedException("The destination byte array is read-only here; create it with new byte[n].")
    dst[di : di + length] = src[si : si + length]


__all__ = [
    "KeyValuePair",
    "add_entry",
    "binary_search",
    "check_index",
    "copy_array",
    "default_compare",
    "index_of",
    "iterate",
    "last_index_of",
    "sort_key",
]
