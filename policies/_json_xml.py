"""JSON <-> XML conversion in the style of Newtonsoft's XmlNodeConverter (used by APIM).

XML is parsed with a hardened lxml parser (no DTD loading, no entity expansion, no network).

JSON -> XML: the result is wrapped in `<Document>`; object properties become child elements,
arrays repeat their property's element, `null` is an empty element, `@name` properties become
attributes and `#text` the element's text, names that are not valid XML are encoded like
XmlConvert (`_x0020_`). ISO 8601 date strings are normalised when `parse_date` is on.

XML -> JSON (`direct`, Newtonsoft's SerializeXmlNode): `{"root": {...}}`, attributes `@name`,
mixed text `#text`, repeated elements become arrays, an empty element is null, the XML
declaration appears as `?xml`. `javascript-friendly` differs by: no `?xml`, attribute names
without `@`, namespace prefixes dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MAX_XML_BYTES = 32 * 1024 * 1024


class ConversionError(ValueError):
    """The body is not valid JSON / XML."""


class XmlConversionError(ConversionError):
    pass


# -- JSON -> XML -------------------------------------------------------------------------------

_NAME_START = re.compile(r"[A-Za-z_\u00C0-\uFFFF]")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def encode_name(name: str) -> str:
    """XmlConvert.EncodeName: invalid characters become `_xHHHH_`."""
    if not name:
        return "_"
    out = []
    for i, char in enumerate(name):
        valid = _NAME_START.match(char) if i == 0 else (_NAME_CHAR.match(char) or char == ":")
        out.append(char if valid else f"_x{ord(char):04X}_")
    return "".join(out)


def _scalar_text(value: Any, parse_date: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        from engine.dotnet.formatting import double_to_string

        return double_to_string(value)
    text = str(value)
    if parse_date and isinstance(value, str) and _ISO_DATE.match(text):
        return _normalise_date(text)
    return text


def _normalise_date(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        base += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset()
    if offset is None:
        return base
    if not offset:
        return base + "Z"
    return base + moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:]


class _XmlWriter:
    def __init__(self, parse_date: bool, attribute_block: str | None, separator: str, ns_prefix: str | None) -> None:
        self.parse_date = parse_date
        self.attribute_block = attribute_block
        self.separator = separator
        self.ns_prefix = ns_prefix
        self.out: list[str] = []

    def element(self, name: str, value: Any) -> None:
        tag = self._tag(name)
        if isinstance(value, list):
            for item in value:
                self.element(name, item)
            return
        if isinstance(value, dict):
            attributes, children, text = self._split(value)
            self.out.append(f"<{tag}{attributes}")
            if not children and text is None:
                self.out.append(" />")
                return
            self.out.append(">")
            if text is not None:
                self.out.append(escape(_scalar_text(text, self.parse_date)))
            for child_name, child_value in children:
                self.element(child_name, child_value)
            self.out.append(f"</{tag}>")
            return
        if value is None:
            self.out.append(f"<{tag} />")
            return
        self.out.append(f"<{tag}>{escape(_scalar_text(value, self.parse_date))}</{tag}>")

    def _tag(self, name: str) -> str:
        if self.ns_prefix and self.separator and self.separator in name:
            prefix, _, local = name.partition(self.separator)
            if prefix and local:
                return f"{encode_name(prefix)}:{encode_name(local)}"
        return encode_name(name)

    def _split(self, value: dict[str, Any]) -> tuple[str, list[tuple[str, Any]], Any]:
        attributes: list[str] = []
        children: list[tuple[str, Any]] = []
        text = None
        for key, item in value.items():
            if key == "#text":
                text = item
            elif key.startswith("@") and not isinstance(item, dict | list):
                attributes.append(f" {encode_name(key[1:])}={quoteattr(_scalar_text(item, self.parse_date))}")
            elif self.attribute_block and key == self.attribute_block and isinstance(item, dict):
                for name, attr in item.items():
                    attributes.append(f" {encode_name(name)}={quoteattr(_scalar_text(attr, self.parse_date))}")
            elif self.ns_prefix and key.startswith(self.ns_prefix + self.separator) and isinstance(item, str):
                prefix = key[len(self.ns_prefix) + len(self.separator):]
                attributes.append(f" xmlns:{encode_name(prefix)}={quoteattr(item)}")
            else:
                children.append((key, item))
        return "".join(attributes), children, text


def json_to_xml(
    content: str,
    *,
    parse_date: bool = True,
    attribute_block_name: str | None = None,
    namespace_separator: str = "_",
    namespace_prefix: str | None = None,
    root: str = "Document",
) -> str:
    """Convert a JSON text to an XML document text (UTF-8 declaration omitted)."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ConversionError(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    writer = _XmlWriter(parse_date, attribute_block_name, namespace_separator, namespace_prefix)
    if isinstance(data, dict):
        writer.element(root, data)
    elif isinstance(data, list):
        writer.out.append(f"<{root}>")
        for item in data:
            writer.element("Array", item)
        writer.out.append(f"</{root}>")
    else:
        writer.element(root, data)
    return "".join(writer.out)


