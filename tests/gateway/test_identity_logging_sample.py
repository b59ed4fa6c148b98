"""samples/identity-logging end to end: a real token server process (OAuth 2.0 client credentials), a real
redis-server for the audit stream, the real gateway, and a real echo backend in place of the demo one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis
import yaml

from tests.support.gateway import Backend, run_gateway
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "identity-logging"
SECRET = "sample-secret"


def sample_config(token_port: int, redis_url: str, backend_url: str) -> dict:
    config = yaml.safe_load((SAMPLE / "gateway.yaml").read_text())
    del config["demo-backend"], config["server"]  # the test's own echo backend and free ports
    config["named-values"].update({
        "backend-url": backend_url, "redis-url": redis_url,
        "token-endpoint": f"http://127.0.0.1:{token_port}/sample-tenant/oauth2/v2.0/token",
    })
    config["identity"]["client-secret"] = SECRET
    api = config["apis"]["petstore"]
    api["openapi"], api["policy"] = str(SAMPLE / api["openapi"]), str(SAMPLE / api["policy"])
    return config


def test_identity_validation_and_audit_stream(tmp_path: Path, redis_server: RedisServer) -> None:
    token_server = subprocess.Popen([sys.executable, "-m", "tests.support.token_server", SECRET, "-"], cwd=ROOT,
                                    stdout=subprocess.PIPE, text=True)
    try:
        assert token_server.stdout is not None
        token_port = int(token_server.stdout.readline())
        with Backend() as backend, run_gateway(tmp_path, sample_config(token_port, redis_server.url, backend.url)) as gw:
            added = gw.request("POST", "/petstore/pets", body=b'{"name": "Rex", "tag": "dog"}',
                               headers={"Content-Type": "application/json"})
            invalid = gw.request("POST", "/petstore/pets", body=b'{"tag": "cat"}',
                                 headers={"Content-Type": "application/json"})
            listed = gw.get("/petstore/pets")
        assert added.status == listed.status == 200  # the echo backend answers 200
        assert added.json()["headers"]["authorization"] == "Bearer oauth|api://petstore/.default|gateway|1"
        assert listed.json()["headers"]["authorization"] == added.json()["headers"]["authorization"]  # cached
        assert invalid.status == 400 and "name" in invalid.json()["message"]
        assert len(backend.requests) == 2  # the invalid body never reached the backend
        with urllib.request.urlopen(f"http://127.0.0.1:{token_port}/calls", timeout=5) as answer:
            calls = json.loads(answer.read())
        assert calls["calls"] == 1 and calls["requests"][0]["form"]["client_id"] == "gateway"

        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        deadline = time.monotonic() + 5
        while client.xlen("petstore-audit") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        events = [json.loads(fields["message"]) for _, fields in client.xrange("petstore-audit")]
        assert [(e["operation"], e["status"]) for e in events] == [("add-pet", 200), ("add-pet", 400), ("list-pets", 200)]
        assert events[1]["error"]  # context.LastError.Reason of the validate-content failure
    finally:
        token_server.terminate()
        token_server.wait(5)
