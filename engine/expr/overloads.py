"""C# overload resolution for the library methods whose overloads take only primitive types.

The runtime library (`engine.dotnet`) takes any argument and converts at run time, so without this
table the checker would accept calls C# refuses: `Math.Max("a", "b")`, `int.Parse(1)`,
`"abc".IndexOf(98)` (no overload applies: CS1502/CS1503) and `Math.Max((byte)1, 2)` or
`Math.Floor(7 / 2)` (two overloads apply and neither is better: CS0121). `resolve_overload` applies
the C# rules (applicable members, then the better function member by the better conversion of each
argument) to the arguments' static types; a call with an argument the bind pass cannot type, or an
arity the table does not list, is left to the run time (never refusing what C# accepts).
"""

from __future__ import annotations

from typing import NamedTuple

from engine.dotnet import clrnumeric
from engine.expr.cstypes import (
    BOOL,
    CHAR,
    DECIMAL,
    DOUBLE,
    DYNAMIC,
    FLOAT,
    INT,
    LONG,
    NULL,
    NUMERIC_TYPES,
    SBYTE,
    SHORT,
    STRING,
    CsType,
)

_ALL_NUMBERS = tuple(t for t in NUMERIC_TYPES.values() if t is not CHAR)
_SIGNED = (SBYTE, SHORT, INT, LONG, FLOAT, DOUBLE, DECIMAL)
_REALS = (DOUBLE, DECIMAL)

Params = tuple[CsType, ...]
# an enum parameter (`MidpointRounding`): a number converts to it only as the constant 0
ENUM = CsType("enum")


def _same(types: tuple[CsType, ...], arity: int) -> tuple[Params, ...]:
    return tuple((t,) * arity for t in types)


# (type as written without `System.`, method) -> the overloads of one arity, all of them
_STATIC: dict[tuple[str, str], dict[int, tuple[Params, ...]]] = {
    ("Math", "Max"): {2: _same(_ALL_NUMBERS, 2)},
    ("Math", "Min"): {2: _same(_ALL_NUMBERS, 2)},
    ("Math", "Abs"): {1: _same(_SIGNED, 1)},
    ("Math", "Sign"): {1: _same(_SIGNED, 1)},
    ("Math", "Floor"): {1: _same(_REALS, 1)},
    ("Math", "Ceiling"): {1: _same(_REALS, 1)},
    ("Math", "Truncate"): {1: _same(_REALS, 1)},
    ("Math", "Round"): {1: _same(_REALS, 1), 2: ((DOUBLE, INT), (DECIMAL, INT), (DOUBLE, ENUM), (DECIMAL, ENUM))},
    **{("Math", name): {1: ((DOUBLE,),)} for name in ("Sqrt", "Exp", "Log10", "Sin", "Cos", "Tan", "Atan")},
    ("Math", "Pow"): {2: ((DOUBLE, DOUBLE),)},
    **{(name, "Parse"): {1: ((STRING,),)} for name in (
        "int", "Int32", "long", "Int64", "short", "Int16", "byte", "Byte", "uint", "UInt32", "ulong", "UInt64",
        "double", "Double", "float", "Single", "decimal", "Decimal", "bool", "Boolean", "char", "Char")},
}
# string's instance methods
_STRING: dict[str, dict[int, tuple[Params, ...]]] = {
    "IndexOf": {1: ((CHAR,), (STRING,)), 2: ((CHAR, INT), (STRING, INT)), 3: ((CHAR, INT, INT), (STRING, INT, INT))},
    "LastIndexOf": {1: ((CHAR,), (STRING,)), 2: ((CHAR, INT), (STRING, INT))},
    "Substring": {1: ((INT,),), 2: ((INT, INT),)},
    "Remove": {1: ((INT,),), 2: ((INT, INT),)},
    "Insert": {2: ((INT, STRING),)},
    "PadLeft": {1: ((INT,),), 2: ((INT, CHAR),)},
    "PadRight": {1: ((INT,),), 2: ((INT, CHAR),)},
    "Replace": {2: ((CHAR, CHAR), (STRING, STRING))},
}
_KNOWN = frozenset({*NUMERIC_TYPES.values(), STRING, BOOL, NULL})


