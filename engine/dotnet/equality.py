"""Equality of values as the CLR sees it: one rule for ``object.Equals``, the collections and LINQ.

.NET compares in two ways that look different but run the same comparison:

* ``object.Equals(a, b)`` (and ``a.Equals((object)b)``): the same reference, else neither null and
  the first value's ``Equals(object)``, which for numbers, chars and booleans holds only for the
  same type and value (``object.Equals(1, 1L)`` is false, ``1.0 == 1`` is true only after C#
  converts), ``NaN`` equals ``NaN`` (``double.Equals``, unlike ``==``), strings compare ordinally
  and a char is not a one-character string.
* ``EqualityComparer<T>.Default`` (``List<T>.Contains``/``IndexOf``/``Remove``, ``Array.IndexOf``,
  ``Dictionary.ContainsValue``, ``Queue``/``Stack.Contains``, LINQ's ``Contains``, ``Distinct``,
  ``SequenceEqual``...): ``T``'s ``IEquatable<T>.Equals``, which for every type of the library
  answers as its ``Equals(object)`` does. What differs is the call: the argument is a ``T``,
  converted by the C# compiler where it is written (``new List<long> { 1 }.Contains(1)`` compares
  ``1L`` with ``1L`` and is true; ``new List<object> { 1 }.Contains(1L)`` compares a boxed int with
  a boxed long and is false). So the run time applies one rule, ``object_equals``, to values that
  already carry their C# type; converting to ``T`` is the compiler's part.

``hash_key`` gives the hashable stand-in Python sets and dicts need for the same rule
(``Distinct``, ``GroupBy``, ``Union``...): Python's own ``1 == 1.0 == Decimal(1)`` and ``"a" == 'a'``
would merge values .NET keeps apart.
"""

from __future__ import annotations

import enum
import math
from typing import Any

from . import clrnumeric

_INT32_LO, _INT32_HI = clrnumeric.INT32.lo, clrnumeric.INT32.hi
_INT64 = clrnumeric.INT64


def object_equals(a: Any, b: Any) -> bool:
    """``object.Equals(a, b)``: also what ``EqualityComparer<T>.Default`` answers for two ``T``."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    return value_equals(a, b)


def value_equals(a: Any, b: Any) -> bool:
    """``a.Equals((object)b)`` of a non-null ``a``: for numbers, chars and booleans the same type and
    value (NaN equals NaN), for strings ordinal, for enums the same type and value, otherwise the
    library type's own ``Equals``, or identity (lists, arrays, dictionaries, sets)."""
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
        return isinstance(b, str) and type(a) is type(b) and str(a) == str(b)
    equals = getattr(a, "Equals", None)
    if equals is not None and not isinstance(a, list | dict | set | bytearray):
        return bool(equals(b))
    return a is b


def hash_key(value: Any) -> Any:
    """A hashable key that two values share exactly when ``object_equals`` holds for them.

    A string and a plain ``int`` (an Int32, or an Int64 beyond the Int32 range) are their own key,
    as is a boxed long beyond the Int32 range (it equals the plain int of the same value): the
    common keys cost one class test, and a ``dict``/``set`` holding only such keys answers every
    lookup by such a key as .NET would (engine/dotnet/keyed.py relies on it)."""
    cls = value.__class__
    if cls is str or cls is int:
        return value
    if value is None:
        return None
    if isinstance(value, enum.Enum):  # an IntEnum member equals its number in Python, not in .NET
        return (type(value), value)
    if isinstance(value, bool):
        return ("bool", value)
    kind = clrnumeric.kind_of(value)
    if kind is not None:
        if kind is _INT64 and not _INT32_LO <= value <= _INT32_HI:
            return int(value)
        if isinstance(value, float) and math.isnan(value):
            return (kind.name, "NaN")
        return (kind.name, value)
    if isinstance(value, str):
        return ("string", str(value))
    try:
        hash(value)
    except TypeError:  # lists, arrays, dictionaries: reference equality
        return ("id", id(value))
    return value


__all__ = ["hash_key", "object_equals", "value_equals"]
