"""Foundations shared by the runtime library: ``Char``, static properties and C# type names.

* :class:`Char` is the representation of a C# ``char``: a ``str`` of length 1 whose arithmetic and
  comparisons follow C# (``'a' + 1 == 98``, ``'a' + 'b' == 195``, ``'a' == 97``, ``"x" + 'a' == "xa"``).
* :class:`static_property` marks a C# *static property* (``DateTime.UtcNow``, ``Encoding.UTF8``,
  ``String.Empty``): reading the attribute on the class evaluates it, so ``DateTime.UtcNow`` in
  Python is exactly ``DateTime.UtcNow`` in C#.
* Type arguments (``Value<int>``, ``ToObject<JObject>``, ``GetValueOrDefault<string>``, casts) are
  given as a C# type name (``"int"``, ``"System.Int32"``, ``"string"``, ``"int?"``, ``"JObject"``,
  ``"string[]"``) or as a Python class (``str``, ``int``, ``float``, ``bool``, ``Decimal``,
  :class:`Char`, ``bytes`` or a runtime class such as ``JObject``). :func:`type_ref` normalises both.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from . import utf16
from .errors import InvalidCastException

T = TypeVar("T")

NEW_LINE = "\r\n"
"""``Environment.NewLine`` of the managed APIM gateway (Windows): used by ``StringBuilder.AppendLine``,
``StringWriter.WriteLine`` and the indented output of ``JToken.ToString()`` and ``XElement.ToString()``."""


class static_property(Generic[T]):  # noqa: N801 - reads like the builtin `property`
    """A read-only property evaluated on the class itself (C# static property)."""

    def __init__(self, getter: Callable[[], T]) -> None:
        self.getter = getter
        self.__doc__ = getter.__doc__

    def __get__(self, obj: object, owner: type | None = None) -> T:
        return self.getter()


class Char(str):
    """A C# ``char``: one UTF-16 code unit, compared and added as a number."""

    __slots__ = ()

    def __new__(cls, value: str | int) -> Char:
        if isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                from .errors import OverflowException

                raise OverflowException("Value was either too large or too small for a character.")
            value = chr(value)
        if len(value) != 1:
            from .errors import FormatException

            raise FormatException("String must be exactly one character long.")
        return super().__new__(cls, value)

    @property
    def code(self) -> int:
        """The UTF-16 code unit value (``(int)c``)."""
        return ord(self)

    # -- C# arithmetic: char promotes to int except when concatenated with a string ----------------
    def __add__(self, other: object) -> Any:
        if isinstance(other, Char):
            return ord(self) + ord(other)
        if isinstance(other, bool):
            return NotImplemented
        if isinstance(other, int):
            return ord(self) + other
        if isinstance(other, float):
            return ord(self) + other
        if isinstance(other, str):
            return str(self) + other
        if other is None:
            return str(self)
        return NotImplemented

    def __radd__(self, other: object) -> Any:
        if isinstance(other, bool):
            return NotImplemented
        if isinstance(other, int | float):
            return other + ord(self)
        if isinstance(other, str):
            return other + str(self)
        if other is None:
            return str(self)
        return NotImplemented

    def __sub__(self, other: object) -> Any:
        if isinstance(other, Char):
            return ord(self) - ord(other)
        if isinstance(other, int | float) and not isinstance(other, bool):
            return ord(self) - other
        return NotImplemented

    def __rsub__(self, other: object) -> Any:
        if isinstance(other, int | float) and not isinstance(other, bool):
            return other - ord(self)
        return NotImplemented

    def _key(self, other: object) -> tuple[int, float] | None:
        if isinstance(other, str) and len(other) == 1:
            return ord(self), ord(other)
        if isinstance(other, int | float) and not isinstance(other, bool):
            return ord(self), other
        return None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int | float) and not isinstance(other, bool):
            return ord(self) == other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    def __lt__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] < k[1]

    def __le__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] <= k[1]

    def __gt__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] > k[1]

    def __ge__(self, other: object) -> bool:
        k = self._key(other)
        return NotImplemented if k is None else k[0] >= k[1]

    def __int__(self) -> int:
        return ord(self)

    def __index__(self) -> int:
        return ord(self)

    def __repr__(self) -> str:
        return f"Char({str.__repr__(self)})"

    # -- instance members ---------------------------------------------------------------------
    def ToString(self) -> str:
        return str(self)

    def Equals(self, other: object) -> bool:
        return isinstance(other, str) and len(other) == 1 and str(self) == str(other)

    def CompareTo(self, other: str) -> int:
        return (ord(self) > ord(other)) - (ord(self) < ord(other))

    def GetHashCode(self) -> int:
        return ord(self) | (ord(self) << 16)

    # -- static members (System.Char) ---------------------------------------------------------
    MaxValue: Char
    MinValue: Char

    @staticmethod
    def IsDigit(c: str, index: int | None = None) -> bool:
        ch = _char_at(c, index)
        return ch.isdecimal()

    @staticmethod
    def IsLetter(c: str, index: int | None = None) -> bool:
        return _char_at(c, index).isalpha()

    @staticmethod
    def IsLetterOrDigit(c: str, index: int | None = None) -> bool:
        ch = _char_at(c, index)
        return ch.isalpha() or ch.isdecimal()

    @staticmethod
    def IsWhiteSpace(c: str, index: int | None = None) -> bool:
        return is_whitespace(_char_at(c, index))

    @staticmethod
    def IsUpper(c: str, index: int | None = None) -> bool:
        return _char_at(c, index).isupper()

    @staticmethod
    def IsLower(c: str, index: int | None = None) -> bool:
        return _char_at(c, index).islower()

    @staticmethod
    def IsNumber(c: str, index: int | None = None) -> bool:
        return _char_at(c, index).isnumeric()

    @staticmethod
    def IsSeparator(c: str, index: int | None = None) -> bool:
        import unicodedata

        return unicodedata.category(_char_at(c, index)).startswith("Z")

    @staticmethod
    def IsPunctuation(c: str, index: int | None = None) -> bool:
        import unicodedata

        return unicodedata.category(_char_at(c, index)).startswith("P")

    @staticmethod
    def IsControl(c: str, index: int | None = None) -> bool:
        import unicodedata

        return unicodedata.category(_char_at(c, index)) == "Cc"

    @staticmethod
    def IsSurrogate(c: str, index: int | None = None) -> bool:
        return 0xD800 <= ord(_char_at(c, index)) <= 0xDFFF

    @staticmethod
    def IsHighSurrogate(c: str, index: int | None = None) -> bool:
        return 0xD800 <= ord(_char_at(c, index)) <= 0xDBFF

    @staticmethod
    def IsLowSurrogate(c: str, index: int | None = None) -> bool:
        return 0xDC00 <= ord(_char_at(c, index)) <= 0xDFFF

    @staticmethod
    def IsSurrogatePair(high: str, low: str | int | None = None) -> bool:
        if isinstance(low, int):  # IsSurrogatePair(string s, int index)
            units = utf16.units(high)
            return 0 <= low < len(units) - 1 and Char.IsHighSurrogate(units[low]) and Char.IsLowSurrogate(units[low + 1])
        return Char.IsHighSurrogate(high) and Char.IsLowSurrogate(str(low))

    @staticmethod
    def IsSymbol(c: str, index: int | None = None) -> bool:
        import unicodedata

        return unicodedata.category(_char_at(c, index)).startswith("S")

    @staticmethod
    def ConvertToUtf32(high: str, low: str | int) -> int:
        from .errors import ArgumentException

        if isinstance(low, int):  # ConvertToUtf32(string s, int index)
            units = utf16.units(high)
            first = _char_at(units, low)
            if not Char.IsSurrogate(first):
                return ord(first)
            if Char.IsHighSurrogate(first) and low + 1 < len(units) and Char.IsLowSurrogate(units[low + 1]):
                return ord(utf16.text(units[low : low + 2]))
            raise ArgumentException(f"Found a high surrogate char without a following low surrogate at index: {low}. "
                                    "The input may not be in this encoding, or may not contain valid Unicode "
                                    "(UTF-16) characters.", "s")
        if not (Char.IsHighSurrogate(high) and Char.IsLowSurrogate(str(low))):
            raise ArgumentException("Found a high surrogate char without a following low surrogate.", "highSurrogate")
        return ord(utf16.text(str(high) + str(low)))

    @staticmethod
    def ConvertFromUtf32(utf32: int) -> str:
        from .errors import ArgumentOutOfRangeException

        if not 0 <= utf32 <= 0x10FFFF or 0xD800 <= utf32 <= 0xDFFF:
            raise ArgumentOutOfRangeException(
                "utf32", "A valid UTF32 value is between 0x000000 and 0x10ffff, inclusive, and should not include "
                "surrogate codepoint values (0x00d800 ~ 0x00dfff).")
        return chr(utf32)

    @staticmethod
    def ToUpper(c: str) -> Char:
        up = str(c).upper()
        return Char(up if len(up) == 1 and c != "\u0131" else c)

    @staticmethod
    def ToLower(c: str) -> Char:
        low = str(c).lower()
        return Char(low if len(low) == 1 else c)

    ToUpperInvariant = ToUpper
    ToLowerInvariant = ToLower

    @staticmethod
    def Parse(s: str | None) -> Char:
        from .errors import ArgumentNullException, FormatException

        if s is None:
            raise ArgumentNullException("s")
        if len(s) != 1:
            raise FormatException("String must be exactly one character long.")
        return Char(s)

    @staticmethod
    def TryParse(s: str | None) -> tuple[bool, Char]:
        if s is None or len(s) != 1:
            return False, Char("\0")
        return True, Char(s)

    @staticmethod
    def GetNumericValue(c: str, index: int | None = None) -> float:
        import unicodedata

        return float(unicodedata.numeric(_char_at(c, index), -1.0))