class Argument(NamedTuple):
    """An argument's static type, the types its constant converts to (`byte b = 1`), and whether it is
    the constant 0 (which converts to an enum)."""

    type: CsType
    fits: frozenset[CsType]
    zero: bool = False


def overloads(holder: str | None, name: str, arity: int) -> tuple[Params, ...] | None:
    """The overloads of `holder.name` (None: a method of string) with `arity` parameters, if listed."""
    table = _STRING.get(name) if holder is None else _STATIC.get((holder.removeprefix("System."), name))
    return None if table is None else table.get(arity)


def overload_result(holder: str | None, name: str, params: Params) -> CsType | None:
    """The result type of the chosen overload where the bind pass does not know it otherwise: Math's
    methods return their parameter's type (`Math.Floor(2m)` is a decimal), `Math.Sign` an int."""
    if holder is None or holder.removeprefix("System.") != "Math":
        return None
    return INT if name == "Sign" else params[0]


def resolve_overload(candidates: tuple[Params, ...], args: list[Argument]) -> Params | str | None:
    """The parameter types of the overload C# picks; None where the bind pass cannot tell; else the
    problem: "none" (no overload applies) or "ambiguous"."""
    if any(a.type not in _KNOWN for a in args):
        return None
    for params in candidates:  # an exact match is better than every other overload
        if all(a.type is t for a, t in zip(args, params, strict=True)):
            return params
    key = (id(candidates), *args)
    found = _RESOLVED.get(key, _RESOLVED)
    if found is _RESOLVED:
        found = _RESOLVED[key] = _resolve(candidates, args)
    return found  # type: ignore[return-value]


_RESOLVED: dict[tuple[object, ...], object] = {}  # (the table's candidates, the arguments) -> the answer


def _resolve(candidates: tuple[Params, ...], args: list[Argument]) -> Params | str:
    applicable = [p for p in candidates if all(_converts(a, t) for a, t in zip(args, p, strict=True))]
    if not applicable:
        return "none"
    best = [p for p in applicable if all(p is q or _better(p, q, args) for q in applicable)]
    return best[0] if len(best) == 1 else "ambiguous"


def _converts(arg: Argument, target: CsType) -> bool:
    source = arg.type
    if source is target or target is DYNAMIC or target in arg.fits:
        return True
    if target is ENUM:
        return arg.zero
    if source is NULL:
        return target is STRING
    return source.kind is not None and target.kind is not None and clrnumeric.widens(source.kind, target.kind)


def _better(p: Params, q: Params, args: list[Argument]) -> bool:
    """Overload `p` is better than `q`: no argument converts worse, at least one converts better."""
    better = False
    for arg, t1, t2 in zip(args, p, q, strict=True):
        if _better_conversion(arg.type, t2, t1):
            return False
        better = better or _better_conversion(arg.type, t1, t2)
    return better


def _better_conversion(source: CsType, t1: CsType, t2: CsType) -> bool:
    """C#'s better conversion from an expression of type `source`: to `t1` rather than to `t2`."""
    if t1 is t2:
        return False
    if source is t1:
        return True
    if source is t2:
        return False
    return _better_target(t1, t2)


_SIGNED_BEATS = {clrnumeric.SBYTE: {clrnumeric.BYTE, clrnumeric.UINT16, clrnumeric.UINT32, clrnumeric.UINT64},
                 clrnumeric.INT16: {clrnumeric.UINT16, clrnumeric.UINT32, clrnumeric.UINT64},
                 clrnumeric.INT32: {clrnumeric.UINT32, clrnumeric.UINT64}, clrnumeric.INT64: {clrnumeric.UINT64}}


def _better_target(t1: CsType, t2: CsType) -> bool:
    if t2 is DYNAMIC:
        return t1 is not DYNAMIC
    if t1.kind is None or t2.kind is None:
        return False
    if clrnumeric.widens(t1.kind, t2.kind) and not clrnumeric.widens(t2.kind, t1.kind):
        return True
    return t2.kind in _SIGNED_BEATS.get(t1.kind, ())
