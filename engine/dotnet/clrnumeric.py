"""The CLR numeric value model: every number knows its C# type, and C# arithmetic on it.

Representation (one rule for the whole runtime library):

* ``int`` (Python) is a C# ``int`` (``System.Int32``). A plain Python int outside the Int32 range
  (produced by library code or read from JSON) is taken as a ``long``.
* ``long``, ``uint``, ``ulong``, ``short``, ``ushort``, ``byte``, ``sbyte`` values are instances of
  the ``int`` subclasses below (:class:`Int64Value`...), so a boxed ``object o = 5L`` still is a
  ``long`` (``o is int`` is false, ``(int)o`` throws ``InvalidCastException``). Python arithmetic on
  them gives plain ints; C# arithmetic goes through :func:`binary` / :func:`unary`, which apply the
  C# numeric promotions, wrap to the result's width (or throw ``OverflowException`` in a
  ``checked`` context) and tag the result.
* ``float`` (Python) is a C# ``double``; :class:`SingleValue` is a C# ``float``, rounded to single
  precision after every operation.
* ``decimal.Decimal`` is ``System.Decimal`` (28 significant digits, ``OverflowException`` beyond
  ``decimal.MaxValue``); ``Char`` is ``System.Char`` (promoted to ``int`` by arithmetic).

The compiler uses the same :class:`NumKind` table statically (``CsType.kind``): when both operand
types are known at compile time it binds the width-specific operation once (:func:`operation`);
values whose type is only known at run time dispatch on :func:`kind_of`.
"""

from __future__ import annotations

import ctypes
import math
import operator
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any, ClassVar, Generic

from typing_extensions import TypeVar

from .errors import DivideByZeroException, OverflowException
from .primitives import Char

V = TypeVar("V", default=Any)  # a kind's value type; a bare ``NumKind`` is one known only at run time


class NumKind(Generic[V]):
    """One C# numeric type: its .NET name, C# keyword, width and the Python class of its values."""

    __slots__ = ("name", "keyword", "bits", "signed", "integral", "lo", "hi", "cls", "rank")

    def __init__(
        self, name: str, keyword: str, bits: int, signed: bool, integral: bool, rank: int, cls: Callable[[Any], V]
    ) -> None:
        self.name = name
        self.keyword = keyword
        self.bits = bits
        self.signed = signed
        self.integral = integral
        self.rank = rank
        self.lo = -(1 << (bits - 1)) if signed else 0
        self.hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        self.cls = cls

    def __repr__(self) -> str:
        return f"<{self.keyword}>"

    def box(self, value: Any) -> V:
        """``value`` (already in range) represented as a value of this type."""
        cls = self.cls
        return value if value.__class__ is cls else cls(value)

    def wrap(self, n: int) -> Any:
        """Unchecked conversion of the integer ``n`` to this integral type."""
        if not self.lo <= n <= self.hi:
            n = (n - self.lo) % (1 << self.bits) + self.lo
        cls = self.cls
        return n if cls is int else cls(n)

    def checked(self, n: int) -> Any:
        """Checked conversion: ``OverflowException`` when ``n`` does not fit."""
        if not self.lo <= n <= self.hi:
            raise OverflowException("Arithmetic operation resulted in an overflow.")
        cls = self.cls
        return n if cls is int else cls(n)


class _Tagged(int):
    """An integer of a C# type other than ``int``; ``kind`` is that type."""

    __slots__ = ()
    kind: ClassVar[NumKind[int]]

    def __repr__(self) -> str:
        return int.__repr__(self)

    __str__ = __repr__


class SByteValue(_Tagged):
    __slots__ = ()


class ByteValue(_Tagged):
    __slots__ = ()


class Int16Value(_Tagged):
    __slots__ = ()


class UInt16Value(_Tagged):
    __slots__ = ()


class UInt32Value(_Tagged):
    __slots__ = ()


class Int64Value(_Tagged):
    __slots__ = ()


class UInt64Value(_Tagged):
    __slots__ = ()


def to_single(x: float) -> float:
    """``x`` rounded to single precision (overflow gives infinity, like the FPU)."""
    return ctypes.c_float(x).value


