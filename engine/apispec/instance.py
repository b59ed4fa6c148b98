"""Schemas added to the APIM instance (`schemas/<id>`), for validate-content's `schema-id`: JSON Schema
documents and XML schemas (XSD), compiled once when the configuration is loaded.

A JSON schema is plain JSON Schema: its `$schema` picks the draft (4, 6, 7, 2019-09, 2020-12),
2020-12 without one. It compiles with jsonschema-rs like the OpenAPI schemas (`schemas.py`), with
nothing fetched: a reference outside the document is an error.

An XML schema compiles with libxml2 (lxml.etree.XMLSchema). Nothing is fetched and no DTD is read:
`xs:include` / `xs:import` may name another schema of the instance as APIM documents it,
`schemaLocation="/schemas/<id>"`; any other location is refused when the schema compiles, so a
schema can neither read the gateway's files nor reach the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from lxml import etree

from engine.apispec.schemas import REQUEST, ApiSchemas, SchemaError, SchemaProblem, SchemaValidator
from engine.apispec.xmlpositions import ElementPositions, element_at

XSD = "http://www.w3.org/2001/XMLSchema"
KINDS = ("json", "xml")
MAX_SCHEMA_SIZE = 4 * 1024 * 1024  # APIM's limit for a schema used by validation policies
LOCATION_PREFIX = "/schemas/"  # how an XML schema includes another schema of the instance
_PROBLEMS = 10  # problems reported per validation
_ATTRIBUTE = re.compile(r"Element '[^']*', attribute '(?:\{[^}]*\})?([^']+)'")


class InstanceSchemaError(SchemaError):
    """A schema of the instance cannot be used: `schema_id` says which, the message why."""

    def __init__(self, schema_id: str, reason: str) -> None:
        super().__init__(reason)
        self.schema_id = schema_id


@dataclass(frozen=True)
class SchemaSource:
    """A schema as configured: its text, the kind declared ("" = by content) and where it comes from."""

    text: str
    kind: str = ""
    source: str = ""


@dataclass(frozen=True)
class XmlProblem:
    """One way a document breaks an XML schema: libxml2's message and where."""

    message: str
    line: int
    column: int


@dataclass(eq=False)
class InstanceSchema:
    """A compiled schema of the instance: `kind` is "json" or "xml"; `origin` is what it was compiled from."""

    id: str
    kind: str
    origin: SchemaSource = field(repr=False)
    document: Any = field(repr=False)  # the JSON Schema (json) or the XSD's root element (xml)
    _xml: etree.XMLSchema | None = field(default=None, repr=False)
    _json: dict[tuple[str, bool | None], SchemaValidator] = field(default_factory=dict, repr=False)

    def json_problems(self, instance: object, direction: str, additional: bool | None = None) -> list[SchemaProblem]:
        """What is wrong with a JSON value (empty when valid); `additional` overrides additionalProperties."""
        return self._validator(direction, additional).problems(instance, _PROBLEMS)

    def xml_problems(self, element: etree._Element, positions: ElementPositions | None = None) -> list[XmlProblem]:
        """What is wrong with an XML element as the root of a document (empty when valid), each problem
        at the start of the element's (or attribute's) name when `positions` (of its document) is given."""
        assert self._xml is not None
        if self._xml.validate(element):
            return []
        return [_located(e, element, positions) for e in list(self._xml.error_log)[:_PROBLEMS]]

    def _validator(self, direction: str, additional: bool | None) -> SchemaValidator:
        key = (direction, additional)
        found = self._json.get(key)
        if found is None:
            found = self._json[key] = _compile_json(self.document, direction, additional)
        return found


def _located(entry: etree._LogEntry, validated: etree._Element, positions: ElementPositions | None) -> XmlProblem:
    """A libxml2 validation error with the column libxml2 does not give (0 when not found)."""
    message = str(entry.message).rstrip(".")
    target = element_at(validated, entry.path or "") if positions is not None else None
    if positions is None or target is None:
        return XmlProblem(message, entry.line, entry.column)
    attribute = _ATTRIBUTE.match(message)
    found = positions.of(target, attribute[1] if attribute else "")
    return XmlProblem(message, found.line, found.column) if found else XmlProblem(message, entry.line, entry.column)


