"""Run-time support for compiled expressions: C# operators, the dynamic-member gate, limits.

Everything an expression can reach at run time goes through this module or through members
bound at compile time (`engine.expr.cstypes`, `contexttypes`, `library`); user text never becomes a Python `getattr`
without passing `gates.member_gate`, which allows only the members declared for the value's type.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from typing import Any, TypeVar

from engine.dotnet import clrnumeric, limits, regexengine
from engine.dotnet.containers import Tuple
from engine.dotnet.conversions import to_string
from engine.dotnet.errors import DotNetException, NullReferenceException
from engine.dotnet.limits import Meter, check_bytes, check_count, check_length
from engine.dotnet.primitives import Char, enum_value
from engine.errors import SecurityError as SecurityError  # re-exported: rt.SecurityError

LIMITS = limits.LIMITS  # the library's limits are the expression limits (one shared instance)
Limits = limits.Limits


class LimitExceeded(SecurityError):
    """A string, collection, loop or time limit was hit."""


LARGE = limits.LARGE
Budget = Meter  # per-evaluation counters (allocated only by code that loops or allocates a lot)


def _time_left() -> float:
    """Seconds left to the evaluation running now (`engine.dotnet.regexengine` stops matches there)."""
    meter = limits.active()
    return meter.time_left() if meter is not None else LIMITS.timeout


def _time_exceeded() -> LimitExceeded:
    return LimitExceeded(f"the expression ran longer than {LIMITS.timeout * 1000:.0f} ms")


regexengine.set_time_limit(_time_left, _time_exceeded)


_N = TypeVar("_N")


def check_string(value: _N) -> _N:
    if isinstance(value, str):
        check_length(len(value))
    return value


def check_size(n: _N) -> _N:
    if isinstance(n, int):
        check_count(n)
    return n


def check_result(value: Any) -> Any:
    """Size limits on a value produced by library code (strings, byte arrays, lists)."""
    cls = value.__class__
    if cls is str:
        check_length(len(value))
    elif cls is list:
        check_count(len(value))
    elif cls is bytes or cls is bytearray:
        check_bytes(len(value))
    return value


def _size_arg(args: tuple[Any, ...], index: int) -> None:
    if len(args) > index and isinstance(args[index], int):
        check_length(args[index], "a size")


PREFLIGHT: dict[str, Any] = {
    # name -> check(receiver, args) run before library code that allocates in proportion to an argument
    # (the library checks its own results before building them; these cover the remaining calls)
    "Resize": lambda obj, args: _size_arg(args, 1),
}


# ---------------------------------------------------------------- operators


def _library_operator(a: Any, b: Any, dunder: str) -> Any:
    """`a op b` for runtime-library values that define the C# operator (DateTime - TimeSpan...)."""
    for value in (a, b):
        if not (getattr(value.__class__, "__module__", "") or "").startswith("engine.dotnet"):
            continue
        if value.__class__ is Char or clrnumeric.kind_of(value) is not None:
            continue
        if getattr(value.__class__, dunder, None) is not None:
            return True
    return False


def _refused(op: str, a: Any, b: Any) -> DotNetTypeError:
    return DotNetTypeError(f"Operator '{op}' cannot be applied to operands of type '{_tn(a)}' and '{_tn(b)}'")


