"""Run-time support for compiled expressions: C# operators, the dynamic-member gate, limits.

Everything an expression can reach at run time goes through this module or through members
bound at compile time by `engine.expr.members`; user text never becomes a Python `getattr`
without passing `member_gate`, which allows only the members declared for the value's type.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

from engine.dotnet.conversions import to_string
from engine.dotnet.errors import (
    DivideByZeroException,
    DotNetException,
    NullReferenceException,
)
from engine.dotnet.primitives import Char
from engine.errors import SecurityError


class Limits:
    """Evaluation limits; one shared instance, adjustable by the gateway's settings."""

    timeout: float = 0.050  # seconds of wall time per evaluation (only checked in loops/lambdas)
    max_iterations: int = 100_000  # loop iterations + lambda calls per evaluation
    max_string: int = 1 << 20  # characters in any string an expression builds
    max_collection: int = 100_000  # elements in any array/list an expression builds


LIMITS = Limits()


class LimitExceeded(SecurityError):
    """A string, collection, loop or time limit was hit."""


class Budget:
    """Per-evaluation counters for loops and lambdas (allocated only by code that loops)."""

    __slots__ = ("deadline", "left")

    def __init__(self) -> None:
        self.deadline = time.perf_counter() + LIMITS.timeout
        self.left = LIMITS.max_iterations

    def tick(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise LimitExceeded(f"the expression ran more than {LIMITS.max_iterations} loop iterations")
        if not self.left & 63 and time.perf_counter() > self.deadline:
            raise LimitExceeded(f"the expression ran longer than {LIMITS.timeout * 1000:.0f} ms")


def check_string(value: Any) -> Any:
    if value.__class__ is str and len(value) > LIMITS.max_string:
        raise LimitExceeded(f"a string of {len(value)} characters exceeds the limit of {LIMITS.max_string}")
    return value


def check_size(n: Any) -> int:
    if isinstance(n, int) and n > LIMITS.max_collection:
        raise LimitExceeded(f"a collection of {n} elements exceeds the limit of {LIMITS.max_collection}")
    return n


def check_result(value: Any) -> Any:
    """Size limits on a value produced by library code (strings, byte arrays, lists)."""
    cls = value.__class__
    if cls is str:
        if len(value) > LIMITS.max_string:
            raise LimitExceeded(f"a string of {len(value)} characters exceeds the limit of {LIMITS.max_string}")
    elif cls is list or cls is bytes:
        if len(value) > LIMITS.max_collection and cls is list or len(value) > LIMITS.max_string:
            raise LimitExceeded(f"a collection of {len(value)} elements exceeds the limit")
    return value


def _size_arg(args: tuple[Any, ...], index: int) -> None:
    if len(args) > index and isinstance(args[index], int) and args[index] > LIMITS.max_string:
        raise LimitExceeded(f"a size of {args[index]} exceeds the limit of {LIMITS.max_string}")


def _replace_growth(obj: Any, args: tuple[Any, ...]) -> None:
    if isinstance(obj, str) and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str) and args[0]:
        growth = len(args[1]) - len(args[0])
        if growth > 0 and len(obj) + obj.count(args[0]) * growth > LIMITS.max_string:
            raise LimitExceeded(f"the result would exceed the string limit of {LIMITS.max_string}")


PREFLIGHT: dict[str, Any] = {
    # name -> check(receiver, args) run before library code that allocates in proportion to an argument
    "PadLeft": lambda obj, args: _size_arg(args, 0),
    "PadRight": lambda obj, args: _size_arg(args, 0),
    "Replace": _replace_growth,
    "Repeat": lambda obj, args: _size_arg(args, 1),
    "Range": lambda obj, args: _size_arg(args, 1),
    "New": lambda obj, args: _size_arg(args, 1),
    "Resize": lambda obj, args: _size_arg(args, 1),
}


# ---------------------------------------------------------------- operators


