"""``HashSet<T>`` and ``Dictionary<K,V>`` storage keyed as .NET keys them.

Python's own ``set``/``dict`` merge values .NET keeps apart (``1 == 1.0 == Decimal(1)``, a char is a
one-character string, ``nan != nan``). A :class:`KeyedSet` / :class:`KeyedDict` finds its entries by a
key function: ``equality.hash_key`` (``EqualityComparer<T>.Default``), or a comparer's ``key``
(``StringComparer.OrdinalIgnoreCase``). The first value added under a key is the one kept.

Entries live in a slot table as in .NET: enumeration runs in slot order, and a removed entry's slot
is reused by the next addition, the last freed first (so ``{1, 2, 3}``, ``Remove(2)``, ``Add(4)``
enumerates ``1, 4, 3`` as on .NET). The classes stay ``set``/``dict`` subclasses so that the rest of
the runtime sees a set or a dictionary; the inherited storage mirrors the entries for code that
reads it directly (it may merge two entries Python finds equal, which nothing of the engine reads).
``==`` between two of them is identity, as C#'s ``==`` on these reference types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .equality import hash_key
from .errors import InvalidOperationException

_HOLE: Any = object()


class _SlotTable:
    """Entries by key, in .NET's slot order with a last-freed-first free list."""

    _key: Callable[[Any], Any]
    _where: dict[Any, int]
    _entries: list[Any]
    _free: list[int]
    _version: int  # as .NET's: an enumeration fails once an entry was added or removed

    def _start(self, key: Callable[[Any], Any]) -> None:
        self._key = key
        self._where = {}
        self._entries = []
        self._free = []
        self._version = 0

    def _put(self, k: Any, entry: Any) -> None:
        self._version += 1
        free = self._free
        if free:
            slot = free.pop()
            self._entries[slot] = entry
        else:
            slot = len(self._entries)
            self._entries.append(entry)
        self._where[k] = slot

    def _take(self, k: Any) -> Any:
        slot = self._where.pop(k)
        self._version += 1
        entry = self._entries[slot]
        if self._where:
            self._entries[slot] = _HOLE
            self._free.append(slot)
        else:
            self._entries.clear()
            self._free.clear()
        return entry

    def _live(self) -> list[Any]:
        return [e for e in self._entries if e is not _HOLE] if self._free else self._entries[:]

    def _enumerate(self) -> Iterator[Any]:
        """The live entries; raises as .NET's enumerator does if the table changes meanwhile."""
        version = self._version
        for entry in self._live():
            if self._version != version:
                break
            yield entry
        if self._version != version:
            raise InvalidOperationException("Collection was modified; enumeration operation may not execute.")

    def __eq__(self, other: object) -> bool:
        """Two .NET collections: the same object (C#'s ``==`` on reference types); a plain Python
        ``set``/``dict`` (host code, tests): the same contents."""
        if isinstance(other, _SlotTable):
            return self is other
        return self._same_contents(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def _same_contents(self, other: object) -> bool:
        raise NotImplementedError

    def _clear_slots(self) -> None:
        self._version += 1
        self._where.clear()
        self._entries.clear()
        self._free.clear()


class KeyedSet(_SlotTable, set[Any]):
    """``HashSet<T>``: members compared by ``key`` (default ``equality.hash_key``)."""

    def __init__(self, items: Iterable[Any] = (), key: Callable[[Any], Any] = hash_key) -> None:
        set.__init__(self)
        self._start(key)
        for item in items:
            self.add(item)

    def add(self, item: Any) -> None:
        k = self._key(item)
        if k not in self._where:
            self._put(k, item)
            set.add(self, item)

    def __contains__(self, item: object) -> bool:
        return self._key(item) in self._where

    def remove(self, item: Any) -> None:
        stored = self._take(self._key(item))
        set.discard(self, stored)
        if set.__len__(self) != len(self._where):  # the mirror had merged it with another member
            set.clear(self)
            set.update(self, self._live())

    def discard(self, item: Any) -> None:
        if item in self:
            self.remove(item)

    def clear(self) -> None:
        set.clear(self)
        self._clear_slots()

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for item in other:
                self.add(item)

    @property
    def key_function(self) -> Callable[[Any], Any]:
        """How members are compared: the key two equal members share."""
        return self._key

    def key_set(self) -> set[Any]:
        return set(self._where)

    def retain(self, keep: Callable[[Any], bool]) -> None:
        """Remove the members whose key ``keep`` refuses."""
        for item in self._live():
            if not keep(self._key(item)):
                self.remove(item)

    def __iter__(self) -> Iterator[Any]:
        return self._enumerate()

    def __len__(self) -> int:
        return len(self._where)

    def __repr__(self) -> str:
        return f"KeyedSet({self._live()!r})"

    __eq__ = _SlotTable.__eq__
    __ne__ = _SlotTable.__ne__
    __hash__ = None  # like set/dict: equality.hash_key keys it by identity

    def _same_contents(self, other: object) -> bool:
        return set.__eq__(self, other) is True


class KeyedDict(_SlotTable, dict[Any, Any]):
    """``Dictionary<K,V>``: keys compared by ``key`` (default ``equality.hash_key``); setting the
    value of a present key keeps the key first added."""

    def __init__(self, key: Callable[[Any], Any] = hash_key) -> None:
        dict.__init__(self)
        self._start(key)

    def __getitem__(self, key: Any) -> Any:
        slot = self._where.get(self._key(key))
        if slot is None:
            return self.__missing__(key)
        return self._entries[slot][1]

    def __missing__(self, key: Any) -> Any:
        raise KeyError(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        k = self._key(key)
        slot = self._where.get(k)
        if slot is None:
            self._put(k, (key, value))
        else:
            key = self._entries[slot][0]
            self._entries[slot] = (key, value)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        stored, _ = self._take(self._key(key))
        dict.pop(self, stored, None)
        if dict.__len__(self) != len(self._where):  # the mirror had merged it with another key
            dict.clear(self)
            dict.update(self, self._live())

    def __contains__(self, key: object) -> bool:
        return self._key(key) in self._where

    def __iter__(self) -> Iterator[Any]:
        return iter([k for k, _ in self._live()])

    def __len__(self) -> int:
        return len(self._where)

    def keys(self) -> Any:
        return [k for k, _ in self._live()]

    def values(self) -> Any:
        return [v for _, v in self._live()]

    def items(self) -> Any:
        return self._live()

    def get(self, key: Any, default: Any = None) -> Any:
        slot = self._where.get(self._key(key))
        return default if slot is None else self._entries[slot][1]

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *others: Any, **named: Any) -> None:
        for other in (*others, named):
            for k, v in other.items() if hasattr(other, "items") else other:
                self[k] = v

    def clear(self) -> None:
        dict.clear(self)
        self._clear_slots()

    def copy(self) -> KeyedDict:
        result = KeyedDict(self._key)
        result.update(self._live())
        return result

    def __repr__(self) -> str:
        return f"KeyedDict({self._live()!r})"

    __eq__ = _SlotTable.__eq__
    __ne__ = _SlotTable.__ne__
    __hash__ = None  # like set/dict: equality.hash_key keys it by identity

    def _same_contents(self, other: object) -> bool:
        return dict.__eq__(self, other) is True


__all__ = ["KeyedDict", "KeyedSet"]