def detect_kind(text: str) -> str | None:
    """"xml" for a document starting with `<`, "json" for one starting with `{`, else None."""
    start = text.lstrip("\ufeff \t\r\n")[:1]
    return "xml" if start == "<" else "json" if start == "{" else None


def compile_schemas(sources: Mapping[str, SchemaSource]) -> dict[str, InstanceSchema]:
    """Compile the instance's schemas (each may include the others); InstanceSchemaError names the one
    that cannot be used and why."""
    kinds: dict[str, str] = {}
    for schema_id, source in sources.items():
        if len(source.text.encode()) > MAX_SCHEMA_SIZE:
            raise InstanceSchemaError(schema_id, f"the schema is larger than {MAX_SCHEMA_SIZE // (1024 * 1024)} MB")
        found = detect_kind(source.text)
        if found is None:
            raise InstanceSchemaError(schema_id, "neither a JSON schema (an object) nor an XML schema")
        if source.kind and source.kind != found:
            raise InstanceSchemaError(schema_id, f"declared {source.kind} but the document is {found}")
        kinds[schema_id] = found
    xml_texts = {i: source.text for i, source in sources.items() if kinds[i] == "xml"}
    compiled = {}
    for schema_id, source in sources.items():
        if kinds[schema_id] == "xml":
            compiled[schema_id] = InstanceSchema(schema_id, "xml", source, None,
                                                 _xml=compile_xml(schema_id, source.text, xml_texts))
            continue
        schema = compiled[schema_id] = InstanceSchema(schema_id, "json", source, _read_json(schema_id, source.text))
        try:  # compile now: a broken schema stops the load, not a request
            schema._validator(REQUEST, None)
        except SchemaError as exc:
            raise InstanceSchemaError(schema_id, str(exc)) from None
    return compiled


def _read_json(schema_id: str, text: str) -> Any:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InstanceSchemaError(schema_id, f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InstanceSchemaError(schema_id, "a JSON schema must be an object")
    return document


def _compile_json(document: Any, direction: str, additional: bool | None) -> SchemaValidator:
    # OpenAPI 3.1's conversion is plain JSON Schema's: readOnly/writeOnly per direction, the override
    converted = ApiSchemas(document, "oas31").convert(document, direction, additional)
    try:
        return SchemaValidator(jsonschema_rs.validator_for(converted, validate_formats=True, offline=True))
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SchemaError(f"cannot be compiled: {first}") from None


class _InstanceResolver(etree.Resolver):
    """Resolves `/schemas/<id>` to the instance's XML schemas; every other location to nothing."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        super().__init__()
        self.texts = texts
        self.refused: list[str] = []

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        url = system_url or ""
        name = url[len(LOCATION_PREFIX):] if url.startswith(LOCATION_PREFIX) else None
        if name is not None and name in self.texts:
            return self.resolve_string(self.texts[name], context, base_url=url)
        self.refused.append(url)
        return self.resolve_string("<refused/>", context)


def compile_xml(schema_id: str, text: str, texts: Mapping[str, str]) -> etree.XMLSchema:
    """Compile an XML schema whose `/schemas/<name>` includes and imports are `texts[name]`; nothing else
    is read. InstanceSchemaError names `schema_id` and says why it cannot be used."""
    resolver = _InstanceResolver(texts)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(resolver)
    try:
        root = etree.fromstring(text.encode(), parser, base_url=f"{LOCATION_PREFIX}{schema_id}")
    except etree.XMLSyntaxError as exc:
        raise InstanceSchemaError(schema_id, f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise InstanceSchemaError(schema_id, "a DTD is not allowed in a schema")
    tag = etree.QName(root).text
    if tag != f"{{{XSD}}}schema":
        raise InstanceSchemaError(schema_id, f"the root element is {tag}, not an XML schema ({{{XSD}}}schema)")
    try:
        return etree.XMLSchema(root)
    except etree.XMLSchemaParseError as exc:
        if resolver.refused:
            raise InstanceSchemaError(schema_id, f"schemaLocation '{resolver.refused[0]}' is not allowed: an XML schema may "
                              f"include or import only schemas of the instance ({LOCATION_PREFIX}<id>)") from None
        raise InstanceSchemaError(schema_id, f"not a valid XML schema: {exc}") from None
