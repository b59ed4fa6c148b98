"""What C# refuses, lint refuses at the right place; what C# accepts, lint accepts (the C# oracle,
tests/oracle/cases/language2.txt, holds the same rows against mcs: this module pins the positions
and messages, and the accepted neighbours of each rule)."""

from __future__ import annotations

import pytest

from engine.diagnostics import Diagnostics
from engine.expr import check_expression
from engine.expr.expression import compile_expression
from tests.oracle.render import empty_context


def findings(text: str) -> list[tuple[str, str, int]]:
    """(code, message, column) of every finding of lint on `text`."""
    bag = Diagnostics()
    check_expression(text, bag)
    return [(d.code, d.message, d.span.col) for d in bag]


REFUSED = [  # (expression, part of the message, column of the finding)
    ('@(true ? 1 : null)', "no implicit conversion between 'int' and '<null>'", 3),
    ('@(true ? 1 : "a")', "between 'int' and 'string'", 3),
    ('@(true ? 1m : 2.0)', "between 'decimal' and 'double'", 3),
    ('@(5 as int)', "non-nullable value type", 3),
    ('@((int)"5")', "cannot convert type 'string' to 'int'", 3),
    ('@((bool)1)', "cannot convert type 'int' to 'bool'", 3),
    ('@(1 && 2)', "operator '&&' cannot be applied", 3),
    ('@(1 << "a")', "operator '<<' cannot be applied", 3),
    ('@("abc".Length = 2)', "'string.Length' is read-only", 9),
    ('@(new int[] { "a" })', "cannot implicitly convert type 'string' to 'int'", 15),
    ('@{ var x; return 1; }', "must be initialized", 8),
    ('@{ var x = null; return x; }', "cannot assign <null>", 8),
    ('@{ var f = x => x; return 1; }', "lambda expression", 8),
    ('@{ int x; return x; }', "use of unassigned local variable 'x'", 18),
    ('@{ int x; x += 1; return x; }', "use of unassigned local variable 'x'", 11),
    ('@{ const int k = 1; k = 2; return k; }', "'k' is a constant", 21),
    ('@{ int? n = 1; int m = n; return m; }', "cannot implicitly convert type 'int?' to 'int'", 24),
    ('@{ Func<int> f = () => "a"; return f(); }', "cannot implicitly convert type 'string' to 'int'", 24),
    ('@{ foreach (var c in 5) { } return 1; }', "foreach cannot operate on a value of type 'int'", 22),
    ('@{ break; return 1; }', "no enclosing loop or switch", 4),
    ('@{ foreach (var i in new[] { 1 }) { Action a = () => { break; }; } return 1; }', "no enclosing loop", 56),
    ('@{ throw 5; }', "must be derived from System.Exception", 10),
    ('@{ try { } catch (string s) { } return 1; }', "must be derived from System.Exception", 12),
    ('@{ try { throw; } catch { return 1; } }', "not allowed outside a catch clause", 10),
    ('@{ int x = 1; switch (x) { case 1: case 1: return 1; } return 0; }', "case label '1' more than once", 41),
    ('@{ int x = 1; switch (x) { case 1: x++; case 2: return x; } return 0; }', "cannot fall through", 36),
    ('@{ string s = "a"; switch (s) { case 1: return 1; } return 0; }', "convert type 'int' to 'string'", 38),
    ('@{ int[] a = { 1 }; return a.Count; }', "'int[]' has no property 'Count'", 30),
    ('@{ var a = new List<int>(); return a.Length; }', "'List<int>' has no member 'Length'", 38),
    ('@(Math.Max("a", "b"))', "no overload of 'Math.Max' takes the arguments (string, string)", 8),
    ('@(int.Parse(1))', "no overload of 'int.Parse' takes the arguments (int)", 7),
    ('@("abc".IndexOf(98))', "no overload of 'string.IndexOf' takes the arguments (int)", 9),
    ('@("abc".Substring(1L))', "no overload of 'string.Substring' takes the arguments (long)", 9),
    ('@(Math.Max((byte)1, 2))', "the call 'Math.Max(byte, int)' is ambiguous", 8),
    ('@(System.Math.Floor(7 / 2))', "the call 'System.Math.Floor(int)' is ambiguous", 15),
    ('@(Math.Max(1, (short)2))', "the call 'Math.Max(int, short)' is ambiguous", 8),
    ('@(Math.Round(7, 1))', "the call 'Math.Round(int, int)' is ambiguous", 8),
    ('@{ object o = 1; if (o is int i && i > 0) { } return i; }', "use of unassigned local variable 'i'", 54),
    ('@{ object o = 1; if (!(o is int i)) { return i; } return 0; }', "use of unassigned local variable 'i'", 46),
    ('@{ DateTime d = "2024-01-01"; return d; }', "cannot implicitly convert type 'string' to 'DateTime'", 17),
    ('@{ JObject o = 5; return o; }', "cannot implicitly convert type 'int' to 'JObject'", 16),
    ('@{ var f = (Func<int>)(() => "a"); return f(); }', "cannot implicitly convert type 'string' to 'int'", 30),
    ('@(Math.Floor(2.5) + Math.Round(2m))', "operator '+' cannot be applied to operands of type 'double' and 'decimal'", 3),
]


