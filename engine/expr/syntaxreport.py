"""The report of a syntax error, from the parser's own tables (`engine.expr.lalr`), without Lark.

`first_error` runs the parse again on states alone and stops where Lark's LALR parser with its
contextual lexer would raise, with what Lark would know there:

- no terminal of the state's lexer matches: Lark's root lexer (all terminals) is tried at the same
  place; a token it finds is "unexpected" with the terminals the parser state accepts (Lark's
  `UnexpectedToken.accepts`), else the character itself is;
- the parser has no action for a token (after the reductions it made for it), or for the end: the
  token is unexpected, with the terminals accepted in the state reached.

"Accepted" is Lark's `InteractiveParser.accepts`: a terminal of the state that can be shifted after
the reductions it causes (`$END`: that reaches the end state). The texts of the report are made
here, for this path and for Lark's own exceptions (`engine.expr.larkgrammar`, the tree parse used by
tests and tools): tests/expr/test_syntax_report.py checks that both give the same report.
"""

from __future__ import annotations

from engine.expr.lalr import Lexer, Tables, tables
from engine.expr.parser import ExprSyntaxError

_FRIENDLY = {
    "IDENT": "a name", "GENERIC_NAME": "a generic name", "STRING": "a string", "VERBATIM_STRING": "a string",
    "INTERP_STRING": "a string", "INTERP_VERBATIM": "a string", "INT": "a number", "REAL": "a number",
    "CHAR": "a character", "CAST": "a cast", "LAMBDA_PARAMS": "lambda parameters", "$END": "the end",
    "ARRAY_SUFFIX": "'[]'", "NULLABLE_IDENT": "a type", "QUALIFIED_TYPE": "a type", "NULLABLE": "'?'",
}
_EXPRESSION_START = {"IDENT", "INT", "STRING", "LPAR"}
_CLOSERS = ("RPAR", "SEMICOLON", "RSQB", "RBRACE", "COMMA")


def _describe(terminal: str) -> str:
    """A readable name for a terminal: its literal text, or a word for pattern terminals."""
    if terminal in _FRIENDLY:
        return _FRIENDLY[terminal]
    literal = tables().literals.get(terminal)
    return f"'{literal}'" if literal is not None else terminal.lower()


def _expected(names: set[str]) -> str | None:
    if not names:
        return None
    if _EXPRESSION_START <= names:
        rest = sorted({_describe(n) for n in names if n in _CLOSERS})
        return "expected an expression" + (f" or {', '.join(rest)}" if rest else "")
    described = sorted({_describe(n) for n in names})
    return "expected " + (described[0] if len(described) == 1 else "one of: " + ", ".join(described[:10]))


def ends_early(text: str, expected: set[str]) -> ExprSyntaxError:
    """The text ends where more was needed."""
    return ExprSyntaxError("the expression ends too early", len(text.rstrip()), _expected(expected))


def unexpected_token(text: str, kind: str, value: str, offset: int, expected: set[str]) -> ExprSyntaxError:
    """Token `value` of terminal `kind` at `offset` cannot come next."""
    if kind == "$END":
        return ends_early(text, expected)
    if "SEMICOLON" in expected and kind != "SEMICOLON" and len(expected) > 1:
        return ExprSyntaxError(f"missing ';' before {value!r}", offset, _expected(expected))
    return ExprSyntaxError(f"unexpected {value!r}", offset, _expected(expected))


def unexpected_character(text: str, pos: int) -> ExprSyntaxError:
    """No terminal at all starts at `pos`."""
    ch = text[pos] if pos < len(text) else ""
    message = f"unexpected character {ch!r}"
    hint = None
    if ch == "{" and text.startswith("{{", pos):
        hint = "named values {{name}} must be defined so they can be substituted before parsing"
    elif ch in "\"'":
        message = "unterminated string or character literal"
    return ExprSyntaxError(message, pos, hint)


# ---------------------------------------------------------------- the parse on states alone


def _lex(found: Tables, lexer: Lexer, text: str, pos: int) -> tuple[str, str, int] | None:
    """(terminal, text, end) of the token `lexer` finds at `pos`, keywords retyped, or None."""
    for terminal in lexer.by_char.get(text[pos], lexer.other):
        match = found.matchers[terminal](text, pos)
        if match:
            kind = found.terminals[terminal]
            value = match.group()
            if kind in lexer.retype:
                kind = lexer.retype[kind].get(value, kind)
            return kind, value, match.end()
    return None


def _feed(found: Tables, stack: list[int], kind: str, end_state: int) -> bool:
    """Lark's `ParserState.feed_token` on states: the reductions `kind` causes, then its shift (or,
    for `$END`, reaching `end_state`). False, leaving `stack` where it failed: no action for it."""
    actions = found.actions
    while True:
        action = actions[stack[-1]].get(kind)
        if action is None:
            return False
        if action >= 0:
            stack.append(action)
            return True
        plan = found.reductions[~action]
        if plan.size:
            del stack[-plan.size:]
        stack.append(actions[stack[-1]][plan.origin])
        if kind == "$END" and stack[-1] == end_state:
            return True


def _accepts(found: Tables, stack: list[int], end_state: int) -> set[str]:
    """Lark's `InteractiveParser.accepts`: the state's terminals that the parser can take next."""
    return {kind for kind in found.actions[stack[-1]] if kind.isupper() and _feed(found, stack[:], kind, end_state)}


def _expected_at(found: Tables, stack: list[int], end_state: int, otherwise: set[str] | None = None) -> set[str]:
    """What Lark's handler reads: `exc.accepts or exc.expected` (default: the state's terminals)."""
    return _accepts(found, stack, end_state) or (
        otherwise if otherwise is not None else {kind for kind in found.actions[stack[-1]] if kind.isupper()})


def _allowed(found: Tables, lexer: Lexer) -> set[str]:
    """Lark's `UnexpectedCharacters.allowed`: the terminals of a state's lexer, whitespace aside."""
    ids = {*lexer.other, *(t for candidates in lexer.by_char.values() for t in candidates)}
    return {found.terminals[t] for t in ids} - found.ignore or {"<END-OF-FILE>"}


def first_error(text: str, start: str) -> ExprSyntaxError | None:
    """The report of the first syntax error of `text` (start symbol `expression` or `block`), or
    None when it parses."""
    found = tables()
    end_state = found.end_states[start]
    stack = [found.start_states[start]]
    pos = 0
    while pos < len(text):
        lexer = found.lexers[stack[-1]]
        token = _lex(found, lexer, text, pos)
        if token is None:
            token = _lex(found, found.root_lexer, text, pos)
            if token is None:
                return unexpected_character(text, pos)
            kind, value, _ = token
            return unexpected_token(text, kind, value, pos, _expected_at(found, stack, end_state,
                                                                         _allowed(found, lexer)))
        kind, value, end = token
        if kind not in found.ignore and not _feed(found, stack, kind, end_state):
            return unexpected_token(text, kind, value, pos, _expected_at(found, stack, end_state))
        pos = end
    if _feed(found, stack, "$END", end_state):
        return None
    return ends_early(text, _expected_at(found, stack, end_state))
