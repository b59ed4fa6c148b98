"""Numeric types: ``Int32``/``Int64``/... ``Double``, ``Decimal``, ``Boolean`` statics and members.

``Decimal`` here is the C# ``System.Decimal`` *static class*; decimal values themselves are
``decimal.Decimal``. ``NumberMembers`` and ``BoolMembers`` hold the instance members of numbers and
booleans (represented by Python ``int``/``float``/``Decimal``/``bool``).
"""

from __future__ import annotations

import enum
import math
import re
from decimal import Decimal as PyDecimal
from decimal import InvalidOperation
from typing import Any

from . import clrnumeric
from .culture import NumberStyles, is_format_provider
from .errors import ArgumentException, ArgumentNullException, FormatException, OverflowException
from .formatting import format_number
from .primitives import INTEGER_RANGES, is_whitespace

_BAD_INPUT = "Input string was not in a correct format."


def _strip_ws(s: str) -> str:
    i, j = 0, len(s)
    while i < j and is_whitespace(s[i]):
        i += 1
    while j > i and is_whitespace(s[j - 1]):
        j -= 1
    return s[i:j]


def _bad_input(s: str) -> FormatException:
    return FormatException(f"The input string '{s}' was not in a correct format.")


def _style_of(args: tuple[Any, ...], default: NumberStyles) -> NumberStyles:
    for a in args:
        if isinstance(a, NumberStyles):
            return a
        if isinstance(a, int) and not isinstance(a, bool):
            return NumberStyles(a)
    return default


_INT_RE = re.compile(r"[+-]?[0-9]+")
_NUMBER_RE = re.compile(r"([+-]?)((?:[0-9][0-9,]*)?)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")


def parse_number_text(s: str, styles: NumberStyles) -> int | PyDecimal | float:
    """Parse ``s`` under ``styles``; returns an int (integers), Decimal, or float (inf/nan)."""
    text = _strip_ws(s) if styles & (NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite) else s
    if styles & NumberStyles.AllowHexSpecifier:
        if not text or not re.fullmatch(r"[0-9A-Fa-f]+", text):
            raise _bad_input(s)
        return int(text, 16)
    negative_parens = False
    if styles & NumberStyles.AllowParentheses and text.startswith("(") and text.endswith(")"):
        text, negative_parens = text[1:-1], True
    if styles & NumberStyles.AllowTrailingSign and text[-1:] in "+-" and text:
        text = text[-1] + text[:-1]
    if styles & NumberStyles.AllowExponent or styles & NumberStyles.AllowDecimalPoint:
        lower = text.lower().lstrip("+")
        if lower in ("infinity", "∞"):
            return math.inf
        if lower in ("-infinity", "-∞"):
            return -math.inf
        if lower == "nan":
            return math.nan
    m = _NUMBER_RE.fullmatch(text)
    if not m or (not m.group(2) and not m.group(3)):
        raise _bad_input(s)
    sign, int_part, frac, exp = m.groups()
    if sign and not styles & NumberStyles.AllowLeadingSign and not styles & NumberStyles.AllowTrailingSign:
        raise _bad_input(s)
    if "," in int_part and not styles & NumberStyles.AllowThousands:
        raise _bad_input(s)
    if frac is not None and not styles & NumberStyles.AllowDecimalPoint:
        raise _bad_input(s)
    if exp is not None and not styles & NumberStyles.AllowExponent:
        raise _bad_input(s)
    if m.group(3) is not None and not int_part and not frac:
        raise _bad_input(s)
    digits = int_part.replace(",", "") or "0"
    value = PyDecimal(f"{sign}{digits}.{frac or '0'}e{exp or '0'}")
    if negative_parens:
        value = -value
    if frac is None and exp is None:
        return int(value)
    return value


def _parse_styled(s: str | None, args: tuple[Any, ...], default: NumberStyles) -> int | PyDecimal | float:
    """The head of every ``Parse(s[, styles][, provider])``: null check, then the styled parse."""
    if s is None:
        raise ArgumentNullException("s")
    return parse_number_text(s, _style_of(args, default))


