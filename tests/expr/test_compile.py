"""The public API: compile once, evaluate per request, errors with spans, body handling, coercion."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.context import MessageBody
from engine.errors import ExpressionError, PolicyLoadError
from engine.expr import LIMITS, compile_expression, is_expression
from engine.schema import Bool, Int, Str
from tests.expr.helpers import make_context, run


def test_compile_once_evaluate_many() -> None:
    compiled = compile_expression('@(context.Request.Headers.GetValueOrDefault("X-Id", "none"))')
    first, second = make_context(), make_context()
    second.request.headers.set("X-Id", "7")
    assert compiled.evaluate(first) == "none"
    assert compiled.evaluate(second) == "7"
    assert compiled.source.startswith("@(")


def test_policy_load_error_carries_every_diagnostic() -> None:
    with pytest.raises(PolicyLoadError) as info:
        compile_expression("@(context.Nope + context.Request.Nope2)")
    assert [d.code for d in info.value.diagnostics] == ["expr-unknown-member", "expr-unknown-member"]


def test_runtime_error_has_the_span_of_the_failing_call() -> None:
    compiled = compile_expression('@(  "x" + int.Parse((string)context.Variables["s"]))')
    with pytest.raises(ExpressionError) as info:
        compiled.evaluate(make_context())
    error = info.value
    assert error.reason == "ExpressionValueEvaluationFailure"
    assert "FormatException" in error.message
    assert error.span is not None and error.span.col == 11


def test_null_reference_is_reported_not_a_python_error() -> None:
    ctx = make_context()
    ctx.api = None
    with pytest.raises(ExpressionError) as info:
        compile_expression("@(context.Api.Name.Length)").evaluate(ctx)
    assert "NullReferenceException" in info.value.message


def test_uses_body_is_detected() -> None:
    assert compile_expression("@(context.Request.Body.As<string>())").uses_body
    assert compile_expression('@(((IResponse)context.Variables["r"]).Body.As<string>())').uses_body
    assert not compile_expression("@(context.Request.Method)").uses_body


def test_body_consumed_unless_preserve_content() -> None:
    ctx = make_context(body=b'{"a": 1}')
    assert run("context.Request.Body.As<string>(preserveContent: true)", ctx) == '{"a": 1}'
    assert not ctx.request.body.consumed
    assert run("context.Request.Body.As<string>()", ctx) == '{"a": 1}'
    assert ctx.request.body.consumed
    assert run("context.Request.Body.As<string>()", ctx) == ""


def test_parsed_body_is_cached_per_content() -> None:
    ctx = make_context(body=b'{"a": 1}')
    first = run("context.Request.Body.As<JObject>(preserveContent: true)", ctx)
    assert run("context.Request.Body.As<JObject>(preserveContent: true)", ctx) is first
    ctx.request.body = MessageBody(b'{"a": 2}')
    assert run('(int)context.Request.Body.As<JObject>(preserveContent: true)["a"]', ctx) == 2


def test_missing_body_is_a_null_reference() -> None:
    ctx = make_context()
    ctx.request.body = None
    with pytest.raises(ExpressionError, match="NullReferenceException"):
        run("context.Request.Body.As<string>()", ctx)
    assert run("context.Request.Body?.As<string>() ?? \"none\"", ctx) == "none"


@pytest.mark.parametrize(
    ("expression", "result", "expected"),
    [("@(1 + 1)", Int(), 2), ('@("5")', Int(), 5), ("@(1 > 0)", Bool(), True), ("@(42)", Str(), "42"),
     ("@(true)", Str(), "True")],
)
def test_result_coercion(expression: str, result: object, expected: object) -> None:
    assert compile_expression(expression, result=result).evaluate(make_context()) == expected


def test_result_coercion_failure_is_an_expression_error() -> None:
    compiled = compile_expression('@("abc")', result=Int())
    with pytest.raises(ExpressionError, match="not an integer"):
        compiled.evaluate(make_context())


def test_is_expression() -> None:
    assert is_expression("  @(x)") and is_expression("@{ return 1; }")
    assert not is_expression("plain") and not is_expression("a@(x)")


def test_variables_are_read_per_request() -> None:
    compiled = compile_expression('@(context.Variables.GetValueOrDefault<int>("n", 0) + 1)')
    ctx = make_context()
    assert compiled.evaluate(ctx) == 43
    ctx.variables["n"] = 1
    assert compiled.evaluate(ctx) == 2


def test_get_value_or_default_type_mismatch_raises() -> None:
    with pytest.raises(ExpressionError, match="InvalidCast"):
        run('context.Variables.GetValueOrDefault<bool>("s")')


def test_trace_records_messages() -> None:
    ctx = make_context()
    run('@{ context.Trace("seen " + context.Request.Method); return 1; }', ctx)
    assert ctx.traces[-1][2] == "seen POST"


def test_timestamp_and_request_id() -> None:
    assert run("context.Timestamp.Year") >= 2024
    assert len(run("context.RequestId.ToString()")) == 36
    assert run("context.Elapsed.TotalSeconds >= 0")


def test_loop_limit_is_configurable() -> None:
    compiled = compile_expression("@{ var n = 0; for (var i = 0; i < 500; i++) { n++; } return n; }")
    assert compiled.evaluate(make_context()) == 500
    saved = LIMITS.max_iterations
    LIMITS.max_iterations = 100
    try:
        with pytest.raises(ExpressionError, match="loop iterations"):
            compiled.evaluate(make_context())
    finally:
        LIMITS.max_iterations = saved


@pytest.mark.parametrize("source", [
    "@{ var n = 0; while (true) { n++; } return n; }",
    # few call sites and no loops, but the library loops over 100 000 elements: metered anyway, and
    # the library's own loops check the deadline (`limits.paced`)
    '@(new JArray(Enumerable.Repeat("x", 100000)).Count)',
    "@(JsonConvert.SerializeObject(Enumerable.Range(0, 100000)).Length)",
    '@(JObject.FromObject(new { a = new List<int>(new int[100000]) }).ToString().Length)',
])
def test_deadline_is_configurable(source: str) -> None:
    compiled = compile_expression(source)
    saved = LIMITS.timeout, LIMITS.max_iterations
    LIMITS.timeout, LIMITS.max_iterations = 0.002, 10**9
    try:
        with pytest.raises(ExpressionError, match="ran longer than 2 ms"):
            compiled.evaluate(make_context())
    finally:
        LIMITS.timeout, LIMITS.max_iterations = saved


def _eval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "eval", *args], capture_output=True, text=True,
                          timeout=60)


def test_eval_command_prints_value_and_type() -> None:
    done = _eval('context.Request.Headers.GetValueOrDefault("X-A", "-") + context.Variables["n"]',
                 "-H", "X-A: hi", "--var", "n=5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hi5 (System.String)"


def test_eval_command_reports_the_column() -> None:
    done = _eval("context.Request.Methd")
    assert done.returncode == 1
    assert "<expr>:1:17: error[expr-unknown-member]" in done.stderr
    assert "^^^^^" in done.stderr


def test_eval_command_runtime_error_and_usage() -> None:
    done = _eval("1 / int.Parse(\"0\")")
    assert done.returncode == 1 and "DivideByZeroException" in done.stderr
    assert _eval("1", "-H", "no-colon").returncode == 2


def test_generated_evaluator_errors_are_reported_like_closures() -> None:
    with pytest.raises(ExpressionError, match="KeyNotFoundException: The given key 'missing'"):
        run('context.Variables["missing"] == "x"')
    ctx = make_context()
    ctx.api = None
    with pytest.raises(ExpressionError, match="NullReferenceException"):
        run('context.Api.Name == "x"', ctx)


def test_generated_evaluator_runs_without_builtins() -> None:
    compiled = compile_expression('@(context.Request.Method == "POST" ? "w" : "r")')
    assert compiled.evaluate(make_context()) == "w"
    namespace = compiled.evaluate.__globals__
    assert namespace["__builtins__"] == {}
    assert all(not name.startswith("__") or name == "__builtins__" for name in namespace)


@pytest.mark.parametrize(("text", "feature", "col"), [
    ('@{ string x = null; x ??= "a"; return x; }', "'??=' is C# 8", 23),
    ('@(context.Variables["s"] is not null)', "'is not null' is C# 9", 3),
    ('@(@$"a{1}")', "is C# 8", 3),
])
def test_syntax_newer_than_csharp7_is_refused_with_its_location(text: str, feature: str, col: int) -> None:
    """APIM compiles policy expressions as C# 7: newer syntax is an `expr-syntax` error at its place."""
    with pytest.raises(PolicyLoadError) as info:
        compile_expression(text)
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code == "expr-syntax" and feature in diagnostic.message and "C# 7" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.col) == (1, col)


