"""Syntax errors are reported from the parser's tables (`engine.expr.syntaxreport`) exactly as Lark
reports them (its exception made readable by `engine.expr.larkgrammar`): message, offset and
expected-token list, on every syntax error of the tests and samples and on broken variants of
every expression there (`python -m tests.perf.syntax_reports --documents DIR` does the same for
other documents)."""

from __future__ import annotations

import functools
from pathlib import Path

from engine.expr.expression import split_expression
from engine.expr.parser import ExprSyntaxError, parse
from engine.expr.syntaxreport import first_error
from tests.expr.test_grammar import BLOCKS, EXPRESSIONS
from tests.perf.bench_passes import expressions

ROOT = Path(__file__).resolve().parents[2]

# What broken variants insert: brackets, quotes, separators, operators, a name, a keyword...
INSERTS = ("(", ")", ".", ";", '"', "'", "{", "}", "[", "]", ",", "+", "=", "?", ":", "x", "1", " new ", "=>",
           "@", "#", "\\", "<", "!")

Report = tuple[str, int, str | None] | None


def lark_report(text: str, start: str) -> Report:
    try:
        parse(text, start)
    except ExprSyntaxError as exc:
        return exc.message, exc.offset, exc.hint
    return None


def table_report(text: str, start: str) -> Report:
    error = first_error(text, start)
    return None if error is None else (error.message, error.offset, error.hint)


def broken_variants(text: str, places: int) -> set[str]:
    """`text`, and `text` cut, with a character dropped, and with each of INSERTS put in, at about
    `places` places (none: `text` only)."""
    variants = {text}
    for i in range(0, len(text) if places else 0, max(1, len(text) // max(places, 1))):
        variants.update((text[:i], text[:i] + text[i + 1:]))
        variants.update(text[:i] + insert + text[i:] for insert in INSERTS)
    return variants


# Syntax errors other tests check by their offset or message (tests/expr/test_grammar.py, test_check.py...)
ERRORS = ["1 +", "f(1,)", "a ? b", '"abc', "x.", "1 2", "context.Request.Method)", "a +* b", "(int)", "new List<int>{",
          "x => { return 1 }", "a[1", "@x", "{{name}}", "'ab'", "1..2", "a ?? ", "var = 1;"]


@functools.cache
def repository_texts() -> list[tuple[str, str]]:
    """(body, start) of every expression of the samples (samples/bad included), the hostile list,
    the grammar tests and ERRORS."""
    found = [(text, "expression") for text in EXPRESSIONS + ERRORS] + [(text, "block") for text in BLOCKS + ERRORS]
    for value in expressions(ROOT / "samples"):
        try:
            start, body, _ = split_expression(value.text)
        except ExprSyntaxError:
            continue
        found.append((body, start))
    return found


def compare(texts: list[tuple[str, str]], places: int) -> tuple[int, int, list[tuple[str, str, Report, Report]]]:
    """(variants, of them with a syntax error, the reports that differ)."""
    checked, errors, differ = 0, 0, []
    for text, start in texts:
        for variant in sorted(broken_variants(text, places)):
            expected, got = lark_report(variant, start), table_report(variant, start)
            checked += 1
            errors += expected is not None
            if got != expected:
                differ.append((start, variant, expected, got))
    return checked, errors, differ


def test_every_syntax_error_of_the_repository_is_reported_as_lark_reports_it() -> None:
    texts = repository_texts()
    checked, errors, differ = compare(texts, places=0)
    assert differ == []
    assert len(texts) == checked > 250 and errors > 25


def test_broken_variants_are_reported_as_lark_reports_them() -> None:
    checked, errors, differ = compare(repository_texts()[::15], places=6)
    assert differ == []
    assert errors > 1500


def test_the_report_names_what_lark_names() -> None:
    assert table_report("a +", "expression") == ("the expression ends too early", 3, "expected an expression")
    assert table_report("a ; ", "expression") == ("unexpected ';'", 2, "expected the end")
    assert table_report("{{x}}", "expression") == ("unexpected '{'", 0, "expected an expression")
    assert table_report("#", "expression") == ("unexpected character '#'", 0, None)
    assert table_report("x = 1 return x;", "block") == (
        "missing ';' before 'return'", 6, lark_report("x = 1 return x;", "block")[2])  # type: ignore[index]
    assert table_report("var x = 1; return x;", "block") is None
