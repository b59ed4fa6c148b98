"""The static type model of the compiler: `CsType`, its declared `Member`s, and the built-in types.

`CsType` is the static type the bind pass tracks for every node; `DYNAMIC` means "known at run
time only": member accesses on it compile to the run-time gate (`engine.expr.gates`). Types of
the context surface are declared in `engine.expr.contexttypes`; types of runtime-library classes
are made here on demand (`library_type`, members by introspection).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

from engine.dotnet import clrnumeric
from engine.dotnet.clrnumeric import NumKind
from engine.dotnet.errors import InvalidOperationException


@dataclass(eq=False)
class Member:
    """One declared member. Properties: `impl(target)`; methods: `impl(target, *args)`."""

    name: str
    kind: str  # property | method
    impl: Callable[..., Any]
    returns: CsType | Callable[..., CsType] | None = None  # callable: f(type_args) -> CsType
    min_args: int = 0
    max_args: int | None = None  # None: any number
    generic: bool = False  # takes <T> as the first argument (passed as a type name string)
    out_positions: tuple[int, ...] = ()  # indices of `out` params (result tuple: (ret, *outs))
    path: str | None = None  # for properties that are a plain attribute path (fused getters)
    doc: str = ""
    inline: Callable[[str, list[str]], str] | None = None  # source template for the generated evaluator

    def result(self, type_args: tuple[CsType, ...] = ()) -> CsType:
        """The static result type; `type_args` are the call's resolved type arguments (`As<JObject>`)."""
        if self.returns is None:
            return DYNAMIC
        if isinstance(self.returns, CsType):
            return self.returns
        return self.returns(type_args)


@dataclass(eq=False)
class CsType:
    """A static C# type: its name, the Python class(es) of its values and its declared members."""

    name: str
    pyclass: type | tuple[type, ...] | None = None
    members: dict[str, Member] = field(default_factory=dict)
    closed: bool = False  # unknown members are lint errors (else they go to the runtime gate)
    element: CsType | None = None  # element type for foreach / LINQ lambdas
    value: CsType | None = None  # a dictionary's value type (`GetValueOrDefault`, the indexer)
    key: CsType | None = None  # a dictionary's key type, where written (`new Dictionary<long, V>`)
    items: tuple[CsType, ...] | None = None  # a value tuple's element types (deconstruction)
    numeric: bool = False
    kind: NumKind | None = None  # the CLR numeric type (numbers and char): selects width-specific operators

    def __repr__(self) -> str:
        return f"CsType({self.name})"

    def member(self, name: str) -> Member | None:
        return self.members.get(name)


DYNAMIC = CsType("object")
VOID = CsType("void")
NULL = CsType("null")
STRING = CsType("string", str)
CHAR = CsType("char", kind=clrnumeric.CHAR)
BOOL = CsType("bool", bool)
# `typeof(T)`: an argument of `Enum.Parse(typeof(T), ...)` and friends. System.Type is not on APIM's
# allow-list, so the value has no members (`typeof(int).Name` is a check-time error).
SYSTEM_TYPE = CsType("System.Type", str, closed=True)


def _numeric_type(kind: NumKind) -> CsType:
    return CsType(kind.keyword, int if kind.integral else float if kind is not clrnumeric.DECIMAL else Decimal,
                  numeric=True, kind=kind)


SBYTE = _numeric_type(clrnumeric.SBYTE)
BYTE = _numeric_type(clrnumeric.BYTE)
SHORT = _numeric_type(clrnumeric.INT16)
USHORT = _numeric_type(clrnumeric.UINT16)
INT = _numeric_type(clrnumeric.INT32)
UINT = _numeric_type(clrnumeric.UINT32)
LONG = _numeric_type(clrnumeric.INT64)
ULONG = _numeric_type(clrnumeric.UINT64)
FLOAT = _numeric_type(clrnumeric.SINGLE)
DOUBLE = _numeric_type(clrnumeric.DOUBLE)
DECIMAL = _numeric_type(clrnumeric.DECIMAL)
STRING_ARRAY = CsType("string[]", list, element=STRING)
STRING.element = CHAR
NUMERIC_TYPES: dict[NumKind, CsType] = {t.kind: t for t in (SBYTE, BYTE, SHORT, USHORT, INT, UINT, LONG, ULONG,
                                                           FLOAT, DOUBLE, DECIMAL, CHAR) if t.kind is not None}
PRIMITIVES = {
    "string": STRING, "bool": BOOL, **{t.name: t for t in NUMERIC_TYPES.values()},
    **{kind.name.rsplit(".", 1)[1]: t for kind, t in NUMERIC_TYPES.items()},
    "object": DYNAMIC, "null": NULL,
}


