"""``System.Object``: ``new object()`` and the statics ``object.Equals(a, b)`` / ``ReferenceEquals``."""

from __future__ import annotations

import enum
from typing import Any

from . import clrnumeric
from .equality import value_equals


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


__all__ = ["Object"]