# -- XML -> JSON -------------------------------------------------------------------------------

def parse_xml(content: bytes) -> Any:
    """Parse untrusted XML with entity expansion, DTD loading and network access disabled."""
    from lxml import etree

    if len(content) > MAX_XML_BYTES:
        raise XmlConversionError("the XML body is too large")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlConversionError(f"the body is not valid XML: {exc}") from None
    if root is None:
        raise XmlConversionError("the body is not valid XML")
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise XmlConversionError("XML bodies with a DOCTYPE are not converted")
    return root


def _qualified(element_or_name: Any, nsmap: dict[str | None, str], friendly: bool) -> str:
    from lxml import etree

    qname = etree.QName(element_or_name)
    if friendly or qname.namespace is None:
        return qname.localname
    for prefix, uri in nsmap.items():
        if uri == qname.namespace and prefix:
            return f"{prefix}:{qname.localname}"
    return qname.localname


def _element_value(
    element: Any, friendly: bool, always_array: bool, make_dict: Callable[[], dict[str, Any]], nil_as_null: bool | None
) -> Any:
    attrs = make_dict()
    parent_nsmap = element.getparent().nsmap if element.getparent() is not None else {}
    if not friendly:
        for prefix, uri in element.nsmap.items():
            if parent_nsmap.get(prefix) != uri:
                attrs["@xmlns" + (f":{prefix}" if prefix else "")] = uri
    nil = False
    for name, value in element.attrib.items():
        key = _qualified(name, element.nsmap, friendly)
        if key.endswith("nil") and "XMLSchema-instance" in name and value.strip().lower() == "true":
            nil = True
            if nil_as_null is not None:
                continue
        attrs[key if friendly else "@" + key] = value
    if nil and nil_as_null is not None:
        return None if nil_as_null else ""
    children = [c for c in element if isinstance(c.tag, str)]
    text = (element.text or "").strip() if not children else "".join(
        (t or "").strip() for t in [element.text, *(c.tail for c in children)]
    )
    if not children and not attrs:
        return text if text else None
    result = attrs
    if text:
        result["#text"] = text
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(_qualified(child, child.nsmap, friendly), []).append(
            _element_value(child, friendly, always_array, make_dict, nil_as_null)
        )
    for name, values in grouped.items():
        result[name] = values if len(values) > 1 or always_array else values[0]
    return result


def xml_to_json(content: bytes, *, kind: str = "direct", always_array_child_elements: bool = False) -> str:
    """Convert an XML body to JSON text (`kind`: 'direct' or 'javascript-friendly')."""
    root = parse_xml(content)
    friendly = kind == "javascript-friendly"
    document: dict[str, Any] = {}
    if not friendly and content.lstrip().startswith(b"<?xml"):
        info = root.getroottree().docinfo
        head = content.lstrip()[: content.lstrip().find(b"?>") + 2]
        declaration = {"@version": info.xml_version or "1.0"}
        if info.encoding and b"encoding" in head:
            declaration["@encoding"] = info.encoding
        if b"standalone" in head:
            declaration["@standalone"] = "yes" if info.standalone else "no"
        document["?xml"] = declaration
    value = _element_value(root, friendly, always_array_child_elements, dict, None)
    document[_qualified(root, root.nsmap, friendly)] = value
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def xml_to_object(
    content: bytes, *, nil_as_null: bool = False, make_dict: Callable[[], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """XML as nested dicts/lists for Liquid: `{root: {...}}`, local names; attributes by plain name."""
    root = parse_xml(content)
    factory = make_dict or dict
    result = factory()
    result[_qualified(root, root.nsmap, True)] = _element_value(root, True, False, factory, nil_as_null)
    return result
