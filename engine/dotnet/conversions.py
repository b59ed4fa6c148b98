"""C# conversions: string conversion (``ToString``/concatenation), explicit casts, ``as``, ``is``.

* :func:`to_string` — what ``"" + x`` / ``$"{x}"`` / ``x.ToString()`` give (``null`` -> ``""``).
* :func:`cast` — an explicit cast ``(T)x``: numeric conversions truncate/wrap like unchecked C#,
  ``(int)'a' == 97``, ``(char)65 == 'A'``, Newtonsoft's explicit ``JToken`` conversions
  (``(string)token``, ``(int)token``...), reference casts check the runtime type and raise
  ``InvalidCastException`` like .NET.
* :func:`as_cast` / :func:`is_type` — ``x as T`` and ``x is T``.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from . import clrnumeric
from .errors import InvalidCastException, NullReferenceException
from .primitives import INTEGER_RANGES, Char, TypeRef, dotnet_type_name, enum_to_string, enum_value, type_ref


def to_string(value: Any) -> str:
    """C# string conversion of any runtime value (``null`` gives ``""``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return enum_to_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        from .formatting import double_to_string, single_to_string

        return single_to_string(value) if value.__class__ is clrnumeric.SingleValue else double_to_string(value)
    if isinstance(value, Decimal):
        from .formatting import decimal_to_string

        return decimal_to_string(value)
    method = getattr(value, "ToString", None)
    if method is not None and callable(method):
        return str(method())  # a value's own ToString: the runtime library's return str
    if isinstance(value, bytes | bytearray):
        return "System.Byte[]"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) and not isinstance(v, Char) for v in value):
            return "System.String[]"
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Generic.Dictionary`2[System.String,System.Object]"
    if isinstance(value, set | frozenset):
        return "System.Collections.Generic.HashSet`1[System.Object]"
    if callable(value):
        return "System.Func`1[System.Object]"
    return dotnet_type_name(value)


def instance_to_string(value: Any) -> str:
    """``x.ToString()`` called on a value: like :func:`to_string` but ``null`` throws."""
    if value is None:
        raise NullReferenceException()
    return to_string(value)


def _cast_error(value: Any, target: TypeRef) -> InvalidCastException:
    return InvalidCastException(
        f"Unable to cast object of type '{dotnet_type_name(value)}' to type '{_full(target)}'."
    )


def _full(t: TypeRef) -> str:
    if "." in t.name:
        return t.name
    from .registry import runtime_class

    cls = runtime_class(t.name.removesuffix("[]"))
    base = (
        getattr(cls, "dotnet_name", t.name.removesuffix("[]"))
        if cls is not None
        else t.name.removesuffix("[]")
    )
    return base + ("[]" if t.is_array else "")


def _numeric(value: Any, target: TypeRef) -> Any:
    if isinstance(value, bool) or isinstance(value, str) and not isinstance(value, Char):
        raise _cast_error(value, target)
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        return clrnumeric.convert(value, clrnumeric.KINDS[target.name])
    except TypeError:
        raise _cast_error(value, target) from None


_NUMERIC = set(INTEGER_RANGES) | {"System.Double", "System.Single", "System.Decimal", "System.Char"}


def cast(value: Any, target: Any) -> Any:
    """Explicit C# cast ``(target)value``."""
    t = type_ref(target)
    explicit = getattr(type(value), "explicit_conversion", None)
    if explicit is not None and not _is_reference_match(value, t):
        return explicit(value, t)
    if value is None:
        if t.nullable or not _is_value_type(t):
            return None
        raise NullReferenceException()
    if t.name == "System.Object":
        return value
    if t.name in _NUMERIC:
        if isinstance(value, Char) and t.name == "System.Char":
            return value
        return _numeric(value, t)
    if t.name == "System.Boolean":
        if isinstance(value, bool):
            return value
        raise _cast_error(value, t)
    if t.name == "System.String":
        if isinstance(value, str) and not isinstance(value, Char):
            return str(value)
        raise _cast_error(value, t)
    if is_type(value, t):
        return value
    if t.name == "System.DateTimeOffset":  # DateTime's implicit conversion (local time: offset 0 here)
        from .datetimes import DateTime, DateTimeOffset

        if isinstance(value, DateTime):
            return DateTimeOffset(value)
    if isinstance(value, str):  # `(XNamespace)"urn:x"`, `(XName)"a"`: the type's implicit conversion
        from .registry import runtime_class

        target_cls = runtime_class(t.name)
        from_string = getattr(target_cls, "from_string", None)
        if from_string is not None:
            return from_string(value)
    if clrnumeric.kind_of(value) is not None or isinstance(value, enum.Enum):  # `(RegexOptions)3`
        from .registry import runtime_class

        cls = runtime_class(t.name)
        if isinstance(cls, type) and issubclass(cls, enum.Enum) and issubclass(cls, int):
            return enum_value(cls, int(value))
    raise _cast_error(value, t)


def _is_reference_match(value: Any, t: TypeRef) -> bool:
    if t.name == "System.Object":
        return True
    from .registry import runtime_class

    cls = runtime_class(t.name)
    return cls is not None and isinstance(value, cls)


def _is_value_type(t: TypeRef) -> bool:
    return t.name in _NUMERIC or t.name in (
        "System.Boolean",
        "System.DateTime",
        "System.DateTimeOffset",
        "System.TimeSpan",
        "System.Guid",
    )


def is_type(value: Any, target: Any) -> bool:
    """C# ``value is T`` (``null`` is never of any type)."""
    if value is None:
        return False
    t = type_ref(target)
    name = t.name
    if name == "System.Object":
        return True
    if name == "System.String":
        return isinstance(value, str) and not isinstance(value, Char)
    if name == "System.Char":
        return isinstance(value, Char)
    if name == "System.Boolean":
        return isinstance(value, bool)
    kind = clrnumeric.KINDS.get(name)
    if kind is not None:
        return clrnumeric.kind_of(value) is kind
    if name == "System.Byte[]":
        return isinstance(value, bytes | bytearray)
    if t.is_array:
        return isinstance(value, list) and all(v is None or is_type(v, t.element) for v in value)
    from .registry import runtime_class

    cls = runtime_class(name)
    if cls is not None:
        return isinstance(value, cls)
    short = t.short
    if short.startswith(("Dictionary<", "IDictionary<", "IReadOnlyDictionary<")):
        return isinstance(value, dict)
    if short.startswith(
        ("List<", "IList<", "IEnumerable<", "ICollection<", "IReadOnlyCollection<", "IReadOnlyList<")
    ):
        return isinstance(value, list | tuple | set | frozenset | dict | str) or hasattr(value, "__iter__")
    if short.startswith(("HashSet<", "ISet<")):
        return isinstance(value, set | frozenset)
    return False


def as_cast(value: Any, target: Any) -> Any:
    """C# ``value as T``: the value when ``value is T``, else ``null``."""
    return value if is_type(value, target) else None


__all__ = ["as_cast", "cast", "instance_to_string", "is_type", "to_string"]