def _arith(op: str, dunder: str, py: Callable[[Any, Any], Any], checked: bool) -> Callable[[Any, Any], Any]:
    """C# binary operator on values typed only at run time: numbers by CLR type, nothing of Python."""
    binary = clrnumeric.binary

    def run(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None  # lifted nullable arithmetic
        try:
            return binary(op, a, b, checked=checked)
        except TypeError:
            pass
        if (op == "+" or op == "-") and (isinstance(a, enum.Enum) or isinstance(b, enum.Enum)):
            return _enum_arithmetic(op, a, b)
        if _library_operator(a, b, dunder):
            result = py(a, b)
            if result is not NotImplemented:
                return result
        raise _refused(op, a, b)

    return run


def _enum_arithmetic(op: str, a: Any, b: Any) -> Any:
    """`e + n`, `n + e`, `e - n` are of the enum's type; `e - e` is the underlying integer."""
    if isinstance(a, enum.Enum) and isinstance(b, enum.Enum):
        if op == "-" and a.__class__ is b.__class__:
            return int(a.value) - int(b.value)
        raise _refused(op, a, b)
    member, number = (a, b) if isinstance(a, enum.Enum) else (b, a)
    if clrnumeric.kind_of(number) is None or op == "-" and member is b:
        raise _refused(op, a, b)
    value = int(member.value) + int(number) if op == "+" else int(member.value) - int(number)
    return enum_value(member.__class__, value)


def _concat(a: Any, b: Any) -> str:
    r = (a if a.__class__ is str else to_string(a)) + (b if b.__class__ is str else to_string(b))
    return check_string(r) if len(r) > 4096 else r


def _library_add(cls: type) -> bool:
    """True for library classes that define C#'s `+` with a string operand (`XNamespace`)."""
    return cls.__module__.startswith("engine.dotnet") and "__add__" in vars(cls)


def _adder(checked: bool) -> Callable[[Any, Any], Any]:
    numeric = _arith("+", "__add__", operator.add, checked)

    def add(a: Any, b: Any) -> Any:
        """C# `+`: string concatenation when either side is a string, else numeric addition."""
        if a.__class__ is str or b.__class__ is str:
            if a.__class__ is not str and _library_add(a.__class__):  # `ns + "local"` is an XName
                return a + b
            return _concat(a, b)
        return numeric(a, b)

    return add


add = _adder(False)
sub = _arith("-", "__sub__", operator.sub, False)
mul = _arith("*", "__mul__", operator.mul, False)
div = _arith("/", "__truediv__", operator.truediv, False)
mod = _arith("%", "__mod__", operator.mod, False)
shl = _arith("<<", "__lshift__", operator.lshift, False)
shr = _arith(">>", "__rshift__", operator.rshift, False)


def _bitwise(op: str, logical: Callable[[bool, bool], bool], checked: bool) -> Callable[[Any, Any], Any]:
    numeric = _arith(op, "", operator.and_, checked)

    def run(a: Any, b: Any) -> Any:
        if a is None or b is None:  # `bool?` is three-valued: `null & false` is false, `null | true` true
            other = b if a is None else a
            return other if other.__class__ is bool and op != "^" and other is (op == "|") else None
        if a.__class__ is bool and b.__class__ is bool:
            return logical(a, b)
        if isinstance(a, enum.Enum) and a.__class__ is b.__class__:
            return a.__class__(_BITWISE_PY[op](a.value, b.value))
        return numeric(a, b)

    return run


_BITWISE_PY: dict[str, Callable[[Any, Any], Any]] = {"&": operator.and_, "|": operator.or_, "^": operator.xor}
bit_and = _bitwise("&", lambda a, b: a and b, False)
bit_or = _bitwise("|", lambda a, b: a or b, False)
bit_xor = _bitwise("^", lambda a, b: a != b, False)


def reference_equals(a: Any, b: Any, same_variable: bool) -> bool:
    """`==` of two `object` operands: reference equality (every boxing makes a new object).

    Strings compare by value (C# would compare references, which agree for literals and
    interned strings only; policy expressions cannot tell the two apart reliably).
    """
    if a is None or b is None:
        return a is b
    if same_variable:
        return True
    if a.__class__ is str and b.__class__ is str:
        return bool(a == b)
    if a.__class__ is bool or clrnumeric.kind_of(a) is not None or isinstance(a, enum.Enum):
        return False  # two boxes of a value type
    return a is b


def eq(a: Any, b: Any) -> bool:
    """C# `==`: ordinal for strings, numeric across int/double, reference-ish otherwise."""
    if a is None or b is None:
        return a is None and b is None
    ca, cb = a.__class__, b.__class__
    if ca is cb:
        if ca is list or isinstance(a, dict) or ca is set or ca is bytearray or ca is Tuple:
            # arrays, collections, System.Tuple and anonymous objects are reference types without `==`
            return a is b
        return bool(a == b)
    if (ca is bool) != (cb is bool):
        return False
    return bool(a == b)


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def _compare(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if a.__class__ is str and not isinstance(a, Char) or b.__class__ is str and not isinstance(b, Char):
        raise DotNetTypeError("Operator '<' cannot be applied to operands of type 'string'")
    return True


def lt(a: Any, b: Any) -> bool:
    return _compare(a, b) and a < b


def gt(a: Any, b: Any) -> bool:
    return _compare(a, b) and a > b


def le(a: Any, b: Any) -> bool:
    return _compare(a, b) and a <= b


def ge(a: Any, b: Any) -> bool:
    return _compare(a, b) and a >= b


def _unary(op: str, numeric: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(a: Any) -> Any:
        if a is None:
            return None
        try:
            return numeric(a)
        except TypeError:
            pass
        if op == "-" and (getattr(a.__class__, "__module__", "") or "").startswith("engine.dotnet") and \
                hasattr(a.__class__, "__neg__"):
            return -a
        if op == "~" and isinstance(a, enum.Enum):
            return a.__class__(~a.value)
        raise DotNetTypeError(f"Operator '{op}' cannot be applied to operand of type '{_tn(a)}'")

    return run


neg = _unary("-", clrnumeric.negate)
plus = _unary("+", clrnumeric.plus)
bit_not = _unary("~", clrnumeric.complement)


def not_(a: Any) -> Any:
    if a is None:
        return None
    if a.__class__ is not bool:
        raise DotNetTypeError(f"Operator '!' cannot be applied to operand of type '{_tn(a)}'")
    return not a


def truth(value: Any) -> bool:
    """A condition must be a bool (C# has no truthiness)."""
    if value is True or value is False:
        return value
    if value is None:
        raise NullReferenceException("Nullable object must have a value.")
    raise DotNetTypeError(f"Cannot implicitly convert type '{_tn(value)}' to 'bool'")


BINARY = {
    "+": add, "-": sub, "*": mul, "/": div, "%": mod, "==": eq, "!=": ne, "<": lt, ">": gt,
    "<=": le, ">=": ge, "&": bit_and, "|": bit_or, "^": bit_xor, "<<": shl, ">>": shr,
}
UNARY = {"-": neg, "+": plus, "!": not_, "~": bit_not}
CHECKED = {
    "+": _adder(True), "-": _arith("-", "__sub__", operator.sub, True), "*": _arith("*", "__mul__", operator.mul, True),
    "/": _arith("/", "__truediv__", operator.truediv, True), "%": _arith("%", "__mod__", operator.mod, True),
    "<<": shl, ">>": shr, "&": bit_and, "|": bit_or, "^": bit_xor,
}


def _tn(value: Any) -> str:
    from engine.dotnet.primitives import dotnet_type_name

    return dotnet_type_name(value).rsplit(".", 1)[-1]


class DotNetTypeError(DotNetException):
    """An operator applied to operands C# would reject (reported as InvalidOperationException)."""

    dotnet_name = "System.InvalidOperationException"


class ShortCircuit(Exception):
    """Raised by `?.`/`?[` on null; caught at the end of the access chain, which yields null."""


SHORT = ShortCircuit()
