"""An API's own XML schemas (its WSDL's `types`, its XSD API schemas) on its operations' descriptions,
and the operations of a SOAP API, for `gateway.yaml` (`wsdl:`) and APIOps folders alike."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from engine.apispec import BodySpec, OperationSpec, ResponseSpec
from engine.apispec.instance import MAX_SCHEMA_SIZE
from engine.apispec.schemas import ApiSchemas
from engine.apispec.wsdl import (
    SoapOperation,
    Wsdl,
    api_xml_schema,
    imported_schemas,
    parse_wsdl,
    without_locations,
)
from engine.gateway.settings import OperationSettings

SOAP_CONTENT_TYPES = ("text/xml", "application/soap+xml")  # SOAP 1.1, 1.2
SOAP_SPEC_ID = "soap"


def read_wsdl(path: Path) -> Wsdl:
    """A WSDL file's SOAP operations and the schemas of its `types`, with the schema files they import or
    include by a relative `schemaLocation` (read from the WSDL's folder); ValueError says why they cannot
    be read."""
    wsdl = parse_wsdl(_read(path))
    schemas: list[str] = []
    seen: set[Path] = set()
    pending = [(text, path.parent) for text in wsdl.schemas]
    while pending:
        text, folder = pending.pop(0)
        files = {}
        for location in imported_schemas(text):
            if urlsplit(location).scheme:
                raise ValueError(f"schemaLocation '{location}' is not allowed: schemas are read from files only "
                                 "(a path relative to the WSDL); save that schema beside the WSDL and name its file")
            file = (folder / location).resolve()
            if not file.is_file():
                raise ValueError(f"schemaLocation '{location}': no file {file}")
            files[location] = file
        schemas.append(without_locations(text, set(files)) if files else text)
        for file in files.values():
            if file not in seen:
                seen.add(file)
                pending.append((_read(file), file.parent))
        if sum(len(s) for s in schemas) > MAX_SCHEMA_SIZE:
            break  # api_xml_schema refuses the set, naming the limit
    return replace(wsdl, schemas=schemas, files=tuple(sorted(seen)))


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path.name}: {exc}") from None


def soap_operations(operations: list[SoapOperation] | None = None) -> tuple[OperationSettings, ...]:
    """A SOAP API's operations: one per WSDL operation, reached by its SOAP action (APIM's pass-through
    operations, `POST /?soapAction=<action>`); without any, one operation answering every method and path
    (the backend tells SOAP actions apart). Requests and responses are SOAP 1.1 or 1.2 messages
    (`with_xml_schema` adds the schemas)."""
    soap = BodySpec({content_type: None for content_type in SOAP_CONTENT_TYPES})
    spec = OperationSpec(id=SOAP_SPEC_ID, schemas=ApiSchemas({}, "oas30"), request=soap,
                         responses={"default": ResponseSpec(body=soap)})
    if not operations:
        return (OperationSettings(id="soap", method="*", url_template="/*", name="SOAP", spec=spec),)
    return tuple(OperationSettings(id=op.name, method="POST", url_template=f"/?soapAction={op.action}", name=op.name,
                                   spec=replace(spec, id=op.name), soap_action=op.action) for op in operations)


def with_xml_schema(operations: tuple[OperationSettings, ...], api_id: str,
                    schemas: list[str]) -> tuple[OperationSettings, ...]:
    """`operations` whose descriptions carry the API's XML schemas (compiled here, as one set);
    InstanceSchemaError says why they cannot be compiled."""
    xml_schema = api_xml_schema(api_id, schemas)
    if xml_schema is None:
        return operations
    return tuple(replace(op, spec=replace(op.spec or OperationSpec(id=op.id, schemas=ApiSchemas({}, "oas30")),
                                          xml_schema=xml_schema)) for op in operations)
