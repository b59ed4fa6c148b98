"""The parsed document model: policy elements with exact source positions.

The loader (`engine.document`) produces these; the schema validator, the linter and the
gateway's builder consume them. Nothing here knows about individual policies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from engine.source import SourceFile, Span

SECTION_NAMES = ("inbound", "backend", "outbound", "on-error")
SCOPE_NAMES = ("global", "workspace", "product", "api", "operation")


@dataclass
class ValueText:
    """An attribute value or element text after entity decoding and named-value substitution.

    `offsets[i]` is the raw-file offset of `text[i]` (one extra entry for the end), so a
    position inside an expression maps back to the exact line and column in the file.
    """

    text: str
    span: Span
    source: SourceFile
    offsets: list[int] | None = None

    @property
    def is_expression(self) -> bool:
        stripped = self.text.strip()
        return stripped.startswith("@(") or stripped.startswith("@{")

    def file_offset(self, index: int) -> int:
        if self.offsets:
            index = max(0, min(index, len(self.offsets) - 1))
            return self.offsets[index]
        return self.source.offset(self.span.line, self.span.col) + index

    def locate(self, index: int) -> tuple[int, int]:
        """(line, col) in the file of character `index` of `text`."""
        return self.source.position(self.file_offset(index))

    def span_of(self, start: int, end: int) -> Span:
        """Span in the file of `text[start:end]`."""
        return self.source.span(self.file_offset(start), self.file_offset(max(end, start + 1) - 1) + 1)


@dataclass
class PolicyElement:
    """One XML element of a policy document (a policy, a section, or a policy's child)."""

    tag: str
    span: Span  # the tag name in the start tag
    source: SourceFile
    attributes: dict[str, ValueText] = field(default_factory=dict)
    attribute_spans: dict[str, Span] = field(default_factory=dict)  # the attribute *names*
    children: list[PolicyElement] = field(default_factory=list)
    text: ValueText | None = None  # text content when the element has no child elements
    section: str = ""  # inbound | backend | outbound | on-error, filled by the loader
    scope: str = ""  # global | product | api | operation, filled by composition
    path: str = ""  # APIM LastError.Path style, e.g. "choose[1]/when[2]"

    def get(self, name: str) -> ValueText | None:
        return self.attributes.get(name)

    def child(self, tag: str) -> PolicyElement | None:
        return next((c for c in self.children if c.tag == tag), None)

    def children_named(self, tag: str) -> list[PolicyElement]:
        return [c for c in self.children if c.tag == tag]

    @property
    def policy_id(self) -> str:
        value = self.attributes.get("id")
        return value.text if value is not None else ""


@dataclass
class PolicyDocument:
    """A `<policies>` document (sections), a `<fragment>` document (a list of policies), or a
    "snippet": a file whose root is a single policy element (`policies()` returns just it)."""

    kind: Literal["policies", "fragment", "snippet"]
    source: SourceFile
    root: PolicyElement
    sections: dict[str, PolicyElement] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.source.path

    def policies(self, section: str) -> list[PolicyElement]:
        """The policy elements of a section (for a fragment: its body, whatever `section` is)."""
        if self.kind == "fragment":
            return self.root.children
        if self.kind == "snippet":
            return [self.root]
        element = self.sections.get(section)
        return element.children if element is not None else []
