"""`parse_into` (values built during parsing) gives every node the span Lark's own
`propagate_positions` tree gives it, and reports errors as the tree parse does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lark import Tree

from engine.expr.build import Builder, build
from engine.expr.parser import ExprSyntaxError, Span, _tables, parse, parse_into
from tests.expr.test_grammar import BLOCKS, EXPRESSIONS

HOSTILE = [line.strip() for line in (Path(__file__).parent / "hostile_expressions.txt").read_text().splitlines()
           if line.strip() and not line.startswith("#")]


class Recorder:
    """A ValueBuilder that records each built node's rule name and span."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, Span]] = []

    def reduce(self, name: str, span: Span, children: list[Any]) -> str:
        self.nodes.append((name, span))
        return name


def lark_nodes(tree: Tree[Any]) -> list[tuple[str, Span]]:
    return [(str(t.data), None if t.meta.empty else (t.meta.start_pos, t.meta.end_pos)) for t in tree.iter_subtrees()]


CASES = [(t, "expression") for t in EXPRESSIONS] + [(t, "block") for t in BLOCKS]


@pytest.mark.parametrize(("text", "start"), CASES)
def test_spans_equal_lark_propagate_positions(text: str, start: str) -> None:
    recorder = Recorder()
    parse_into(text, start, recorder)
    assert sorted(recorder.nodes, key=repr) == sorted(lark_nodes(parse(text, start)), key=repr)


def test_hostile_expressions_parse_or_fail_alike() -> None:
    checked = 0
    for line in HOSTILE:
        body, start = (line[2:-1], "block") if line.startswith("@{") else (
            (line[2:-1], "expression") if line.startswith("@(") else (line, "expression"))
        try:
            expected = lark_nodes(parse(body, start))
        except ExprSyntaxError as exc:
            with pytest.raises(ExprSyntaxError) as raised:
                parse_into(body, start, Recorder())
            assert (raised.value.message, raised.value.offset, raised.value.hint) == (exc.message, exc.offset, exc.hint)
            continue
        recorder = Recorder()
        parse_into(body, start, recorder)
        assert sorted(recorder.nodes, key=repr) == sorted(expected, key=repr)
        checked += 1
    assert checked > 10


def test_every_built_rule_has_a_builder_method() -> None:
    plans = {plan for row in _tables().states.values() for shift, plan in row.values() if not shift}
    passed_through = {p for p in plans if p.pass_through and len(p.keep) == 1 and not p.keep[0][2] and not p.nones_after}
    names = {plan.name for plan in plans - passed_through if not plan.inline}
    assert len(names) > 80
    missing = sorted(n for n in names if not callable(getattr(Builder, n, None)))
    assert missing == []


def test_a_later_syntax_error_wins_over_a_builder_error() -> None:
    # `??=` is refused by the builder (C# 8) before the parser reaches the stray ')'.
    with pytest.raises(ExprSyntaxError) as raised:
        build("x ??= 1; )", "block", 10)
    assert raised.value.offset == 19 and "')'" in raised.value.message
    with pytest.raises(ExprSyntaxError) as raised:
        build("x ??= 1;", "block", 10)
    assert raised.value.offset == 12 and "C# 8" in raised.value.message


def test_syntax_error_offsets_include_the_base() -> None:
    with pytest.raises(ExprSyntaxError) as raised:
        build("a + * b", "expression", 100)
    assert raised.value.offset == 104
