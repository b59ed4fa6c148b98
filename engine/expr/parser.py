"""Loading the Lark grammar and turning Lark's errors into located, readable syntax errors."""

from __future__ import annotations

import functools

from lark import Lark, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

_TOKEN_WORDS = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "RBRACE": "'}'", "LBRACE": "'{'",
    "SEMICOLON": "';'", "COMMA": "','", "COLON": "':'", "DOT": "'.'", "IDENT": "a name",
    "STRING": "a string", "INT": "a number", "QMARK": "'?'", "$END": "the end of the expression",
}


class ExprSyntaxError(Exception):
    """A syntax error at character `offset` of the parsed text."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@functools.cache
def grammar() -> Lark:
    """The LALR parser for expressions (`expression`) and statement blocks (`block`)."""
    return Lark.open_from_package(
        "grammar",
        "expression.lark",
        parser="lalr",
        start=["expression", "block"],
        propagate_positions=True,
        strict=True,
        maybe_placeholders=True,
    )


def _describe(token_type: str) -> str:
    if token_type in _TOKEN_WORDS:
        return _TOKEN_WORDS[token_type]
    if token_type.startswith("__ANON") or token_type.isupper() and len(token_type) > 12:
        return token_type.lower()
    return f"'{token_type.lower()}'" if token_type.isalpha() and token_type.islower() else token_type


def parse(text: str, start: str) -> Tree:
    """Parse `text` with start symbol `expression` or `block`; raise ExprSyntaxError."""
    try:
        return grammar().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None


def _syntax_error(text: str, exc: UnexpectedInput) -> ExprSyntaxError:
    if isinstance(exc, UnexpectedEOF):
        expected = sorted(_describe(t) for t in exc.expected)
        return ExprSyntaxError(
            "the expression ends too early", len(text.rstrip()), "expected one of: " + ", ".join(expected[:8])
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            offset = len(text.rstrip())
            found = "the end of the expression"
        else:
            offset = token.start_pos or 0
            found = repr(str(token))
        expected = sorted({_describe(t) for t in exc.accepts or exc.expected})
        hint = "expected one of: " + ", ".join(expected[:8]) if expected else None
        return ExprSyntaxError(f"unexpected {found}", offset, hint)
    if isinstance(exc, UnexpectedCharacters):
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        message = f"unexpected character {ch!r}"
        hint = None
        if ch == "{" and text.startswith("{{", exc.pos_in_stream):
            hint = "named values {{name}} must be defined so they can be substituted before parsing"
        elif ch in "\"'":
            message = "unterminated string or character literal"
        return ExprSyntaxError(message, exc.pos_in_stream, hint)
    return ExprSyntaxError(str(exc).splitlines()[0], getattr(exc, "pos_in_stream", 0) or 0)
