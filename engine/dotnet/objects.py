"""``System.Object``: ``new object()`` and the statics ``object.Equals(a, b)`` / ``ReferenceEquals``."""

from __future__ import annotations

import enum
import math
from typing import Any

from . import clrnumeric


def value_equals(a: Any, b: Any) -> bool:
    """``object.Equals(a, b)`` of two non-null values: the first one's ``Equals(object)``, which
    for numbers, chars and booleans is true only for the same type and value (``Equals(1, 1L)`` is
    false), for strings ordinal, and otherwise the library type's own ``Equals`` or identity."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    kind = clrnumeric.kind_of(a)
    if kind is not None or clrnumeric.kind_of(b) is not None:
        if kind is not clrnumeric.kind_of(b):
            return False
        return bool(a == b) or isinstance(a, float) and math.isnan(a) and math.isnan(b)
    if isinstance(a, enum.Enum):
        return type(a) is type(b) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and str(a) == str(b) and type(a) is type(b)
    equals = getattr(a, "Equals", None)
    if equals is not None and not isinstance(a, list | dict | set | bytearray):
        return bool(equals(b))
    return a is b


class Object:
    """``new object()``: a value with identity only."""

    dotnet_name = "System.Object"
    __slots__ = ()

    def Equals(a: Any, b: Any) -> bool:  # noqa: N805 - also the static `object.Equals(a, b)`
        """``object.Equals(a, b)``, and ``o.Equals(b)`` on a ``new object()`` (the same answer)."""
        if a is b:
            return True
        if a is None or b is None or isinstance(a, Object):
            return False
        return value_equals(a, b)

    def ReferenceEquals(a: Any, b: Any) -> bool:  # noqa: N805 - static only
        """``object.ReferenceEquals(a, b)``: identity; a boxed number, char, bool or enum is a new
        object at each boxing (never equal); strings compare by value, as for ``==`` on two
        ``object``s (C# interns literals; policy expressions cannot tell the cases apart)."""
        if a is None or b is None:
            return a is b
        if isinstance(a, bool | enum.Enum) or clrnumeric.kind_of(a) is not None:
            return False
        if isinstance(a, str) and isinstance(b, str):
            return str(a) == str(b)
        return a is b

    def ToString(self) -> str:
        return "System.Object"

    def GetHashCode(self) -> int:
        return id(self) & 0x7FFFFFFF


__all__ = ["Object", "value_equals"]
