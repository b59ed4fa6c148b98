"""OpenAPI schemas as JSON Schema (engine.apispec): dialects, nullable, readOnly/writeOnly, parameter values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.apispec import ParameterSpec
from engine.apispec.schemas import REQUEST, RESPONSE, ApiSchemas, SchemaError, SchemaRef, json_path
from engine.apispec.values import MultipleValues, read_parameter


def _messages(schemas: ApiSchemas, schema: Any, instance: object, direction: str = REQUEST,
              additional: bool | None = None) -> list[str]:
    ref = SchemaRef(f"#/inline/{json.dumps(schema, sort_keys=True)}", "inline", schema)  # validators are memoized by location
    return [p.message for p in schemas.validator(ref, direction, additional).problems(instance)]


COMPONENTS = {"components": {"schemas": {
    "Pet": {"type": "object", "required": ["id", "name", "password"], "properties": {
        "id": {"type": "integer", "readOnly": True},
        "name": {"type": "string", "nullable": True},
        "password": {"type": "string", "writeOnly": True},
        "kind": {"$ref": "#/components/schemas/Kind"},
    }},
    "Kind": {"type": "string", "enum": ["cat", "dog"], "nullable": True},
}}}


class TestOpenApi30:
    schemas = ApiSchemas(COMPONENTS, "oas30")
    pet = {"$ref": "#/components/schemas/Pet"}

    def test_read_only_is_not_required_in_a_request(self) -> None:
        assert _messages(self.schemas, self.pet, {"name": "Tom", "password": "x"}) == []
        assert _messages(self.schemas, self.pet, {"name": "Tom"}) == ['"password" is a required property']

    def test_write_only_is_not_required_in_a_response(self) -> None:
        assert _messages(self.schemas, self.pet, {"id": 1, "name": "Tom"}, RESPONSE) == []
        assert _messages(self.schemas, self.pet, {"name": "Tom"}, RESPONSE) == ['"id" is a required property']

    def test_nullable_adds_null_to_type_and_enum(self) -> None:
        assert _messages(self.schemas, self.pet, {"name": None, "password": "x", "kind": None}) == []
        assert len(_messages(self.schemas, self.pet, {"name": None, "password": "x", "kind": "cow"})) == 1

    def test_nullable_composition(self) -> None:
        schema = {"nullable": True, "allOf": [{"type": "string"}]}
        assert _messages(self.schemas, schema, None) == []
        assert _messages(self.schemas, schema, 3) != []

    def test_additional_properties_override(self) -> None:
        loose = {"type": "object", "properties": {"a": {"type": "integer"}}}
        assert _messages(self.schemas, loose, {"a": 1, "b": 2}) == []
        assert _messages(self.schemas, loose, {"a": 1, "b": 2}, additional=False) != []
        strict = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
        assert _messages(self.schemas, strict, {"b": 2}, additional=True) == []

    def test_validators_are_compiled_once(self) -> None:
        ref = SchemaRef("#/components/schemas/Pet", "Pet", self.pet)
        assert self.schemas.validator(ref, REQUEST) is self.schemas.validator(ref, REQUEST)
        assert self.schemas.validator(ref, REQUEST) is not self.schemas.validator(ref, RESPONSE)

    def test_external_reference_is_a_schema_error(self) -> None:
        with pytest.raises(SchemaError, match="cannot be compiled"):
            self.schemas.validator(SchemaRef("#/e", "e", {"$ref": "https://example.com/pet.json"}), REQUEST)

    def test_schema_ref_lookup(self) -> None:
        assert self.schemas.ref("#/components/schemas/Kind").name == "Kind"
        with pytest.raises(KeyError):
            self.schemas.ref("#/components/schemas/Nope")


def test_recursive_component() -> None:
    schemas = ApiSchemas({"components": {"schemas": {"Node": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}}}},
        "oas30")
    tree = {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}
    assert _messages(schemas, {"$ref": "#/components/schemas/Node"}, tree) == []
    tree["children"][0]["children"][0] = {"children": []}
    assert _messages(schemas, {"$ref": "#/components/schemas/Node"}, tree) == ['"name" is a required property']


def test_openapi_31_is_json_schema_2020_12() -> None:
    schemas = ApiSchemas({"components": {"schemas": {"N": {"type": ["integer", "null"], "exclusiveMinimum": 0}}}}, "oas31")
    schema = {"$ref": "#/components/schemas/N"}
    assert _messages(schemas, schema, None) == []
    assert _messages(schemas, schema, 0) != []


def test_swagger_2_x_nullable_and_file() -> None:
    schemas = ApiSchemas({"definitions": {"F": {"type": "object", "properties": {
        "a": {"type": "string", "x-nullable": True}, "f": {"type": "file"}}}}}, "swagger2")
    assert _messages(schemas, {"$ref": "#/definitions/F"}, {"a": None, "f": 12}) == []


def test_json_path() -> None:
    assert json_path(["items", 3, "qty"]) == "items[3].qty"
    assert json_path([0, "a"]) == "[0].a"
    assert json_path([]) == ""


class TestParameterValues:
    def test_scalars(self) -> None:
        assert read_parameter(ParameterSpec("n", "query", kind="integer"), ["-12"]) == -12
        assert read_parameter(ParameterSpec("n", "query", kind="number"), ["1.5"]) == 1.5
        assert read_parameter(ParameterSpec("n", "query", kind="boolean"), ["True"]) is True
        assert read_parameter(ParameterSpec("n", "query", kind="string"), ["007"]) == "007"
        for kind, text in (("integer", "1.5"), ("number", "nan"), ("boolean", "yes")):
            with pytest.raises(ValueError):
                read_parameter(ParameterSpec("n", "query", kind=kind), [text])

    def test_arrays_by_style(self) -> None:
        exploded = ParameterSpec("t", "query", kind="array", items="integer", style="form", explode=True)
        assert read_parameter(exploded, ["1", "2"]) == [1, 2]
        comma = ParameterSpec("t", "query", kind="array", items="string", style="form", explode=False)
        assert read_parameter(comma, ["a,b"]) == ["a", "b"]
        pipes = ParameterSpec("t", "query", kind="array", items="string", style="pipeDelimited", explode=False)
        assert read_parameter(pipes, ["a|b"]) == ["a", "b"]
        header = ParameterSpec("h", "header", kind="array", items="integer", style="simple")
        assert read_parameter(header, ["1, 2", "3"]) == [1, 2, 3]

    def test_one_value_parameters_refuse_repeats(self) -> None:
        with pytest.raises(MultipleValues):
            read_parameter(ParameterSpec("n", "query", kind="integer"), ["1", "2"])
        with pytest.raises(MultipleValues):
            read_parameter(ParameterSpec("t", "query", kind="array", style="form", explode=False), ["a", "b"])
