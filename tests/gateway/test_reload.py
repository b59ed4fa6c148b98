"""Reload: a good change is swapped in atomically; a bad one keeps the running configuration."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import yaml

from tests.gateway.conftest import document
from tests.support.gateway import simple_config

pytestmark = pytest.mark.every_server  # TLS, HTTP/2, reload, admin, errors, streaming: on every server

V1 = document(outbound='<base /><set-header name="X-Version" exists-action="override"><value>1</value></set-header>')
V2 = document(outbound='<base /><set-header name="X-Version" exists-action="override"><value>2</value></set-header>')


def test_reload_swaps_documents_and_config(gateway) -> None:
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": V1}) as gw:
        assert gw.get("/echo/x").headers.get("X-Version") == "1"
        gw.write("api.xml", V2)
        assert gw.reload() is True
        assert gw.get("/echo/x").headers.get("X-Version") == "2"
        config = yaml.safe_load((gw.directory / "gateway.yaml").read_text())
        config["apis"]["echo"]["path"] = "moved"
        gw.write("gateway.yaml", yaml.safe_dump(config))
        assert gw.reload() is True
        assert gw.get("/echo/x").status == 404
        assert gw.get("/moved/x").headers.get("X-Version") == "2"
        assert 'policygate_config_reloads_total{result="ok"} 2' in gw.metrics()


def test_bad_document_keeps_old_configuration(gateway, caplog) -> None:
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": V1}) as gw:
        gw.write("api.xml", "<policies><inbound><set-header name='X'></inbound></policies>")
        with caplog.at_level(logging.ERROR, logger="policygate.reload"):
            assert gw.reload() is False
        assert "keeping the running configuration" in caplog.text
        assert "api.xml:1:" in caplog.text  # the diagnostic names the file and position
        assert gw.get("/echo/x").headers.get("X-Version") == "1"
        gw.write("api.xml", document(inbound="<base /><no-such-policy />"))
        assert gw.reload() is False
        gw.write("gateway.yaml", "apis: {echo: {service-url: 'not a url'}}")
        assert gw.reload() is False
        assert gw.get("/echo/x").headers.get("X-Version") == "1"
        assert 'policygate_config_reloads_total{result="failed"} 3' in gw.metrics()


def test_file_watch_reloads_changed_documents(gateway) -> None:
    from engine.gateway.reload import watch_files

    with gateway(simple_config(api_policy="api.xml"), {"api.xml": V1}) as gw:
        async def start():
            stop = asyncio.Event()
            return stop, asyncio.ensure_future(watch_files(gw.server, stop, interval=0.05))

        stop, task = gw.run(start)
        try:
            gw.write("api.xml", V2)
            deadline = time.monotonic() + 20
            while gw.get("/echo/x").headers.get("X-Version") != "2":
                assert time.monotonic() < deadline, "the change was not picked up"
                time.sleep(0.05)
        finally:
            async def finish():
                stop.set()
                await task

            gw.run(finish)
