"""Loading the Lark grammar, running its LALR tables with a value builder, and turning Lark's errors
into located, readable syntax errors."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

import lark
from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule, Terminal
from lark.parsers.lalr_analysis import Shift


class ExprSyntaxError(Exception):
    """A syntax error at character `offset` of the parsed text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "start": ["expression", "block"],
    "propagate_positions": True,
    "strict": True,
    "maybe_placeholders": True,
}


@functools.cache
def grammar() -> Lark:
    """The LALR parser for expressions (`expression`) and statement blocks (`block`).

    Building it takes seconds (Lark checks every pair of terminals for collisions), so the built
    parser is kept in the user's cache directory, keyed by the grammar text, the options and the
    Lark version; a missing, stale or unreadable cache is rebuilt (and rewritten when possible).
    """
    text = files("engine").joinpath("grammar", "expression.lark").read_text(encoding="utf-8")
    key = hashlib.sha256(f"{text}\0{_OPTIONS!r}\0{lark.__version__}".encode()).hexdigest()[:24]
    cached = _cache_dir() / f"expression-{key}.lark"
    try:
        with cached.open("rb") as stream:
            return Lark.load(stream)
    except Exception:  # absent, partly written by another process, or from another Lark: rebuild
        pass
    parser = Lark(text, **_OPTIONS)
    _save(parser, cached)
    return parser


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "policygate"


def _save(parser: Lark, path: Path) -> None:
    """Write the built parser atomically into a private directory; silently skip when not writable."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as stream:
            parser.save(stream)
        os.replace(stream.name, path)
    except OSError:
        return


_FRIENDLY = {
    "IDENT": "a name", "GENERIC_NAME": "a generic name", "STRING": "a string", "VERBATIM_STRING": "a string",
    "INTERP_STRING": "a string", "INTERP_VERBATIM": "a string", "INT": "a number", "REAL": "a number",
    "CHAR": "a character", "CAST": "a cast", "LAMBDA_PARAMS": "lambda parameters", "$END": "the end",
    "ARRAY_SUFFIX": "'[]'", "NULLABLE_IDENT": "a type", "QUALIFIED_TYPE": "a type", "NULLABLE": "'?'",
}
_EXPRESSION_START = {"IDENT", "INT", "STRING", "LPAR"}


def _describe(token_type: str) -> str:
    """A readable name for a terminal: its literal text, or a word for pattern terminals."""
    if token_type in _FRIENDLY:
        return _FRIENDLY[token_type]
    try:
        pattern = grammar().get_terminal(token_type).pattern
    except KeyError:
        return token_type.lower()
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return token_type.lower()


def _expected(names: set[str]) -> str | None:
    if not names:
        return None
    if _EXPRESSION_START <= names:
        rest = sorted({_describe(n) for n in names if n in ("RPAR", "SEMICOLON", "RSQB", "RBRACE", "COMMA")})
        return "expected an expression" + (f" or {', '.join(rest)}" if rest else "")
    described = sorted({_describe(n) for n in names})
    return "expected " + (described[0] if len(described) == 1 else "one of: " + ", ".join(described[:10]))


def parse(text: str, start: str) -> Tree[Token]:
    """Parse `text` with start symbol `expression` or `block`; raise ExprSyntaxError."""
    try:
        return grammar().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None


def _syntax_error(text: str, exc: UnexpectedInput) -> ExprSyntaxError:
    if isinstance(exc, UnexpectedEOF):
        return ExprSyntaxError("the expression ends too early", len(text.rstrip()), _expected(set(exc.expected)))
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = set(exc.accepts or exc.expected)
        if token.type == "$END":
            return ExprSyntaxError("the expression ends too early", len(text.rstrip()), _expected(expected))
        offset = token.start_pos or 0
        if "SEMICOLON" in expected and token.type not in ("SEMICOLON",) and len(expected) > 1:
            return ExprSyntaxError(f"missing ';' before {str(token)!r}", offset, _expected(expected))
        return ExprSyntaxError(f"unexpected {str(token)!r}", offset, _expected(expected))
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = text[pos] if pos < len(text) else ""
        message = f"unexpected character {ch!r}"
        hint = None
        if ch == "{" and text.startswith("{{", pos):
            hint = "named values {{name}} must be defined so they can be substituted before parsing"
        elif ch in "\"'":
            message = "unterminated string or character literal"
        return ExprSyntaxError(message, pos, hint)
    return ExprSyntaxError(str(exc).splitlines()[0], getattr(exc, "pos_in_stream", 0) or 0)


# ---------------------------------------------------------------- parsing straight into values
#
# `parse` above builds a Lark tree (with `propagate_positions`), which a transformer then walks: two
# passes and a Tree + Meta per reduction, ~60% of the parse time. `parse_into` runs the same LALR
# tables and the same contextual lexer, but calls the builder's rule method at each reduction, with
# the span Lark's `propagate_positions` would have given the node: from the first to the last token
# of the rule, including the anonymous ones ("(", "new"), where a `?rule` that passes its only child
# through widens only the span its parent sees (as Lark's container positions do).

Span = tuple[int, int] | None  # None: the value covers no token (an empty `statement*`)


class ValueBuilder(Protocol):
    """Called at each reduction with the node's span (offsets into the parsed text) and children."""

    def reduce(self, name: str, span: Span, children: list[Any]) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Reduction:
    """What Lark's tree builder does for one grammar rule, precomputed from its options."""

    size: int                    # symbols popped
    origin: str                  # the nonterminal pushed
    name: str                    # the builder method: alias or rule name
    keep: tuple[tuple[int, bool, int], ...]  # (child index, splice an inlined `_rule`, Nones before it)
    nones_after: int             # placeholders for absent trailing `[optional]` parts
    inline: bool                 # `_rule` / `__x_star_n`: its children go into the parent
    pass_through: bool           # `?rule` without alias: one child is returned as is
    token_child: bool            # ... and that child is a token
    unit: bool                   # `?a: b`: value and span stay, only the state changes


