"""Members of statically typed receivers: check-time unknown methods, `Type`, run-time gate spans, casts."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from pathlib import Path

import pytest

from engine.diagnostics import Diagnostics
from engine.errors import ExpressionError, PolicyLoadError, SecurityError
from engine.expr import check_expression, compile_expression
from engine.lint import lint_paths
from tests.expr.helpers import make_context, run
from tests.expr.test_check import attribute_value


def diagnostics_of(expression: str) -> list:
    bag = Diagnostics()
    check_expression(expression if expression.startswith("@") else f"@({expression})", bag)
    return list(bag)


# ---------------------------------------------------------------- 1. unknown methods at check time

def test_unknown_header_method_is_reported_at_the_name_with_a_hint() -> None:
    xml = "<policies>\n  <inbound>\n    <set-variable name=\"v\" value='@(context.Request.Headers.GetValueOrDefaul(\"X\"))' />\n"
    bag = Diagnostics()
    check_expression(attribute_value(xml, '@(context.Request.Headers.GetValueOrDefaul("X"))'), bag)
    [diag] = list(bag)
    assert diag.code == "expr-unknown-member"
    assert diag.message == "'IReadOnlyDictionary<string, string[]>' has no member 'GetValueOrDefaul'"
    assert diag.hint == "did you mean 'GetValueOrDefault'?"
    assert (diag.span.file, diag.span.line, diag.span.col, diag.span.end_col) == ("policy.xml", 3, 61, 77)


def test_policygate_lint_reports_the_unknown_method(tmp_path: Path) -> None:
    policy = tmp_path / "policy.xml"
    policy.write_text(
        "<policies>\n  <inbound>\n"
        '    <set-header name="X-Id" exists-action="override">\n'
        '      <value>@(context.Request.Headers.GetValueOrDefaul("X-Id", ""))</value>\n'
        "    </set-header>\n  </inbound>\n  <backend><forward-request /></backend>\n"
        "  <outbound />\n  <on-error />\n</policies>\n"
    )
    report = lint_paths([policy])
    found = [d for d in report.diagnostics if d.code == "expr-unknown-member"]
    assert len(found) == 1, report.diagnostics
    assert (found[0].span.line, found[0].span.col) == (4, 40)
    assert found[0].hint == "did you mean 'GetValueOrDefault'?"


@pytest.mark.parametrize(
    ("expression", "col", "message", "hint"),
    [
        ("context.Request.Headers.Fisrt()", 27, "'IReadOnlyDictionary<string, string[]>' has no member 'Fisrt'",
         "did you mean 'First'?"),
        ("context.Request.Headers.Cont", 27, "'IReadOnlyDictionary<string, string[]>' has no member 'Cont'",
         "did you mean 'Count'?"),
        ('context.Request.Url.Query.GetValueOrDefaul("a")', 29,
         "'IReadOnlyDictionary<string, string[]>' has no member 'GetValueOrDefaul'", "did you mean 'GetValueOrDefault'?"),
        ('context.Variables.GetValueOrDefaul("a")', 21,
         "'IReadOnlyDictionary<string, object>' has no member 'GetValueOrDefaul'", "did you mean 'GetValueOrDefault'?"),
        ("context.Timestamp.AddSecond(1)", 21, "'DateTime' has no member 'AddSecond'", "did you mean 'AddSeconds'?"),
        ("context.Elapsed.TotalSecondz", 19, "'TimeSpan' has no member 'TotalSecondz'",
         "did you mean 'TotalSeconds'?"),
        ("context.Request.Url.Path.Split('/').AsJwt()", 39, "'string[]' has no member 'AsJwt'",
         "'AsJwt' is an extension method of 'string'"),
        ('"secret".Encrypt()', 12, "'string' has no member 'Encrypt'", "'Encrypt' is an extension method of 'byte[]'"),
        ("context.Request.Url.Path.Length.Where(c => true)", 35, "'int' has no member 'Where'",
         "'Where' is an extension method of sequences (IEnumerable<T>)"),
        ("context.Request.Select(x => x)", 19, "'IRequest' has no member 'Select'",
         "'Select' is an extension method of sequences (IEnumerable<T>)"),
        ("context.Request.Headers.Uri()", 27, "'IReadOnlyDictionary<string, string[]>' has no member 'Uri'", None),
    ],
)
def test_unknown_members_of_static_types(expression: str, col: int, message: str, hint: str | None) -> None:
    [diag] = diagnostics_of(expression)
    assert (diag.code, diag.message, diag.hint) == ("expr-unknown-member", message, hint)
    assert diag.span.col == col


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('context.Request.Headers.Where(h => h.Key.StartsWith("Accept")).Count()', 1),
        ("context.Request.Headers.Count()", 4),
        ("context.Request.Headers.Any(h => h.Value.Length > 1)", True),
        ('context.Request.Headers.First().Key', "Authorization"),
        ("context.Request.Headers.Values.Count()", 4),
        ('context.Request.Headers.Select(h => h.Key).Contains("Accept")', True),
        ('context.Request.Url.Query.GetValueOrDefault("tag")', "a,b"),
        ("context.Timestamp.AddSeconds(1) > context.Timestamp", True),
        ("context.Elapsed.TotalSeconds >= 0", True),
        ("context.RequestId.ToString().Length", 36),
        ("context.Request.Method.Where(c => c == 'O').Count()", 1),
        ('context.Request.Url.Path.Split(\'/\').Last()', "42"),
        ("context.Product.Groups.Any()", False),
        ('context.Variables["s"].Foo == null ? 1 : 2', None),  # dynamic receiver: checked at run time
    ],
)
def test_valid_members_and_extensions_still_compile(expression: str, expected: object) -> None:
    assert diagnostics_of(expression) == []
    if expected is not None:
        assert run(expression) == expected


def test_one_finding_per_unknown_member() -> None:
    assert [d.code for d in diagnostics_of('context.Variables.GetValueOrDefaul("a", 1)')] == ["expr-unknown-member"]


# ---------------------------------------------------------------- 2. `Type` where it is declared

@pytest.mark.parametrize(
    "expression",
    [
        '"abc".Type',
        "context.Type",
        "context.Request.Headers.Type",
        'System.Type.GetType("System.IO.File")',
        "System.Type",
        'JObject.Parse("{}").Type()',
        'JObject.Parse("{}").Type.GetType()',
        'JObject.Parse("{}").GetType().Assembly',
        "typeof(JObject).Assembly",
        "@{ Type t = null; return 1; }",
        '@{ JObject o = JObject.Parse("{}"); o.Type = JTokenType.Array; return 1; }',
    ],
)
def test_type_is_still_refused_outside_declared_properties(expression: str) -> None:
    codes = [d.code for d in diagnostics_of(expression)]
    assert "expr-security" in codes or "expr-type" in codes, codes
    with pytest.raises(PolicyLoadError):
        compile_expression(expression if expression.startswith("@") else f"@({expression})")


class Smuggled:
    """A foreign Python object with a `Type` attribute: the gate must not read it."""

    Type = "system"

    @property
    def Kind(self) -> str:  # noqa: N802 - looks like a C# member on purpose
        return "x"


@pytest.mark.parametrize(
    "expression",
    ['@(context.Variables["obj"].Type)', '@(context.Variables["s"].Type)', '@(context.Variables["path"].Type)'],
)
def test_type_on_undeclared_runtime_values_is_refused(expression: str) -> None:
    ctx = make_context()
    ctx.variables.update({"obj": Smuggled(), "path": pathlib.Path(os.sep)})
    with pytest.raises(SecurityError):
        compile_expression(expression).evaluate(ctx)


def test_type_through_the_dynamic_gate_on_a_token() -> None:
    ctx = make_context()
    ctx.variables["token"] = compile_expression('@(JToken.Parse("[1]"))').evaluate(ctx)
    assert run('context.Variables["token"].Type == JTokenType.Array', ctx) is True


# ---------------------------------------------------------------- 3. run-time gate errors at the member name

@pytest.mark.parametrize(
    ("expression", "col", "end_col", "message"),
    [
        ('@(context.Variables["s"].Foo())', 26, 29, "'String' has no accessible method 'Foo'"),
        ('@(context.Variables["s"].Foo)', 26, 29, "'String' has no accessible member 'Foo'"),
        ('@(context.Variables["s"]?.Trimm())', 27, 32, "'String' has no accessible method 'Trimm'"),
        ('@(context.Variables["s"].Type)', 26, 30, "'String' has no accessible member 'Type'"),
    ],
)
def test_dynamic_gate_errors_point_at_the_member(expression: str, col: int, end_col: int, message: str) -> None:
    compiled = compile_expression(expression)
    with pytest.raises(SecurityError) as info:
        compiled.evaluate(make_context())
    span = info.value.span
    assert span is not None and (span.col, span.end_col) == (col, end_col)
    assert info.value.detail == message


def test_exceptions_inside_a_dynamic_call_keep_the_call_span() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression('@(context.Variables["s"].Substring(10))').evaluate(make_context())
    assert "ArgumentOutOfRangeException" in info.value.message
    assert info.value.span is not None and info.value.span.col == 3


def test_eval_command_puts_the_caret_under_the_member() -> None:
    done = subprocess.run([sys.executable, "-m", "engine", "eval", '@(context.Variables["x"].GetValueOrDefaul("a"))',
                           "--var", "x=abc"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "<expr>:1:26: error[expr-security]: 'String' has no accessible method 'GetValueOrDefaul'"
    assert lines[2].endswith(" " * 25 + "^" * len("GetValueOrDefaul"))


# ---------------------------------------------------------------- casts of `object` values

@pytest.mark.parametrize(
    ("expression", "exception"),
    [
        ('(string)context.Variables["n"]', "Unable to cast object of type 'System.Int32' to type 'System.String'."),
        ('(string)context.Variables["d"]', "Unable to cast object of type 'System.Double' to type 'System.String'."),
        ('(int)context.Variables["s"]', "Unable to cast object of type 'System.String' to type 'System.Int32'."),
        ('(int)context.Variables["big"]', "Unable to cast object of type 'System.Int64' to type 'System.Int32'."),
        ('(int)context.Variables["d"]', "Unable to cast object of type 'System.Double' to type 'System.Int32'."),
        ('(int)context.Variables.GetValueOrDefault("big")',
         "Unable to cast object of type 'System.Int64' to type 'System.Int32'."),
        ('context.Variables.GetValueOrDefault<string>("n")',
         "Unable to cast object of type 'System.Int32' to type 'System.String'."),
    ],
)
def test_unboxing_a_variable_of_another_type_throws(expression: str, exception: str) -> None:
    with pytest.raises(ExpressionError) as info:
        run(expression)
    assert info.value.detail == f"InvalidCastException: {exception}"
    assert info.value.span is not None and info.value.span.col == 3


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('(int)context.Variables["n"]', 42),
        ('(long)context.Variables["big"]', 3000000000),
        ('(int)(long)context.Variables["big"]', -1294967296),  # a long -> int conversion wraps
        ("(int)2.9", 2),
        ('(int)context.Variables.GetValueOrDefault("n", 0)', 42),
    ],
)
def test_casts_that_succeed(expression: str, expected: int) -> None:
    assert run(expression) == expected


def test_deployment_gateway_and_authorization_context() -> None:
    from engine.context import Authorization
    from tests.expr.helpers import make_context, run

    ctx = make_context()
    ctx.variables["auth-context"] = Authorization("token-1", {"scope": "read"})
    assert run("context.Deployment.Gateway.IsManaged", ctx) is False
    assert run("context.Deployment.Gateway.Id", ctx) == "policygate"
    assert run("context.Deployment.Gateway.InstanceId", ctx)
    idiom = '"Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken'
    assert run(idiom, ctx) == "Bearer token-1"
    assert run('((Authorization)context.Variables.GetValueOrDefault("missing"))?.AccessToken', ctx) is None
    assert run('((Authorization)context.Variables["auth-context"]).Claims["scope"]', ctx) == "read"
