"""Parsing expression text straight into values: an LALR driver with a contextual lexer, running on
the parser's own tables (`engine.expr.lalr`). A text with a syntax error is parsed again on the
tables alone for its located, readable report (`engine.expr.syntaxreport`: what Lark would report)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from engine.expr.lalr import Reduction, tables

if TYPE_CHECKING:
    from lark import Token as LarkToken
    from lark import Tree


class ExprSyntaxError(Exception):
    """A syntax error at character `offset` of the parsed text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


class Token(str):
    """A lexed terminal: its text, its terminal name and its offsets in the parsed text."""

    __slots__ = ("type", "start_pos", "end_pos")
    type: str
    start_pos: int
    end_pos: int

    def __new__(cls, kind: str, text: str, start: int, end: int) -> Token:
        token = super().__new__(cls, text)
        token.type = kind
        token.start_pos = start
        token.end_pos = end
        return token

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {str(self)!r}, {self.start_pos})"


def parse(text: str, start: str) -> Tree[LarkToken]:
    """Lark's tree of `text` (start symbol `expression` or `block`); raise ExprSyntaxError. For tests
    and tools: it imports Lark."""
    from engine.expr.larkgrammar import parse as lark_parse
    return lark_parse(text, start)


# `parse_into` calls the builder's rule method at each reduction, with the span Lark's
# `propagate_positions` would have given the node: from the first to the last token of the rule,
# including the anonymous ones ("(", "new"), where a `?rule` that passes its only child through
# widens only the span its parent sees (as Lark's container positions do).

Span = tuple[int, int] | None  # None: the value covers no token (an empty `statement*`)


class ValueBuilder(Protocol):
    """Called at each reduction with the node's span (offsets into the parsed text) and children."""

    def reduce(self, name: str, span: Span, children: list[Any]) -> Any: ...


class _Stop(Exception):
    """The fast parse met input it does not handle; the caller falls back to `parse`."""


def parse_into(text: str, start: str, builder: ValueBuilder, base: int = 0) -> Any:
    """Parse `text` calling `builder.reduce` at each reduction; return the start symbol's value.

    Syntax errors are ExprSyntaxError exactly as from `parse`, with `base` added to the offset: on
    any syntax error the text is parsed again, on states alone, for its report (errors are rare).
    An exception of the builder is raised as is, unless the text has a syntax error, which then
    wins, as when the whole text was parsed before building.
    """
    try:
        return _drive(text, start, builder)
    except _Stop:
        _check(text, start, base)
        raise AssertionError("the error report accepted a text the LALR driver refused") from None
    except Exception:
        _check(text, start, base)
        raise


def _check(text: str, start: str, base: int) -> None:
    from engine.expr.syntaxreport import first_error

    error = first_error(text, start)
    if error is not None:
        raise ExprSyntaxError(error.message, error.offset + base, error.hint) from None


def _drive(text: str, start: str, builder: ValueBuilder) -> Any:
    found = tables()
    actions = found.actions
    reductions = found.reductions
    lexers = found.lexers
    terminals = found.terminals
    matchers = found.matchers
    ignore = found.ignore
    stack = [found.start_states[start]]
    values: list[Any] = []
    spans: list[Span] = []
    reduce = builder.reduce
    pos = 0
    size = len(text)
    while pos < size:  # the contextual lexer: each state matches only the terminals it accepts
        lexer = lexers[stack[-1]]
        for terminal in lexer.by_char.get(text[pos], lexer.other):
            match = matchers[terminal](text, pos)
            if match:
                break
        else:
            raise _Stop
        kind = terminals[terminal]
        at = pos
        pos = match.end()
        if kind in ignore:
            continue
        value = match.group()
        if kind in lexer.retype:  # a keyword lexed by the name pattern, as Lark's "unless" callback does
            kind = lexer.retype[kind].get(value, kind)
        token = Token(kind, value, at, pos)
        while True:
            action = actions[stack[-1]].get(kind)
            if action is None:
                raise _Stop
            if action >= 0:
                stack.append(action)
                values.append(token)
                spans.append((at, pos))
                break
            plan = reductions[~action]
            if plan.unit:  # ~3 of every 4 reductions: the precedence chain
                stack[-1] = actions[stack[-2]][plan.origin]
            else:
                _reduce(plan, stack, values, spans, actions, reduce)
    end_state = found.end_states[start]
    while True:
        action = actions[stack[-1]].get("$END")
        if action is None or action >= 0:
            raise _Stop
        _reduce(reductions[~action], stack, values, spans, actions, reduce)
        if stack[-1] == end_state:
            return values[-1]


def _reduce(plan: Reduction, stack: list[int], values: list[Any], spans: list[Span],
            actions: tuple[dict[str, int], ...], reduce: Callable[[str, Span, list[Any]], Any]) -> None:
    size = plan.size
    if size:
        children = values[-size:]
        child_spans = spans[-size:]
        del stack[-size:]
        del values[-size:]
        del spans[-size:]
        span: Span = None
        for first in child_spans:
            if first is not None:
                for last in reversed(child_spans):
                    if last is not None:
                        span = (first[0], last[1])
                        break
                break
    else:
        children = []
        span = None
    kept: list[Any] = []
    for i, splice, nones in plan.keep:
        if nones:
            kept.extend([None] * nones)
        if splice:
            kept.extend(children[i])
        else:
            kept.append(children[i])
    if plan.nones_after:
        kept.extend([None] * plan.nones_after)
    if plan.inline:
        value: Any = kept
    elif plan.pass_through and len(kept) == 1:
        value = kept[0]
        if plan.token_child:  # Lark gives a passed-through token no container span
            span = (value.start_pos, value.end_pos)
    else:
        value = reduce(plan.name, span, kept)
    stack.append(actions[stack[-1]][plan.origin])
    values.append(value)
    spans.append(span)