def prop(name: str, path: str, returns: CsType | None = None) -> Member:
    return Member(name, "property", attrgetter(path), returns, path=path)


def method(name: str, impl: Callable[..., Any], returns: CsType | Callable[..., CsType] | None,
           min_args: int, max_args: int | None, **kw: Any) -> Member:
    return Member(name, "method", impl, returns, min_args, max_args, **kw)


def declare(type_: CsType, *members: Member, closed: bool = True) -> CsType:
    for m in members:
        type_.members[m.name] = m
    type_.closed = closed
    return type_


_LIBRARY_TYPES: dict[type, CsType] = {}
_NULLABLE: dict[str, CsType] = {}
_VALUE_TYPE_NAMES = frozenset({"DateTime", "TimeSpan", "DateTimeOffset", "Guid", "KeyValuePair"})


def is_value_type(t: CsType) -> bool:
    pyclass = t.pyclass if isinstance(t.pyclass, type) else None
    return (t.numeric or t is BOOL or t is CHAR or t.name in _VALUE_TYPE_NAMES
            or pyclass is not None and issubclass(pyclass, enum.Enum))


class _NoValue:
    """A null `T?` as the target of `Value`/`HasValue`/`GetValueOrDefault`, which work on null."""


NO_VALUE = _NoValue()
NULLABLE_MEMBERS = frozenset({"Value", "HasValue", "GetValueOrDefault", "ToString"})


def _nullable_value(value: Any) -> Any:
    if value is None or value is NO_VALUE:
        raise InvalidOperationException("Nullable object must have a value.")
    return value


def _nullable_text(value: Any) -> str:
    from engine.dotnet.conversions import to_string

    return "" if value is None or value is NO_VALUE else to_string(value)


def zero_value(t: CsType) -> Any:
    """`default(T)` of a numeric, char, bool or enum type (None for the others)."""
    if t is CHAR:
        from engine.dotnet.primitives import Char

        return Char("\0")
    if t.kind is not None:
        return t.kind.box(t.kind.cls(0))
    if isinstance(t.pyclass, type) and issubclass(t.pyclass, enum.IntEnum | enum.IntFlag):
        from engine.dotnet.primitives import enum_value

        return enum_value(t.pyclass, 0)
    return False if t is BOOL else None


def nullable_type(inner: CsType) -> CsType:
    """`T?` / `Nullable<T>` of a value type `T`: the value itself or `null` at run time, with
    `Value`, `HasValue` and `GetValueOrDefault`; `x?.Member` reaches `T`'s members."""
    found = _NULLABLE.get(inner.name)
    if found is None:
        zero = zero_value(inner)
        found = _NULLABLE[inner.name] = CsType(inner.name + "?", inner.pyclass, members=dict(inner.members),
                                               element=inner.element)
        declare(found,
                Member("Value", "property", _nullable_value, inner),
                Member("HasValue", "property", lambda v: v is not None and v is not NO_VALUE, BOOL),
                method("GetValueOrDefault", lambda v, *d: v if v is not NO_VALUE else (d[0] if d else zero),
                       inner, 0, 1),
                method("ToString", _nullable_text, STRING, 0, 0),  # a null `T?` prints as ""
                closed=inner.closed)
    return found




def nullable_inner(t: CsType) -> CsType | None:
    """`T` of a `T?` type (None for the others)."""
    return t.members["Value"].result() if t.name.endswith("?") and _NULLABLE.get(t.name[:-1]) is t else None


def numeric_kind(t: CsType) -> NumKind | None:
    """The numeric kind of a numeric type or of its `T?` (`long?` is stored as a long or null)."""
    inner = nullable_inner(t) if t.kind is None else None
    return t.kind if inner is None else inner.kind


def implicit_converter(source: CsType, target: CsType) -> Callable[[Any], Any] | None:
    """C#'s user-defined implicit conversion of a `source` value stored in a `target` local (`DateTimeOffset o =
    dateTime;`, `JToken t = 5;`, `XName n = "a";`): the library class's `implicit_from`, or its
    `from_string` for a string; None where nothing converts."""
    cls = target.pyclass
    if source is target or not isinstance(cls, type) or isinstance(source.pyclass, type) and issubclass(
            source.pyclass, cls):
        return None
    if source is STRING and (from_string := getattr(cls, "from_string", None)) is not None:
        return from_string  # type: ignore[no-any-return]
    convert = cls.__dict__.get("implicit_from")
    return convert.__func__ if isinstance(convert, staticmethod) else None


def library_type(cls: type) -> CsType:
    """A CsType for a runtime class of engine.dotnet: members by introspection (open set)."""
    found = _LIBRARY_TYPES.get(cls)
    if found is None:
        found = _LIBRARY_TYPES[cls] = CsType(getattr(cls, "__name__", "object"), cls)
    return found