def _parse_finite(s: str | None, args: tuple[Any, ...], default: NumberStyles) -> int | PyDecimal:
    """``_parse_styled`` for the integer and decimal types, which do not accept infinity or NaN."""
    value = _parse_styled(s, args, default)
    if isinstance(value, float):
        raise _bad_input(str(s))
    return value


class _IntegerType:
    """Statics of one C# integer type (``int.Parse``, ``int.MaxValue``...)."""

    def __init__(self, full_name: str) -> None:
        self.dotnet_name = full_name
        self._short = full_name.rsplit(".", 1)[-1]
        self.kind = clrnumeric.INTEGERS[full_name]
        self.MinValue, self.MaxValue = (self.kind.box(v) for v in INTEGER_RANGES[full_name])

    def __repr__(self) -> str:
        return f"<{self.dotnet_name}>"

    def _check(self, value: int) -> int:
        if not self.MinValue <= value <= self.MaxValue:
            name = {"Byte": "an unsigned byte", "SByte": "a signed byte"}.get(
                self._short, f"an {self._short}"
            )
            raise OverflowException(f"Value was either too large or too small for {name}.")
        return value

    def Parse(self, s: str | None, *args: Any) -> int:
        value = _parse_finite(s, args, NumberStyles.Integer)
        if isinstance(value, PyDecimal):
            if value != value.to_integral_value():
                raise OverflowException(f"Value was either too large or too small for an {self._short}.")
            value = int(value)
        return self.kind.box(self._check(value))

    def TryParse(self, s: str | None, *args: Any) -> tuple[bool, int]:
        try:
            return True, self.Parse(s, *args)
        except (FormatException, OverflowException, ArgumentNullException):
            return False, self.kind.box(0)

    def IsNegative(self, value: int) -> bool:
        return value < 0

    def Abs(self, value: int) -> int:
        return self._check(abs(value))

    def Max(self, a: int, b: int) -> int:
        return max(a, b)

    def Min(self, a: int, b: int) -> int:
        return min(a, b)


Byte = _IntegerType("System.Byte")
SByte = _IntegerType("System.SByte")
Int16 = _IntegerType("System.Int16")
UInt16 = _IntegerType("System.UInt16")
Int32 = _IntegerType("System.Int32")
UInt32 = _IntegerType("System.UInt32")
Int64 = _IntegerType("System.Int64")
UInt64 = _IntegerType("System.UInt64")


class _FloatType:
    """Statics of ``double``/``float``."""

    def __init__(self, kind: clrnumeric.NumKind[float], max_value: float, epsilon: float) -> None:
        self.dotnet_name = kind.name
        self.kind = kind
        self.MaxValue = self.kind.box(max_value)
        self.MinValue = self.kind.box(-max_value)
        self.Epsilon = self.kind.box(epsilon)
        self.NaN = math.nan
        self.PositiveInfinity = math.inf
        self.NegativeInfinity = -math.inf

    def Parse(self, s: str | None, *args: Any) -> float:
        value = _parse_styled(s, args, NumberStyles.Float | NumberStyles.AllowThousands)
        if not isinstance(value, float):
            try:
                value = float(value)
            except OverflowError:
                value = math.inf if value > 0 else -math.inf
        return self.kind.box(value)

    def TryParse(self, s: str | None, *args: Any) -> tuple[bool, float]:
        try:
            return True, self.Parse(s, *args)
        except (FormatException, ArgumentNullException):
            return False, 0.0

    @staticmethod
    def IsNaN(x: float) -> bool:
        return math.isnan(x)

    @staticmethod
    def IsInfinity(x: float) -> bool:
        return math.isinf(x)

    @staticmethod
    def IsPositiveInfinity(x: float) -> bool:
        return x == math.inf

    @staticmethod
    def IsNegativeInfinity(x: float) -> bool:
        return x == -math.inf

    @staticmethod
    def IsFinite(x: float) -> bool:
        return math.isfinite(x)


Double = _FloatType(clrnumeric.DOUBLE, 1.7976931348623157e308, 5e-324)
Single = _FloatType(clrnumeric.SINGLE, 3.4028234663852886e38, 1.401298464324817e-45)

