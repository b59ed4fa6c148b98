"""The APIOps folder's `schemas/`: schemas added to the APIM instance, for validate-content's `schema-id`.

APIOps' extractor does not export the instance's schemas, so policygate chooses a layout in the
style of the other entities (docs/apiops.md), from the ARM resource `Microsoft.ApiManagement/service/schemas`:

    schemas/<id>/schemaInformation.json   {"properties": {"schemaType": "xml" | "json", "value": "<xs:schema ...>",
                                                          "document": {...JSON Schema...}, "description": "..."}}
    schemas/<id>/schema.xsd | schema.json   the schema itself (optional; used instead of value / document)

An API's own schemas (`Microsoft.ApiManagement/service/apis/schemas`, which the extractor does not
export either; APIM keeps the XML schemas of an imported WSDL there) take the same shape under the
API's folder; only XML schemas are used (validate-content without `schema-id`, with the WSDL's):

    apis/<api>/schemas/<id>/schemaInformation.json   {"properties": {"contentType":
                                                         "application/vnd.ms-azure-apim.xsd+xml",
                                                         "document": {"value": "<xs:schema ...>"}}}
    apis/<api>/schemas/<id>/schema.xsd                the schema itself (optional)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from engine.apispec.instance import KINDS, InstanceSchema, InstanceSchemaError, SchemaSource, compile_schemas

if TYPE_CHECKING:
    from engine.gateway.apiops_folder import FolderReader

FOLDER = "schemas"
INFORMATION = "schemaInformation.json"
FILES = ("schema.xsd", "schema.json")
PROPERTIES = ("schemaType", "value", "document", "description")
API_FILES = ("schema.xsd",)
API_PROPERTIES = ("contentType", "document")
XSD_CONTENT_TYPE = "application/vnd.ms-azure-apim.xsd+xml"


def folder_schemas(reader: FolderReader) -> dict[str, InstanceSchema]:
    """`schemas/<id>/` -> id -> compiled schema; mistakes stop the load, naming the file and key."""
    sources: dict[str, SchemaSource] = {}
    where = {}
    for entity in reader.file_entities(FOLDER, INFORMATION, FILES, PROPERTIES, "schema"):
        folder, info, props = entity.folder, entity.info, entity.properties
        kind = (reader.string(props, "schemaType", info) or "").lower()
        if kind and kind not in KINDS:
            reader.fail(info, "properties.schemaType", f"'{kind}' is not xml or json")
        if entity.file is not None:
            try:
                text = entity.file.read_bytes().decode("utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                reader.fail(entity.file, "", f"cannot read: {exc}")
            sources[folder.name] = SchemaSource(text, kind, str(entity.file))
            where[folder.name] = (entity.file, "")
            continue
        document = props.get("document")
        value = reader.string(props, "value", info)
        if isinstance(document, dict):
            text = json.dumps(document)
        elif value is not None:
            text = value
        else:
            reader.fail(info, "properties", f"needs value (an XML schema), document (a JSON schema) or the schema in "
                                            f"{reader.rel(folder)}/schema.xsd (or schema.json)")
        sources[folder.name] = SchemaSource(text, kind, str(info))
        where[folder.name] = (info, "properties")
    try:
        return compile_schemas(sources)
    except InstanceSchemaError as exc:
        file, key = where[exc.schema_id]
        reader.fail(file, key, str(exc))


def api_xml_schemas(reader: FolderReader, api_folder: Path) -> list[str]:
    """The XML schemas of `apis/<api>/schemas/<id>/` (schemas of other content types are reported and
    ignored); mistakes stop the load, naming the file and key."""
    texts = []
    for entity in reader.file_entities(f"{reader.rel(api_folder)}/{FOLDER}", INFORMATION, API_FILES, API_PROPERTIES,
                                       "schema"):
        content_type = (reader.string(entity.properties, "contentType", entity.info) or XSD_CONTENT_TYPE).lower()
        if content_type != XSD_CONTENT_TYPE:
            reader.warnings.add(f"API schemas of content type {content_type} are not used (only XML schemas, "
                                f"{XSD_CONTENT_TYPE}); ignored", reader.rel(entity.folder))
            continue
        if entity.file is not None:
            try:
                texts.append(entity.file.read_bytes().decode("utf-8-sig"))
            except (OSError, UnicodeDecodeError) as exc:
                reader.fail(entity.file, "", f"cannot read: {exc}")
            continue
        document = entity.properties.get("document")
        value = document.get("value") if isinstance(document, dict) else None
        if not isinstance(value, str):
            reader.fail(entity.info, "properties.document", f"needs value (the XML schema) or the schema in "
                                                            f"{reader.rel(entity.folder)}/schema.xsd")
        texts.append(value)
    return texts