@pytest.mark.parametrize(("text", "message", "column"), REFUSED, ids=[r[0] for r in REFUSED])
def test_lint_refuses_what_csharp_refuses_at_its_position(text: str, message: str, column: int) -> None:
    found = findings(text)
    assert [f for f in found if message in f[1]], found
    assert any(message in m and col == column for _, m, col in found), found
    assert all(code == "expr-type" or code == "expr-unknown-member" for code, _, _ in found)


ACCEPTED = [  # (expression, value): the neighbours of each rule, which C# compiles
    ('@(true ? 1 : (int?)null)', 1),
    ('@(true ? "a" : null)', "a"),
    ('@(true ? 1u : 2)', 1),
    ('@((int)\'a\' + (char)66)', 163),
    ('@{ object o = 5; return (o as int?) ?? -1; }', 5),
    ('@{ int x; if (int.TryParse("7", out x)) { return x; } return 0; }', 7),
    ('@{ int x; x = 2; return x * 3; }', 6),
    ('@{ int x; do { x = 4; } while (x < 0); return x; }', 4),
    ('@{ int x; for (int i = 0; i < 2; i = x) { x = i + 1; } return 9; }', 9),
    ('@{ int y; int Get() => y; y = 5; return Get(); }', 5),
    ('@{ int n; var s = new[] { 1, 2 }; foreach (var v in s) { n = v; } return 1; }', 1),
    ('@{ var r = 0; foreach (var v in new[] { 1, 2, 3 }) { if (v == 2) break; r += v; } return r; }', 1),
    ('@{ try { throw new Exception("x"); } catch (Exception) { try { throw; } catch (Exception e) '
     '{ return e.Message; } } }', "x"),
    ('@{ try { try { throw new FormatException("f"); } catch (FormatException) { throw; } } '
     'catch (Exception e) { return e is FormatException ? e.Message : "?"; } }', "f"),
    ('@{ int x = 2; switch (x) { case 1: { return 10; } case 2: x++; break; default: throw new Exception(); } '
     'return x; }', 3),
    ('@{ long l = 5; switch (l) { case 5: return "five"; } return "?"; }', "five"),
    ('@{ var a = new[] { 1, 2 }; return a.Length + a.Count(); }', 4),
    ('@{ var l = new List<int> { 1 }; return l.Count; }', 1),
    ('@{ int? n = 1; int m = (int)n; long? k = n; return m + k; }', 2),
    ('@{ Func<long, long> f = x => x * 2; return f(int.MaxValue); }', 4294967294),
    ('@(Math.Max(1u, 2) + Math.Max(1UL, 2L) + Math.Max((byte)1, (byte)2))', 6),
    ('@(Math.Floor(7 / 2.0) + Math.Abs(-1) + (double)Math.Round(2m))', 6.0),
    ('@("abc".IndexOf(\'b\') + "abc".IndexOf("c") + "abc".IndexOf(null ?? "a"))', 3),
    ('@{ TimeSpan? t = null; return t?.TotalSeconds ?? -1; }', -1.0),
    ('@{ var j = new int[2][]; j[1] = new[] { 2, 3 }; return j[1].Length + (j[0] == null ? 1 : 0); }', 3),
    ('@{ object o = 1; if (!(o is int i)) return 0; return i; }', 1),
    ('@{ object o = 1; if (!(o is int i)) i = 5; return i; }', 1),
    ('@{ object o = 1; if (o is int i) { } else { return 0; } return i; }', 1),
    ('@(Math.Round(2.5, 0) + Math.Round(2.25, 1))', 4.2),
    ('@{ var f = (Func<int, long>)(x => x * 2); return f(3); }', 6),
    ('@{ JToken t = 5; XName n = "a"; return t.ToString() + n.LocalName; }', "5a"),
]


@pytest.mark.parametrize(("text", "value"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_lint_accepts_what_csharp_accepts(text: str, value: object) -> None:
    assert findings(text) == []
    assert compile_expression(text).evaluate(empty_context()) == value
