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
from dataclasses import dataclass
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


_VALID_NAME = re.compile(r"[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF:]*")


def encode_name(name: str) -> str:
    """XmlConvert.EncodeName: invalid characters become `_xHHHH_`."""
    if _VALID_NAME.fullmatch(name) and "_x" not in name:
        return name
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
        raise ConversionError(f"the body is not valid JSON: {json_syntax_message(content, exc)}") from None
    except RecursionError:
        raise ConversionError("the JSON body is nested too deeply") from None
    writer = _XmlWriter(parse_date, attribute_block_name, namespace_separator, namespace_prefix)
    try:
        if isinstance(data, dict):
            writer.element(root, data)
        elif isinstance(data, list):
            writer.out.append(f"<{root}>")
            for item in data:
                writer.element("Array", item)
            writer.out.append(f"</{root}>")
        else:
            writer.element(root, data)
    except RecursionError:
        raise ConversionError("the JSON body is nested too deeply") from None
    return "".join(writer.out)


def json_syntax_message(content: str, exc: json.JSONDecodeError) -> str:
    """Newtonsoft's description of bad JSON (APIM's parser), e.g. `Unexpected character encountered
    while parsing value: x. Path '', line 1, position 1.`, instead of Python's json wording."""
    from engine.dotnet.errors import DotNetException
    from engine.dotnet.jsonreader import JsonReader

    try:
        JsonReader(content).read()
    except DotNetException as problem:
        return problem.Message
    except RecursionError:
        return "the JSON body is nested too deeply"
    return f"Unexpected character encountered while parsing value. Line {exc.lineno}, position {exc.colno}."


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


def _qualified(name: str, nsmap: dict[str | None, str], friendly: bool) -> str:
    """`prefix:local` for a Clark-notation name (`{uri}local`), or just `local`."""
    if not name.startswith("{"):
        return name
    uri, _, local = name[1:].partition("}")
    if friendly:
        return local
    for prefix, known in nsmap.items():
        if known == uri and prefix:
            return f"{prefix}:{local}"
    return local


@dataclass(frozen=True)
class _XmlReader:
    """Walks an lxml tree into JSON-ready values (one instance per conversion)."""

    friendly: bool
    always_array: bool
    make_dict: Callable[[], dict[str, Any]]
    nil_as_null: bool | None  # None: xsi:nil is an ordinary attribute (xml-to-json)
    namespaces: bool = True  # False when the document declares none (fast path)

    def value(self, element: Any, parent_nsmap: dict[str | None, str]) -> Any:
        attrs = self.make_dict()
        nsmap = element.nsmap if self.namespaces else parent_nsmap
        if not self.friendly and self.namespaces:
            for prefix, uri in nsmap.items():
                if parent_nsmap.get(prefix) != uri:
                    attrs["@xmlns" + (f":{prefix}" if prefix else "")] = uri
        nil = False
        for name, value in element.attrib.items():
            if name.startswith("{"):
                if name.endswith("}nil") and "XMLSchema-instance" in name and value.strip().lower() == "true":
                    nil = True
                    if self.nil_as_null is not None:
                        continue
            key = _qualified(name, nsmap, self.friendly)
            attrs[key if self.friendly else "@" + key] = value
        if nil and self.nil_as_null is not None:
            return None if self.nil_as_null else ""
        children = [c for c in element if isinstance(c.tag, str)]
        if children:
            text = "".join((t or "").strip() for t in [element.text, *(c.tail for c in children)])
        else:
            text = (element.text or "").strip()
        if not children and not attrs:
            return text if text else None
        result = attrs
        if text:
            result["#text"] = text
        grouped: dict[str, list[Any]] = {}
        for child in children:
            name = _qualified(child.tag, child.nsmap if self.namespaces else nsmap, self.friendly)
            grouped.setdefault(name, []).append(self.value(child, nsmap))
        for name, values in grouped.items():
            result[name] = values if len(values) > 1 or self.always_array else values[0]
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
    reader = _XmlReader(friendly, always_array_child_elements, dict, None, b"xmlns" in content)
    document[_qualified(root.tag, root.nsmap, friendly)] = reader.value(root, {})
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def xml_to_object(
    content: bytes, *, nil_as_null: bool = False, make_dict: Callable[[], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """XML as nested dicts/lists for Liquid: `{root: {...}}`, local names; attributes by plain name."""
    root = parse_xml(content)
    factory = make_dict or dict
    result = factory()
    reader = _XmlReader(True, False, factory, nil_as_null, b"xmlns" in content)
    result[_qualified(root.tag, root.nsmap, True)] = reader.value(root, {})
    return result
