"""Load a policy document: mask expressions, parse with lxml, build elements with exact spans.

`load_document` is the one entry point used by lint and the gateway. It never raises for bad
input: every problem becomes a diagnostic (`xml-syntax`, `expr-unterminated`, `document-*`,
`named-value-unknown`) and the function returns None when no usable document remains.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path

from lxml import etree

from engine.compose import BASE, INCLUDE_FRAGMENT
from engine.diagnostics import Diagnostics
from engine.masking import mask_expressions
from engine.model import SECTION_NAMES, PolicyDocument, PolicyElement, ValueText
from engine.named_values import NamedValues, substitute
from engine.registry import PolicyRegistry, default_registry
from engine.source import SourceFile, Span
from engine.xmlscan import RawElement, ValueDecoder, scan_elements

MAX_DOCUMENT_CHARS = 4 * 1024 * 1024  # APIM caps a policy document far below this
_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.DOTALL)
_DOCTYPE = re.compile(r"\s*<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>?", re.IGNORECASE | re.DOTALL)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")


def load_document(
    source: str | Path,
    *,
    text: str | None = None,
    named_values: Mapping[str, str] | None = None,
    registry: PolicyRegistry | None = None,
    diagnostics: Diagnostics,
) -> PolicyDocument | None:
    """Load one `<policies>`, `<fragment>` or single-policy ("snippet") document.

    Args:
        source: the file path (read unless `text` is given); used as the file name in spans.
        text: the document text, when it is not read from `source`.
        named_values: values for `{{name}}` references; an unknown name is then an error
            (`named-value-unknown`). With None, references are kept as written.
        registry: decides which root elements are single-policy snippets (default registry).
        diagnostics: receives every problem found.

    Returns the document, or None when it is not well-formed or has no usable root.
    """
    path = str(source)
    if text is None:
        text = _read(path, diagnostics)
        if text is None:
            return None
    source_file = SourceFile(path, text)
    if len(text) > MAX_DOCUMENT_CHARS:
        diagnostics.error(
            "document-too-large",
            f"document is {len(text)} characters; the limit is {MAX_DOCUMENT_CHARS}",
            Span.point(path, 1, 1),
        )
        return None
    doctype = _prolog_doctype(text)
    if doctype is not None:
        diagnostics.error(
            "xml-doctype",
            "DOCTYPE declarations are not allowed in policy documents",
            source_file.span(doctype.end() - len(doctype.group().lstrip()), doctype.end()),
        )
        return None
    masked = mask_expressions(text)
    for start in masked.unterminated:
        diagnostics.error(
            "expr-unterminated",
            f"expression '{text[start : start + 2]}' is never closed",
            source_file.span(start, start + 2),
            hint="check the brackets and string quotes of this expression",
        )
    if not _well_formed(masked.text, source_file, diagnostics, after=min(masked.unterminated, default=None)):
        return None
    raw_root = scan_elements(masked.text)
    if raw_root is None:
        diagnostics.error("xml-syntax", "the document has no root element", Span.point(path, 1, 1))
        return None
    registry = registry if registry is not None else default_registry()
    builder = _ElementBuilder(
        source_file,
        ValueDecoder(text, masked.spans),
        NamedValues(named_values) if named_values is not None else None,
        registry,
        diagnostics,
    )
    return _document(builder.build(raw_root), source_file, registry, diagnostics)


def _prolog_doctype(text: str) -> re.Match[str] | None:
    """A DOCTYPE declaration before the root element (one inside CDATA or a comment is just text)."""
    pos = 0
    while (item := _PROLOG_ITEM.match(text, pos)) is not None and item.end() > pos:
        pos = item.end()
    return _DOCTYPE.match(text, pos)


def _read(path: str, diagnostics: Diagnostics) -> str | None:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        diagnostics.error("document-read", f"cannot read file: {exc.strerror or exc}", Span.point(path, 1, 1))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        diagnostics.error(
            "document-read",
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            Span.point(path, line, col),
            hint="save the file as UTF-8",
        )
        return None


def _parser() -> etree.XMLParser:
    # hardened: no DTD loading, no entity expansion, no network, default size limits
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _well_formed(masked: str, source: SourceFile, diagnostics: Diagnostics, *, after: int | None) -> bool:
    """Parse with lxml; report the first error unless it follows an unterminated expression
    (offset `after`), which is then the real cause and already reported."""
    # the XML declaration may name an encoding; we hand lxml UTF-8 bytes, so blank it out
    declaration = _XML_DECLARATION.match(masked)
    if declaration is not None:
        masked = " " * declaration.end() + masked[declaration.end() :]
    parser = _parser()
    try:
        etree.fromstring(masked.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        # the parser's own log: the exception's log can carry entries of earlier parses
        log = list(parser.error_log)
        entries = [e for e in log if e.level >= etree.ErrorLevels.ERROR] or log
        entry = entries[0] if entries else None
        line = entry.line if entry is not None and entry.line > 0 else (exc.lineno or 1)
        col = entry.column if entry is not None and entry.column > 0 else (exc.offset or 1)
        message = entry.message if entry is not None else str(exc)
        line = max(1, min(line, source.text.count("\n") + 1))
        if after is not None and source.offset(line, max(1, col)) >= after:
            return False
        diagnostics.error("xml-syntax", _xml_message(message), Span.point(source.path, line, max(1, col)))
        return False
    return True


_FRIENDLIER = {
    "Extra content at the end of the document": (
        "more than one root element (a document has one <policies>, <fragment> or policy root)"
    ),
    "AttValue: \" or ' expected": "attribute value must be in quotes",
    "attributes construct error": "malformed attribute (does a quote inside the value end it early?)",
}


def _xml_message(message: str) -> str:
    message = message.strip()
    if message.startswith("Excessive depth in document"):
        return "elements are nested too deeply (the limit is 256 levels)"
    return _FRIENDLIER.get(message, message.rstrip(".")) or "malformed XML"


class _ElementBuilder:
    """Turns RawElements into PolicyElements: spans, decoded values, named values."""

    def __init__(
        self,
        source: SourceFile,
        decoder: ValueDecoder,
        named_values: NamedValues | None,
        registry: PolicyRegistry,
        diagnostics: Diagnostics,
    ) -> None:
        self.source = source
        self.decoder = decoder
        self.named_values = named_values
        self.registry = registry
        self.diagnostics = diagnostics

    def build(self, raw: RawElement, inherited_keep: bool = False) -> PolicyElement:
        """`inherited_keep`: the enclosing policy keeps unknown `{{names}}` in its children (a Liquid `<data>`)."""
        element = PolicyElement(raw.tag, self.source.span(raw.name_start, raw.name_end), self.source)
        for attribute in raw.attributes:
            name_end = attribute.name_start + len(attribute.name)
            text, offsets = self.decoder.attribute(attribute.value_start, attribute.value_end)
            element.attribute_spans[attribute.name] = self.source.span(attribute.name_start, name_end)
            element.attributes[attribute.name] = self._value(
                text, offsets, attribute.value_start, attribute.value_end, keep_unknown=False
            )
        policy = self.registry.get(raw.tag)  # its declaration says how the content parses
        keep_unknown = policy.keeps_unknown_named_values(element) if policy is not None else inherited_keep
        if raw.children and policy is not None and policy.raw_content:
            # markup inside a body is the body itself (e.g. an XML Liquid template), kept verbatim
            text = self.source.text[raw.content_start : raw.content_end]
            offsets = list(range(raw.content_start, raw.content_end + 1))
            element.text = self._value(text, offsets, raw.content_start, raw.content_end, keep_unknown=keep_unknown)
        elif raw.children:
            element.children = [self.build(child, keep_unknown) for child in raw.children]
        elif raw.content_end > raw.content_start:
            text, offsets = self.decoder.content(raw.content_start, raw.content_end)
            element.text = self._value(text, offsets, raw.content_start, raw.content_end, keep_unknown=keep_unknown)
        return element

    def _value(self, text: str, offsets: list[int], start: int, end: int, *, keep_unknown: bool) -> ValueText:
        if self.named_values is not None:
            text, offsets, unknown = substitute(text, offsets, self.named_values, keep_unknown=keep_unknown)
            for ref in unknown:
                close = difflib.get_close_matches(ref.name, self.named_values.names(), n=1, cutoff=0.6)
                self.diagnostics.error(
                    "named-value-unknown",
                    f"named value '{ref.name}' is not defined",
                    self.source.span(ref.start, ref.end),
                    hint=f"did you mean '{close[0]}'?" if close else None,
                )
        text, offsets = _trim_expression(text, offsets)
        span = self.source.span(offsets[0], offsets[-1]) if text else self.source.span(start, max(end, start))
        return ValueText(text, span, self.source, offsets)


def _trim_expression(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """A value that is an expression loses surrounding whitespace, so `text` starts at '@'."""
    stripped = text.strip()
    if stripped == text or not (stripped.startswith("@(") or stripped.startswith("@{")):
        return text, offsets
    lead = len(text) - len(text.lstrip())
    end = lead + len(stripped)
    return stripped, offsets[lead:end] + [offsets[end - 1] + 1]


def _document(
    root: PolicyElement, source: SourceFile, registry: PolicyRegistry, diagnostics: Diagnostics
) -> PolicyDocument | None:
    if root.tag == "policies":
        return PolicyDocument("policies", source, root, _sections(root, diagnostics))
    if root.tag == "fragment":
        return PolicyDocument("fragment", source, root)
    if root.tag in registry and root.tag not in (BASE, INCLUDE_FRAGMENT):
        return PolicyDocument("snippet", source, root)
    diagnostics.error(
        "document-root",
        f"unexpected root element <{root.tag}>",
        root.span,
        hint="a document's root is <policies>, <fragment> or a single policy element",
    )
    return None


def _sections(root: PolicyElement, diagnostics: Diagnostics) -> dict[str, PolicyElement]:
    sections: dict[str, PolicyElement] = {}
    for child in root.children:
        if child.tag not in SECTION_NAMES:
            diagnostics.error(
                "document-unknown-section",
                f"<{child.tag}> is not a section; <policies> contains inbound, backend, outbound and on-error",
                child.span,
            )
            continue
        if child.tag in sections:
            first = sections[child.tag].span
            diagnostics.error(
                "document-duplicate-section",
                f"section <{child.tag}> appears twice (first at line {first.line})",
                child.span,
            )
            continue
        sections[child.tag] = child
        _mark_section(child, child.tag)
    _check_order(root, diagnostics)
    for name, span in root.attribute_spans.items():
        if name != "xmlns" and not name.startswith("xmlns:"):  # namespace declarations are fine
            diagnostics.error("document-attribute", f"<policies> takes no attributes ('{name}')", span)
    return sections


def _check_order(root: PolicyElement, diagnostics: Diagnostics) -> None:
    seen = [c for c in root.children if c.tag in SECTION_NAMES]
    for previous, child in zip(seen, seen[1:], strict=False):
        if SECTION_NAMES.index(child.tag) < SECTION_NAMES.index(previous.tag):
            diagnostics.warning(
                "document-section-order",
                f"section <{child.tag}> should come before <{previous.tag}>",
                child.span,
                hint="APIM orders sections inbound, backend, outbound, on-error",
            )


def _mark_section(element: PolicyElement, section: str) -> None:
    element.section = section
    for child in element.children:
        _mark_section(child, section)
