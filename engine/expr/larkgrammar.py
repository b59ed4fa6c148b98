"""The Lark parser of the expression grammar: it builds the parser's tables (`engine.expr.lalrbuild`)
and gives Lark's own tree of a text (tests and tools), its syntax errors reported as
`engine.expr.syntaxreport` reports them from the tables.

Imported only when needed: parsing (`engine.expr.parser.parse_into`) and its error reports run on
the tables alone.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from engine.expr.grammarcache import OPTIONS, cache_path, grammar_text, write_atomic
from engine.expr.parser import ExprSyntaxError
from engine.expr.syntaxreport import ends_early, unexpected_character, unexpected_token


@functools.cache
def grammar() -> Lark:
    """The LALR parser for expressions (`expression`) and statement blocks (`block`).

    Building it takes seconds (Lark checks every pair of terminals for collisions), so the built
    parser is kept in the cache directory (`engine.expr.grammarcache`); a missing, stale or
    unreadable cache is rebuilt (and rewritten when possible).
    """
    cached = cache_path("lark", "lark")
    try:
        with cached.open("rb") as stream:
            return Lark.load(stream)
    except Exception:  # absent, partly written by another process, or from another Lark: rebuild
        pass
    parser = Lark(grammar_text(), **OPTIONS)
    write_atomic(cached, parser.save)
    return parser


def parse(text: str, start: str) -> Tree[Token]:
    """Parse `text` with start symbol `expression` or `block`; raise ExprSyntaxError."""
    try:
        return grammar().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None


def _syntax_error(text: str, exc: UnexpectedInput) -> ExprSyntaxError:
    """Lark's exception as the report `engine.expr.syntaxreport` makes from the tables alone."""
    if isinstance(exc, UnexpectedEOF):
        return ends_early(text, set(exc.expected))
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        return unexpected_token(text, token.type, str(token), token.start_pos or 0, set(exc.accepts or exc.expected))
    if isinstance(exc, UnexpectedCharacters):
        return unexpected_character(text, exc.pos_in_stream or 0)
    return ExprSyntaxError(str(exc).splitlines()[0], getattr(exc, "pos_in_stream", 0) or 0)
