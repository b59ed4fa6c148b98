"""A SOAP API's WSDL: its operations with their SOAP actions, and the API's own XML schemas (the
schemas in the WSDL's `types` and the XSDs among its API schemas), compiled as one set for
validate-content without `schema-id`.

Each schema is a document of its own, keeping the namespace declarations in scope in the WSDL
(QName values such as `type="tns:Order"` need them). The set compiles from one schema importing
every target namespace (schemas sharing a namespace are included together), so a schema may
import another one by namespace alone, as WSDL types usually do. Nothing is fetched: a schema
naming a `schemaLocation` cannot be compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
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
_SOAP_BINDINGS = ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/")  # WSDL 1.1
WSOAP = "http://www.w3.org/ns/wsdl/soap"  # WSDL 2.0 SOAP binding: `wsoap:action` on a binding operation
_LOCATED = (f"{{{XSD}}}import", f"{{{XSD}}}include")


@dataclass(frozen=True)
class SoapOperation:
    """An operation of a WSDL's SOAP bindings and the SOAP action that names it ("" when the binding gives none)."""

    name: str
    action: str
    also: tuple[str, ...] = ()  # other actions another binding gives the operation (SOAP 1.2 vs 1.1)


@dataclass(frozen=True)
class Wsdl:
    """What the gateway uses of a WSDL document: its `types` schemas and its SOAP operations."""

    schemas: list[str]  # each a document of its own
    operations: list[SoapOperation]  # in document order, one per operation name
    files: tuple[Path, ...] = ()  # the schema files its schemas import (read by the caller)


def parse_wsdl(text: str) -> Wsdl:
    """A WSDL 1.1 or 2.0 document's schemas and SOAP operations; ValueError when `text` is not a WSDL
    document (or has a DTD), or when two operations share a SOAP action."""
    root = _parse(text, "WSDL document")
    namespace = _ROOTS.get(str(root.tag))
    if namespace is None:
        raise ValueError(f"the root element is {etree.QName(root).text}, not a WSDL 1.1 <definitions> or 2.0 <description>")
    schemas = [etree.tostring(schema, encoding="unicode")
               for schema in root.iterfind(f"{{{namespace}}}types/{{{XSD}}}schema")]
    found: dict[str, SoapOperation] = {}
    by_action: dict[str, str] = {}
    for name, action in (_operations11(root) if namespace == WSDL11 else _operations20(root)):
        if by_action.get(action, name) != name:
            raise ValueError(f"operations '{by_action[action]}' and '{name}' have the same SOAP action "
                             f"'{action}': requests could not be told apart")
        if name in found:  # the same operation in another binding (SOAP 1.1 and 1.2): maybe another action
            if action not in by_action:
                found[name] = replace(found[name], also=(*found[name].also, action))
        else:
            found[name] = SoapOperation(name, action)
        by_action[action] = name
    return Wsdl(schemas, list(found.values()))


def _parse(text: str, what: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode(), parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ValueError(f"a DTD is not allowed in a {what}")
    return root


def _operations11(root: etree._Element) -> list[tuple[str, str]]:
    """(name, SOAP action) of each operation of the SOAP 1.1 and 1.2 bindings."""
    found = []
    for binding in root.iterfind(f"{{{WSDL11}}}binding"):
        if not any(binding.find(f"{{{ns}}}binding") is not None for ns in _SOAP_BINDINGS):
            continue  # an HTTP or MIME binding: not SOAP
        for operation in binding.iterfind(f"{{{WSDL11}}}operation"):
            soap = next((op for ns in _SOAP_BINDINGS if (op := operation.find(f"{{{ns}}}operation")) is not None), None)
            found.append((str(operation.get("name") or ""), str(soap.get("soapAction") or "") if soap is not None else ""))
    return [(name, action.strip()) for name, action in found if name]


def _operations20(root: etree._Element) -> list[tuple[str, str]]:
    """(name, SOAP action) of each operation of the SOAP bindings (the interface operation's local name)."""
    found = []
    for binding in root.iterfind(f"{{{WSDL20}}}binding"):
        if binding.get("type") != "http://www.w3.org/ns/wsdl/soap":
            continue
        for operation in binding.iterfind(f"{{{WSDL20}}}operation"):
            name = str(operation.get("ref") or "").rpartition(":")[2]
            if name:
                found.append((name, str(operation.get(f"{{{WSOAP}}}action") or "").strip()))
    return found


def imported_schemas(schema: str) -> list[str]:
    """The `schemaLocation`s a schema imports or includes (as written)."""
    root = _parse(schema, "schema")
    return [str(element.get("schemaLocation")) for element in root.iter(*_LOCATED) if element.get("schemaLocation")]


def without_locations(schema: str, locations: set[str]) -> str:
    """The schema with those imports made imports by namespace and those includes removed: the schemas they
    name join the API's set, where every target namespace is imported (an include shares its namespace)."""
    root = _parse(schema, "schema")
    for element in list(root.iter(*_LOCATED)):
        if element.get("schemaLocation") not in locations:
            continue
        if element.tag == f"{{{XSD}}}include":
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
        else:
            del element.attrib["schemaLocation"]
    return etree.tostring(root, encoding="unicode")


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