_DEC_MAX = PyDecimal("79228162514264337593543950335")
_DECIMAL_REMAINDER = clrnumeric.decimal_operation("%")


class Decimal:
    """Statics of ``System.Decimal`` (values are ``decimal.Decimal``)."""

    dotnet_name = "System.Decimal"
    MaxValue = _DEC_MAX
    MinValue = PyDecimal("-79228162514264337593543950335")
    Zero = PyDecimal(0)
    One = PyDecimal(1)
    MinusOne = PyDecimal(-1)

    @staticmethod
    def Parse(s: str | None, *args: Any) -> PyDecimal:
        dec = PyDecimal(_parse_finite(s, args, NumberStyles.Number))
        if abs(dec) > _DEC_MAX:
            raise OverflowException("Value was either too large or too small for a Decimal.")
        return dec.copy_abs() if dec.is_zero() else dec  # .NET drops the sign of a zero

    @staticmethod
    def TryParse(s: str | None, *args: Any) -> tuple[bool, PyDecimal]:
        try:
            return True, Decimal.Parse(s, *args)
        except (FormatException, OverflowException, ArgumentNullException):
            return False, PyDecimal(0)

    @staticmethod
    def Round(d: PyDecimal, decimals: Any = 0, mode: Any = None) -> PyDecimal:
        from .mathlib import round_decimal, rounding_args

        return round_decimal(PyDecimal(d), *rounding_args(decimals, mode))

    @staticmethod
    def Remainder(a: PyDecimal, b: PyDecimal) -> PyDecimal:
        return _DECIMAL_REMAINDER(PyDecimal(a), PyDecimal(b))

    @staticmethod
    def Truncate(d: PyDecimal) -> PyDecimal:
        return PyDecimal(d).to_integral_value(rounding="ROUND_DOWN")

    @staticmethod
    def Floor(d: PyDecimal) -> PyDecimal:
        return PyDecimal(d).to_integral_value(rounding="ROUND_FLOOR")

    @staticmethod
    def Ceiling(d: PyDecimal) -> PyDecimal:
        return PyDecimal(d).to_integral_value(rounding="ROUND_CEILING")

    @staticmethod
    def ToDouble(d: PyDecimal) -> float:
        return float(d)

    @staticmethod
    def ToInt32(d: PyDecimal) -> int:
        return Int32._check(int(PyDecimal(d).to_integral_value(rounding="ROUND_DOWN")))


class Boolean:
    """Statics of ``System.Boolean``."""

    dotnet_name = "System.Boolean"
    TrueString = "True"
    FalseString = "False"

    @staticmethod
    def Parse(s: str | None) -> bool:
        if s is None:
            raise ArgumentNullException("value")
        t = _strip_ws(s).strip("\0").lower()
        if t == "true":
            return True
        if t == "false":
            return False
        raise FormatException(f"String '{s}' was not recognized as a valid Boolean.")

    @staticmethod
    def TryParse(s: str | None) -> tuple[bool, bool]:
        try:
            return True, Boolean.Parse(s)
        except (FormatException, ArgumentNullException):
            return False, False


