"""End to end: samples/apiops served by a real Hypercorn gateway in front of a real backend."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from engine.gateway.apiops import load_apiops
from tests.apiops.helpers import SAMPLE, serve_settings
from tests.support.gateway import Backend, RunningGateway
from tests.support.redis_server import free_port

SECRET = {"POLICYGATE_NV_BACKEND_API_KEY": "s3cret-from-env"}
KEY = {"Ocp-Apim-Subscription-Key": "starter-key-alice"}


def copy_sample(directory: Path, backend_url: str | None = None, demo_port: int | None = None) -> Path:
    """The sample as a user would deploy it: same folder, policygate.yaml set for this environment.

    With `backend_url` the APIs forward there and no demo backend starts; with `demo_port` the
    gateway starts the demo backend there (as `policygate serve samples/apiops` does on 9000).
    """
    folder = directory / "apiops"
    shutil.copytree(SAMPLE, folder)
    side = folder / "policygate.yaml"
    data = yaml.safe_load(side.read_text(encoding="utf-8"))
    if demo_port is not None:
        data["demo-backend"] = {"port": demo_port}
        backend_url = f"http://127.0.0.1:{demo_port}"
    else:
        del data["demo-backend"]
    data["service-urls"] = {"petstore": backend_url, "store-status": backend_url}
    side.write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def echo() -> Iterator[Backend]:
    with Backend() as backend:
        yield backend


@pytest.fixture(scope="module")
def gateway(echo: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    folder = copy_sample(tmp_path_factory.mktemp("sample"), echo.url)
    with serve_settings(load_apiops(folder, SECRET), folder) as running:
        yield running


def test_operation_routing_api_and_operation_policies(gateway: RunningGateway, echo: Backend) -> None:
    answer = gateway.get("/petstore/pets/2?verbose=1")
    assert answer.status == 200
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("GET", "/pets/2", "verbose=1")
    headers = seen["headers"]
    assert headers["x-tenant"] == "contoso"  # named value
    assert headers["x-api-key"] == "s3cret-from-env"  # secret named value from the environment
    assert headers["x-pet-id"] == "2"  # operation policy (getPet), matched URL template parameter
    assert "x-product" not in headers  # no key: no product
    assert answer.headers.get("X-Operation") == "getPet"
    assert answer.headers.get("X-Api") == "Pet Store"
    assert answer.headers.get("X-Plan") is None


def test_fragment_from_global_policy(gateway: RunningGateway) -> None:
    answer = gateway.get("/petstore/pets", headers={"X-Correlation-Id": "abc-123"})
    assert answer.status == 200
    assert answer.json()["headers"]["x-correlation-id"] == "abc-123"
    assert answer.headers.get("X-Correlation-Id") == "abc-123"
    assert answer.headers.get("X-Operation") == "listPets"
    made = gateway.get("/petstore/pets")
    generated = made.json()["headers"]["x-correlation-id"]
    assert len(generated) == 36 and made.headers.get("X-Correlation-Id") == generated  # a request id


def test_product_policy_applies_with_a_subscription_key(gateway: RunningGateway) -> None:
    answer = gateway.get("/petstore/pets/1", headers=KEY)
    assert answer.status == 200
    headers = answer.json()["headers"]
    assert headers["x-product"] == "Starter"
    assert "ocp-apim-subscription-key" not in headers  # deleted by the API policy
    assert answer.headers.get("X-Plan") == "starter"


def test_methods_and_unknown_operations(gateway: RunningGateway) -> None:
    created = gateway.request("POST", "/petstore/pets", body='{"name": "Kit"}', headers={"Content-Type": "application/json"})
    assert created.status == 200 and created.json()["method"] == "POST"
    assert created.json()["body"] == '{"name": "Kit"}'
    assert created.headers.get("X-Operation") is None  # addPet has no operation policy
    assert gateway.request("DELETE", "/petstore/pets/1").status == 404  # not in the specification
    assert gateway.get("/petstore/toys").status == 404
    assert gateway.get("/nowhere").status == 404


def test_second_api_from_swagger_json_and_mock_response(gateway: RunningGateway, echo: Backend) -> None:
    health = gateway.get("/status/health")
    assert health.status == 200 and health.json()["path"] == "/health"
    assert "x-tenant" not in health.json()["headers"]  # the petstore API policy is not on this API
    calls = echo.calls
    toys = gateway.get("/status/toys")
    assert toys.status == 200
    assert toys.headers.get("Content-Type", "").startswith("application/json")
    assert json.loads(toys.body) == [{"id": 1, "name": "ball"}, {"id": 2, "name": "rope"}]
    assert echo.calls == calls  # answered by the gateway


def test_sample_against_the_demo_backend(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path, demo_port=free_port())
    with serve_settings(load_apiops(folder, SECRET), folder) as running:
        assert "demo-backend" in running.server.bound  # started by the gateway, as `policygate serve` does
        pet = running.get("/petstore/pets/1", headers=KEY)
        assert pet.status == 200
        assert pet.json()["name"] == "Rex"
        assert (pet.headers.get("X-Operation"), pet.headers.get("X-Plan")) == ("getPet", "starter")
        assert running.get("/petstore/pets/99").status == 404
        assert running.get("/status/health").json() == {"status": "ok"}
        assert len(running.get("/petstore/pets").json()) == 3
