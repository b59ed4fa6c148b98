"""Admin listener: Prometheus metrics and health; the optional access log."""

from __future__ import annotations

import json

import pytest

from tests.support.gateway import http_request, simple_config

pytestmark = pytest.mark.every_server  # TLS, HTTP/2, reload, admin, errors, streaming: on every server


def test_metrics_count_requests_by_api_operation_status(gateway) -> None:
    config = simple_config(operations={"get": {"method": "GET", "url-template": "/items/{id}"}})
    with gateway(config) as gw:
        for _ in range(3):
            gw.get("/echo/items/1")
        gw.get("/echo/items/1", headers={"X-Test-Status": "503"})
        gw.get("/missing")
        answer = http_request(gw.admin_url, "GET", "/metrics")
        assert answer.status == 200
        assert answer.headers.get("Content-Type", "").startswith("text/plain")
        text = answer.text
        assert 'policygate_requests_total{api="echo",operation="get",status="200"} 3' in text
        assert 'policygate_requests_total{api="echo",operation="get",status="503"} 1' in text
        assert 'policygate_requests_total{api="",operation="",status="404"} 1' in text
        assert 'policygate_request_duration_seconds_count{api="echo"} 4' in text
        assert "# TYPE policygate_request_duration_seconds histogram" in text
        assert "policygate_throttled_requests_total" in text


def test_health(gateway) -> None:
    with gateway(simple_config()) as gw:
        answer = http_request(gw.admin_url, "GET", "/health")
        assert answer.status == 200 and answer.json()["status"] == "ok"


def test_access_log_writes_one_json_line_per_request(gateway, capsys) -> None:
    with gateway(simple_config(), access_log=True) as gw:
        gw.get("/echo/x?y=1")
        gw.get("/missing")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [(r["status"], r["api"]) for r in lines] == [(200, "echo"), (404, "")]
    assert lines[0]["url"].endswith("/echo/x?y=1")
    assert lines[1]["error"]["reason"] == "OperationNotFound"


def test_components_add_admin_routes(gateway) -> None:
    with gateway(simple_config()) as gw:
        purge = http_request(gw.admin_url, "POST", "/cache/purge?api=echo")  # registered by the cache service
        assert purge.status == 200 and purge.json()["removed"] == 0
        assert http_request(gw.admin_url, "GET", "/nothing-here").status == 404


async def test_create_app_from_settings_serves_with_quart_test_client(tmp_path, backend) -> None:
    from engine.gateway.config import parse_settings
    from engine.gateway.runner import create_app

    settings = parse_settings(f"apis: {{e: {{path: e, service-url: '{backend.url}', subscription-required: false}}}}",
                              file=tmp_path / "gateway.yaml")
    app = create_app(settings)
    async with app.test_app() as test_app:  # runs the lifespan: the backend client starts and stops
        client = test_app.test_client()
        response = await client.get("/e/hello")
        assert response.status_code == 200
        assert (await response.get_json())["path"] == "/hello"
        assert (await client.get("/missing")).status_code == 404


def test_ready_is_503_until_the_services_are_started(tmp_path) -> None:
    from engine.gateway.admin import create_admin_app
    from engine.gateway.runner import GatewayServer, load_server

    (tmp_path / "gateway.yaml").write_text("apis: {a: {service-url: 'http://127.0.0.1:1'}}\n")
    server = load_server(tmp_path / "gateway.yaml", admin_port=False)
    assert isinstance(server, GatewayServer) and server.services is not None

    async def probe() -> tuple[int, dict[str, object]]:
        response = await create_admin_app(server.services).test_client().get("/ready")
        return response.status_code, await response.get_json()

    import asyncio

    assert asyncio.run(probe()) == (503, {"status": "not ready", "reason": "starting"})


def test_ready_follows_redis_in_fail_closed_mode_and_health_does_not(gateway, redis_server) -> None:
    config = simple_config(**{"rate-limits": {"external": redis_server.url, "failure-mode": "closed"}})
    with gateway(config) as gw:
        assert wait_ready(gw.admin_url).status == 200
        redis_server.stop()
        answer = http_request(gw.admin_url, "GET", "/ready")
        assert answer.status == 503 and "unreachable (failure-mode closed)" in answer.json()["reason"]
        assert http_request(gw.admin_url, "GET", "/health").status == 200
        redis_server.start()
        assert wait_ready(gw.admin_url).status == 200


def wait_ready(admin_url: str, seconds: float = 10.0):
    """/ready once it answers 200 (or its last answer after `seconds`): start-up runs beside the listener."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        answer = http_request(admin_url, "GET", "/ready")
        if answer.status == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_ready_ignores_redis_in_fail_open_mode(gateway) -> None:
    from tests.support.gateway import Backend

    config = simple_config(**{"rate-limits": {"external": Backend.unused_url().replace("http", "redis"),
                                              "failure-mode": "open"}})
    with gateway(config) as gw:
        assert wait_ready(gw.admin_url).json() == {"status": "ready"}