class SingleValue(float):
    """A C# ``float`` (``System.Single``): a double holding a single-precision value."""

    __slots__ = ()
    kind: ClassVar[NumKind[float]]

    def __new__(cls, value: Any = 0.0) -> SingleValue:
        return float.__new__(cls, to_single(float(value)))


SBYTE: NumKind[int] = NumKind("System.SByte", "sbyte", 8, True, True, 1, SByteValue)
BYTE: NumKind[int] = NumKind("System.Byte", "byte", 8, False, True, 1, ByteValue)
INT16: NumKind[int] = NumKind("System.Int16", "short", 16, True, True, 2, Int16Value)
UINT16: NumKind[int] = NumKind("System.UInt16", "ushort", 16, False, True, 2, UInt16Value)
CHAR: NumKind[Char] = NumKind("System.Char", "char", 16, False, True, 2, Char)
INT32: NumKind[int] = NumKind("System.Int32", "int", 32, True, True, 3, int)
UINT32: NumKind[int] = NumKind("System.UInt32", "uint", 32, False, True, 4, UInt32Value)
INT64: NumKind[int] = NumKind("System.Int64", "long", 64, True, True, 5, Int64Value)
UINT64: NumKind[int] = NumKind("System.UInt64", "ulong", 64, False, True, 6, UInt64Value)
SINGLE: NumKind[float] = NumKind("System.Single", "float", 32, True, False, 7, SingleValue)
DOUBLE: NumKind[float] = NumKind("System.Double", "double", 64, True, False, 8, float)
DECIMAL: NumKind[Decimal] = NumKind("System.Decimal", "decimal", 128, True, False, 9, Decimal)
# a value class names its kind once the kind (which names the class) exists
SByteValue.kind = SBYTE
ByteValue.kind = BYTE
Int16Value.kind = INT16
UInt16Value.kind = UINT16
UInt32Value.kind = UINT32
Int64Value.kind = INT64
UInt64Value.kind = UINT64
SingleValue.kind = SINGLE

KINDS: dict[str, NumKind] = {k.name: k for k in (SBYTE, BYTE, INT16, UINT16, CHAR, INT32, UINT32, INT64, UINT64,
                                                  SINGLE, DOUBLE, DECIMAL)}
INTEGERS: dict[str, NumKind[int]] = {k.name: k for k in (SBYTE, BYTE, INT16, UINT16, INT32, UINT32, INT64, UINT64)}
BY_KEYWORD: dict[str, NumKind] = {k.keyword: k for k in KINDS.values()} | {
    k.name.rsplit(".", 1)[1]: k for k in KINDS.values()}
_INT32_LO, _INT32_HI = INT32.lo, INT32.hi


def kind_of(value: Any) -> NumKind | None:
    """The C# numeric type of a runtime value (None: not a number; ``bool`` is not a number)."""
    cls = value.__class__
    if cls is int:
        return INT32 if _INT32_LO <= value <= _INT32_HI else INT64
    if cls is float:
        return DOUBLE
    kind = getattr(cls, "kind", None)
    if kind is not None and isinstance(kind, NumKind):
        return kind
    if cls is Decimal:
        return DECIMAL
    if cls is Char:
        return CHAR
    return None


def clr_int(value: int, kind: NumKind) -> Any:
    """Tag an integer the library computed as ``kind`` (wrapping like an unchecked cast)."""
    return kind.wrap(int(value))


# ------------------------------------------------------------------------------ promotions

_SIGNED_SMALL = frozenset({SBYTE, INT16, INT32})


def promote(a: NumKind, b: NumKind) -> NumKind | None:
    """C# binary numeric promotion (§12.4.7.3); None when C# rejects the pair."""
    if a is DECIMAL or b is DECIMAL:
        other = b if a is DECIMAL else a
        return None if other is DOUBLE or other is SINGLE else DECIMAL
    if a is DOUBLE or b is DOUBLE:
        return DOUBLE
    if a is SINGLE or b is SINGLE:
        return SINGLE
    if a is UINT64 or b is UINT64:
        other = b if a is UINT64 else a
        return None if other.signed else UINT64
    if a is INT64 or b is INT64:
        return INT64
    if a is UINT32 or b is UINT32:
        other = b if a is UINT32 else a
        return INT64 if other in _SIGNED_SMALL else UINT32
    return INT32