Char.MaxValue = Char("\uffff")
Char.MinValue = Char("\0")


def _char_at(c: str, index: int | None) -> str:
    if index is None:
        return str(c)
    from .errors import ArgumentOutOfRangeException

    c = utf16.units(c)

    if not 0 <= index < len(c):
        raise ArgumentOutOfRangeException(
            "index", "Index was out of range. Must be non-negative and less than the size of the collection."
        )
    return c[index]


_WHITESPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def is_whitespace(ch: str) -> bool:
    """``Char.IsWhiteSpace`` (the Unicode White_Space set .NET uses for Trim/Split)."""
    return ch in _WHITESPACE


WHITESPACE_CHARS = "".join(sorted(_WHITESPACE))


# --------------------------------------------------------------------------------------------
# C# type names
# --------------------------------------------------------------------------------------------

_ALIASES = {
    "string": "System.String",
    "object": "System.Object",
    "bool": "System.Boolean",
    "byte": "System.Byte",
    "sbyte": "System.SByte",
    "char": "System.Char",
    "short": "System.Int16",
    "ushort": "System.UInt16",
    "int": "System.Int32",
    "uint": "System.UInt32",
    "long": "System.Int64",
    "ulong": "System.UInt64",
    "float": "System.Single",
    "double": "System.Double",
    "decimal": "System.Decimal",
}

