"""``System.Math``, ``MidpointRounding`` and ``System.Random`` (seeded sequences match .NET)."""

from __future__ import annotations

import enum
import math
import random as _random
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from . import clrnumeric
from .errors import ArgumentException, ArgumentOutOfRangeException, OverflowException


class MidpointRounding(enum.IntEnum):
    """``System.MidpointRounding``."""

    ToEven = 0
    AwayFromZero = 1
    ToZero = 2
    ToNegativeInfinity = 3
    ToPositiveInfinity = 4


_DEC_MODES = {
    MidpointRounding.ToEven: ROUND_HALF_EVEN,
    MidpointRounding.AwayFromZero: ROUND_HALF_UP,
    MidpointRounding.ToZero: ROUND_DOWN,
    MidpointRounding.ToNegativeInfinity: ROUND_FLOOR,
    MidpointRounding.ToPositiveInfinity: ROUND_CEILING,
}


def _integral(x: Any, rounding: str, to_int: Callable[[float], int]) -> Any:
    """``Math.Floor``/``Ceiling``/``Truncate``: a Decimal stays Decimal; others become a double."""
    if isinstance(x, Decimal):
        return x.to_integral_value(rounding=rounding)
    if not math.isfinite(x):
        return float(x)
    return math.copysign(float(to_int(x)), x)  # `Math.Ceiling(-0.5)` is -0


def _is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _round_double(x: float, mode: MidpointRounding) -> float:
    if math.isnan(x) or math.isinf(x):
        return x
    if mode == MidpointRounding.ToEven:
        return float(round(x))
    if mode == MidpointRounding.AwayFromZero:
        frac, whole = math.modf(x)
        if abs(frac) >= 0.5:
            whole += math.copysign(1.0, frac)
        return whole
    if mode == MidpointRounding.ToZero:
        return float(math.trunc(x))
    if mode == MidpointRounding.ToNegativeInfinity:
        return float(math.floor(x))
    return float(math.ceil(x))


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | Decimal) and not isinstance(x, bool)


def rounding_args(digits: Any, mode: Any) -> tuple[int, MidpointRounding]:
    """(places, mode) of ``Round(x[, digits][, mode])``: the digits may be left out before a mode."""
    if isinstance(digits, MidpointRounding):
        digits, mode = None, digits
    return (int(digits) if digits is not None else 0,
            MidpointRounding(mode) if mode is not None else MidpointRounding.ToEven)


def round_decimal(x: Decimal, places: int, mode: MidpointRounding) -> Decimal:
    """``Math.Round(decimal, places, mode)`` (``decimal.Round``)."""
    if not 0 <= places <= 28:
        raise ArgumentOutOfRangeException("decimals", "Rounding digits must be between 0 and 15, inclusive.")
    exponent = x.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        return x.quantize(Decimal(1).scaleb(-places), rounding=_DEC_MODES[mode])
    return x


class Math:
    """Statics of ``System.Math`` (results keep the C# overload's type)."""

    dotnet_name = "System.Math"
    PI = math.pi
    E = math.e
    Tau = math.tau

    @staticmethod
    def Round(x: Any, digits: Any = None, mode: Any = None) -> Any:
        places, mode = rounding_args(digits, mode)
        if isinstance(x, Decimal):
            return round_decimal(x, places, mode)
        x = float(x)
        if not 0 <= places <= 15:
            raise ArgumentOutOfRangeException(
                "digits", "Rounding digits must be between 0 and 15, inclusive."
            )
        if places == 0:
            return math.copysign(_round_double(x, mode), x)  # Math.Round(-0.4) is -0
        if abs(x) >= 1e16:
            return x
        power = 10.0**places
        return _round_double(x * power, mode) / power

    @staticmethod
    def Floor(x: Any) -> Any:
        return _integral(x, ROUND_FLOOR, math.floor)

    @staticmethod
    def Ceiling(x: Any) -> Any:
        return _integral(x, ROUND_CEILING, math.ceil)

    @staticmethod
    def Truncate(x: Any) -> Any:
        return _integral(x, ROUND_DOWN, math.trunc)

    @staticmethod
    def Abs(x: Any) -> Any:
        kind = clrnumeric.kind_of(x)
        if kind is not None and kind.integral and kind.signed and x == kind.lo:
            raise OverflowException("Negating the minimum value of a twos complement number is invalid.")
        if isinstance(x, Decimal):
            return x.copy_abs()
        return kind.box(abs(x)) if kind is not None and kind is not clrnumeric.CHAR else abs(x)

    @staticmethod
    def Sign(x: Any) -> int:
        if _is_nan(x):
            from .errors import ArithmeticException

            raise ArithmeticException("Function does not accept floating point Not-a-Number values.")
        return int(x > 0) - int(x < 0)

    @staticmethod
    def Max(a: Any, b: Any) -> Any:
        return math.nan if _is_nan(a) or _is_nan(b) else _promote(a, b, max(a, b))

    @staticmethod
    def Min(a: Any, b: Any) -> Any:
        return math.nan if _is_nan(a) or _is_nan(b) else _promote(a, b, min(a, b))

    @staticmethod
    def Clamp(value: Any, lo: Any, hi: Any) -> Any:
        if lo > hi:
            raise ArgumentException(f"'{lo}' cannot be greater than {hi}.")
        return _promote(value, lo, min(max(value, lo), hi))

    @staticmethod
    def Pow(x: float, y: float) -> float:
        try:
            return math.pow(x, y)
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan

    @staticmethod
    def Sqrt(x: float) -> float:
        return math.sqrt(x) if x >= 0 else math.nan

    @staticmethod
    def Cbrt(x: float) -> float:
        return math.copysign(abs(x) ** (1 / 3), x)

    @staticmethod
    def Exp(x: float) -> float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    @staticmethod
    def Log(x: float, base: float | None = None) -> float:
        if x < 0 or (base is not None and (base <= 0 or base == 1)):
            return math.nan
        if x == 0:
            return -math.inf
        return math.log(x) if base is None else math.log(x, base)

    @staticmethod
    def Log10(x: float) -> float:
        return math.nan if x < 0 else (-math.inf if x == 0 else math.log10(x))

    @staticmethod
    def Log2(x: float) -> float:
        return math.nan if x < 0 else (-math.inf if x == 0 else math.log2(x))

    Sin = staticmethod(math.sin)
    Cos = staticmethod(math.cos)
    Tan = staticmethod(math.tan)
    Asin = staticmethod(lambda x: math.asin(x) if -1 <= x <= 1 else math.nan)
    Acos = staticmethod(lambda x: math.acos(x) if -1 <= x <= 1 else math.nan)
    Atan = staticmethod(math.atan)
    Atan2 = staticmethod(math.atan2)
    Sinh = staticmethod(math.sinh)
    Cosh = staticmethod(math.cosh)
    Tanh = staticmethod(math.tanh)

    @staticmethod
    def DivRem(a: int, b: int) -> tuple[int, int]:
        from .errors import DivideByZeroException

        if b == 0:
            raise DivideByZeroException()
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return q, a - q * b

    @staticmethod
    def BigMul(a: int, b: int) -> int:
        return a * b

    @staticmethod
    def IEEERemainder(x: float, y: float) -> float:
        return math.remainder(x, y)


