"""Where an element of a parsed XML document starts in its text: line and column of its start tag's
name (of an attribute's name when one is asked for), for XML schema errors.

libxml2 reports a validation error with a line (the line where the start tag ends) and the path
of the element, never a column. `ElementPositions` finds the column by reading the text once,
start tag by start tag in document order, which is the order of `root.iter()`. Only invalid
documents pay for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

# comments, CDATA, processing instructions, declarations and end tags are skipped; a start tag's name is
# group 1, its attributes (quoted values may hold `>`) group 2
_MARKUP = re.compile(
    r"<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>|![^>]*>|/[^>]*>"
    r"|([^\s/>!?][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>)",
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
        self._tags: list[tuple[int, int, str]] | None = None  # (offset of the name, end of the tag, attributes)

    def of(self, element: etree._Element, attribute: str = "") -> Position | None:
        """Where `element` (or its attribute named `attribute`, local name) starts; None when unknown."""
        tags = self._start_tags()
        index = next((i for i, e in enumerate(self.root.iter(etree.Element)) if e is element), None)
        if index is None or index >= len(tags):
            return None
        offset, end, attributes = tags[index]
        if attribute:
            found = re.search(rf"(?:^|\s)((?:[^\s=:]+:)?{re.escape(attribute)})\s*=", attributes)
            if found:
                offset = end - len(attributes) - 1 + found.start(1)
        line = self.text.count("\n", 0, offset) + 1
        return Position(line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1)

    def _start_tags(self) -> list[tuple[int, int, str]]:
        if self._tags is None:
            self._tags = [(m.start(1), m.end(), m[2]) for m in _MARKUP.finditer(self.text) if m[1]]
        return self._tags


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
        children = [c for c in current.iterchildren(etree.Element)
                    if name == "*" or etree.QName(c).localname == name]
        current = children[index - 1] if 0 < index <= len(children) else None
    return current
