"""Escape attempts: each must fail with a specific lint code or a run-time SecurityError.

The C# surface is an allow-list; nothing of Python (dunders, modules, builtins, frames, format
tricks) is reachable, and resource limits stop runaway loops, strings and collections.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from engine.diagnostics import Diagnostics
from engine.errors import ExpressionError, PolicyLoadError, SecurityError
from engine.expr import check_expression, compile_expression
from tests.expr.helpers import make_context


def lint_codes(expression: str) -> list[str]:
    diagnostics = Diagnostics()
    check_expression(expression, diagnostics)
    return [d.code for d in diagnostics]


LINT_REJECTED: list[tuple[str, str]] = [
    ("@(context.__class__)", "expr-security"),
    ("@(context.Request.__dict__)", "expr-security"),
    ('@("".__class__.__mro__)', "expr-security"),
    ("@(context._private)", "expr-security"),
    ("@(context.GetType())", "expr-security"),
    ('@("a".GetType().Assembly)', "expr-security"),
    ("@(typeof(string).Assembly)", "expr-security"),
    ('@(System.IO.File.ReadAllText("/etc/passwd"))', "expr-security"),
    ('@(System.Diagnostics.Process.Start("sh"))', "expr-security"),
    ('@(Environment.GetEnvironmentVariable("PATH"))', "expr-security"),
    ("@(AppDomain.CurrentDomain)", "expr-security"),
    ("@(Activator.CreateInstance(typeof(string)))", "expr-security"),
    ('@(Type.GetType("System.IO.File"))', "expr-security"),
    ('@("x".GetType().GetMethod("ToString"))', "expr-security"),
    ("@(context.Variables.GetType())", "expr-security"),
    ('@(__import__("os"))', "expr-security"),
    ("@(context.Request.Headers.__class__)", "expr-security"),
    ("@(new[] { 1 }.Select(x => x.__globals__))", "expr-security"),
    ('@($"{context.__class__}")', "expr-security"),
    ('@(context.Variables["x"].__class__)', "expr-security"),
    ('@(JObject.Parse("{}").__reduce__())', "expr-security"),
    ("@(Convert.__dict__)", "expr-security"),
    ("@(typeof(JObject).Assembly)", "expr-security"),
    ('@(context.Variables["resp"].Headers._items)', "expr-security"),
    ("@(context.Request.MemberwiseClone())", "expr-security"),
    ('@("a".Type)', "expr-security"),
    ("@(context.Request.Type)", "expr-security"),
    ('@(System.Type.GetType("System.IO.File"))', "expr-security"),
    ('@(JObject.Parse("{}").Type.GetType().Assembly)', "expr-security"),
    ('@(JToken.Parse("1").Type())', "expr-security"),
    ("@(context.Request.Headers.GetValueOrDefault(\"a\", \"\").AsJwt().Type.GetType())", "expr-security"),
    ('@(eval("1"))', "expr-unknown-name"),
    ('@(exec("import os"))', "expr-unknown-name"),
    ('@(open("/etc/passwd"))', "expr-unknown-name"),
    ("@(globals())", "expr-unknown-name"),
    ('@(new System.IO.StreamReader("/etc/passwd"))', "expr-unknown-name"),
    ('@("abc".format("x"))', "expr-unknown-member"),
    ('@("abc".join(new[] { "x" }))', "expr-unknown-member"),
    ("@(context.Request.Headers.copy())", "expr-unknown-member"),
    ("@(new[] { 1 }.Select(x => x).gi_frame)", "expr-unknown-member"),
    ('@(((object)context.Variables["x"]).request)', "expr-unknown-member"),
    ("@{ dynamic x = 1; return x; }", "expr-unknown-name"),
    ("@(context.\\u005f_class__)", "expr-syntax"),
    ("@{ return context.Trace; }", "expr-type"),
    ('@{ context.Request.Method = "DELETE"; return 1; }', "expr-type"),
    ('@{ context.Variables["a"] = 1; return 1; }', "expr-type"),
    ("@(new Func<int>(() => 1))", "expr-type"),
    ("@(" + "-(" * 3000 + "1" + ")" * 3000 + ")", "expr-security"),
]


@pytest.mark.parametrize(("expression", "code"), LINT_REJECTED, ids=[e[:50] for e, _ in LINT_REJECTED])
def test_rejected_at_lint(expression: str, code: str) -> None:
    codes = lint_codes(expression)
    assert code in codes, codes
    with pytest.raises(PolicyLoadError):
        compile_expression(expression)


class Evil:
    """A Python object smuggled into a variable by a buggy policy: still unreachable."""

    secret = "s3cr3t"

    def Run(self) -> str:  # noqa: N802 - looks like a C# member on purpose
        return "ran"


def _context_with_smuggled_values():
    ctx = make_context()
    ctx.variables.update({"os": os, "path": pathlib.Path("/etc/passwd"), "evil": Evil(), "fn": print,
                          "ctx": ctx})
    return ctx


RUNTIME_REJECTED = [
    '@(context.Variables["os"].ToString())',
    '@(context.Variables["path"].Name)',
    '@(context.Variables["evil"].Run())',
    '@(context.Variables["evil"].Secret)',
    '@(context.Variables["fn"].ToString())',
    '@(context.Variables["ctx"].State)',
    '@(context.Variables["evil"].Type)',
    '@(context.Variables["path"].Type)',
    '@(context.Variables["os"].Type)',
    '@{ foreach (var x in (object)context.Variables["path"]) { } return 1; }',
]


@pytest.mark.parametrize("expression", RUNTIME_REJECTED)
def test_rejected_at_run_time(expression: str) -> None:
    compiled = compile_expression(expression)
    with pytest.raises(SecurityError):
        compiled.evaluate(_context_with_smuggled_values())


LIMITS = [
    "@{ while (true) { } return 1; }",
    "@{ int F(int n) { return F(n + 1); } return F(0); }",
    "@(new string('x', 1000000000))",
    '@("x".PadLeft(100000000))',
    '@{ var s = "x"; for (var i = 0; i < 100; i++) { s = s + s; } return s.Length; }',
    '@{ var s = "x"; for (var i = 0; i < 40; i++) { s = s.Replace("x", "xx"); } return s.Length; }',
    "@(new int[1000000000])",
    "@(new byte[1000000000])",
    "@(Enumerable.Range(0, int.MaxValue).ToList())",
    '@(Enumerable.Repeat("x", 1000000000).Count())',
    "@(new[] { 1, 2 }.Select(x => new[] { 1 }.Where(y => { while (true) { } return true; }).Count()).Sum())",
    '@{ var s = ""; foreach (var c in "abc") { while (true) { s += c; } } return s; }',
]


@pytest.mark.parametrize("expression", LIMITS)
def test_limits_stop_runaway_work(expression: str) -> None:
    compiled = compile_expression(expression)
    with pytest.raises(SecurityError) as info:
        compiled.evaluate(make_context())
    assert info.value.span is not None


def test_format_strings_are_dotnet_not_python() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression('@(string.Format("{0.__class__}", "a"))').evaluate(make_context())
    assert "FormatException" in str(info.value)
    assert "class" not in str(info.value).split("FormatException", 1)[1]


def test_escape_cases_count() -> None:
    assert len(LINT_REJECTED) + len(RUNTIME_REJECTED) + len(LIMITS) + 1 >= 40
