"""Lint-time checking: codes, messages, hints and exact positions in the XML file."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.diagnostics import Diagnostics
from engine.expr import check_expression
from engine.model import ValueText
from engine.source import SourceFile


def attribute_value(xml: str, value: str) -> ValueText:
    """A ValueText for attribute text `value` found verbatim in `xml` (no entities involved)."""
    source = SourceFile("policy.xml", xml)
    start = xml.index(value)
    offsets = list(range(start, start + len(value) + 1))
    return ValueText(value, source.span(start, start + len(value)), source, offsets)


def diagnostics_of(expression: str | ValueText) -> list:
    bag = Diagnostics()
    check_expression(expression, bag)
    return list(bag)


def test_unknown_member_points_at_the_member_in_the_file() -> None:
    xml = '<policies>\n  <inbound>\n    <rate-limit-by-key counter-key="@(context.Subscription.Idd)" />\n'
    value = attribute_value(xml, "@(context.Subscription.Idd)")
    [diag] = diagnostics_of(value)
    assert diag.code == "expr-unknown-member"
    assert (diag.span.file, diag.span.line, diag.span.col) == ("policy.xml", 3, 60)
    assert diag.span.end_col == 63
    assert diag.hint == "did you mean 'Id'?"
    assert "'ISubscription' has no member 'Idd'" in diag.message


def test_multi_line_block_positions() -> None:
    xml = "<set-body>@{\n    var x = 1;\n    return context.Request.Methd;\n}</set-body>"
    value = attribute_value(xml, xml[len("<set-body>"):-len("</set-body>")])
    [diag] = diagnostics_of(value)
    assert (diag.span.line, diag.span.col) == (3, 28)
    assert diag.hint == "did you mean 'Method'?"


def test_syntax_error_position_and_hint() -> None:
    [diag] = diagnostics_of("@(context.Request.Method ==)")
    assert diag.code == "expr-syntax"
    assert diag.span.col == 28
    assert diag.hint == "expected an expression"


def test_all_problems_are_collected() -> None:
    codes = [d.code for d in diagnostics_of('@(context.Foo + context.Request.Bar + nope + "a".Lenght)')]
    assert codes == ["expr-unknown-member", "expr-unknown-member", "expr-unknown-name", "expr-unknown-member"]


@pytest.mark.parametrize(
    ("expression", "code", "fragment"),
    [
        ("@(context.Request.Headers.GetValueOrDefault())", "expr-arity", "takes 1 to 2 argument(s), 0 given"),
        ('@(context.Request.Headers.GetValueOrDefault("a", "b", "c"))', "expr-arity", "3 given"),
        ('@("abc".Substring())', "expr-arity", "'string.Substring' takes"),
        ("@(Math.Max(1))", "expr-arity", "'Math.Max' takes"),
        ("@(context.Trace())", "expr-arity", "takes 1 argument(s)"),
        ('@("a" - 1)', "expr-type", "operator '-' cannot be applied"),
        ('@("a" < "b")', "expr-type", "operator '<'"),
        ("@(!\"a\")", "expr-type", "operator '!'"),
        ('@{ if ("x") { return 1; } return 2; }', "expr-type", "to 'bool'"),
        ("@(context.Request.Method())", "expr-type", "is a property, not a method"),
        ("@(context.Request.Headers.ContainsKey)", "expr-type", "is a method: call it with ()"),
        ("@(unknownVariable)", "expr-unknown-name", "'unknownVariable' does not exist"),
        ("@((Foo)context)", "expr-unknown-name", "the type 'Foo' is not available"),
        ("@(Strin.Empty)", "expr-unknown-name", "'Strin'"),
        ('@(context.Request.Url.Query.GetValueOrDefault<int>("a"))', "expr-arity", "is not generic"),
        ("@{ var a = 1; var a = 2; return a; }", "expr-type", "already defined"),
        ("@(context.Request.Method", "expr-syntax", "must end with ')'"),
        ("context.Request.Method", "expr-syntax", "starts with '@(' or '@{'"),
    ],
)
def test_findings(expression: str, code: str, fragment: str) -> None:
    found = diagnostics_of(expression)
    assert any(d.code == code and fragment in d.message for d in found), [(d.code, d.message) for d in found]


def test_did_you_mean_for_names() -> None:
    [diag] = diagnostics_of("@(contxt.Request)")
    assert diag.hint == "did you mean 'context'?"


@pytest.mark.parametrize(
    "expression",
    [
        '@(context.Request.Headers.GetValueOrDefault("Authorization", "").Split(\' \').Last())',
        '@((string)context.Variables["x"] ?? "")',
        '@{ var body = context.Request.Body.As<JObject>(preserveContent: true); body["a"] = 1; return body.ToString(); }',
        '@(context.Variables.ContainsKey("x") ? context.Variables["x"].ToString() : "")',
        "@(context.User?.Email ?? context.Subscription?.Name)",
        "@(((IResponse)context.Variables[\"r\"]).Body.As<string>())",
    ],
)
def test_typical_expressions_are_clean(expression: str) -> None:
    assert diagnostics_of(expression) == []


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list('abcXYZ019 ._"\'$@{}()[]<>=!?:;,+-*/%&|^~\\\n')), max_size=40))
def test_any_input_gives_diagnostics_never_a_crash(body: str) -> None:
    for wrapper in ("@(" + body + ")", "@{" + body + "}"):
        bag = Diagnostics()
        check_expression(wrapper, bag)
        for diag in bag:
            assert diag.code.startswith("expr-") and diag.span.line >= 1 and diag.span.col >= 1
