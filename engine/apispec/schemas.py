"""OpenAPI schemas as compiled JSON Schema validators (jsonschema-rs), built once per configuration.

OpenAPI 3.0 and Swagger 2.0 schemas are a dialect of JSON Schema draft 4; they are converted
before compiling: `nullable: true` (`x-nullable` in Swagger 2.0) adds `null` to the allowed
types, a `readOnly` property is not required in a request and a `writeOnly` one not in a
response, Swagger's `type: file` accepts anything. OpenAPI 3.1 schemas are JSON Schema 2020-12
and compile as they are (only the readOnly/writeOnly rule applies).

References stay references: the converted `components.schemas` (`definitions` in Swagger 2.0)
are registered once per direction as one resource (`urn:policygate:api`), and a validator's own
`#/...` references point into it, so compiling a validator costs what its schema reaches, not
the size of the whole description. Nothing is fetched: an external reference is a schema error. Patterns run on a regex engine with a
backtracking limit, so a schema cannot make a request spin.

Why jsonschema-rs: measured against `jsonschema` and `fastjsonschema` on a 2 KB order document
with nested references, patterns and formats, it validates ~40x faster than `jsonschema` and
~3x faster than `fastjsonschema`, reports every error with its path, and never generates Python
code from the schema (docs/validation.md has the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

REQUEST = "request"
RESPONSE = "response"
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("additionalProperties", "items", "additionalItems", "not", "contains", "if", "then", "else",
                  "propertyNames", "unevaluatedProperties", "unevaluatedItems")
BASE = "urn:policygate:api"  # where the description's schemas are registered


class SchemaError(Exception):
    """A schema of the API description cannot be compiled (the message says why and where)."""


@dataclass(frozen=True)
class SchemaRef:
    """A schema inside the description: where it is (a JSON pointer) and the name errors use."""

    pointer: str  # "#/paths/~1pets/post/requestBody/content/application~1json/schema"
    name: str  # the component name ("Pet") when the schema is a reference to one, else the pointer
    raw: Any = field(compare=False, repr=False)


@dataclass(frozen=True)
class SchemaProblem:
    """One way an instance breaks its schema: the validator's message and where (`items[3].qty`)."""

    message: str
    path: str


class SchemaValidator:
    """A compiled schema: `problems(instance)` lists what is wrong (empty when valid)."""

    __slots__ = ("_validator",)

    def __init__(self, validator: Any) -> None:
        self._validator = validator

    def problems(self, instance: object, limit: int = 10) -> list[SchemaProblem]:
        found: list[SchemaProblem] = []
        if self._validator.is_valid(instance):
            return found
        for error in self._validator.iter_errors(instance):
            found.append(SchemaProblem(error.message, json_path(error.instance_path)))
            if len(found) >= limit:
                break
        return found