_WIDENING: dict[NumKind, frozenset[NumKind]] = {}


def widens(source: NumKind, target: NumKind) -> bool:
    """True when C# converts ``source`` to ``target`` implicitly (``int`` to ``long``, ``float`` to ``double``)."""
    if not _WIDENING:
        floats: set[NumKind] = {SINGLE, DOUBLE, DECIMAL}
        _WIDENING.update({
            SBYTE: frozenset({INT16, INT32, INT64} | floats), BYTE: frozenset({INT16, UINT16, INT32, UINT32, INT64,
                                                                             UINT64} | floats),
            INT16: frozenset({INT32, INT64} | floats), UINT16: frozenset({INT32, UINT32, INT64, UINT64} | floats),
            CHAR: frozenset({UINT16, INT32, UINT32, INT64, UINT64} | floats), INT32: frozenset({INT64} | floats),
            UINT32: frozenset({INT64, UINT64} | floats), INT64: frozenset(floats), UINT64: frozenset(floats),
            SINGLE: frozenset({DOUBLE}), DOUBLE: frozenset(), DECIMAL: frozenset(),
        })
    return target in _WIDENING[source]


def unary_promote(kind: NumKind) -> NumKind:
    """Unary numeric promotion: the small integral types and ``char`` become ``int``."""
    return INT32 if kind.integral and kind.rank < 3 else kind


def negate_kind(kind: NumKind) -> NumKind | None:
    """Result type of unary ``-`` (``-uint`` is ``long``; ``-ulong`` does not compile)."""
    kind = unary_promote(kind)
    if kind is UINT32:
        return INT64
    return None if kind is UINT64 else kind


def _number(value: Any, kind: NumKind) -> Any:
    """The plain Python value of ``value`` converted (implicitly) to ``kind`` for computing."""
    if kind is DECIMAL:
        return value if value.__class__ is Decimal else Decimal(int(value) if value.__class__ is Char else value)
    if kind.integral:
        return ord(value) if value.__class__ is Char else int(value)
    return float(ord(value)) if value.__class__ is Char else float(value)


_DEC_MAX = Decimal("79228162514264337593543950335")


_DEC_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN, Emax=999, Emin=-999)
_MANTISSA = 1 << 96


def _decimal_result(r: Decimal) -> Decimal:
    """``r`` as a System.Decimal: a 96-bit mantissa with at most 28 decimals (rounded half to even)."""
    if r.is_nan() or abs(r) > _DEC_MAX:
        raise OverflowException("Value was either too large or too small for a Decimal.")
    sign, digits, exponent = r.as_tuple()
    if isinstance(exponent, int) and (exponent < -28 or len(digits) > 28):
        scale = min(28, -exponent)
        while scale > 0:
            fitted = r.quantize(Decimal(1).scaleb(-scale), context=_DEC_CONTEXT)
            if abs(fitted.scaleb(scale)) < _MANTISSA:
                return fitted
            scale -= 1
        return r.quantize(Decimal(1), context=_DEC_CONTEXT)
    return r


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise DivideByZeroException()
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _int_mod(a: int, b: int) -> int:
    if b == 0:
        raise DivideByZeroException()
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def _float_div(a: float, b: float) -> float:
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _float_mod(a: float, b: float) -> float:
    if b == 0.0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    if math.isinf(b):
        return a
    return math.fmod(a, b)


def _float_mul(a: float, b: float) -> float:
    try:
        return a * b
    except OverflowError:  # pragma: no cover - float * float never raises
        return math.inf


def decimal_operation(op: str) -> Callable[[Decimal, Decimal], Decimal]:
    """The C# `decimal op decimal` (`+ - * / %`): 28 digits, DivideByZeroException, OverflowException."""
    def run(a: Decimal, b: Decimal) -> Decimal:
        if op in "/%" and b == 0:
            raise DivideByZeroException()
        try:
            if op == "%":
                return _decimal_result(a % b)
            return _decimal_result(_DECIMAL_PY[op](a, b))
        except InvalidOperation as exc:
            raise OverflowException("Value was either too large or too small for a Decimal.") from exc

    return run


