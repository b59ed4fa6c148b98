"""Where an element of a parsed XML document starts in its text: line and column of its start tag's
name (of an attribute's name when one is asked for), for XML schema errors.

libxml2 reports a validation error with a line (the line where the start tag ends) and the path
of the element, never a column. `ElementPositions` finds the column by reading the text once,
start tag by start tag in document order (an element's place in it is counted by XPath). Only
invalid documents pay for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

# comments, CDATA, processing instructions, declarations and end tags are skipped; a start tag's name is
# group 1, its attributes (quoted values may hold `>`) group 2
_MARKUP = re.compile(
    r"<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>|![^>]*>|/[^>]*>"
    r"|([^\s/>!?][^\s/>]*)((?:[^>\"']+|\"[^\"]*\"|'[^']*')*)>)",
    re.S,
)
_STEP = re.compile(r"(?:(?:[^:\[\]/]+:)?([^:\[\]/]+))(?:\[(\d+)\])?")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based, in characters


class ElementPositions:
    """The start positions of the elements of one document (`root` parsed from `text`)."""

    def __init__(self, root: etree._Element, text: bytes) -> None:
        self.root = root
        self.text = text.decode("utf-8", "replace")
        self._tags: list[tuple[int, int, str]] = []  # (offset of the name, end of the tag, attributes), read so far
        self._scan = _MARKUP.finditer(self.text)

    def of(self, element: etree._Element, attribute: str = "") -> Position | None:
        """Where `element` (or its attribute named `attribute`, local name) starts; None when unknown."""
        index = int(element.xpath("count(preceding::*) + count(ancestor::*)"))  # its place in document order
        tag = self._start_tag(index)
        if tag is None:
            return None
        offset, end, attributes = tag
        if attribute:
            found = re.search(rf"(?:^|\s)((?:[^\s=:]+:)?{re.escape(attribute)})\s*=", attributes)
            if found:
                offset = end - len(attributes) - 1 + found.start(1)
        line = self.text.count("\n", 0, offset) + 1
        return Position(line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1)

    def _start_tag(self, index: int) -> tuple[int, int, str] | None:
        """The `index`-th start tag (0-based), reading the text only as far as needed."""
        while len(self._tags) <= index:
            match = next(self._scan, None)
            if match is None:
                return None
            if match[1]:
                self._tags.append((match.start(1), match.end(), match[2]))
        return self._tags[index]


def element_at(root: etree._Element, path: str) -> etree._Element | None:
    """The element libxml2's node path (`/*/*[2]`, `/t:a/t:b[3]`) names, from `root` (the path's first step)."""
    steps = [s for s in path.split("/") if s]
    if not steps:
        return None
    current: etree._Element | None = root
    for depth, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        if match is None or current is None:
            return None
        name, index = match[1], int(match[2] or 1)
        if depth == 0:
            continue  # the validation root itself
        # `*[n]` counts every child element (unprefixed namespaced names); `name[n]` those of that local name
        found = current.xpath(f"*[{index}]" if name == "*" else f"*[local-name() = $name][{index}]", name=name)
        current = found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None
    return current