_OVERLOADS = (clrnumeric.SBYTE, clrnumeric.BYTE, clrnumeric.INT16, clrnumeric.UINT16, clrnumeric.INT32,
              clrnumeric.UINT32, clrnumeric.INT64, clrnumeric.UINT64, clrnumeric.SINGLE, clrnumeric.DOUBLE,
              clrnumeric.DECIMAL)


def _promote(a: Any, b: Any, result: Any) -> Any:
    """``result`` in the parameter type of the ``Math.Max/Min/Clamp`` overload C# picks for ``a``, ``b``."""
    ka, kb = clrnumeric.kind_of(a), clrnumeric.kind_of(b)
    if ka is None or kb is None:
        return result
    for kind in _OVERLOADS:
        if (ka is kind or clrnumeric.widens(ka, kind)) and (kb is kind or clrnumeric.widens(kb, kind)):
            return clrnumeric.implicit(result, kind)
    return result


# ---------------------------------------------------------------------------------------------
# Random
# ---------------------------------------------------------------------------------------------

_MBIG = 2**31 - 1
_MSEED = 161803398


class Random:
    """``System.Random``; with a seed it reproduces .NET's (Knuth subtractive) sequence."""

    dotnet_name = "System.Random"

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = _random.SystemRandom().randrange(0, 2**31 - 1)
        self._seed_array = [0] * 56
        subtraction = _MBIG if seed == -(2**31) else abs(int(seed))
        mj = _MSEED - subtraction
        self._seed_array[55] = mj
        mk = 1
        for i in range(1, 55):
            ii = (21 * i) % 55
            self._seed_array[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += _MBIG
            mj = self._seed_array[ii]
        for _ in range(1, 5):
            for i in range(1, 56):
                v = self._seed_array[i] - self._seed_array[1 + (i + 30) % 55]
                v = (v + 2**31) % 2**32 - 2**31
                if v < 0:
                    v += _MBIG
                self._seed_array[i] = v
        self._inext = 0
        self._inextp = 21

    def _internal_sample(self) -> int:
        inext = self._inext + 1
        if inext >= 56:
            inext = 1
        inextp = self._inextp + 1
        if inextp >= 56:
            inextp = 1
        ret = self._seed_array[inext] - self._seed_array[inextp]
        if ret == _MBIG:
            ret -= 1
        if ret < 0:
            ret += _MBIG
        self._seed_array[inext] = ret
        self._inext, self._inextp = inext, inextp
        return ret

    def _sample(self) -> float:
        return self._internal_sample() * (1.0 / _MBIG)

    def _large_sample(self) -> float:
        result = self._internal_sample()
        if self._internal_sample() % 2 == 0:
            result = -result
        d = float(result)
        d += 2147483646
        d /= 2 * 2147483647 - 1
        return d

    def Next(self, a: int | None = None, b: int | None = None) -> int:
        if a is None:
            return self._internal_sample()
        if b is None:
            if a < 0:
                raise ArgumentOutOfRangeException("maxValue", "'maxValue' must be greater than zero.")
            return int(self._sample() * a)
        if a > b:
            raise ArgumentOutOfRangeException("minValue", "'minValue' cannot be greater than maxValue.")
        span = b - a
        if span <= _MBIG:
            return int(self._sample() * span) + a
        return int(self._large_sample() * span) + a

    def NextDouble(self) -> float:
        return self._sample()

    def NextInt64(self, a: int | None = None, b: int | None = None) -> int:
        lo, hi = (0, 2**63 - 1) if a is None else ((0, a) if b is None else (a, b))
        return lo + int(self._sample() * (hi - lo))

    def NextBytes(self, buffer: Any) -> None:
        for i in range(len(buffer)):
            buffer[i] = self._internal_sample() % 256

    @staticmethod
    def Shared() -> Random:
        return Random()


__all__ = ["Math", "MidpointRounding", "Random"]
