"""An API's own XML schemas (its WSDL's `types`, its XSD API schemas) on its operations' descriptions,
and the operations of a SOAP API, for `gateway.yaml` (`wsdl:`) and APIOps folders alike."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

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
from engine.gateway.settings import OperationSettings, WsdlImports

SOAP_CONTENT_TYPES = ("text/xml", "application/soap+xml")  # SOAP 1.1, 1.2
SOAP_SPEC_ID = "soap"


def read_wsdl(path: Path, imports: WsdlImports | None = None) -> Wsdl:
    """A WSDL file's SOAP operations and the schemas of its `types`, with the schemas they import or include
    by `schemaLocation`: a relative location is a file beside the WSDL (or beside the schema naming it);
    a URL is fetched when `imports.fetch` says so (a location in a fetched schema is relative to its URL).
    ValueError says why they cannot be read."""
    imports = imports or WsdlImports()
    wsdl = parse_wsdl(_read(path))
    schemas: list[str] = []
    files: set[Path] = set()
    seen: set[str] = set()
    pending: list[tuple[str, Path | str]] = [(text, path.parent) for text in wsdl.schemas]  # (schema, its base)
    while pending:
        text, base = pending.pop(0)
        found: dict[str, Path | str] = {}  # location -> file or URL
        for location in imported_schemas(text):
            found[location] = _locate(location, base, imports)
        schemas.append(without_locations(text, set(found)) if found else text)
        for where in found.values():
            if str(where) in seen:
                continue
            seen.add(str(where))
            if isinstance(where, Path):
                files.add(where)
                pending.append((_read(where), where.parent))
            else:
                pending.append((fetch_schema(where, imports.timeout), where))
        if sum(len(s) for s in schemas) > MAX_SCHEMA_SIZE:
            break  # api_xml_schema refuses the set, naming the limit
    return replace(wsdl, schemas=schemas, files=tuple(sorted(files)))


def _locate(location: str, base: Path | str, imports: WsdlImports) -> Path | str:
    """The file or URL a `schemaLocation` names, seen from `base` (a folder, or the URL of a fetched schema)."""
    url = urljoin(base, location) if isinstance(base, str) else location
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        if not imports.fetch:
            raise ValueError(f"schemaLocation '{location}' is not allowed: schemas at URLs are fetched only with "
                             "`wsdl-imports: {fetch: true}`; or save that schema beside the WSDL and name its file")
        return url
    if scheme or isinstance(base, str):
        raise ValueError(f"schemaLocation '{location}' is not allowed: a file path relative to the WSDL, "
                         "or an http(s) URL, is expected")
    file = (base / location).resolve()
    if not file.is_file():
        raise ValueError(f"schemaLocation '{location}': no file {file}")
    return file


def fetch_schema(url: str, timeout: float) -> str:
    """The schema at `url` (GET, at most 4 MB; `timeout` seconds to connect and for each read); ValueError says
    why it cannot be had."""
    request = urllib.request.Request(url, headers={"Accept": "application/xml, text/xml, */*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http(s) only (_locate)
            data: bytes = answer.read(MAX_SCHEMA_SIZE + 1)
    except urllib.error.HTTPError as exc:
        raise ValueError(f"schemaLocation '{url}': the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ValueError(f"schemaLocation '{url}': cannot fetch it: {reason}") from None
    if len(data) > MAX_SCHEMA_SIZE:
        raise ValueError(f"schemaLocation '{url}': larger than {MAX_SCHEMA_SIZE // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"schemaLocation '{url}': not UTF-8 text: {exc}") from None


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
                                   spec=replace(spec, id=op.name), soap_action=op.action, soap_actions_also=op.also)
                 for op in operations)


def with_xml_schema(operations: tuple[OperationSettings, ...], api_id: str,
                    schemas: list[str]) -> tuple[OperationSettings, ...]:
    """`operations` whose descriptions carry the API's XML schemas (compiled here, as one set);
    InstanceSchemaError says why they cannot be compiled."""
    xml_schema = api_xml_schema(api_id, schemas)
    if xml_schema is None:
        return operations
    return tuple(replace(op, spec=replace(op.spec or OperationSpec(id=op.id, schemas=ApiSchemas({}, "oas30")),
                                          xml_schema=xml_schema)) for op in operations)