_SIMPLE = {v.split(".")[-1]: v for v in _ALIASES.values()} | {
    "DateTime": "System.DateTime",
    "DateTimeOffset": "System.DateTimeOffset",
    "TimeSpan": "System.TimeSpan",
    "Guid": "System.Guid",
    "Uri": "System.Uri",
}

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "System.Byte": (0, 255),
    "System.SByte": (-128, 127),
    "System.Int16": (-32768, 32767),
    "System.UInt16": (0, 65535),
    "System.Int32": (-(2**31), 2**31 - 1),
    "System.UInt32": (0, 2**32 - 1),
    "System.Int64": (-(2**63), 2**63 - 1),
    "System.UInt64": (0, 2**64 - 1),
}

_PY_TYPES: dict[type, str] = {
    str: "System.String",
    bool: "System.Boolean",
    int: "System.Int32",
    float: "System.Double",
    Decimal: "System.Decimal",
    Char: "System.Char",
    bytes: "System.Byte[]",
    bytearray: "System.Byte[]",
    object: "System.Object",
}


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A normalised C# type: full name (``System.Int32``, ``JObject``, ``System.String[]``), nullability."""

    name: str
    nullable: bool = False

    @property
    def is_array(self) -> bool:
        return self.name.endswith("[]")

    @property
    def element(self) -> TypeRef:
        return TypeRef(self.name[:-2])

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def type_ref(t: object) -> TypeRef:
    """Normalise a type argument (C# name or Python class) to a :class:`TypeRef`."""
    if isinstance(t, TypeRef):
        return t
    if isinstance(t, type):
        if t in _PY_TYPES:
            return TypeRef(_PY_TYPES[t])
        return TypeRef(getattr(t, "dotnet_name", t.__name__))
    if not isinstance(t, str):
        raise InvalidCastException(f"Unknown type {t!r}.")
    name = t.strip().replace(" ", "")
    nullable = False
    if name.endswith("?"):
        nullable, name = True, name[:-1]
    if name.startswith("Nullable<") and name.endswith(">"):
        nullable, name = True, name[len("Nullable<") : -1]
    suffix = ""
    while name.endswith("[]"):
        suffix += "[]"
        name = name[:-2]
    name = _ALIASES.get(name, name)
    if "." not in name:
        name = _SIMPLE.get(name, name)
    elif name.startswith("Newtonsoft.Json.Linq.") or name.startswith("System.Xml.Linq."):
        name = name.rsplit(".", 1)[-1]
    return TypeRef(name + suffix, nullable)


