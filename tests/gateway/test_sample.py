"""The bundled sample (samples/demo) does what the README's "Try it" section says."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.gateway import run_gateway
from tests.support.redis_server import free_port

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "demo"
KEY = {"Ocp-Apim-Subscription-Key": "demo-key"}


def sample_config() -> dict:
    config = yaml.safe_load((SAMPLE / "gateway.yaml").read_text())
    port = free_port()
    config["demo-backend"]["port"] = port
    config["named-values"]["backend-url"] = f"http://127.0.0.1:{port}"
    config["policy"] = str(SAMPLE / config["policy"])
    config["fragments"] = {k: str(SAMPLE / v) for k, v in config["fragments"].items()}
    for product in config["products"].values():
        product["policy"] = str(SAMPLE / product["policy"])
    for api in config["apis"].values():
        api["policy"] = str(SAMPLE / api["policy"])
        for operation in api["operations"].values():
            if "policy" in operation:
                operation["policy"] = str(SAMPLE / operation["policy"])
    return config


def test_sample_tour(tmp_path: Path) -> None:
    with run_gateway(tmp_path, sample_config()) as gw:
        first, second = gw.get("/petstore/pets"), gw.get("/petstore/pets")
        assert first.status == second.status == 200
        assert first.headers.get("X-Backend-Call") == second.headers.get("X-Backend-Call")  # a cache hit
        assert first.json() == second.json()

        pet = gw.get("/petstore/pets/2")
        assert pet.status == 200
        assert "email" not in pet.json()["owner"] and pet.json()["servedBy"] == "policygate"
        assert pet.headers.get("X-Pet-Id") == "2" and pet.headers.get("X-Powered-By") == "policygate"

        codes = [gw.get("/petstore/pets/1", headers=KEY).status for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        throttled = gw.get("/petstore/pets/1", headers=KEY)
        assert throttled.json()["error"]["reason"] == "RateLimitExceeded"
        assert int(throttled.headers.get("Retry-After", "0")) > 0

        slow = gw.get("/petstore/slow")
        assert slow.status == 504
        assert slow.json()["error"]["reason"] == "Timeout"

        broken = gw.get("/petstore/broken")
        assert broken.status == 503 and broken.headers.get("Retry-After") == "10"

        toys = gw.get("/petstore/toys")
        assert toys.status == 200 and toys.json()[0]["name"] == "ball"

        assert gw.get("/petstore/nowhere").status == 404
        assert 'policygate_requests_total{api="petstore",operation="list-pets",status="200"} 2' in gw.metrics()