def _is_num(v: Any) -> bool:
    return (v.__class__ is int or v.__class__ is float or v.__class__ is Decimal) and v.__class__ is not bool


def add(a: Any, b: Any) -> Any:
    """C# `+`: string concatenation when either side is a string, else numeric addition."""
    ca, cb = a.__class__, b.__class__
    if ca is str:
        if cb is str:
            r = a + b
        else:
            r = a + to_string(b)
        return check_string(r) if len(r) > 4096 else r
    if cb is str:
        r = to_string(a) + b
        return check_string(r) if len(r) > 4096 else r
    if a is None or b is None:
        return None  # lifted nullable arithmetic
    if isinstance(a, Char) or isinstance(b, Char):
        return a + b
    if ca is bool or cb is bool:
        raise DotNetTypeError(f"Operator '+' cannot be applied to operands of type '{_tn(a)}' and '{_tn(b)}'")
    return _numeric(a, b, a + b if ca is cb or not (ca is Decimal or cb is Decimal) else Decimal(a) + Decimal(b))


def _numeric(a: Any, b: Any, r: Any) -> Any:
    return r


def sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if hasattr(a, "op_Subtraction"):
        return a.op_Subtraction(b)
    return a - b


def mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if a.__class__ is str or b.__class__ is str:
        raise DotNetTypeError(f"Operator '*' cannot be applied to operands of type '{_tn(a)}' and '{_tn(b)}'")
    return a * b


def div(a: Any, b: Any) -> Any:
    """C# `/`: integer division truncates toward zero; float division by zero gives infinity."""
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        a, b = int(a), int(b)
        if b == 0:
            raise DivideByZeroException()
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if b == 0:
            raise DivideByZeroException()
        return Decimal(a) / Decimal(b)
    a, b = float(a), float(b)
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def mod(a: Any, b: Any) -> Any:
    """C# `%`: the remainder takes the sign of the dividend."""
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        a, b = int(a), int(b)
        if b == 0:
            raise DivideByZeroException()
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if b == 0:
            raise DivideByZeroException()
        return Decimal(a) % Decimal(b)
    if float(b) == 0.0:
        return math.nan
    return math.fmod(float(a), float(b))


def eq(a: Any, b: Any) -> bool:
    """C# `==`: ordinal for strings, numeric across int/double, reference-ish otherwise."""
    if a is None or b is None:
        return a is None and b is None
    ca, cb = a.__class__, b.__class__
    if ca is cb:
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


def bit_and(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return (a and b) if isinstance(a, bool) else a & b


def bit_or(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return (a or b) if isinstance(a, bool) else a | b


def bit_xor(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return (a != b) if isinstance(a, bool) else a ^ b


def shl(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    r = int(a) << (int(b) & 63)
    return _wrap(r, 64 if abs(int(a)) > 0x7FFFFFFF else 32)


def shr(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    return int(a) >> (int(b) & 63)


def _wrap(n: int, bits: int) -> int:
    n &= (1 << bits) - 1
    return n - (1 << bits) if n >> (bits - 1) else n


def neg(a: Any) -> Any:
    return None if a is None else -a


def plus(a: Any) -> Any:
    return None if a is None else +a


def not_(a: Any) -> Any:
    if a is None:
        return None
    if a.__class__ is not bool:
        raise DotNetTypeError(f"Operator '!' cannot be applied to operand of type '{_tn(a)}'")
    return not a


def bit_not(a: Any) -> Any:
    return None if a is None else ~int(a)


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


def _tn(value: Any) -> str:
    from engine.dotnet.primitives import dotnet_type_name

    return dotnet_type_name(value).rsplit(".", 1)[-1]


class DotNetTypeError(DotNetException):
    """An operator applied to operands C# would reject (reported as InvalidOperationException)."""

    dotnet_name = "System.InvalidOperationException"


class ShortCircuit(Exception):
    """Raised by `?.`/`?[` on null; caught at the end of the access chain, which yields null."""


SHORT = ShortCircuit()