class NumberMembers:
    """Instance members of ``int``/``long``/``double``/``decimal`` values."""

    @staticmethod
    def ToString(value: int | float | PyDecimal, fmt: Any = None, provider: Any = None) -> str:
        if is_format_provider(fmt):
            fmt = None
        if isinstance(value, enum.Enum):
            from .formatting import format_value

            return format_value(value, fmt)
        return format_number(value, fmt)

    @staticmethod
    def Equals(value: Any, other: Any) -> bool:
        if isinstance(other, bool) or other is None:
            return False
        if isinstance(value, float) and isinstance(other, float) and math.isnan(value) and math.isnan(other):
            return True
        mine, theirs = clrnumeric.kind_of(value), clrnumeric.kind_of(other)
        if mine is None or theirs is None:
            return False
        # `(42L).Equals(42)` binds Equals(long): an argument that converts implicitly compares by value;
        # anything else goes to Equals(object), true only for the same type
        return (theirs is mine or clrnumeric.widens(theirs, mine)) and value == other

    @staticmethod
    def CompareTo(value: Any, other: Any) -> int:
        """``CompareTo(T)`` when the argument converts implicitly to the receiver's type, else
        ``CompareTo(object)``, which refuses any other type (``(1).CompareTo(2L)``)."""
        if other is None:
            return 1
        mine, theirs = clrnumeric.kind_of(value), clrnumeric.kind_of(other)
        if mine is not None and theirs is not mine and not (
            theirs is not None and (clrnumeric.widens(theirs, mine) or _maybe_constant(theirs, mine))
        ):
            raise ArgumentException(f"Object must be of type {mine.name.rsplit('.', 1)[-1]}.")
        if isinstance(value, float) and math.isnan(value):
            return 0 if isinstance(other, float) and math.isnan(other) else -1
        if isinstance(other, float) and math.isnan(other):
            return 1
        return int(value > other) - int(value < other)

    @staticmethod
    def GetHashCode(value: Any) -> int:
        if isinstance(value, int):
            return value if -(2**31) <= value < 2**31 else (value ^ (value >> 32)) & 0xFFFFFFFF
        return hash(value) & 0x7FFFFFFF

    @staticmethod
    def GetTypeCode(value: Any) -> str:
        from .primitives import dotnet_type_name

        return dotnet_type_name(value).rsplit(".", 1)[-1]


class EnumMembers:
    """Instance members of enum values (``JTokenType``, ``StringComparison``...)."""

    @staticmethod
    def ToString(value: enum.Enum, fmt: Any = None) -> str:
        from .formatting import format_value

        return format_value(value, fmt if isinstance(fmt, str) else None)

    @staticmethod
    def HasFlag(value: enum.Enum, flag: Any) -> bool:
        return (int(value.value) & int(flag)) == int(flag)

    @staticmethod
    def Equals(value: enum.Enum, other: Any) -> bool:
        return type(other) is type(value) and other == value

    @staticmethod
    def CompareTo(value: enum.Enum, other: Any) -> int:
        a, b = int(value.value), int(other)
        return (a > b) - (a < b)

    @staticmethod
    def GetHashCode(value: enum.Enum) -> int:
        return int(value.value)


class BoolMembers:
    """Instance members of ``bool`` values."""

    @staticmethod
    def ToString(value: bool, provider: Any = None) -> str:
        return "True" if value else "False"

    @staticmethod
    def Equals(value: bool, other: Any) -> bool:
        return isinstance(other, bool) and value == other

    @staticmethod
    def CompareTo(value: bool, other: Any) -> int:
        return int(value) - int(bool(other))

    @staticmethod
    def GetHashCode(value: bool) -> int:
        return int(value)


def _maybe_constant(source: clrnumeric.NumKind, target: clrnumeric.NumKind) -> bool:
    """An int argument of a narrower integral receiver may be a constant C# converts (``((byte)1).CompareTo(2)``);
    the run time cannot tell it from an int variable, so it compares."""
    return source is clrnumeric.INT32 and target.integral and target.bits < 32


def to_decimal_exact(value: int | float | PyDecimal) -> PyDecimal:
    """C# ``(decimal)x``: doubles convert through 15 significant digits."""
    if isinstance(value, PyDecimal):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value) or abs(value) > 7.9228162514264338e28:
            raise OverflowException("Value was either too large or too small for a Decimal.")
        if not value:
            return PyDecimal(0)
        from .clrnumeric import _decimal_result  # at most 28 decimals: (decimal)1e-30 is 0

        fitted = _decimal_result(PyDecimal(f"{value:.15g}").normalize())
        return fitted if fitted else PyDecimal(0)
    try:
        return PyDecimal(value)
    except InvalidOperation as exc:  # pragma: no cover - ints always convert
        raise OverflowException() from exc


__all__ = [
    "Boolean",
    "BoolMembers",
    "EnumMembers",
    "Byte",
    "Decimal",
    "Double",
    "Int16",
    "Int32",
    "Int64",
    "NumberMembers",
    "SByte",
    "Single",
    "UInt16",
    "UInt32",
    "UInt64",
    "parse_number_text",
    "to_decimal_exact",
]
