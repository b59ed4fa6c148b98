"""The expression scanner: where does an `@(...)` / `@{...}` end, whatever C# it contains."""

from __future__ import annotations

import pytest

from engine.masking import MASK_CHAR, mask_expressions, scan_expression


def expression_of(text: str) -> str:
    """The expression starting at the first '@' of `text`."""
    start = text.index("@")
    end = scan_expression(text, start)
    assert end is not None, "expression should close"
    return text[start:end]


@pytest.mark.parametrize(
    "expression",
    [
        "@(1)",
        "@((1 + 2).ToString())",
        '@("a)b")',
        '@("quote \\" and paren )")',
        '@(@"verbatim "" quote )")',
        "@(')')",
        "@('\\'')",
        "@('\\u0029')",
        '@($"hole {(1 > 2 ? ")" : "(")} done")',
        '@($"braces {{ literal }} and {x.Count}")',
        '@($"nested {$"inner {y}"}")',
        '@($@"verbatim interp "" {z} )")',
        '@(@$"verbatim interp {z} )")',
        "@(a /* ) */ + b)",
        "@{ var x = 1; // } not the end\n return x; }",
        '@{ return "}"; }',
        "@{ if (a) { return new[] { 1, 2 }; } return null; }",
        '@(context.Request.Body.As<JObject>()["a"] < 3 && b > 2)',
        "@(x &amp;&amp; y)",
    ],
)
def test_scanner_finds_the_closing_bracket(expression: str) -> None:
    assert expression_of(f'value="{expression}" rest') == expression


def test_entity_quotes_count_as_quotes() -> None:
    # &quot;)&quot; is a string holding ')' — the expression does not end there
    text = '<a v="@(&quot;)&quot; + x)"/>'
    assert expression_of(text) == "@(&quot;)&quot; + x)"


def test_unterminated_expression_is_reported_not_masked() -> None:
    text = '<a v="@(foo(1)"/>'
    result = mask_expressions(text)
    assert result.spans == []
    assert result.unterminated == [text.index("@")]
    assert result.text == text


def test_mask_keeps_length_and_line_breaks() -> None:
    text = '<a v="@{\n  return "<b>";\n}"/>'
    result = mask_expressions(text)
    assert len(result.text) == len(text)
    assert result.text.count("\n") == 2
    assert "<b>" not in result.text
    assert result.text.startswith('<a v="' + MASK_CHAR)


def test_comments_cdata_and_processing_instructions_are_not_scanned() -> None:
    text = "<!-- @( --><a><![CDATA[@(]]><?pi @( ?>@(1)</a>"
    result = mask_expressions(text)
    assert len(result.spans) == 1
    assert text[result.spans[0].start : result.spans[0].end] == "@(1)"


def test_regular_string_stops_at_line_end() -> None:
    # an unclosed string cannot swallow the rest of the document
    text = '@("abc\n)'
    assert scan_expression(text, 0) == len(text)
