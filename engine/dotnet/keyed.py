"""``HashSet<T>`` and ``Dictionary<K,V>`` storage keyed as .NET keys them.

Python's own ``set``/``dict`` merge values .NET keeps apart (``1 == 1.0 == Decimal(1)``, a char is a
one-character string, ``nan != nan``). A :class:`KeyedSet` / :class:`KeyedDict` finds its entries by a
key function: ``equality.hash_key`` (``EqualityComparer<T>.Default``), or a comparer's ``key``
(``StringComparer.OrdinalIgnoreCase``). The first value added under a key is the one kept.

The inherited ``set``/``dict`` storage is the index by key: a ``KeyedSet`` holds its members' keys, a
``KeyedDict`` maps its keys' keys to the values. A string or a plain ``int`` is its own ``hash_key``,
so a string- or int-keyed collection's storage holds exactly its members (keys): a lookup by such a
key skips the key function (one class test), and code reading the storage directly sees the
members. With the default key (``_plain``), a ``KeyedDict``'s ``_values`` maps such a key straight to
its value: the expression indexer gate reads it without a call. Only the other members' original values are kept beside it.

Order: enumeration runs as .NET's does, in slot order: the insertion order until an entry is removed;
then the removed entry's slot is reused by the next addition, the last freed first (so ``{1, 2, 3}``,
``Remove(2)``, ``Add(4)`` enumerates ``1, 4, 3`` as on .NET). A :class:`_Slots` table keeps that
order from the first removal on. ``==`` between two of them is identity, as C#'s ``==`` on these
reference types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .equality import hash_key
from .errors import InvalidOperationException

_HOLE: Any = object()
_ABSENT: Any = object()


class _Slots:
    """The keys in .NET's slot order, with a last-freed-first free list (after the first removal)."""

    __slots__ = ("entries", "free", "where")

    def __init__(self, keys: Iterable[Any]) -> None:
        self.entries = list(keys)
        self.free: list[int] = []
        self.where = {k: slot for slot, k in enumerate(self.entries)}

    def put(self, k: Any) -> None:
        if self.free:
            slot = self.free.pop()
            self.entries[slot] = k
        else:
            slot = len(self.entries)
            self.entries.append(k)
        self.where[k] = slot

    def take(self, k: Any) -> None:
        slot = self.where.pop(k)
        self.entries[slot] = _HOLE
        self.free.append(slot)

    def live(self) -> list[Any]:
        return [k for k in self.entries if k is not _HOLE]


def _after_removal(slots: _Slots | None, k: Any, entries: dict[Any, Any]) -> _Slots | None:
    """The slot table once key `k` leaves `entries` (all keys, in insertion order): .NET's order."""
    if len(entries) == 1:  # empty again: the next entry takes the first slot
        return None
    if slots is None:
        slots = _Slots(entries)
    slots.take(k)
    return slots