_PY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_, "|": operator.or_,
    "^": operator.xor,
}
_DECIMAL_PY: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": _DEC_CONTEXT.add, "-": _DEC_CONTEXT.subtract, "*": _DEC_CONTEXT.multiply, "/": _DEC_CONTEXT.divide}
_INT_OPS: dict[str, Callable[[int, int], int]] = {**_PY, "/": _int_div, "%": _int_mod}
_FLOAT_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": _float_mul, "/": _float_div, "%": _float_mod}
ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
BITWISE = frozenset({"&", "|", "^"})
SHIFTS = frozenset({"<<", ">>"})
OPERATORS = ARITHMETIC | BITWISE | SHIFTS


def result_kind(op: str, a: NumKind, b: NumKind) -> NumKind | None:
    """Static result type of ``a op b`` (None: C# rejects the operands)."""
    if op in SHIFTS:
        left = unary_promote(a)
        count = unary_promote(b)
        if not left.integral or count is not INT32:
            return None
        return left
    kind = promote(a, b)
    if kind is None or op in BITWISE and not kind.integral:
        return None
    return kind


def operation(op: str, a: NumKind, b: NumKind, *, checked: bool = False) -> Callable[[Any, Any], Any] | None:
    """The C# operator ``op`` for operands statically of types ``a`` and ``b`` (None: rejected).

    The returned function takes the two operand values (never null) and returns the tagged
    result: integers wrap (or throw ``OverflowException`` when ``checked``), ``float`` rounds to
    single precision, ``decimal`` throws beyond its range, integer division by zero throws.
    """
    kind = result_kind(op, a, b)
    if kind is None:
        return None
    if op in SHIFTS:
        return _shift(op, kind)
    if kind is DECIMAL:
        dec = decimal_operation(op)
        return lambda x, y: dec(_number(x, DECIMAL), _number(y, DECIMAL))
    if not kind.integral:
        fop = _FLOAT_OPS[op]
        if kind is SINGLE:
            return lambda x, y: SingleValue(fop(_number(x, SINGLE), _number(y, SINGLE)))
        return lambda x, y: fop(_number(x, DOUBLE), _number(y, DOUBLE))
    iop = _INT_OPS[op]
    fit = kind.checked if checked else kind.wrap
    if op in ("/", "%"):
        lo = kind.lo

        def divide(x: Any, y: Any) -> Any:
            i, j = _number(x, kind), _number(y, kind)
            if j == -1 and i == lo and kind.signed:
                raise OverflowException("Arithmetic operation resulted in an overflow.")
            return fit(iop(i, j))

        return divide
    return lambda x, y: fit(iop(_number(x, kind), _number(y, kind)))


def _shift(op: str, kind: NumKind) -> Callable[[Any, Any], Any]:
    mask = 63 if kind.bits == 64 else 31
    if op == "<<":
        return lambda x, y: kind.wrap(_number(x, kind) << (_number(y, INT32) & mask))
    return lambda x, y: kind.wrap(_number(x, kind) >> (_number(y, INT32) & mask))


_DISPATCH: dict[tuple[str, NumKind, NumKind, bool], Callable[[Any, Any], Any] | None] = {}


def binary(op: str, a: Any, b: Any, *, checked: bool = False) -> Any:
    """``a op b`` for numbers whose types are known only at run time (raises TypeError if rejected)."""
    ka, kb = kind_of(a), kind_of(b)
    if ka is None or kb is None:
        raise TypeError(op)
    key = (op, ka, kb, checked)
    fn = _DISPATCH.get(key)
    if fn is None:
        if key in _DISPATCH:
            raise TypeError(op)
        fn = _DISPATCH[key] = operation(op, ka, kb, checked=checked)
        if fn is None:
            raise TypeError(op)
    return fn(a, b)


def negate(value: Any, *, checked: bool = False) -> Any:
    """Unary ``-`` with C# typing (``-int.MinValue`` wraps, or throws when checked)."""
    kind = kind_of(value)
    target = negate_kind(kind) if kind is not None else None
    if target is None:
        raise TypeError("-")
    if target is DECIMAL:
        return -value
    if not target.integral:
        return target.box(-_number(value, target))
    n = -_number(value, target)
    return target.checked(n) if checked else target.wrap(n)


def complement(value: Any) -> Any:
    """Unary ``~`` on an integral value."""
    kind = kind_of(value)
    if kind is None or not kind.integral:
        raise TypeError("~")
    kind = unary_promote(kind)
    return kind.wrap(~_number(value, kind))


