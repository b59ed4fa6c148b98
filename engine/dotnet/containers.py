"""Collection types and statics: ``Tuple``, comparer-aware ``Dictionary``/``HashSet`` construction,
``Queue``, ``Stack``, multi-dimensional arrays and the ``System.Array`` statics.

Members of ``list``/``dict``/``set``/``bytes`` values are in ``collectionmembers``; what both use
(item equality and ordering, ``KeyValuePair``, ``foreach``) is in ``collectioncore``. ``ref``
parameters (``Array.Resize``) return the new value.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from .collectioncore import (
    add_entry,
    binary_search,
    copy_array,
    index_of,
    iterate,
    last_index_of,
    sort_key,
)
from .equality import hash_key, object_equals
from .errors import (
    ArgumentException,
    ArgumentOutOfRangeException,
    IndexOutOfRangeException,
    InvalidOperationException,
)
from .keyed import KeyedDict, KeyedSet
from .limits import bounded_list


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
            and all(object_equals(a, b) for a, b in zip(self._items, other._items, strict=True))
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


def _key_of(args: tuple[Any, ...]) -> Any:
    """The key function of the comparer among a constructor's arguments (default: ``hash_key``)."""
    comparer = next((a for a in args if hasattr(a, "key") and hasattr(a, "ignore_case")), None)
    return comparer.key if comparer is not None and comparer.ignore_case else hash_key


def new_dictionary(*args: Any) -> KeyedDict:
    """``new Dictionary<K,V>(...)``: ``()``, ``(comparer)``, ``(capacity)``, ``(source[, comparer])``."""
    if not args:
        return KeyedDict()
    source = next((a for a in args if isinstance(a, dict) or isinstance(a, list)), None)
    result = KeyedDict(_key_of(args))
    if source:
        for k, v in source.items() if isinstance(source, dict) else ((kv.Key, kv.Value) for kv in source):
            add_entry(result, k, v)
    return result


def new_hashset(*args: Any) -> KeyedSet:
    """``new HashSet<T>(...)``: ``()``, ``(source)``, ``(source, comparer)``, ``(comparer)``."""
    if not args:
        return KeyedSet()
    key = _key_of(args)
    source = next((a for a in args if getattr(a, "key", None) is None and a is not None and not isinstance(a, int)),
                  None)
    return KeyedSet(bounded_list(iterate(source)) if source is not None else (), key)


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
        return any(object_equals(x, item) for x in self._items)

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
        return any(object_equals(x, item) for x in self._items)

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
        copy_array(src, a, b, c, d)

    @staticmethod
    def Empty(type_arg: Any = None) -> list[Any]:
        return []

    @staticmethod
    def IndexOf(items: Any, value: Any, start: int = 0) -> int:
        return index_of(list(items), value, start)

    @staticmethod
    def LastIndexOf(items: Any, value: Any) -> int:
        return last_index_of(list(items), value)

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
        return binary_search(list(items), value, comparer)

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
    "Queue",
    "RectangularArray",
    "Stack",
    "Tuple",
    "new_dictionary",
    "new_hashset",
]