@pytest.mark.parametrize(
    ("expression", "col", "exception"),
    [
        ('"x" + context.Api.Name', 9, "NullReferenceException"),
        ('context.Request.Method + context.Api.Name', 28, "NullReferenceException"),
        ('context.Variables["nope"] == "a"', 3, "KeyNotFoundException"),
        ('1 + (int)context.Variables["s"]', 7, "InvalidCastException"),
    ],
)
def test_generated_evaluator_errors_point_at_the_failing_node(expression: str, col: int, exception: str) -> None:
    ctx = make_context()
    ctx.api = None
    with pytest.raises(ExpressionError) as info:
        run(expression, ctx)
    assert exception in info.value.message
    assert info.value.span is not None and info.value.span.col == col


@pytest.mark.parametrize(("text", "expected"), [
    # C# 7 rows Mono's mcs cannot compile (it crashes on custom and mixed-type deconstruction, and
    # lacks local functions), so the oracle table cannot hold them; values as csc gives them
    ('@{ var (k, v) = new KeyValuePair<string, int>("x", 3); return k + v; }', "x3"),
    ('@{ var (a, b, c) = (1, "s", 2.5); return b + a + c; }', "s12.5"),
    ("@{ var (x, y) = (1, 2); var (p, q) = (y, x); return p * 10 + q; }", 21),
    ("@{ int Add(int a, int b = 10) { return a + b; } return Add(1) + Add(1, 1); }", 13),
])
def test_csharp7_deconstruction_and_local_function_defaults(text: str, expected: object) -> None:
    assert run(text) == expected


def test_value_tuple_members_are_refused_like_apim() -> None:
    with pytest.raises(PolicyLoadError) as info:
        compile_expression("@{ var t = (1, 2); return t.Item1; }")
    assert info.value.diagnostics[0].code == "expr-unknown-member"
    assert "ValueTuple is not on APIM's allow-list" in (info.value.diagnostics[0].hint or "")
