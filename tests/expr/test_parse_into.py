"""`parse_into` (values built during parsing) gives every node the span Lark's own
`propagate_positions` tree gives it, and reports errors as the tree parse does."""

from __future__ import annotations

import marshal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lark import Token as LarkToken
from lark import Tree
from lark.utils import TextSlice

from engine.expr.build import Builder, build
from engine.expr.grammarcache import cache_key, cache_path, grammar_text
from engine.expr.lalr import FORMAT, load_plain, plain_key, tables
from engine.expr.lalrbuild import plain_tables
from engine.expr.larkgrammar import grammar
from engine.expr.parser import ExprSyntaxError, Span, parse, parse_into
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
    plans = set(tables().reductions)
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


# ---------------------------------------------------------------- the parser's own tables

def test_cached_tables_match_the_grammar() -> None:
    """The tables the driver loads from the cache are what the packaged grammar builds today."""
    tables()  # builds and caches them if this test runs first
    cached = load_plain()
    assert cached is not None and cached["key"] == plain_key()
    assert cached == plain_tables(grammar(), plain_key())


def test_the_cache_key_follows_the_grammar_text() -> None:
    text = grammar_text()
    assert cache_key(f"tables{FORMAT}", text) == cache_key(f"tables{FORMAT}")
    assert cache_key(f"tables{FORMAT}", text + "\n// changed") != cache_key(f"tables{FORMAT}")
    assert cache_key(f"tables{FORMAT}") != cache_key("lark")


def test_missing_corrupt_or_stale_cached_tables_are_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = cache_path(f"tables{FORMAT}", "tables")
    assert path.parent.parent == tmp_path and load_plain() is None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage")
    assert load_plain() is None
    path.write_bytes(marshal.dumps({"key": "0" * 24}))
    assert load_plain() is None
    path.write_bytes(marshal.dumps({"key": plain_key()}))
    assert load_plain() == {"key": plain_key()}


LEXER_TEXT = " ".join(EXPRESSIONS + BLOCKS) + " \x1c\u00a0\u2003é \t/* c */ // x\n@\"v\"\"q\" 'a' ` #"


def test_every_state_lexes_like_larks_contextual_lexer() -> None:
    """At every position of a text holding every kind of token, each state's lexer finds the
    token (terminal, text, keyword retyping) Lark's lexer of that state finds, or fails alike."""
    found = tables()
    contextual = grammar().parser.lexer
    lark_lexers = contextual.lexers
    text = TextSlice.cast_from(LEXER_TEXT)
    compared = 0
    pairs = [(lark_lexers[state], found.lexers[state])
             for state in {id(lexer): state for state, lexer in lark_lexers.items()}.values()]
    for lark_lexer, ours in [*pairs, (contextual.root_lexer, found.root_lexer)]:  # root: the error report's
        for pos in range(len(LEXER_TEXT)):
            expected = lark_lexer.match(text, pos)
            if expected is not None and expected[1] in lark_lexer.callback:
                expected = (expected[0], lark_lexer.callback[expected[1]](LarkToken(expected[1], expected[0])).type)
            got = None
            for terminal in ours.by_char.get(LEXER_TEXT[pos], ours.other):
                match = found.matchers[terminal](LEXER_TEXT, pos)
                if match:
                    kind = found.terminals[terminal]
                    got = (match.group(), ours.retype.get(kind, {}).get(match.group(), kind))
                    break
            assert got == expected, (pos, LEXER_TEXT[pos:pos + 20])
            compared += 1
    assert compared > 100_000


def test_parsing_imports_no_lark() -> None:
    """Texts are parsed, and their syntax errors reported, on the tables alone: no Lark import."""
    script = ("import sys\nfrom engine.expr.build import build\n"
              "build('a.b(1) + (int)c[\"d\"]', 'expression', 0)\nbuild('var x = 1; return x;', 'block', 0)\n"
              "print('lark' in sys.modules)\ntry:\n    build('a +', 'expression', 0)\nexcept Exception as e:\n"
              "    print(type(e).__name__, 'lark' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == ["False", "ExprSyntaxError", "False"]
