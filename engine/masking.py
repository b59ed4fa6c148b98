"""Find the `@(...)` / `@{...}` policy expressions in raw document text and mask them.

Real APIM documents put C# straight into XML: raw `"`, `<`, `&&` and generics such as
`As<JObject>()` inside attribute values and element text. Such documents are not well-formed
XML until each expression is replaced by a placeholder. The scanner here understands enough C#
to find where an expression ends: regular strings with `\\` escapes, verbatim `@"..."` strings
with `""`, interpolated `$"..{..}.."` strings (nested holes and `{{`/`}}`), char literals,
`//` and `/* */` comments and nested brackets. Entity references (`&quot;` ...) count as the
character they stand for, so escaped and raw documents scan alike.

The mask keeps the text length and every line break, so offsets and line numbers in the masked
text are those of the raw text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTITY = re.compile(r"&(?:(quot|apos|lt|gt|amp)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED_ENTITIES = {"quot": '"', "apos": "'", "lt": "<", "gt": ">", "amp": "&"}
# things outside expressions that the mask must step over, and expression starts
_TOP = re.compile(r"<!--|<!\[CDATA\[|<\?|@[({]")
_CLOSERS = {"(": ")", "{": "}", "[": "]"}
_INTERP = "I"  # stack marker: inside an interpolated string
_INTERP_VERBATIM = "V"  # inside an interpolated verbatim string
MASK_CHAR = "_"


@dataclass(frozen=True, slots=True)
class ExpressionSpan:
    """Raw offsets [start, end) of one expression, from the `@` to its closing bracket."""

    start: int
    end: int


@dataclass
class MaskResult:
    text: str  # same length as the raw text; expressions replaced by MASK_CHAR (line breaks kept)
    spans: list[ExpressionSpan]
    unterminated: list[int]  # offsets of `@(` / `@{` that never close


def decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """If an entity or character reference starts at `i`, return (character, end offset)."""
    match = _ENTITY.match(text, i)
    if match is None:
        return None
    name, dec, hexa = match.groups()
    if name:
        return _NAMED_ENTITIES[name], match.end()
    code = int(dec) if dec else int(hexa, 16)
    try:
        return chr(code), match.end()
    except (ValueError, OverflowError):
        return None


class _Reader:
    """Reads logical characters (entity references decoded) from raw text."""

    __slots__ = ("text", "n")

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)

    def char(self, i: int) -> tuple[str, int]:
        ch = self.text[i]
        if ch == "&":
            decoded = decode_entity(self.text, i)
            if decoded is not None:
                return decoded
        return ch, i + 1

    def peek(self, i: int) -> str:
        return self.char(i)[0] if i < self.n else ""


def scan_expression(text: str, start: int) -> int | None:
    """Return the end offset (exclusive) of the expression whose `@` is at `start`, or None."""
    reader = _Reader(text)
    n = reader.n
    stack = [_CLOSERS[text[start + 1]]]
    i = start + 2
    while i < n:
        top = stack[-1]
        ch, j = reader.char(i)
        if top in (_INTERP, _INTERP_VERBATIM):
            i = _step_interpolated(reader, stack, ch, j, verbatim=top == _INTERP_VERBATIM)
            continue
        if ch == '"':
            i = _skip_string(reader, j)
        elif ch == "@" and reader.peek(j) == '"':
            i = _skip_verbatim(reader, reader.char(j)[1])
        elif ch == "$" or (ch == "@" and reader.peek(j) == "$"):
            i = _open_interpolated(reader, stack, ch, i, j)
        elif ch == "'":
            i = _skip_char_literal(reader, j)
        elif ch == "/" and reader.peek(j) == "/":
            newline = text.find("\n", j)
            i = n if newline < 0 else newline
        elif ch == "/" and reader.peek(j) == "*":
            close = text.find("*/", j + 1)
            i = n if close < 0 else close + 2
        elif ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
            i = j
        elif ch in ")}]":
            stack.pop()
            if not stack:
                return j
            i = j
        else:
            i = j
    return None


def _open_interpolated(reader: _Reader, stack: list[str], ch: str, i: int, j: int) -> int:
    """At `$` or `@`: push an interpolated-string frame if one starts here."""
    follow, k = reader.char(j) if j < reader.n else ("", j)
    if ch == "$" and follow == '"':
        stack.append(_INTERP)
        return k
    if follow in ("@", "$") and k < reader.n and reader.peek(k) == '"':
        stack.append(_INTERP_VERBATIM)
        return reader.char(k)[1]
    return j


def _step_interpolated(reader: _Reader, stack: list[str], ch: str, j: int, *, verbatim: bool) -> int:
    if ch == '"':
        if verbatim and reader.peek(j) == '"':
            return reader.char(j)[1]
        stack.pop()
        return j
    if ch == "\\" and not verbatim:
        return reader.char(j)[1] if j < reader.n else j
    if ch == "{":
        if reader.peek(j) == "{":
            return reader.char(j)[1]
        stack.append("}")  # an interpolation hole: code until the matching brace
        return j
    if ch == "}" and reader.peek(j) == "}":
        return reader.char(j)[1]
    return j


def _skip_string(reader: _Reader, i: int) -> int:
    """Skip a regular string body starting after its opening quote."""
    while i < reader.n:
        ch, j = reader.char(i)
        if ch == "\\":
            i = reader.char(j)[1] if j < reader.n else j
        elif ch == '"':
            return j
        elif ch == "\n":  # C# strings cannot span lines: stop rather than run away
            return i
        else:
            i = j
    return i


def _skip_verbatim(reader: _Reader, i: int) -> int:
    while i < reader.n:
        ch, j = reader.char(i)
        if ch == '"':
            if reader.peek(j) == '"':
                i = reader.char(j)[1]
                continue
            return j
        i = j
    return i


def _skip_char_literal(reader: _Reader, i: int) -> int:
    """Skip `'c'` or `'\\n'`; a lone quote is treated as one character."""
    if i >= reader.n:
        return i
    ch, j = reader.char(i)
    if ch == "\\" and j < reader.n:
        j = reader.char(j)[1]
        # \u0041 style escapes: run to the closing quote (bounded)
        for _ in range(8):
            if j >= reader.n:
                return j
            c, k = reader.char(j)
            if c == "'":
                return k
            j = k
        return i
    if j < reader.n and reader.peek(j) == "'":
        return reader.char(j)[1]
    return i


def mask_expressions(text: str) -> MaskResult:
    """Locate every expression outside comments/CDATA/PIs and mask it (same length, same lines)."""
    spans: list[ExpressionSpan] = []
    unterminated: list[int] = []
    pos = 0
    n = len(text)
    while pos < n:
        match = _TOP.search(text, pos)
        if match is None:
            break
        token = match.group()
        start = match.start()
        if token == "<!--":
            close = text.find("-->", start + 4)
            pos = n if close < 0 else close + 3
        elif token == "<![CDATA[":
            close = text.find("]]>", start + 9)
            pos = n if close < 0 else close + 3
        elif token == "<?":
            close = text.find("?>", start + 2)
            pos = n if close < 0 else close + 2
        else:
            end = scan_expression(text, start)
            if end is None:
                unterminated.append(start)
                pos = start + 2
            else:
                spans.append(ExpressionSpan(start, end))
                pos = end
    if not spans:
        return MaskResult(text, spans, unterminated)
    parts: list[str] = []
    last = 0
    for span in spans:
        parts.append(text[last : span.start])
        parts.append(_blank(text[span.start : span.end]))
        last = span.end
    parts.append(text[last:])
    return MaskResult("".join(parts), spans, unterminated)


def _blank(segment: str) -> str:
    return "".join(c if c in "\r\n" else MASK_CHAR for c in segment)
