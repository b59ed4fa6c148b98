"""Operations from an OpenAPI document (3.x or Swagger 2.0, YAML or JSON).

Every path + method becomes an `OperationSettings`: the id is the `operationId` (or, like APIM
on import, one derived from method and path), the URL template is the path as written
(`/pets/{id}`), the name is the summary, and the response examples feed `mock-response`.
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
                    )
                )
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
