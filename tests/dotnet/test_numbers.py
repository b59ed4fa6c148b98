"""Number parsing and formatting (invariant culture, .NET 5+ semantics)."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from engine.dotnet.clrnumeric import KINDS
from engine.dotnet.conversions import cast, to_string
from engine.dotnet.culture import CultureInfo, NumberStyles
from engine.dotnet.errors import (
    ArgumentNullException,
    FormatException,
    InvalidCastException,
    OverflowException,
)
from engine.dotnet.formatting import double_to_string, format_number
from engine.dotnet.mathlib import Math, MidpointRounding, Random
from engine.dotnet.numbers import Boolean, Decimal, Double, Int32, Int64, NumberMembers
from engine.dotnet.primitives import Char, dotnet_type_name, type_ref


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1 + 0.2, "0.30000000000000004"),
        (1.0, "1"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1.5, "1.5"),
        (100.0, "100"),
        (1e14, "100000000000000"),
        (1e15, "1E+15"),
        (1.5e15, "1.5E+15"),
        (123456789012345.0, "123456789012345"),
        (0.0001, "0.0001"),
        (0.00001, "1E-05"),
        (2.5e-7, "2.5E-07"),
        (1e20, "1E+20"),
        (1.7976931348623157e308, "1.7976931348623157E+308"),
        (5e-324, "5E-324"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (1 / 3, "0.3333333333333333"),
        (3.14, "3.14"),
    ],
)
def test_double_to_string(value: float, expected: str) -> None:
    assert double_to_string(value) == expected
    assert to_string(value) == expected


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1234.5678, "N2", "1,234.57"),
        (1234, "N", "1,234.00"),
        (1234, "N0", "1,234"),
        (-1234.5, "N1", "-1,234.5"),
        (0.5, "N0", "0"),
        (1.5, "N0", "2"),
        (42, "D5", "00042"),
        (-42, "D5", "-00042"),
        (42, "D", "42"),
        (255, "X", "FF"),
        (255, "x4", "00ff"),
        (-1, "X", "FFFFFFFF"),
        (2**40, "X", "10000000000"),
        (3.14159, "F3", "3.142"),
        (3, "F2", "3.00"),
        (D("2.5"), "F0", "3"),
        (D("-2.5"), "F0", "-3"),
        (1.005, "F2", "1.00"),
        (2.675, "F2", "2.67"),
        (0.5, "P", "50.00 %"),
        (0.1234, "P1", "12.3 %"),
        (1, "P0", "100 %"),
        (1234.5678, "E", "1.234568E+003"),
        (1234.5678, "e2", "1.23e+003"),
        (0.000123, "E1", "1.2E-004"),
        (1, "E", "1.000000E+000"),
        (1234.5678, "G", "1234.5678"),
        (1234.5678, "G3", "1.23E+03"),
        (0.00001234, "G3", "1.23E-05"),
        (123, "G2", "1.2E+02"),
        (123, "G", "123"),
        (1234.5, "C", "¤1,234.50"),
        (-1.5, "C", "(¤1.50)"),
        (1.5, "R", "1.5"),
        (1234.5, "0.00", "1234.50"),
        (1234567, "#,##0", "1,234,567"),
        (1234567.891, "#,##0.00", "1,234,567.89"),
        (0, "#,##0", "0"),
        (2.675, "0.00", "2.68"),
        (1.5, "#.##", "1.5"),
        (0.5, "#.##", ".5"),
        (0.5, "0.##", "0.5"),
        (7, "000", "007"),
        (0, "#", ""),
        (0, "0", "0"),
        (-1.5, "0.0;(0.0)", "(1.5)"),
        (1.5, "0.0;(0.0)", "1.5"),
        (0, "0;-0;zero", "zero"),
        (12345, "00.00E+0", "12.35E+3"),
        (1234567, "#,##0,,", "1"),
        (1234567, "#,##0,K", "1,235K"),
        (0.45, "0%", "45%"),
        (5551234567, "(###) ###-####", "(555) 123-4567"),
        (-5, "0", "-5"),
        (3.14159, "0.0000", "3.1416"),
        (42, "'#'0", "#42"),
        (D("1.50"), None, "1.50"),
        (D("0.000001"), None, "0.000001"),
        (D("100"), "N2", "100.00"),
        (10, "x", "a"),
    ],
)
def test_format_number(value: object, fmt: str | None, expected: str) -> None:
    assert format_number(value, fmt) == expected


def test_number_members() -> None:
    assert NumberMembers.ToString(5) == "5"
    assert NumberMembers.ToString(1.25, "F1") == "1.2"
    assert NumberMembers.ToString(3.5, CultureInfo.InvariantCulture) == "3.5"
    assert NumberMembers.ToString(12, "D3", CultureInfo.InvariantCulture) == "012"
    assert NumberMembers.Equals(1, 1) and not NumberMembers.Equals(1, 1.0)
    assert NumberMembers.CompareTo(1, 2) == -1
    assert NumberMembers.GetHashCode(42) == 42
    with pytest.raises(FormatException):
        NumberMembers.ToString(1.5, "D")
    with pytest.raises(FormatException):
        NumberMembers.ToString(1, "Q")


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: Int32.Parse("42"), 42),
        (lambda: Int32.Parse(" -7 "), -7),
        (lambda: Int32.Parse("+3"), 3),
        (lambda: Int32.Parse("2147483647"), 2147483647),
        (lambda: Int32.Parse("1,000", NumberStyles.AllowThousands), 1000),
        (lambda: Int32.Parse("ff", NumberStyles.HexNumber), 255),
        (lambda: Int32.TryParse("12"), (True, 12)),
        (lambda: Int32.TryParse("x"), (False, 0)),
        (lambda: Int32.TryParse(None), (False, 0)),
        (lambda: Int32.TryParse("2147483648"), (False, 0)),
        (lambda: Int32.TryParse("1.5"), (False, 0)),
        (lambda: Int64.Parse("9223372036854775807"), 9223372036854775807),
        (lambda: Double.Parse("1.5"), 1.5),
        (lambda: Double.Parse("-1e3"), -1000.0),
        (lambda: Double.Parse("1,234.5"), 1234.5),
        (lambda: Double.Parse(".5"), 0.5),
        (lambda: Double.Parse("NaN").__class__, float),
        (lambda: Double.Parse("Infinity"), math.inf),
        (lambda: Double.TryParse("abc"), (False, 0.0)),
        (lambda: Double.TryParse("2.5"), (True, 2.5)),
        (lambda: Decimal.Parse("1.50"), D("1.50")),
        (lambda: Decimal.Parse("-0.001"), D("-0.001")),
        (lambda: Decimal.TryParse("1e3"), (False, D(0))),
        (lambda: Boolean.Parse("true"), True),
        (lambda: Boolean.Parse(" False "), False),
        (lambda: Boolean.Parse("TRUE"), True),
        (lambda: Boolean.TryParse("yes"), (False, False)),
        (lambda: Boolean.TryParse("True"), (True, True)),
    ],
)
def test_parse(call, expected) -> None:  # noqa: ANN001
    assert call() == expected


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: Int32.Parse(""), FormatException, "The input string '' was not in a correct format."),
        (lambda: Int32.Parse("abc"), FormatException, "The input string 'abc' was not in a correct format."),
        (lambda: Int32.Parse("1.0"), FormatException, "The input string '1.0' was not in a correct format."),
        (
            lambda: Int32.Parse("2147483648"),
            OverflowException,
            "Value was either too large or too small for an Int32.",
        ),
        (lambda: Int32.Parse(None), ArgumentNullException, "Value cannot be null. (Parameter 's')"),
        (
            lambda: Boolean.Parse("yes"),
            FormatException,
            "String 'yes' was not recognized as a valid Boolean.",
        ),
        (
            lambda: Double.Parse("1.2.3"),
            FormatException,
            "The input string '1.2.3' was not in a correct format.",
        ),
    ],
)
def test_parse_errors(call, exc, message) -> None:  # noqa: ANN001
    with pytest.raises(exc) as info:
        call()
    assert info.value.Message == message


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (3.7, "int", 3),
        (-3.7, "int", -3),
        (Char("a"), "int", 97),
        (65, "char", Char("A")),
        (2**31, "int", -(2**31)),
        (300, "byte", 44),
        (5, "double", 5.0),
        (1.5, "decimal", D("1.5")),
        (0.1, "decimal", D("0.1")),
        (D("2.9"), "int", 2),
        (5, "long", 5),
        (None, "string", None),
        (None, "int?", None),
        ("x", "string", "x"),
        ("x", "object", "x"),
        (True, "bool", True),
    ],
)
def test_casts(value: object, target: str, expected: object) -> None:
    result = cast(value, target)
    numeric = type_ref(target).name in KINDS and expected is not None
    assert result == expected
    assert dotnet_type_name(result) == (type_ref(target).name if numeric else dotnet_type_name(expected))


def test_invalid_casts() -> None:
    with pytest.raises(InvalidCastException) as info:
        cast("5", "int")
    assert info.value.Message == "Unable to cast object of type 'System.String' to type 'System.Int32'."
    with pytest.raises(InvalidCastException):
        cast(5, "string")
    with pytest.raises(InvalidCastException):
        cast(1, "bool")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((2.5,), 2.0),
        ((3.5,), 4.0),
        ((-2.5,), -2.0),
        ((2.5, MidpointRounding.AwayFromZero), 3.0),
        ((-2.5, MidpointRounding.AwayFromZero), -3.0),
        ((2.345, 2), 2.35),
        ((1.005, 2, MidpointRounding.AwayFromZero), 1.0),
        ((D("2.5"),), D("2")),
        ((D("2.345"), 2), D("2.34")),
        ((D("2.345"), 2, MidpointRounding.AwayFromZero), D("2.35")),
        ((2.7, 0, MidpointRounding.ToZero), 2.0),
    ],
)
def test_math_round(args: tuple, expected: object) -> None:
    assert Math.Round(*args) == expected


def test_math_misc() -> None:
    assert Math.Floor(2.7) == 2.0 and isinstance(Math.Floor(2.7), float)
    assert Math.Ceiling(2.1) == 3.0
    assert Math.Floor(D("2.7")) == D(2)
    assert Math.Max(1, 2) == 2 and Math.Min(1.5, 2) == 1.5
    assert Math.Abs(-5) == 5 and Math.Sign(-3.2) == -1
    assert Math.Pow(2, 10) == 1024.0 and Math.Sqrt(16) == 4.0 and math.isnan(Math.Sqrt(-1))
    assert Math.Truncate(-2.7) == -2.0
    assert Math.Clamp(15, 0, 10) == 10
    assert Math.Log(Math.E) == 1.0 and Math.Log10(1000) == 3.0
    assert Math.DivRem(-7, 2) == (-3, -1)
    with pytest.raises(OverflowException):
        Math.Abs(-(2**31))


def test_random_matches_dotnet_sequence() -> None:
    assert Random(0).Next() == 1559595546
    r1, r2 = Random(42), Random(42)
    seq = [r1.Next(100) for _ in range(10)]
    assert seq == [r2.Next(100) for _ in range(10)]
    assert all(0 <= x < 100 for x in seq)
    r = Random(7)
    assert all(5 <= r.Next(5, 10) < 10 for _ in range(50))
    assert 0.0 <= Random().NextDouble() < 1.0
    buf = bytearray(8)
    Random(1).NextBytes(buf)
    assert len(buf) == 8


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.1, "1.1"),
        (3.4028234663852886e38, "3.4028235E+38"),
        (0.1, "0.1"),
        (1e-10, "1E-10"),
        (16777217.0, "16777216"),
        (0.0, "0"),
    ],
)
def test_single_to_string(value: float, expected: str) -> None:
    from engine.dotnet.formatting import single_to_string

    assert single_to_string(value) == expected
