"""The Lark parser of the expression grammar: it builds the parser's tables (`engine.expr.lalrbuild`)
and parses a text again when it has a syntax error, for Lark's located report made readable here.

Imported only when needed: the fast path (`engine.expr.parser.parse_into`) runs on the tables alone.
"""

from __future__ import annotations

import functools

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from engine.expr.grammarcache import OPTIONS, cache_path, grammar_text, write_atomic
from engine.expr.parser import ExprSyntaxError


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
