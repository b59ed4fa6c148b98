"""The CLR numeric model: widths, promotions, wrap-around, checked arithmetic, boxing.

Every expected (value, CLR type) row below was produced by Mono's C# compiler and runtime
(`mcs` + `mono`, `MONO_ENV_OPTIONS=-O=-all`) for the same source text; the rows are
value/type pairs only, so .NET Framework vs .NET Core number formatting does not matter.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.diagnostics import Diagnostics
from engine.dotnet.primitives import Char, dotnet_type_name
from engine.errors import ExpressionError
from engine.expr import check_expression
from tests.expr.helpers import run

# (C# source, value, .NET type of the result)
ROWS: list[tuple[str, Any, str]] = [
    ("1L << 33", 8589934592, "System.Int64"),
    ("1 << 33", 2, "System.Int32"),
    ("1 << -1", -2147483648, "System.Int32"),
    ("@{ int v = 300; return (byte)v; }", 44, "System.Byte"),
    ("@{ int v = 200; return (sbyte)v; }", -56, "System.SByte"),
    ("@{ short s = 32767; s++; return s; }", -32768, "System.Int16"),
    ("@{ byte b = 255; b++; return b; }", 0, "System.Byte"),
    ("@{ uint u = 0; u--; return u; }", 4294967295, "System.UInt32"),
    ("@{ char c = 'a'; c++; return c; }", Char("b"), "System.Char"),
    ("BitConverter.GetBytes((short)258).Length", 2, "System.Int32"),
    ("@{ double d = 3e10; return (int)d; }", -2147483648, "System.Int32"),
    ("@{ double d = 3e20; return (long)d; }", -9223372036854775808, "System.Int64"),
    ("@{ double d = 300.7; return (byte)d; }", 44, "System.Byte"),
    ("@{ double d = -1.5; return (uint)d; }", 4294967295, "System.UInt32"),
    ("@{ double d = double.NaN; return (int)d; }", -2147483648, "System.Int32"),
    ("@{ double d = 1e10; return (uint)d; }", 1410065408, "System.UInt32"),
    ("@{ double d = 70000.5; return (short)d; }", 4464, "System.Int16"),
    ("@{ float f = 16777217; return f; }", 16777216.0, "System.Single"),
    ("@{ float f = 0.1f; double d = f; return d; }", 0.10000000149011612, "System.Double"),
    ("@{ object o = 5L; return o is int; }", False, "System.Boolean"),
    ("@{ object o = 5L; return o is long; }", True, "System.Boolean"),
    ("@{ object a = 5; object b = 5; return a == b; }", False, "System.Boolean"),
    ("@{ object a = 5; return a == a; }", True, "System.Boolean"),
    ("'a' * 3", 291, "System.Int32"),
    ("'a' + 'b'", 195, "System.Int32"),
    ("@{ uint u = 5; int i = -1; return u + i; }", 4, "System.Int64"),
    ("@{ ushort a = 1; ushort b = 2; return a + b; }", 3, "System.Int32"),
    ("@{ uint u = 1; return -u; }", -1, "System.Int64"),
    ("~(byte)1", -2, "System.Int32"),
    ("@{ uint a = 5; return a - 6u; }", 4294967295, "System.UInt32"),
    ("@{ int i = 0; return i++ + ++i; }", 2, "System.Int32"),
    ("1.1f * 3", 3.3000001907348633, "System.Single"),
    ("1.0f / 3", 0.3333333432674408, "System.Single"),
    ("@{ byte b = 255; b += 1; return b; }", 0, "System.Byte"),
    ("@{ char c = 'a'; c += (char)1; return c; }", Char("b"), "System.Char"),
    ("@{ short s = 1; return s << 20; }", 1048576, "System.Int32"),
    ("@{ long l = 1; return l << 65; }", 2, "System.Int64"),
    ("@{ int i = 1; return i >> 33; }", 0, "System.Int32"),
    ("@{ int i = -8; return i >> 1; }", -4, "System.Int32"),
    ("@{ uint i = 0x80000000; return i >> 1; }", 1073741824, "System.UInt32"),
    ("(float)1 / 0", float("inf"), "System.Single"),
    ("@{ float f = 3.4e38f; return f * 10; }", float("inf"), "System.Single"),
    ("2.5f + 1.1", 3.6, "System.Double"),
    ("default(int)", 0, "System.Int32"),
    ("default(long)", 0, "System.Int64"),
    ("(int)'a'", 97, "System.Int32"),
    ("(char)98", Char("b"), "System.Char"),
    ("10 % 3.5", 3.0, "System.Double"),
    ("-7 % 3", -1, "System.Int32"),
    ("-7 / 2", -3, "System.Int32"),
    ("unchecked(int.MaxValue + 1)", -2147483648, "System.Int32"),
    ("-2147483648", -2147483648, "System.Int32"),
    ("@{ uint u = 5; return u + 1; }", 6, "System.UInt32"),
    ("@{ ulong u = 5; return u + 1L; }", 6, "System.UInt64"),
    ("1 + 1UL", 2, "System.UInt64"),
    ("@{ uint u = 5; int i = 1; return u + i; }", 6, "System.Int64"),
    ("@{ uint u = 0; return u - 1; }", 4294967295, "System.UInt32"),
    ("DayOfWeek.Friday - DayOfWeek.Monday", 4, "System.Int32"),
]

# (C# source, .NET exception type thrown at run time)
THROWS: list[tuple[str, str]] = [
    ("@{ int x = int.MinValue; return x / -1; }", "OverflowException"),
    ("@{ int x = int.MinValue; return x % -1; }", "OverflowException"),
    ("@{ long x = long.MinValue; return x / -1; }", "OverflowException"),
    ("new[] { int.MaxValue, 1 }.Sum()", "OverflowException"),
    ("@{ object o = 5; return (long)o; }", "InvalidCastException"),
    ("@{ decimal d = decimal.MaxValue; return d + 1; }", "OverflowException"),
    ("@{ int x = int.MaxValue; return checked(x + 1); }", "OverflowException"),
    ('checked((byte)int.Parse("300"))', "OverflowException"),
    ('1 / int.Parse("0")', "DivideByZeroException"),
]

# refused by the C# compiler: (source, diagnostic code)
REFUSED: list[tuple[str, str]] = [
    ("int.MaxValue + 1", "expr-constant"),
    ("1 / 0", "expr-constant"),
    ("(byte)300", "expr-constant"),
    ("(sbyte)200", "expr-constant"),
    ("5u - 6u", "expr-constant"),
    ('context.Variables["n"] * 2', "expr-type"),
    ('context.Variables.GetValueOrDefault("n") * 2', "expr-type"),
    ('context.Variables.GetValueOrDefault("n", null) * 2', "expr-type"),
    ('@{ var x = context.Variables["n"]; return x * x; }', "expr-type"),
    ("@{ object o = 1; o++; return o; }", "expr-type"),
    ("1.5m + 1.5", "expr-type"),
    ("-(1UL)", "expr-type"),
    ("@{ var l = new List<int> { 1 }; return l + l; }", "expr-type"),
    ("new[] { 1 } * 3", "expr-type"),
]


@pytest.mark.parametrize(("source", "value", "clr"), ROWS, ids=[r[0][:60] for r in ROWS])
def test_value_and_clr_type(source: str, value: Any, clr: str) -> None:
    result = run(source)
    assert dotnet_type_name(result) == clr
    assert result == value


@pytest.mark.parametrize(("source", "exception"), THROWS, ids=[r[0][:60] for r in THROWS])
def test_runtime_exception(source: str, exception: str) -> None:
    with pytest.raises(ExpressionError) as info:
        run(source)
    assert exception in str(info.value)


@pytest.mark.parametrize(("source", "code"), REFUSED, ids=[r[0][:60] for r in REFUSED])
def test_refused_at_check_time(source: str, code: str) -> None:
    diagnostics = Diagnostics()
    text = source if source.startswith("@") else f"@({source})"
    check_expression(text, diagnostics)
    assert code in [d.code for d in diagnostics]


def test_string_concatenation_with_object_is_allowed() -> None:
    assert run('"n=" + context.Variables["n"]') == "n=42"


def test_get_value_or_default_with_a_default_is_typed_by_it() -> None:
    assert run('context.Variables.GetValueOrDefault("n", 0) + 1') == 43  # T is int, inferred from 0
    assert run('context.Variables.GetValueOrDefault("missing", 1L) * 2') == 2
