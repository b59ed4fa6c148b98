"""operations_from_openapi: OpenAPI 3.x and Swagger 2.0, YAML and JSON, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.gateway.openapi import derived_operation_id, operations_from_openapi
from tests.apiops.helpers import write_text

OAS3_YAML = """openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    parameters: []
    get:
      operationId: listPets
      summary: List pets
      responses:
        200:
          description: ok
          content:
            application/json:
              examples:
                two: {value: [{id: 1}, {id: 2}]}
            text/plain:
              example: two pets
    post:
      responses: {"201": {description: created}}
  /pets/{petId}:
    get:
      operationId: getPet
      responses:
        "200": {$ref: "#/components/responses/Pet"}
        default: {description: error}
  /files/{*path}:
    delete: {operationId: deleteFile, responses: {"204": {description: gone}}}
  x-internal: {}
components:
  responses:
    Pet:
      description: a pet
      content:
        application/json:
          schema: {type: object, example: {id: 7, name: Rex}}
"""


def test_openapi3_yaml(tmp_path: Path) -> None:
    ops = operations_from_openapi(write_text(tmp_path / "spec.yaml", OAS3_YAML), where="test")
    assert [(o.id, o.method, o.url_template) for o in ops] == [
        ("listPets", "GET", "/pets"),
        ("post-pets", "POST", "/pets"),
        ("getPet", "GET", "/pets/{petId}"),
        ("deleteFile", "DELETE", "/files/{*path}"),
    ]
    by_id = {o.id: o for o in ops}
    assert by_id["listPets"].name == "List pets"
    assert json.loads(by_id["listPets"].examples[200]["application/json"]) == [{"id": 1}, {"id": 2}]
    assert by_id["listPets"].examples[200]["text/plain"] == "two pets"
    assert by_id["post-pets"].name == "post-pets" and by_id["post-pets"].examples == {}
    assert json.loads(by_id["getPet"].examples[200]["application/json"]) == {"id": 7, "name": "Rex"}
    assert list(by_id["getPet"].examples) == [200]  # "default" has no status to answer with


def test_swagger2_json(tmp_path: Path) -> None:
    spec = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "basePath": "/v1",
        "produces": ["application/xml"],
        "paths": {
            "/orders/{id}": {
                "get": {
                    "operationId": "getOrder",
                    "summary": "One order",
                    "responses": {
                        "200": {"description": "ok", "examples": {"application/json": {"id": 1}}},
                        "404": {"description": "missing", "schema": {"example": "<error/>"}},
                    },
                },
                "put": {"responses": {"200": {"description": "ok"}}},
            }
        },
    }
    file = tmp_path / "spec.json"
    file.write_text(json.dumps(spec), encoding="utf-8")
    ops = operations_from_openapi(file, where="")
    assert [(o.id, o.method, o.url_template, o.name) for o in ops] == [
        ("getOrder", "GET", "/orders/{id}", "One order"),
        ("put-orders-id", "PUT", "/orders/{id}", "put-orders-id"),
    ]
    assert ops[0].examples == {200: {"application/json": '{"id": 1}'}, 404: {"application/xml": "<error/>"}}


def test_swagger2_yaml_and_openapi31_json(tmp_path: Path) -> None:
    yaml_file = write_text(tmp_path / "a.yml", "swagger: '2.0'\npaths:\n  /a:\n    get: {responses: {}}\n")
    assert [o.id for o in operations_from_openapi(yaml_file, where="")] == ["get-a"]
    json_file = write_text(tmp_path / "b.json", '{"openapi": "3.1.0", "paths": {"/": {"head": {}}}}')
    (op,) = operations_from_openapi(json_file, where="")
    assert (op.id, op.method, op.url_template) == ("head", "HEAD", "/")


def test_derived_ids() -> None:
    assert derived_operation_id("GET", "/pets/{id}/toys") == "get-pets-id-toys"
    assert derived_operation_id("post", "/") == "post"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "openapi: 3.0.0\npaths: [\n", r"bad\.yaml:\d+:\d+: invalid YAML"),
        ("bad.json", '{"openapi": "3.0.0",}', r"bad\.json:1:\d+: invalid JSON"),
        ("list.yaml", "- a\n", r"list\.yaml: expected a mapping at the top, got a list"),
        ("none.yaml", "info: {}\n", r"none\.yaml: not an OpenAPI document"),
        ("v1.yaml", "swagger: '1.2'\n", r"v1\.yaml: swagger: version '1.2' is not supported"),
        ("v4.yaml", "openapi: 4.0.0\n", r"v4\.yaml: openapi: version '4.0.0' is not supported"),
        ("paths.yaml", "openapi: 3.0.0\npaths: [a]\n", r"paths\.yaml: paths: expected a mapping, got a list"),
        ("slash.yaml", "openapi: 3.0.0\npaths: {pets: {}}\n", r"slash\.yaml: paths\.pets: a path must start with '/'"),
        ("tmpl.yaml", "openapi: 3.0.0\npaths: {'/a/{x}/{x}': {}}\n", r"paths\./a/\{x\}/\{x\}: parameter '\{x\}' appears twice"),
        ("op.yaml", "openapi: 3.0.0\npaths: {/a: {get: [1]}}\n", r"op\.yaml: paths\./a\.get: expected a mapping, got a list"),
        ("dup.yaml", "openapi: 3.0.0\npaths: {/a: {get: {operationId: x}}, /b: {get: {operationId: x}}}\n",
         r"paths\./b\.get\.operationId: 'x' is already the id of GET /a"),
        ("id.yaml", "openapi: 3.0.0\npaths: {/a: {get: {operationId: 5}}}\n", r"paths\./a\.get\.operationId: expected a non-empty string"),
        ("ref.yaml", "openapi: 3.0.0\npaths: {/a: {get: {responses: {'200': {$ref: '#/nope'}}}}}\n",
         r"paths\./a\.get\.responses\.200: reference '#/nope' points nowhere"),
        ("ext.yaml", "openapi: 3.0.0\npaths: {/a: {$ref: 'other.yaml#/x'}}\n", r"paths\./a: external reference 'other\.yaml#/x' is not supported"),
        ("cycle.yaml", "openapi: 3.0.0\nc: {$ref: '#/c'}\npaths: {/a: {$ref: '#/c'}}\n", r"reference cycle through '#/c'"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, name: str, text: str, expected: str) -> None:
    file = write_text(tmp_path / name, text)
    with pytest.raises(ConfigError, match=expected) as caught:
        operations_from_openapi(file, where="apis.x.openapi")
    assert str(caught.value).startswith(str(file))
    assert str(caught.value).endswith("(referenced by apis.x.openapi)")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read OpenAPI file"):
        operations_from_openapi(tmp_path / "nope.yaml", where="")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=r"bin\.yaml: not UTF-8 text"):
        operations_from_openapi(binary, where="")


def test_match_operation(tmp_path: Path) -> None:
    from engine.gateway.openapi import match_operation

    ops = operations_from_openapi(write_text(tmp_path / "spec.yaml", OAS3_YAML), where="")
    assert match_operation("getPet", ops) is ops[2]
    assert match_operation("GETPET", ops) is ops[2]
    assert match_operation("list_pets", ops) is ops[0]  # "List pets" without punctuation
    assert match_operation("List pets!", ops) is ops[0]  # the summary, punctuation ignored
    assert match_operation("post-pets", ops) is ops[1]
    assert match_operation("nothing", ops) is None
