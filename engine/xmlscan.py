"""Exact source positions for a well-formed (masked) XML text: tags, attributes, values, text.

lxml reports no columns, normalises attribute values and gives the line where a start tag
*ends*. This module re-reads the text itself (after lxml has accepted it, so the structure is
known to be sound) and records raw offsets for every element, attribute name, attribute value
and text content. Values are decoded here too, with an offset per decoded character.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from engine.masking import ExpressionSpan, decode_entity

_MARKUP = re.compile(r"<!--|<!\[CDATA\[|<\?|<!|</|<")
_NAME = re.compile(r"[^\s/>=]+")
_ATTRIBUTE = re.compile(r"""\s*([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAG_CLOSE = re.compile(r"\s*(/?)>")
_END_TAG = re.compile(r"</([^\s>]+)\s*>")


@dataclass
class RawAttribute:
    name: str
    name_start: int
    value_start: int  # first character inside the quotes
    value_end: int


@dataclass
class RawElement:
    """One element as found in the text: offsets are into the raw (and masked) text."""

    tag: str
    start: int  # the `<`
    name_start: int
    name_end: int
    content_start: int  # just after the start tag's `>` (== end for `<x/>`)
    content_end: int = -1  # the `<` of the end tag (== content_start for `<x/>`)
    attributes: list[RawAttribute] = field(default_factory=list)
    children: list[RawElement] = field(default_factory=list)


def scan_elements(masked: str) -> RawElement | None:
    """Return the root element tree of a masked, well-formed document."""
    stack: list[RawElement] = []
    root: RawElement | None = None
    pos = 0
    n = len(masked)
    while pos < n:
        match = _MARKUP.search(masked, pos)
        if match is None:
            break
        token = match.group()
        start = match.start()
        if token == "<!--":
            pos = _after(masked, "-->", start + 4)
        elif token == "<![CDATA[":
            pos = _after(masked, "]]>", start + 9)
        elif token == "<?":
            pos = _after(masked, "?>", start + 2)
        elif token == "<!":
            pos = _after(masked, ">", start + 2)
        elif token == "</":
            end = _END_TAG.match(masked, start)
            pos = end.end() if end else start + 2
            if stack:
                stack.pop().content_end = start
        else:
            element, pos, closed = _start_tag(masked, start)
            if stack:
                stack[-1].children.append(element)
            elif root is None:
                root = element
            if not closed:
                stack.append(element)
    return root


def _after(text: str, needle: str, start: int) -> int:
    index = text.find(needle, start)
    return len(text) if index < 0 else index + len(needle)


def _start_tag(text: str, start: int) -> tuple[RawElement, int, bool]:
    name = _NAME.match(text, start + 1)
    name_end = name.end() if name else start + 1
    element = RawElement(text[start + 1 : name_end], start, start + 1, name_end, name_end)
    pos = name_end
    while True:
        close = _TAG_CLOSE.match(text, pos)
        if close is not None:
            element.content_start = close.end()
            if close.group(1):
                element.content_end = close.end()
                return element, close.end(), True
            return element, close.end(), False
        attribute = _ATTRIBUTE.match(text, pos)
        if attribute is None:  # cannot happen on well-formed text; stop safely
            element.content_start = element.content_end = pos
            return element, pos + 1, True
        group = 2 if attribute.group(2) is not None else 3
        element.attributes.append(
            RawAttribute(attribute.group(1), attribute.start(1), attribute.start(group), attribute.end(group))
        )
        pos = attribute.end()


class ValueDecoder:
    """Decodes raw attribute values and text content into (text, per-character raw offsets)."""

    def __init__(self, raw: str, spans: list[ExpressionSpan]) -> None:
        self.raw = raw
        self.spans = spans
        self._starts = [s.start for s in spans]

    def _expression_end(self, i: int) -> int:
        """If raw offset `i` starts or lies inside a masked expression, return its end, else -1."""
        k = bisect.bisect_right(self._starts, i) - 1
        if k >= 0 and self.spans[k].start <= i < self.spans[k].end:
            return self.spans[k].end
        return -1

    def attribute(self, start: int, end: int) -> tuple[str, list[int]]:
        """XML attribute-value normalisation (entities, whitespace -> space) outside expressions."""
        raw = self.raw
        chars: list[str] = []
        offsets: list[int] = []
        i = start
        while i < end:
            expression_end = self._expression_end(i)
            if expression_end > 0:
                self._decode_code(i, min(expression_end, end), chars, offsets)
                i = min(expression_end, end)
                continue
            ch = raw[i]
            if ch == "&":
                decoded = decode_entity(raw, i)
                if decoded is not None:
                    chars.append(decoded[0])
                    offsets.append(i)
                    i = decoded[1]
                    continue
            if ch == "\r" and i + 1 < end and raw[i + 1] == "\n":
                i += 1
                ch = "\n"
            chars.append(" " if ch in "\t\n\r" else ch)
            offsets.append(i)
            i += 1
        offsets.append(end)
        return "".join(chars), offsets

    def content(self, start: int, end: int) -> tuple[str, list[int]]:
        """Element text: entities decoded, CDATA kept literally, comments and PIs dropped."""
        raw = self.raw
        chars: list[str] = []
        offsets: list[int] = []
        i = start
        while i < end:
            expression_end = self._expression_end(i)
            if expression_end > 0:
                self._decode_code(i, min(expression_end, end), chars, offsets)
                i = min(expression_end, end)
                continue
            ch = raw[i]
            if ch == "<":
                if raw.startswith("<![CDATA[", i):
                    close = raw.find("]]>", i + 9)
                    close = end if close < 0 else close
                    for k in range(i + 9, close):
                        if raw[k] == "\r" and k + 1 < close and raw[k + 1] == "\n":
                            continue
                        chars.append("\n" if raw[k] == "\r" else raw[k])
                        offsets.append(k)
                    i = close + 3
                    continue
                if raw.startswith("<!--", i):
                    i = _after(raw, "-->", i + 4)
                    continue
                if raw.startswith("<?", i):
                    i = _after(raw, "?>", i + 2)
                    continue
            if ch == "&":
                decoded = decode_entity(raw, i)
                if decoded is not None:
                    chars.append(decoded[0])
                    offsets.append(i)
                    i = decoded[1]
                    continue
            if ch == "\r":
                if i + 1 < end and raw[i + 1] == "\n":
                    i += 1
                ch = "\n"
            chars.append(ch)
            offsets.append(i)
            i += 1
        offsets.append(end)
        return "".join(chars), offsets

    def _decode_code(self, start: int, end: int, chars: list[str], offsets: list[int]) -> None:
        """Expression text: entities decoded, line breaks kept (CRLF -> LF)."""
        raw = self.raw
        i = start
        while i < end:
            ch = raw[i]
            if ch == "&":
                decoded = decode_entity(raw, i)
                if decoded is not None:
                    chars.append(decoded[0])
                    offsets.append(i)
                    i = decoded[1]
                    continue
            if ch == "\r":
                if i + 1 < end and raw[i + 1] == "\n":
                    i += 1
                ch = "\n"
            chars.append(ch)
            offsets.append(i)
            i += 1