def enum_value(cls: type[enum.Enum], number: int) -> enum.Enum:
    """``(E)number``: the member, or (like C#, where an enum holds any value of its underlying
    type) an unnamed value of the enum type that prints as its number (``(DayOfWeek)9``)."""
    try:
        return cls(number)
    except ValueError:
        if not issubclass(cls, int):
            raise
        unnamed = int.__new__(cls, number)
        unnamed._value_ = number
        object.__setattr__(unnamed, "_name_", None)  # enum's mark of an unnamed value (typeshed says str)
        return unnamed


def enum_to_string(value: enum.Enum) -> str:
    """C# ``Enum.ToString()``: the member name (``None_`` -> ``None``), flags joined with ``", "``."""

    def clean(name: str) -> str:
        return name[:-1] if name.endswith("_") else name

    if isinstance(value, enum.Flag):
        if value.name is not None and value.name in type(value).__members__:
            return clean(value.name)
        parts = [
            m
            for m in type(value)
            if m.value and (m.value & value.value) == m.value and bin(m.value).count("1") == 1
        ]
        if parts and sum(m.value for m in parts) == value.value:
            return ", ".join(clean(m.name) for m in parts if m.name)
        return str(int(value.value))
    return clean(value.name) if value.name else str(value.value)


_ENUM_NAMESPACES = {
    "engine.dotnet.regexengine": "System.Text.RegularExpressions", "engine.dotnet.newtonsoft": "Newtonsoft.Json.Linq",
    "engine.dotnet.culture": "System.Globalization", "engine.dotnet.uri": "System", "engine.dotnet.crypto":
    "System.Security.Cryptography", "engine.dotnet.rsa": "System.Security.Cryptography",
    "engine.dotnet.xlinq": "System.Xml.Linq", "engine.dotnet.net": "System.Net.Sockets",
}


def dotnet_type_name(value: object) -> str:
    """The .NET full type name of a runtime value (as ``GetType().FullName`` would give)."""
    if value is None:
        return "null"
    if isinstance(value, enum.Enum):  # before int: IntEnum values are ints
        cls = type(value)
        if cls.__name__ == "Formatting":
            return "Newtonsoft.Json.Formatting"
        return f"{_ENUM_NAMESPACES.get(cls.__module__, 'System')}.{cls.__name__}"
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, Char):
        return "System.Char"
    if isinstance(value, str):
        return "System.String"
    kind = getattr(type(value), "kind", None)
    if kind is not None and hasattr(kind, "bits"):  # a tagged CLR number (engine.dotnet.clrnumeric)
        return str(kind.name)
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Double"
    if isinstance(value, Decimal):
        return "System.Decimal"
    if isinstance(value, bytes | bytearray):
        return "System.Byte[]"
    if isinstance(value, list | tuple):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Generic.Dictionary`2[System.String,System.Object]"
    if isinstance(value, set | frozenset):
        return "System.Collections.Generic.HashSet`1[System.Object]"
    return getattr(type(value), "dotnet_name", type(value).__name__)


__all__ = [
    "Char",
    "INTEGER_RANGES",
    "NEW_LINE",
    "TypeRef",
    "WHITESPACE_CHARS",
    "dotnet_type_name",
    "enum_to_string",
    "enum_value",
    "is_whitespace",
    "static_property",
    "type_ref",
]
