"""The position scanner sees exactly the element tree lxml sees (checked on every sample)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from engine.masking import mask_expressions
from engine.xmlscan import RawElement, scan_elements

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").rglob("*.xml"))


def lxml_tags(root: etree._Element) -> list[str]:
    tags = []
    for element in root.iter():
        if isinstance(element.tag, str):
            name = etree.QName(element).localname
            tags.append(f"{element.prefix}:{name}" if element.prefix else name)
    return tags


def scanned_tags(element: RawElement) -> Iterator[str]:
    yield element.tag
    for child in element.children:
        yield from scanned_tags(child)


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(ROOT)) for p in SAMPLES])
def test_scanner_matches_lxml(path: Path) -> None:
    masked = mask_expressions(path.read_bytes().decode("utf-8-sig", errors="replace")).text
    try:
        root = etree.fromstring(masked.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        assert path.parent.name == "bad", "only samples/bad may hold malformed XML"
        return
    scanned = scan_elements(masked)
    assert scanned is not None
    assert list(scanned_tags(scanned)) == lxml_tags(root)


def test_attribute_and_content_offsets() -> None:
    text = "<a x = 'one' y=\"t>o\">\n  <b/>text<c>z</c>\n</a>"
    root = scan_elements(text)
    assert root is not None
    assert [(a.name, text[a.value_start : a.value_end]) for a in root.attributes] == [
        ("x", "one"),
        ("y", "t>o"),
    ]
    b, c = root.children
    assert b.content_start == b.content_end
    assert text[c.content_start : c.content_end] == "z"
    assert text[root.content_start : root.content_end] == "\n  <b/>text<c>z</c>\n"
