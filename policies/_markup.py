"""The verbatim XML of a policy's child element (a stylesheet, a cross-domain policy file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from engine.masking import mask_expressions
from engine.xmlscan import RawElement, scan_elements

if TYPE_CHECKING:
    from engine.model import PolicyElement


def outer_markup(element: PolicyElement) -> str:
    """`element` as written in its file, start tag to end tag (comments and mixed content kept)."""
    source = element.source
    start = source.offset(element.span.line, element.span.col)
    root = scan_elements(mask_expressions(source.text).text)
    path = _path_to(root, start) if root is not None else None
    if not path:
        raise ValueError(f"<{element.tag}> not found in {source.path}")
    raw = path[-1]
    if raw.content_end == raw.content_start and source.text[raw.content_start - 2: raw.content_start] == "/>":
        return source.text[raw.start: raw.content_start]
    end = source.text.index(">", raw.content_end) + 1
    return source.text[raw.start: end]


def parse_markup(element: PolicyElement) -> etree._Element:
    """`element` parsed on its own by a hardened parser, with the namespace prefixes its ancestors
    declare in the file (raises etree.XMLSyntaxError)."""
    source = element.source
    start = source.offset(element.span.line, element.span.col)
    root = scan_elements(mask_expressions(source.text).text)
    ancestors = (_path_to(root, start) or [])[:-1] if root is not None else []
    declarations = " ".join(
        source.text[a.name_start: a.value_end + 1] for raw in ancestors for a in raw.attributes
        if a.name == "xmlns" or a.name.startswith("xmlns:")
    )
    wrapper = f"<wrapper {declarations}>{outer_markup(element)}</wrapper>"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(wrapper.encode("utf-8"), parser)[0]


def _path_to(element: RawElement, name_start: int) -> list[RawElement] | None:
    if element.name_start == name_start:
        return [element]
    for child in element.children:
        if child.start <= name_start:
            found = _path_to(child, name_start)
            if found is not None:
                return [element, *found]
    return None
