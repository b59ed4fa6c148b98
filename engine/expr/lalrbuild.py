"""Extracting the parser's own tables (`engine.expr.lalr`) from the Lark grammar.

The one place that reads Lark's internals (its LALR parse table, rule options, the contextual
lexer's per-state terminal order and keyword callbacks), and only when the cached tables are
missing or stale. tests/expr/test_parse_into.py checks the result against Lark's own parse of
every test expression, spans included, and the lexers against Lark's at every position of a text.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from lark import Lark
from lark.grammar import Rule, Terminal
from lark.lexer import BasicLexer, UnlessCallback
from lark.parsers.lalr_analysis import Shift

from engine.expr.firstchars import ASCII, FirstChars, first_chars
from engine.expr.lalr import FORMAT


def plain_tables(parser: Lark, key: str) -> dict[str, Any]:
    """The tables of `parser` as plain data (what `marshal` stores and `lalr.from_plain` loads)."""
    if parser.lexer_conf.g_regex_flags or parser.lexer_conf.use_bytes or parser.lexer_conf.re_module is not re:
        raise ValueError("the parser tables support Lark's default `re` lexing only")
    table = parser.parser.parser.parser.parse_table
    if sorted(table.states) != list(range(len(table.states))):
        raise ValueError("Lark's parser states are not numbered 0..n-1")
    rules: dict[int, int] = {}
    reductions: list[tuple[Any, ...]] = []
    actions: list[dict[str, int]] = []
    for state in range(len(table.states)):
        row: dict[str, int] = {}
        for symbol, (action, arg) in table.states[state].items():
            if action is Shift:
                row[symbol] = arg
                continue
            if id(arg) not in rules:
                rules[id(arg)] = len(reductions)
                reductions.append(_reduction(arg, parser.options.maybe_placeholders))
            row[symbol] = ~rules[id(arg)]
        actions.append(row)
    terminals, lexers, state_lexer, ignore = _lexers(parser, len(actions))
    literals = {t.name: t.pattern.value for t in parser.terminals if t.pattern.type == "str"}
    plain: dict[str, Any] = _plain({
        "format": FORMAT, "key": key, "actions": actions, "reductions": reductions,
        "start_states": dict(table.start_states), "end_states": dict(table.end_states),
        "terminals": terminals, "literals": literals, "ignore": ignore, "lexers": lexers,
        "state_lexer": state_lexer, "root_lexer": len(lexers) - 1})
    return plain


def _plain(value: Any, done: dict[int, Any] | None = None) -> Any:
    """`value` with Lark's str subclasses (rule names, aliases) as interned plain strings: marshal
    stores only built-in types, and an object met again (a string, a shared lexer part) once."""
    done = {} if done is None else done
    if id(value) in done:
        return done[id(value)]
    if isinstance(value, str):
        plain: Any = sys.intern(str(value))
    elif isinstance(value, dict):
        plain = {_plain(k, done): _plain(v, done) for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        plain = type(value)(_plain(v, done) for v in value)
    else:
        return value
    done[id(value)] = plain
    return plain


def _reduction(rule: Rule, placeholders: bool) -> tuple[Any, ...]:
    """`lalr.Reduction`'s fields for a rule: what Lark's tree builder (ChildFilter, expand1...) does."""
    expansion = rule.expansion
    keep_all = rule.options.keep_all_tokens
    flags = rule.options.empty_indices if placeholders else ()
    if flags:  # Nones to insert before each symbol (and after the last), as Lark's ChildFilter does
        empty = [len(ones) for ones in "".join(str(int(b)) for b in flags).split("0")]
    else:
        empty = [0] * (len(expansion) + 1)
    keep: list[tuple[int, bool, int]] = []
    nones = 0
    for i, sym in enumerate(expansion):
        nones += empty[i]
        if keep_all or not (isinstance(sym, Terminal) and sym.filter_out):
            keep.append((i, not sym.is_term and sym.name.startswith("_"), nones))
            nones = 0
    pass_through = bool(rule.options.expand1 and not rule.alias)
    if pass_through and any(splice for _, splice, _ in keep):
        raise ValueError(f"grammar rule {rule} passes through an inlined rule: not supported by parse_into")
    token_child = pass_through and len(keep) == 1 and expansion[keep[0][0]].is_term
    nones_after = nones + empty[len(expansion)]
    unit = pass_through and len(expansion) == 1 and keep == [(0, False, 0)] and not nones_after
    return (len(expansion), rule.origin.name, rule.alias or rule.options.template_source or rule.origin.name,
            tuple(keep), nones_after, rule.origin.name.startswith("_"), pass_through, token_child, unit)


def _lexers(parser: Lark, states: int) -> tuple[list[tuple[str, str]], list[Any], list[int], list[str]]:
    """(terminals as (name, pattern), distinct lexers, lexer index per state, ignored terminals).

    The last lexer is the root lexer of all terminals, which Lark tries where a state's lexer
    matches nothing (its token makes the error report "unexpected token" rather than "character")."""
    contextual = parser.parser.lexer
    ignore = sorted(parser.lexer_conf.ignore)
    ids = {t.name: i for i, t in enumerate(parser.terminals)}
    firsts: dict[int, FirstChars] = {}
    shared: dict[Any, Any] = {}  # equal buckets stored once (marshal writes a reference)
    distinct: dict[int, int] = {}
    lexers: list[Any] = []
    state_lexer: list[int] = []
    for state in range(states):
        basic: BasicLexer = contextual.lexers[state]
        if id(basic) not in distinct:
            distinct[id(basic)] = len(lexers)
            lexers.append(_lexer(basic, ids, firsts, shared, ignore))
        state_lexer.append(distinct[id(basic)])
    lexers.append(_lexer(contextual.root_lexer, ids, firsts, shared, ignore))
    terminals = [(t.name, t.pattern.to_regexp()) for t in parser.terminals]
    return terminals, lexers, state_lexer, ignore


def _lexer(basic: BasicLexer, ids: dict[str, int], firsts: dict[int, FirstChars], shared: dict[Any, Any],
           ignore: list[str]) -> tuple[Any, ...]:
    scanner = basic.scanner  # builds Lark's scanner: its terminal order and the keyword callbacks
    if sorted(basic.ignore_types) != ignore:
        raise ValueError("a state's lexer ignores other terminals than the grammar's %ignore")
    order = [ids[t.name] for t in scanner.terminals]
    for tid, terminal in zip(order, scanner.terminals, strict=True):
        if tid not in firsts:
            firsts[tid] = first_chars(terminal.pattern.to_regexp())
    retype: dict[str, dict[str, str]] = {}
    for name, callback in basic.callback.items():
        if not isinstance(callback, UnlessCallback):
            raise ValueError(f"terminal {name} has a lexer callback other than Lark's keyword check")
        words = callback.scanner.terminals
        if any(w.pattern.type != "str" or w.pattern.flags for w in words):
            raise ValueError(f"terminal {name} is retyped by a pattern, not a plain keyword")
        retype[name] = _shared(shared, {w.pattern.value: w.name for w in words})
    other = _shared(shared, tuple(tid for tid in order if firsts[tid].other))
    by_char = {}
    for ch in ASCII:
        candidates = tuple(tid for tid in order if ch in firsts[tid].ascii)
        if candidates != other:
            by_char[ch] = _shared(shared, candidates)
    return (by_char, other, retype)


def _shared(shared: dict[Any, Any], value: Any) -> Any:
    key = repr(value)
    return shared.setdefault(key, value)
