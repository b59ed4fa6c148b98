"""An OpenAPI document named by `openapi:` in gateway.yaml supplies an API's operations."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.gateway.config import parse_settings
from tests.support.gateway import Backend, run_gateway

SPEC = """
openapi: 3.0.1
info: {title: pets, version: "1"}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      summary: Get a pet
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /pets:
    post:
      operationId: addPet
      responses: {"201": {description: created}}
"""

CONFIG = """
apis:
  pets:
    path: pets
    service-url: "{{backend-url}}"
    subscription-required: false
    openapi: pets.yaml
    operations:
      getPet: { policy: get-pet.xml }
"""

GET_PET = """<policies><inbound><base/>
  <set-header name="X-Pet" exists-action="override"><value>@(context.Request.MatchedParameters["id"])</value></set-header>
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>"""


def write(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)


def test_operations_come_from_the_openapi_document(tmp_path: Path) -> None:
    write(tmp_path, "pets.yaml", SPEC)
    write(tmp_path, "get-pet.xml", GET_PET)
    settings = parse_settings(CONFIG.replace("{{backend-url}}", "http://127.0.0.1:9"), file=tmp_path / "gateway.yaml")
    operations = {op.id: op for op in settings.apis["pets"].operations}
    assert set(operations) == {"getPet", "addPet"}
    assert (operations["getPet"].method, operations["getPet"].url_template) == ("GET", "/pets/{id}")
    assert operations["getPet"].policy == tmp_path / "get-pet.xml"
    assert operations["addPet"].policy is None


def test_refining_an_unknown_operation_names_the_key(tmp_path: Path) -> None:
    write(tmp_path, "pets.yaml", SPEC)
    write(tmp_path, "get-pet.xml", GET_PET)
    bad = CONFIG.replace("getPet: { policy", "getPets: { policy").replace("{{backend-url}}", "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match=r"apis\.pets\.operations\.getPets: no operation 'getPets' in pets\.yaml"):
        parse_settings(bad, file=tmp_path / "gateway.yaml")


def test_missing_openapi_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"apis\.pets\.openapi: file not found"):
        parse_settings(CONFIG.replace("{{backend-url}}", "http://127.0.0.1:9"), file=tmp_path / "gateway.yaml")


def test_gateway_routes_openapi_operations_end_to_end(tmp_path: Path) -> None:
    policies = {"pets.yaml": SPEC, "get-pet.xml": GET_PET}
    with Backend() as backend, run_gateway(tmp_path, CONFIG, policies, backend=backend) as gateway:
        answer = gateway.request("GET", "/pets/pets/42")
        assert answer.status == 200
        assert answer.json()["headers"]["x-pet"] == "42"
        assert gateway.request("POST", "/pets/pets", body=b"{}").status == 200
        assert gateway.request("DELETE", "/pets/pets/42").status == 404
        assert backend.calls == 2
