"""An API's own XML schemas (its WSDL's `types`, its XSD API schemas) on its operations' descriptions,
and the one operation of a SOAP API, for `gateway.yaml` (`wsdl:`) and APIOps folders alike."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.apispec import BodySpec, OperationSpec, ResponseSpec
from engine.apispec.schemas import ApiSchemas
from engine.apispec.wsdl import api_xml_schema, wsdl_schemas
from engine.gateway.settings import OperationSettings

SOAP_CONTENT_TYPES = ("text/xml", "application/soap+xml")  # SOAP 1.1, 1.2


def read_wsdl(path: Path) -> list[str]:
    """The schemas of a WSDL file's `types`; ValueError says why they cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read: {exc}") from None
    return wsdl_schemas(text)


def soap_operations() -> tuple[OperationSettings, ...]:
    """A SOAP API's operation: every method and path (the backend tells SOAP actions apart), whose
    requests and responses are SOAP 1.1 or 1.2 messages (`with_xml_schema` adds the schemas)."""
    soap = BodySpec({content_type: None for content_type in SOAP_CONTENT_TYPES})
    spec = OperationSpec(id="soap", schemas=ApiSchemas({}, "oas30"), request=soap,
                         responses={"default": ResponseSpec(body=soap)})
    return (OperationSettings(id="soap", method="*", url_template="/*", name="SOAP", spec=spec),)


def with_xml_schema(operations: tuple[OperationSettings, ...], api_id: str,
                    schemas: list[str]) -> tuple[OperationSettings, ...]:
    """`operations` whose descriptions carry the API's XML schemas (compiled here, as one set);
    InstanceSchemaError says why they cannot be compiled."""
    xml_schema = api_xml_schema(api_id, schemas)
    if xml_schema is None:
        return operations
    return tuple(replace(op, spec=replace(op.spec or OperationSpec(id=op.id, schemas=ApiSchemas({}, "oas30")),
                                          xml_schema=xml_schema)) for op in operations)
