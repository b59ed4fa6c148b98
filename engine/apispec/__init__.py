"""What an API's OpenAPI description says about each operation, for the `validate-*` policies.

The gateway's OpenAPI reader (`engine.gateway.openapi`) fills these records once per
configuration; policies find them on `context.Operation` (`Operation.spec`) and ask the shared
`ApiSchemas` for compiled validators, which are built once per schema and variant and then reused
by every request (see `engine.apispec.schemas`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.apispec.schemas import ApiSchemas, SchemaRef, SchemaValidator

if TYPE_CHECKING:
    from engine.apispec.instance import InstanceSchema


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter (query, header or path) or response header as the description declares it.

    `kind` is the schema's JSON type (`string`, `integer`, `number`, `boolean`, `array`, `object`)
    or "" when the schema names none; `items` is the item type of an array. `style`/`explode`
    tell how an array is written (OpenAPI 3 styles; Swagger 2.0 `collectionFormat` is mapped).
    """

    name: str
    location: str  # "query", "header", "path" (response headers: "header")
    required: bool = False
    schema: SchemaRef | None = None
    kind: str = ""
    items: str = ""
    style: str = ""
    explode: bool = True


@dataclass(frozen=True)
class BodySpec:
    """The content types of a request or response body, each with its schema (or None)."""

    content: dict[str, SchemaRef | None] = field(default_factory=dict)  # media type (lower case) -> schema
    required: bool = False

    def match(self, content_type: str) -> tuple[str, SchemaRef | None] | None:
        """The declared media type matching `content_type` (exact, then `type/*`, then `*/*`)."""
        wanted = content_type.lower()
        if wanted in self.content:
            return wanted, self.content[wanted]
        family = wanted.split("/", 1)[0] + "/*"
        for candidate in (family, "*/*"):
            if candidate in self.content:
                return candidate, self.content[candidate]
        return None


@dataclass(frozen=True)
class ResponseSpec:
    """A declared response: its headers (lower-case names) and body."""

    headers: dict[str, ParameterSpec] = field(default_factory=dict)
    body: BodySpec = field(default_factory=BodySpec)


@dataclass(frozen=True)
class OperationSpec:
    """An operation's parameters, request body and responses, with the API's shared schemas.

    `gateway_headers`/`gateway_query` are names the gateway itself reads (the API's subscription
    key header and query parameter): never "unspecified". `xml_schema` validates XML and SOAP
    bodies (validate-content without `schema-id`) when the API has XML schemas of its own.
    """

    id: str
    schemas: ApiSchemas
    parameters: tuple[ParameterSpec, ...] = ()
    request: BodySpec = field(default_factory=BodySpec)
    responses: dict[str, ResponseSpec] = field(default_factory=dict)  # "200", "2XX", "default"
    gateway_headers: frozenset[str] = frozenset()
    gateway_query: frozenset[str] = frozenset()
    xml_schema: InstanceSchema | None = None  # the API's own XML schemas (WSDL types, API schemas)

    def response(self, status: int) -> ResponseSpec | None:
        """The response declared for `status`: exact code, then its range (`2XX`), then `default`."""
        exact = self.responses.get(str(status))
        if exact is not None:
            return exact
        return self.responses.get(f"{status // 100}XX") or self.responses.get("default")

    def parameters_in(self, location: str) -> dict[str, ParameterSpec]:
        """Declared parameters of one location, by name (lower case for headers)."""
        if location == "header":
            return {p.name.lower(): p for p in self.parameters if p.location == "header"}
        return {p.name: p for p in self.parameters if p.location == location}


__all__ = ["ApiSchemas", "BodySpec", "OperationSpec", "ParameterSpec", "ResponseSpec", "SchemaRef", "SchemaValidator"]
