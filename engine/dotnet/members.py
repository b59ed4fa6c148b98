"""Find the member namespace of a value represented by a Python built-in type.

``members_of(value)`` returns the class holding the C# instance members of ``value`` when it is
a ``str``/``int``/``float``/``Decimal``/``bool``/``list``/``dict``/``set``/``bytes``, or ``None``
when the value is a runtime class whose members are its own attributes (``Char``, ``JObject``,
``DateTime``...).
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from .collectionmembers import ArrayMembers, BytesMembers, DictionaryMembers, ListMembers, SetMembers
from .numbers import BoolMembers, EnumMembers, NumberMembers
from .primitives import Char
from .strings import StringMembers


def members_of(value: Any) -> type | None:
    """The members namespace for ``value`` (``None`` for runtime classes and ``null``)."""
    if value is None or isinstance(value, Char):
        return None
    if isinstance(value, str):
        return StringMembers
    if isinstance(value, bool):
        return BoolMembers
    if isinstance(value, enum.Enum):
        return EnumMembers
    if isinstance(value, int | float | Decimal):
        return NumberMembers
    if isinstance(value, bytes | bytearray):
        return BytesMembers
    if isinstance(value, list | tuple):
        return ListMembers
    if isinstance(value, dict):
        return DictionaryMembers
    if isinstance(value, set | frozenset):
        return SetMembers
    return None


__all__ = ["ArrayMembers", "members_of"]