def plus(value: Any) -> Any:
    """Unary ``+``: the unary promotion of ``value``."""
    kind = kind_of(value)
    if kind is None:
        raise TypeError("+")
    kind = unary_promote(kind)
    return kind.box(_number(value, kind)) if kind.integral else value


def step(value: Any, delta: int, kind: NumKind, *, checked: bool = False) -> Any:
    """``x++`` / ``x--`` on a variable of type ``kind``: the result keeps the variable's type."""
    if kind is CHAR:
        n = ord(value) + delta
        if checked and not 0 <= n <= 0xFFFF:
            raise OverflowException("Arithmetic operation resulted in an overflow.")
        return Char(n & 0xFFFF)
    if kind is DECIMAL:
        return _decimal_result(_number(value, DECIMAL) + delta)
    if not kind.integral:
        return kind.box(_number(value, kind) + delta)
    n = _number(value, kind) + delta
    return kind.checked(n) if checked else kind.wrap(n)


def convert(value: Any, kind: NumKind, *, checked: bool = False) -> Any:
    """Explicit numeric conversion ``(kind)value`` (C# unchecked or checked casts)."""
    source = kind_of(value)
    if source is None:
        raise TypeError(kind.keyword)
    if kind is CHAR:
        n = _truncate(value, source, kind, checked)
        return Char(n)
    if kind is DECIMAL:
        if source is DOUBLE or source is SINGLE:
            from .numbers import to_decimal_exact

            return to_decimal_exact(float(value))
        return _number(value, DECIMAL)
    if not kind.integral:
        if source is DECIMAL:
            return kind.box(float(value))
        return kind.box(_number(value, kind))
    return kind.cls(_truncate(value, source, kind, checked)) if kind.cls is not int else _truncate(
        value, source, kind, checked)


def _truncate(value: Any, source: NumKind, kind: NumKind, checked: bool) -> int:
    if source is DOUBLE or source is SINGLE:
        x = float(value)
        n = int(x) if math.isfinite(x) else None
        if checked:
            if n is None or not kind.lo <= n <= kind.hi:
                raise OverflowException("Arithmetic operation resulted in an overflow.")
            return n
        # x64 conversions: to int/long out of range gives MinValue; smaller types go through int,
        # uint through long, and then wrap
        via = INT64 if kind.bits == 64 or kind is UINT32 else INT32
        if n is None or not via.lo <= n <= via.hi:
            n = via.lo
        return int(kind.wrap(n))
    if source is DECIMAL:
        n = int(value)
        if not kind.lo <= n <= kind.hi:
            name = {"Byte": "an unsigned byte", "SByte": "a signed byte"}.get(
                kind.name.rsplit(".", 1)[1], f"an {kind.name.rsplit('.', 1)[1]}")
            raise OverflowException(f"Value was either too large or too small for {name}.")
        return n
    n = _number(value, source)
    if checked and not kind.lo <= n <= kind.hi:
        raise OverflowException("Arithmetic operation resulted in an overflow.")
    return int(kind.wrap(n))


def implicit(value: Any, kind: NumKind) -> Any:
    """The implicit conversion of a number to a wider numeric type (``long x = 5;``)."""
    source = kind_of(value)
    if source is None or source is kind:
        return value
    if kind is DECIMAL:
        return _number(value, DECIMAL)
    if not kind.integral:
        return kind.box(_number(value, kind))
    n = _number(value, source)
    return n if kind.cls is int else kind.cls(n)


__all__ = [
    "BYTE", "BY_KEYWORD", "ByteValue", "CHAR", "DECIMAL", "DOUBLE", "INT16", "INT32", "INT64", "Int16Value",
    "Int64Value", "KINDS", "NumKind", "OPERATORS", "SBYTE", "SByteValue", "SINGLE", "SingleValue", "UINT16", "UINT32",
    "UINT64", "UInt16Value", "UInt32Value", "UInt64Value", "binary", "clr_int", "complement", "convert",
    "INTEGERS", "decimal_operation", "implicit", "kind_of", "negate", "operation", "plus", "promote", "result_kind", "step", "to_single",
    "unary_promote", "widens",
]