def _reduction(rule: Rule, placeholders: bool) -> _Reduction:
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
    return _Reduction(len(expansion), rule.origin.name, rule.alias or rule.options.template_source
                      or rule.origin.name, tuple(keep), nones_after, rule.origin.name.startswith("_"),
                      pass_through, token_child, unit)


_Scanner = tuple[tuple["re.Pattern[str]", ...], frozenset[str], dict[str, Callable[[Token], Token]]]


@dataclass(frozen=True, slots=True)
class _Tables:
    states: dict[int, dict[str, tuple[bool, Any]]]  # state -> terminal/nonterminal -> (shift?, next)
    start_states: dict[str, int]
    end_states: dict[str, int]
    scanners: dict[int, _Scanner] = field(default_factory=dict)  # filled as states are met

    def scanner(self, state: int) -> _Scanner:
        """The patterns, ignored terminals and retyping callbacks of the state's Lark lexer."""
        lexer = grammar().parser.lexer.lexers[state]
        patterns = tuple(lexer.scanner._mres)  # building the scanner also fills lexer.callback
        found = self.scanners[state] = (patterns, lexer.ignore_types, dict(lexer.callback))
        return found


@functools.cache
def _tables() -> _Tables:
    """The parser's LALR table with each reduce action replaced by its `_Reduction`."""
    parser = grammar()
    table = parser.parser.parser.parser.parse_table
    plans: dict[int, _Reduction] = {}
    states: dict[int, dict[str, tuple[bool, Any]]] = {}
    for state, actions in table.states.items():
        row: dict[str, tuple[bool, Any]] = {}
        for symbol, (action, arg) in actions.items():
            if action is Shift:
                row[symbol] = (True, arg)
            else:
                plan = plans.get(id(arg))
                if plan is None:
                    plan = plans[id(arg)] = _reduction(arg, parser.options.maybe_placeholders)
                row[symbol] = (False, plan)
        states[state] = row
    return _Tables(states, dict(table.start_states), dict(table.end_states))


class _Stop(Exception):
    """The fast parse met input it does not handle; the caller falls back to `parse`."""


def parse_into(text: str, start: str, builder: ValueBuilder, base: int = 0) -> Any:
    """Parse `text` calling `builder.reduce` at each reduction; return the start symbol's value.

    Syntax errors are ExprSyntaxError exactly as from `parse`, with `base` added to the offset: on
    any syntax error the text is parsed again by Lark for its report (errors are rare; the report
    needs Lark's interactive parser). An exception of the builder is raised as is, unless the text
    has a syntax error, which then wins, as when the whole text was parsed before building.
    """
    try:
        return _drive(text, start, builder)
    except _Stop:
        _check(text, start, base)
        raise AssertionError("Lark accepted a text the LALR driver refused") from None
    except Exception:
        _check(text, start, base)
        raise


def _check(text: str, start: str, base: int) -> None:
    try:
        parse(text, start)
    except ExprSyntaxError as exc:
        raise ExprSyntaxError(exc.message, exc.offset + base, exc.hint) from None


def _drive(text: str, start: str, builder: ValueBuilder) -> Any:
    tables = _tables()
    states = tables.states
    stack = [tables.start_states[start]]
    values: list[Any] = []
    spans: list[Span] = []
    reduce = builder.reduce
    scanners = tables.scanners
    pos = 0
    size = len(text)
    while pos < size:  # the contextual lexer: each state matches only the terminals it accepts
        scanner = scanners.get(stack[-1]) or tables.scanner(stack[-1])
        patterns, ignore, retype = scanner
        for pattern in patterns:
            match = pattern.match(text, pos)
            if match:
                break
        else:
            raise _Stop
        kind = match.lastgroup or ""  # every alternative is a named group
        at = pos
        end = match.end()
        if kind in ignore:
            pos = end
            continue
        token = Token(kind, match.group(0), at, end_pos=end)
        if kind in retype:  # a keyword lexed by the name pattern, as Lark's "unless" callback does
            token = retype[kind](token)
        pos = end
        while True:
            action = states[stack[-1]].get(token.type)
            if action is None:
                raise _Stop
            if action[0]:
                stack.append(action[1])
                values.append(token)
                spans.append((at, end))
                break
            plan = action[1]
            if plan.unit:  # ~3 of every 4 reductions: the precedence chain
                stack[-1] = states[stack[-2]][plan.origin][1]
            else:
                _reduce(plan, stack, values, spans, states, reduce)
    end_state = tables.end_states[start]
    while True:
        action = states[stack[-1]].get("$END")
        if action is None or action[0]:
            raise _Stop
        _reduce(action[1], stack, values, spans, states, reduce)
        if stack[-1] == end_state:
            return values[-1]


def _reduce(plan: _Reduction, stack: list[int], values: list[Any], spans: list[Span],
            states: dict[int, dict[str, tuple[bool, Any]]], reduce: Callable[[str, Span, list[Any]], Any]) -> None:
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
            span = (value.start_pos or 0, value.end_pos or 0)
    else:
        value = reduce(plan.name, span, kept)
    stack.append(states[stack[-1]][plan.origin][1])
    values.append(value)
    spans.append(span)
