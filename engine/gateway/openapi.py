"""Operations from an OpenAPI document (3.x or Swagger 2.0, YAML or JSON).

Every path + method becomes an `OperationSettings`: the id is the `operationId` (or, like APIM
on import, one derived from method and path), the URL template is the path as written
(`/pets/{id}`), the name is the summary, the response examples feed `mock-response`, and the
parameters, request body and responses become the operation's `OperationSpec` (the `validate-*`
policies check requests and responses against it; `engine.apispec`).
Problems raise `ConfigError` naming the file and the key path inside it, e.g.
`petstore.yaml: paths./pets.get.operationId: 'list' is used twice`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import yaml

from engine.apispec import BodySpec, OperationSpec, ParameterSpec, ResponseSpec
from engine.apispec.schemas import ApiSchemas, SchemaError, SchemaRef
from engine.errors import ConfigError
from engine.gateway.routing import TemplateError, compile_template
from engine.gateway.settings import OperationSettings

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def operations_from_openapi(path: Path, *, where: str = "") -> tuple[OperationSettings, ...]:
    """Read `path` and return one operation per path + method, in document order.

    `where` names what referenced the file (e.g. `gateway.yaml: apis.petstore.openapi`); it is
    added to every message so the user knows which setting brought the file in.
    """
    return _Reader(Path(path), where).operations()


def load_openapi(path: Path, *, where: str = "") -> dict[str, Any]:
    """The parsed document (a mapping with `openapi` or `swagger`), or ConfigError."""
    return _Reader(Path(path), where).document


def derived_operation_id(method: str, template: str) -> str:
    """An id for an operation without `operationId`: `get-pets-id` for GET /pets/{id}."""
    slug = _NOT_SLUG.sub("-", template.lower()).strip("-")
    return f"{method.lower()}-{slug}" if slug else method.lower()


def match_operation(name: str, operations: Iterable[OperationSettings]) -> OperationSettings | None:
    """The operation `name` refers to: by id, then by id ignoring case, then by id or summary
    ignoring case and punctuation (`get-pet` finds `getPet` summarised "Get pet")."""
    operations = tuple(operations)
    lowered = name.lower()
    slug = _NOT_SLUG.sub("-", lowered).strip("-")
    tests = (
        lambda op: op.id == name,
        lambda op: op.id.lower() == lowered,
        lambda op: slug in (_NOT_SLUG.sub("-", op.id.lower()).strip("-"), _NOT_SLUG.sub("-", op.name.lower()).strip("-")),
    )
    for test in tests:
        found = next((op for op in operations if test(op)), None)
        if found is not None:
            return found
    return None


class _Reader:
    def __init__(self, path: Path, where: str) -> None:
        self.path = path
        self.where = where
        self.document = self.read()
        if "openapi" in self.document:
            version = str(self.document["openapi"])
            if not version.startswith("3."):
                self.fail("openapi", f"version '{version}' is not supported (expected 3.x)")
            self.swagger = False
        elif "swagger" in self.document:
            version = str(self.document["swagger"])
            if version != "2.0":
                self.fail("swagger", f"version '{version}' is not supported (expected 2.0)")
            self.swagger = True
        else:
            self.fail("", "not an OpenAPI document (no 'openapi' or 'swagger' key)")
        dialect = "swagger2" if self.swagger else ("oas31" if str(self.document["openapi"]).startswith("3.1") else "oas30")
        self.schemas = ApiSchemas(self.document, dialect)

    # -- reading -----------------------------------------------------------------------------
    def fail(self, key_path: str, message: str, position: str = "") -> NoReturn:
        location = f"{self.path}{position}: "
        if key_path:
            location += f"{key_path}: "
        suffix = f" (referenced by {self.where})" if self.where else ""
        raise ConfigError(location + message + suffix)

    def read(self) -> dict[str, Any]:
        try:
            text = self.path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            self.fail("", f"cannot read OpenAPI file: {exc.strerror or exc}")
        except UnicodeDecodeError:
            self.fail("", "not UTF-8 text")
        if self.path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                self.fail("", f"invalid JSON: {exc.msg}", f":{exc.lineno}:{exc.colno}")
        else:
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                position = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
                self.fail("", f"invalid YAML: {getattr(exc, 'problem', None) or exc}", position)
        if not isinstance(data, dict):
            self.fail("", f"expected a mapping at the top, got {_kind(data)}")
        return data

    def mapping(self, value: object, key_path: str) -> dict[Any, Any]:
        value = self.resolve(value, key_path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key_path, f"expected a mapping, got {_kind(value)}")
        return value

    def resolve(self, value: object, key_path: str) -> object:
        """Follow local `$ref`s (`#/components/...`); external references are an error."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if not ref.startswith("#/"):
                self.fail(key_path, f"external reference '{ref}' is not supported (bundle the document first)")
            if ref in seen:
                self.fail(key_path, f"reference cycle through '{ref}'")
            seen.add(ref)
            target: object = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, dict) or part not in target:
                    self.fail(key_path, f"reference '{ref}' points nowhere")
                target = target[part]
            value = target
        return value

    # -- operations --------------------------------------------------------------------------
    def operations(self) -> tuple[OperationSettings, ...]:
        operations: list[OperationSettings] = []
        ids: dict[str, str] = {}
        paths = self.mapping(self.document.get("paths"), "paths")
        for template, item in paths.items():
            where = f"paths.{template}"
            if isinstance(template, str) and template.startswith("x-"):
                continue  # a specification extension
            if not isinstance(template, str) or not template.startswith("/"):
                self.fail(where, "a path must start with '/'")
            try:
                compile_template(template)
            except TemplateError as exc:
                self.fail(where, str(exc))
            for method, raw in self.mapping(item, where).items():
                if not isinstance(method, str) or method.lower() not in METHODS:
                    continue  # parameters, servers, summary, description, x-...
                owhere = f"{where}.{method}"
                spec = self.mapping(raw, owhere)
                op_id = spec.get("operationId")
                if op_id is not None and (not isinstance(op_id, str) or not op_id.strip()):
                    self.fail(f"{owhere}.operationId", f"expected a non-empty string, got {_kind(op_id)}")
                oid = op_id.strip() if isinstance(op_id, str) else derived_operation_id(method, template)
                if oid in ids:
                    self.fail(f"{owhere}.operationId", f"'{oid}' is already the id of {ids[oid]}")
                ids[oid] = f"{method.upper()} {template}"
                summary = spec.get("summary")
                operations.append(
                    OperationSettings(
                        id=oid,
                        method=method.upper(),
                        url_template=template,
                        name=summary.strip() if isinstance(summary, str) and summary.strip() else oid,
                        examples=self.examples(spec, owhere),
                        spec=self.operation_spec(oid, item, spec, f"#/paths/{_escape(template)}", method),
                    )
                )
        self.check_schemas(operations)
        return tuple(operations)

    def examples(self, spec: dict[Any, Any], where: str) -> dict[int, dict[str, str]]:
        """Response examples per status code and content type (first example of each)."""
        found: dict[int, dict[str, str]] = {}
        responses = self.mapping(spec.get("responses"), f"{where}.responses")
        for status, raw in responses.items():
            code = str(status)
            if not (code.isdigit() and 100 <= int(code) <= 599):
                continue  # "default", "2XX": nothing a mock can answer with
            rwhere = f"{where}.responses.{code}"
            response = self.mapping(raw, rwhere)
            bodies = self.swagger_examples(response, rwhere) if self.swagger else self.oas3_examples(response, rwhere)
            if bodies:
                found[int(code)] = bodies
        return found

    def oas3_examples(self, response: dict[Any, Any], where: str) -> dict[str, str]:
        bodies: dict[str, str] = {}
        for content_type, raw in self.mapping(response.get("content"), f"{where}.content").items():
            media = self.mapping(raw, f"{where}.content.{content_type}")
            if "example" in media:
                bodies[str(content_type)] = _text(media["example"])
                continue
            examples = self.mapping(media.get("examples"), f"{where}.content.{content_type}.examples")
            for name, example in examples.items():
                example = self.mapping(example, f"{where}.content.{content_type}.examples.{name}")
                if "value" in example:
                    bodies[str(content_type)] = _text(example["value"])
                    break
            else:
                schema = self.mapping(media.get("schema"), f"{where}.content.{content_type}.schema")
                if "example" in schema:
                    bodies[str(content_type)] = _text(schema["example"])
        return bodies

    def swagger_examples(self, response: dict[Any, Any], where: str) -> dict[str, str]:
        bodies = {str(ct): _text(body) for ct, body in self.mapping(response.get("examples"), f"{where}.examples").items()}
        if not bodies:
            schema = self.mapping(response.get("schema"), f"{where}.schema")
            if "example" in schema:
                produces = self.document.get("produces")
                content_type = produces[0] if isinstance(produces, list) and produces else "application/json"
                bodies[str(content_type)] = _text(schema["example"])
        return bodies

    # -- the operation's description (validate-* policies) ------------------------------------
    def at(self, value: object, pointer: str) -> tuple[object, str]:
        """`value` with its `$ref`s followed, and the JSON pointer of where it finally is."""
        where = pointer
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            where = value["$ref"]
            value = self.resolve({"$ref": where}, _dotted(pointer))
        return value, where

    def schema_ref(self, schema: object, pointer: str) -> SchemaRef | None:
        """The schema at `pointer` (None when absent); a reference keeps its target's location and name."""
        if schema is None:
            return None
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            self.resolve(schema, _dotted(pointer))  # a broken reference is a configuration error
            return SchemaRef(ref, ref.rsplit("/", 1)[-1], schema)
        if not isinstance(schema, dict | bool):
            self.fail(_dotted(pointer), f"expected a schema, got {_kind(schema)}")
        return SchemaRef(pointer, pointer, schema)

    def operation_spec(self, oid: str, item: dict[Any, Any], spec: dict[Any, Any], item_pointer: str,
                       method: str) -> OperationSpec:
        pointer = f"{item_pointer}/{method}"
        parameters: dict[tuple[str, str], ParameterSpec] = {}
        bodies: list[tuple[object, str]] = []
        forms: list[str] = []
        for raw_list, list_pointer in ((item.get("parameters"), f"{item_pointer}/parameters"),
                                       (spec.get("parameters"), f"{pointer}/parameters")):
            raw_list, list_pointer = self.at(raw_list, list_pointer)
            if raw_list is None:
                continue
            if not isinstance(raw_list, list):
                self.fail(_dotted(list_pointer), f"expected a list, got {_kind(raw_list)}")
            for i, raw in enumerate(raw_list):
                param, ppointer = self.at(raw, f"{list_pointer}/{i}")
                if not isinstance(param, dict) or not isinstance(param.get("name"), str) or "in" not in param:
                    self.fail(_dotted(ppointer), "a parameter needs 'name' and 'in'")
                location = str(param["in"])
                if location == "body":
                    bodies.append((param.get("schema"), f"{ppointer}/schema"))
                elif location == "formData":
                    forms.append(param["name"])
                elif location in ("query", "header", "path"):
                    parameters[(location, param["name"].lower() if location == "header" else param["name"])] = \
                        self.parameter(param, location, ppointer)
        request = self.swagger_request(spec, bodies, forms) if self.swagger else self.request_body(spec, pointer)
        responses: dict[str, ResponseSpec] = {}
        raw_responses, rpointer = self.at(spec.get("responses"), f"{pointer}/responses")
        for status, raw in (raw_responses.items() if isinstance(raw_responses, dict) else ()):
            code = str(status).upper() if str(status).lower() != "default" else "default"
            if not (code == "default" or re.fullmatch(r"[1-5](\d\d|XX)", code)):
                continue  # x-... extensions
            response, where = self.at(raw, f"{rpointer}/{_escape(str(status))}")
            responses[code] = self.response(self.mapping(response, _dotted(where)), where)
        return OperationSpec(id=oid, schemas=self.schemas, parameters=tuple(parameters.values()), request=request,
                             responses=responses)

    def parameter(self, param: dict[Any, Any], location: str, pointer: str) -> ParameterSpec:
        if self.swagger or "schema" not in param and "content" in param:
            schema_pointer = f"{pointer}/schema"
            schema = self.swagger_schema(param) if self.swagger else self.content_schema(param, pointer)
        else:
            schema_pointer, schema = f"{pointer}/schema", param.get("schema")
        ref = self.schema_ref(schema, schema_pointer)
        resolved = self.schemas.resolve(schema) if ref is not None else {}
        kind = _json_type(resolved)
        items = _json_type(self.schemas.resolve(resolved.get("items"))) if isinstance(resolved, dict) else ""
        style, explode = self.parameter_style(param, location)
        return ParameterSpec(name=str(param["name"]), location=location, required=bool(param.get("required")),
                             schema=ref, kind=kind, items=items, style=style, explode=explode)

    def parameter_style(self, param: dict[Any, Any], location: str) -> tuple[str, bool]:
        if self.swagger:
            return {"csv": ("form", False), "ssv": ("spaceDelimited", False), "tsv": ("tabDelimited", False),
                    "pipes": ("pipeDelimited", False), "multi": ("form", True)}.get(
                        str(param.get("collectionFormat", "csv")), ("form", False))
        style = str(param.get("style") or ("form" if location == "query" else "simple"))
        explode = param.get("explode")
        return style, bool(explode) if explode is not None else style == "form"

    def content_schema(self, param: dict[Any, Any], pointer: str) -> object:
        content = self.mapping(param.get("content"), _dotted(f"{pointer}/content"))
        for media in content.values():
            return self.mapping(media, _dotted(f"{pointer}/content")).get("schema")
        return None

    @staticmethod
    def swagger_schema(param: dict[Any, Any]) -> dict[str, Any]:
        """The JSON Schema of a Swagger 2.0 parameter or header (its type keywords are on the object itself)."""
        keys = ("type", "format", "items", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf")
        schema = {key: param[key] for key in keys if key in param}
        if isinstance(schema.get("items"), dict):
            schema["items"] = _Reader.swagger_schema(schema["items"])
        return schema

    def request_body(self, spec: dict[Any, Any], pointer: str) -> BodySpec:
        body, where = self.at(spec.get("requestBody"), f"{pointer}/requestBody")
        if body is None:
            return BodySpec()
        body = self.mapping(body, _dotted(where))
        return BodySpec(self.content(body.get("content"), f"{where}/content"), bool(body.get("required")))

    def content(self, raw: object, pointer: str) -> dict[str, SchemaRef | None]:
        found: dict[str, SchemaRef | None] = {}
        for content_type, media in self.mapping(raw, _dotted(pointer)).items():
            mpointer = f"{pointer}/{_escape(str(content_type))}"
            media = self.mapping(media, _dotted(mpointer))
            found[str(content_type).split(";", 1)[0].strip().lower()] = self.schema_ref(media.get("schema"), f"{mpointer}/schema")
        return found

    def swagger_request(self, spec: dict[Any, Any], bodies: list[tuple[object, str]], forms: list[str]) -> BodySpec:
        consumes = spec.get("consumes") or self.document.get("consumes") or ["application/json"]
        if bodies:
            schema, pointer = bodies[-1]
            ref = self.schema_ref(schema, pointer)
            return BodySpec({str(ct).lower(): ref for ct in consumes if isinstance(ct, str)}, required=True)
        if forms:  # form fields are not validated: the content type is specified, its body is not checked
            return BodySpec({str(ct).lower(): None for ct in consumes if isinstance(ct, str)})
        return BodySpec()

    def response(self, response: dict[Any, Any], pointer: str) -> ResponseSpec:
        headers: dict[str, ParameterSpec] = {}
        for name, raw in self.mapping(response.get("headers"), _dotted(f"{pointer}/headers")).items():
            header, hpointer = self.at(raw, f"{pointer}/headers/{_escape(str(name))}")
            header = self.mapping(header, _dotted(hpointer))
            headers[str(name).lower()] = self.parameter({**header, "name": str(name)}, "header", hpointer)
        if self.swagger:
            produces = self.document.get("produces") or ["application/json"]
            schema = self.schema_ref(response.get("schema"), f"{pointer}/schema")
            body = BodySpec({str(ct).lower(): schema for ct in produces if isinstance(ct, str)}) if schema else BodySpec()
        else:
            body = BodySpec(self.content(response.get("content"), f"{pointer}/content"))
        return ResponseSpec(headers, body)

    def check_schemas(self, operations: list[OperationSettings]) -> None:
        """Compile every body and parameter schema once, so a broken one stops the start, not a request."""
        from engine.apispec.schemas import REQUEST, RESPONSE

        for operation in operations:
            spec = operation.spec
            if spec is None:
                continue
            request = [s for s in spec.request.content.values() if s] + [p.schema for p in spec.parameters if p.schema]
            response = [s for r in spec.responses.values() for s in (*r.body.content.values(),
                        *(h.schema for h in r.headers.values())) if s]
            for direction, schemas in ((REQUEST, request), (RESPONSE, response)):
                for schema in schemas:
                    try:
                        self.schemas.validator(schema, direction)
                    except SchemaError as exc:
                        self.fail(_dotted(schema.pointer), str(exc))


def _escape(key: str) -> str:
    """A key as a JSON pointer segment (`/pets/{id}` -> `~1pets~1{id}`)."""
    return key.replace("~", "~0").replace("/", "~1")


def _dotted(pointer: str) -> str:
    """A JSON pointer as the key path messages use (`#/paths/~1pets/get` -> `paths./pets.get`)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("#/").split("/")]
    return ".".join(parts)


def _json_type(schema: object) -> str:
    """The JSON type a schema names ("" when none; the first non-null one of a list)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"