class _Keyed:
    """What both share: the key function and the identity ``==``.

    ``_plain``: the key function is ``hash_key``, so a ``str`` or plain ``int`` is its own key (the
    methods test that inline: a call less on the common path)."""

    __slots__ = ()  # each subclass lists them: a set/dict subclass's slots read faster than its __dict__

    _key: Callable[[Any], Any]
    _plain: bool
    _slots: _Slots | None

    def __eq__(self, other: object) -> bool:
        """Two .NET collections: the same object (C#'s ``==`` on reference types); a plain Python
        ``set``/``dict`` (host code, tests): the same contents."""
        if isinstance(other, _Keyed):
            return self is other
        return self._same_contents(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def _same_contents(self, other: object) -> bool:
        raise NotImplementedError

    @property
    def key_function(self) -> Callable[[Any], Any]:
        """How members are compared: the key two equal members share."""
        return self._key


_OWN_KEYS = frozenset({str, int})  # the classes whose values ``hash_key`` returns as they are


def hashset_add(s: set[Any], item: Any) -> bool:
    """``HashSet.Add``: add ``item`` unless a member has its key; True when added (a
    :class:`KeyedSet`'s ``insert``; another Python set compares as Python does)."""
    if not isinstance(s, KeyedSet):
        if item in s:
            return False
        s.add(item)
        return True
    cls = item.__class__
    k = item if (cls is str or cls is int) and s._plain else s._key(item)
    members = s._members
    if k in members:
        return False
    members[k] = item
    set.add(s, k)
    s._version += 1
    if s._slots is not None:
        s._slots.put(k)
    return True


def hashset_contains(s: set[Any], item: Any) -> bool:
    """``HashSet.Contains`` (a :class:`KeyedSet`'s ``in``; another Python set: Python's ``in``)."""
    if not isinstance(s, KeyedSet):
        return item in s
    cls = item.__class__
    return (item if (cls is str or cls is int) and s._plain else s._key(item)) in s._members


class KeyedSet(_Keyed, set[Any]):
    """``HashSet<T>``: members compared by ``key`` (default ``equality.hash_key``)."""

    __slots__ = ("_key", "_plain", "_slots", "_members", "_version")

    _members: dict[Any, Any]  # key -> the member first added with it, in insertion order
    _version: int  # as .NET's: an enumeration fails once a member was added or removed

    def __init__(self, items: Iterable[Any] = (), key: Callable[[Any], Any] = hash_key) -> None:
        set.__init__(self)
        self._key = key
        self._plain = key is hash_key
        self._slots = None
        self._members = {}
        self._version = 0
        if self._plain and isinstance(items, list) and {*map(type, items)} <= _OWN_KEYS:
            first = dict.fromkeys(items)  # each its own key: the whole list at C speed
            self._members = dict(zip(first, first, strict=True))
            set.update(self, first)
            self._version = len(first)
            return
        for item in items:
            self.insert(item)

    insert = hashset_add

    def add(self, item: Any) -> None:
        hashset_add(self, item)

    __contains__ = hashset_contains

    def remove(self, item: Any) -> None:
        k = self._key(item)
        members = self._members
        if k not in members:
            raise KeyError(item)
        self._version += 1
        self._slots = _after_removal(self._slots, k, members)
        del members[k]
        set.remove(self, k)

    def discard(self, item: Any) -> None:
        if item in self:
            self.remove(item)

    def clear(self) -> None:
        set.clear(self)
        self._members.clear()
        self._slots = None
        self._version += 1

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for item in other:
                self.insert(item)

    def key_set(self) -> set[Any]:
        return set.copy(self)

    def retain(self, keep: Callable[[Any], bool]) -> None:
        """Remove the members whose key ``keep`` refuses."""
        for item in self._live():
            if not keep(self._key(item)):
                self.remove(item)

    def _live(self) -> list[Any]:
        members = self._members
        return list(members.values()) if self._slots is None else [members[k] for k in self._slots.live()]

    def __iter__(self) -> Iterator[Any]:
        """The members; raises as .NET's enumerator does if the set changes meanwhile."""
        version = self._version
        for member in self._live():
            if self._version != version:
                break
            yield member
        if self._version != version:
            raise InvalidOperationException("Collection was modified; enumeration operation may not execute.")

    def __repr__(self) -> str:
        return f"KeyedSet({self._live()!r})"

    __eq__ = _Keyed.__eq__
    __ne__ = _Keyed.__ne__
    __hash__ = None  # like set/dict: equality.hash_key keys it by identity

    def _same_contents(self, other: object) -> bool:
        return set(self._live()) == other


class KeyedDict(_Keyed, dict[Any, Any]):
    """``Dictionary<K,V>``: keys compared by ``key`` (default ``equality.hash_key``); setting the
    value of a present key keeps the key first added. The storage maps each key's key to that first
    key (for string and int keys: to itself); the values live in a plain ``dict`` beside it, whose
    item operations cost less than a ``dict`` subclass's."""

    __slots__ = ("_key", "_plain", "_slots", "_values")

    _values: dict[Any, Any]  # key's key -> value, in insertion order as the storage

    def __init__(self, key: Callable[[Any], Any] = hash_key) -> None:
        dict.__init__(self)
        self._key = key
        self._plain = key is hash_key
        self._slots = None
        self._values = {}

    def __getitem__(self, key: Any) -> Any:
        cls = key.__class__
        try:
            return self._values[key if (cls is str or cls is int) and self._plain else self._key(key)]
        except KeyError:
            return self.__missing__(key)

    def __missing__(self, key: Any) -> Any:
        raise KeyError(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        cls = key.__class__
        k = key if (cls is str or cls is int) and self._plain else self._key(key)
        values = self._values
        if k not in values:
            dict.setdefault(self, k, key)
            if self._slots is not None:
                self._slots.put(k)
        values[k] = value

    def __delitem__(self, key: Any) -> None:
        k = self._key(key)
        values = self._values
        if k not in values:
            raise KeyError(key)
        self._slots = _after_removal(self._slots, k, values)
        dict.__delitem__(self, k)
        del values[k]

    def __contains__(self, key: object) -> bool:
        cls = key.__class__
        return (key if (cls is str or cls is int) and self._plain else self._key(key)) in self._values

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def keys(self) -> Any:
        if self._slots is None:
            return list(dict.values(self))
        key = dict.__getitem__
        return [key(self, k) for k in self._slots.live()]

    def values(self) -> Any:
        values = self._values
        return list(values.values()) if self._slots is None else [values[k] for k in self._slots.live()]

    def items(self) -> Any:
        return list(zip(self.keys(), self.values(), strict=True))

    def get(self, key: Any, default: Any = None) -> Any:
        cls = key.__class__
        return self._values.get(key if (cls is str or cls is int) and self._plain else self._key(key), default)

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
        self._values.clear()
        self._slots = None

    def copy(self) -> KeyedDict:
        result = KeyedDict(self._key)
        result.update(self.items())
        return result

    def __repr__(self) -> str:
        return f"KeyedDict({self.items()!r})"

    __eq__ = _Keyed.__eq__
    __ne__ = _Keyed.__ne__
    __hash__ = None  # like set/dict: equality.hash_key keys it by identity

    def _same_contents(self, other: object) -> bool:
        return dict(self.items()) == other


__all__ = ["KeyedDict", "KeyedSet"]