def json_path(parts: list[str | int]) -> str:
    """Newtonsoft-style path of an instance location: `items[3].quantity` ('' for the root)."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class ApiSchemas:
    """The schemas of one API description and the validators compiled from them (memoized).

    `dialect` is "oas30", "oas31" or "swagger2". Validators are keyed by schema location, direction
    (request/response) and the `allow-additional-properties` override, so each is compiled once.
    """

    def __init__(self, document: dict[str, Any], dialect: str) -> None:
        self.document = document
        self.dialect = dialect
        self._registries: dict[tuple[str, bool | None], Any] = {}
        self._validators: dict[tuple[str, str, bool | None], SchemaValidator] = {}

    # -- references ----------------------------------------------------------------------------
    def lookup(self, pointer: str) -> Any:
        """The raw value at a local reference (`#/components/schemas/Pet`), or KeyError."""
        if not pointer.startswith("#/"):
            raise KeyError(pointer)
        target: Any = self.document
        for part in pointer[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise KeyError(pointer)
        return target

    def resolve(self, schema: Any) -> Any:
        """Follow `$ref`s to the schema they name (a broken or cyclic one gives `{}`)."""
        seen: set[str] = set()
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
            seen.add(schema["$ref"])
            try:
                schema = self.lookup(schema["$ref"])
            except KeyError:
                return {}
        return schema

    def ref(self, pointer: str) -> SchemaRef:
        """A schema named by a local reference (validate-content's `schema-ref`), or KeyError."""
        raw = self.lookup(pointer)
        if not isinstance(raw, dict | bool):
            raise KeyError(pointer)
        return SchemaRef(pointer, pointer.rsplit("/", 1)[-1], raw)

    # -- validators ----------------------------------------------------------------------------
    def validator(self, schema: SchemaRef, direction: str, additional: bool | None = None) -> SchemaValidator:
        """The compiled validator of `schema` for a request or response body; SchemaError if it cannot compile."""
        key = (schema.pointer, direction, additional)
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = self._compile(schema, direction, additional)
        return found

    def _compile(self, schema: SchemaRef, direction: str, additional: bool | None) -> SchemaValidator:
        root = self.convert(schema.raw, direction, additional, absolute=True)
        draft = jsonschema_rs.Draft202012Validator if self.dialect == "oas31" else jsonschema_rs.Draft4Validator
        try:
            registry = self._registry(direction, additional)
            return SchemaValidator(draft(root, registry=registry, validate_formats=True, offline=True))
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SchemaError(f"schema {schema.pointer} cannot be compiled: {first}") from None

    def _registry(self, direction: str, additional: bool | None) -> Any:
        """The description's converted schemas as one registered resource (built once per variant)."""
        key = (direction, additional)
        if key not in self._registries:
            swagger = self.dialect == "swagger2"
            raw = self.document.get("definitions") if swagger else (self.document.get("components") or {}).get("schemas")
            schemas = {
                str(name): self.convert(value, direction, additional) for name, value in raw.items()
            } if isinstance(raw, dict) else {}
            resource = {"definitions": schemas} if swagger else {"components": {"schemas": schemas}}
            draft = jsonschema_rs.Draft202012 if self.dialect == "oas31" else jsonschema_rs.Draft4
            self._registries[key] = jsonschema_rs.Registry([(BASE, resource)], draft=draft)
        return self._registries[key]

    # -- OpenAPI -> JSON Schema ----------------------------------------------------------------
    def convert(self, schema: Any, direction: str, additional: bool | None = None, absolute: bool = False) -> Any:
        """A copy of `schema` in plain JSON Schema for one direction (see the module docstring).

        `absolute` makes `#/...` references point into the registered resource (`BASE#/...`).
        """
        if not isinstance(schema, dict):
            return schema
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self.convert(sub, direction, additional, absolute) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.convert(sub, direction, additional, absolute) for sub in value]
            elif key in _SCHEMA_VALUES:
                out[key] = (
                    [self.convert(sub, direction, additional, absolute) for sub in value] if isinstance(value, list)
                    else self.convert(value, direction, additional, absolute)
                )
            elif key == "$ref" and absolute and isinstance(value, str) and value.startswith("#"):
                out[key] = BASE + value
            else:
                out[key] = value
        if "$ref" in out and self.dialect != "oas31":
            return {"$ref": out["$ref"]}  # draft 4 and OpenAPI 3.0: siblings of $ref are ignored
        if self.dialect != "oas31":
            self._nullable(out)
            if out.get("type") == "file":
                del out["type"]
        if isinstance(out.get("required"), list) and isinstance(schema.get("properties"), dict):
            hidden = "readOnly" if direction == REQUEST else "writeOnly"
            properties = schema["properties"]
            out["required"] = [
                name for name in out["required"]
                if not (isinstance(self.resolve(properties.get(name)), dict) and self.resolve(properties.get(name)).get(hidden))
            ]
            if not out["required"] and self.dialect != "oas31":
                del out["required"]  # draft 4 wants at least one name
        if additional is not None and (out.get("type") == "object" or "properties" in out):
            out["additionalProperties"] = additional
        return out

    def _nullable(self, out: dict[str, Any]) -> None:
        flag = out.pop("nullable", None) if self.dialect == "oas30" else out.pop("x-nullable", None)
        if flag is not True:
            return
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if kind is None and any(k in out for k in _SCHEMA_LISTS):
            rest = dict(out)
            out.clear()
            out["anyOf"] = [{"type": "null"}, rest]
