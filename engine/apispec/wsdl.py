"""An API's own XML schemas: the schemas in the `types` of its WSDL (a SOAP API) and the XSDs among
its API schemas, compiled as one set for validate-content without `schema-id`.

Each schema is a document of its own, keeping the namespace declarations in scope in the WSDL
(QName values such as `type="tns:Order"` need them). The set compiles from one schema importing
every target namespace (schemas sharing a namespace are included together), so a schema may
import another one by namespace alone, as WSDL types usually do. Nothing is fetched: a schema
naming a `schemaLocation` cannot be compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from lxml import etree

from engine.apispec.instance import (
    LOCATION_PREFIX,
    MAX_SCHEMA_SIZE,
    XSD,
    InstanceSchema,
    InstanceSchemaError,
    SchemaSource,
    compile_xml,
)

WSDL11 = "http://schemas.xmlsoap.org/wsdl/"
WSDL20 = "http://www.w3.org/ns/wsdl"
_ROOTS = {f"{{{WSDL11}}}definitions": WSDL11, f"{{{WSDL20}}}description": WSDL20}


def wsdl_schemas(text: str) -> list[str]:
    """The schemas of a WSDL 1.1 or 2.0 document's `types`, each as a document of its own; ValueError
    when `text` is not a WSDL document (or has a DTD)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode(), parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ValueError("a DTD is not allowed in a WSDL document")
    namespace = _ROOTS.get(str(root.tag))
    if namespace is None:
        raise ValueError(f"the root element is {etree.QName(root).text}, not a WSDL 1.1 <definitions> or 2.0 <description>")
    return [etree.tostring(schema, encoding="unicode")
            for schema in root.iterfind(f"{{{namespace}}}types/{{{XSD}}}schema")]


def api_xml_schema(api_id: str, schemas: Sequence[str]) -> InstanceSchema | None:
    """The API's XML schemas compiled as one set (None without any); InstanceSchemaError (with
    `schema_id` = `api_id`) when the set cannot be compiled."""
    if not schemas:
        return None
    if sum(len(text.encode()) for text in schemas) > MAX_SCHEMA_SIZE:
        raise InstanceSchemaError(api_id, f"the schemas are larger than {MAX_SCHEMA_SIZE // (1024 * 1024)} MB")
    pieces = {f"{api_id}/{n}": text for n, text in enumerate(schemas, 1)}
    texts = dict(pieces)
    by_namespace: dict[str, list[str]] = {}
    for key, text in pieces.items():
        by_namespace.setdefault(_target_namespace(api_id, text), []).append(key)
    lines = [f'<xs:schema xmlns:xs="{XSD}">']
    for namespace, keys in by_namespace.items():
        if not namespace:  # no target namespace: part of the main schema
            lines += [f"<xs:include schemaLocation={quoteattr(LOCATION_PREFIX + key)} />" for key in keys]
            continue
        location = keys[0]
        if len(keys) > 1:  # one namespace in several schemas: a schema of that namespace including them all
            location = f"{api_id}/ns{len(texts)}"
            includes = "".join(f"<xs:include schemaLocation={quoteattr(LOCATION_PREFIX + key)} />" for key in keys)
            texts[location] = f'<xs:schema xmlns:xs="{XSD}" targetNamespace={quoteattr(namespace)}>{includes}</xs:schema>'
        lines.append(f"<xs:import namespace={quoteattr(namespace)} schemaLocation={quoteattr(LOCATION_PREFIX + location)} />")
    main = "".join(lines) + "</xs:schema>"
    source = SchemaSource(main, "xml", api_id)
    return InstanceSchema(api_id, "xml", source, None, _xml=compile_xml(api_id, main, texts))


def _target_namespace(api_id: str, text: str) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text.encode(), parser)
    except etree.XMLSyntaxError as exc:
        raise InstanceSchemaError(api_id, f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{XSD}}}schema":
        raise InstanceSchemaError(api_id, f"the root element is {etree.QName(root).text}, not an XML schema ({{{XSD}}}schema)")
    return str(root.get("targetNamespace") or "")
