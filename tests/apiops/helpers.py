"""Helpers for APIOps tests: write small APIOps folders, serve settings with the real harness pieces."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.gateway.settings import GatewaySettings
from tests.support.gateway import START_TIMEOUT, RunningGateway, _LoopThread

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "apiops"


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def api_folder(root: Path, name: str, path: str, *, spec: str | None = None, spec_name: str = "specification.yaml",
               **properties: Any) -> Path:
    """apis/<name>/apiInformation.json (+ a specification) under `root`."""
    folder = root / "apis" / name
    props = {"displayName": name, "path": path, "serviceUrl": "http://127.0.0.1:9", **properties}
    write_json(folder / "apiInformation.json", {"properties": props})
    if spec is not None:
        write_text(folder / spec_name, spec)
    return folder


SIMPLE_SPEC = """openapi: 3.0.1
info: {title: t, version: "1"}
paths:
  /items:
    get: {operationId: listItems, responses: {"200": {description: ok}}}
  /items/{id}:
    get: {operationId: getItem, summary: One item, responses: {"200": {description: ok}}}
"""


@contextmanager
def serve_settings(settings: GatewaySettings, directory: Path) -> Iterator[RunningGateway]:
    """Start a real Hypercorn gateway for `settings` on free loopback ports (like `run_gateway`)."""
    from engine.gateway.runner import GatewayServer

    server = GatewayServer(settings, host="127.0.0.1", port=0, admin_port=False)
    server.prepare()
    thread = _LoopThread("apiops-gateway")
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        holder["shutdown"] = asyncio.Event()
        await server.serve(holder["shutdown"], ready=lambda _: ready.set())

    future = thread.submit(main())
    try:
        if not ready.wait(START_TIMEOUT):
            if future.done():
                future.result()
            raise RuntimeError("gateway did not start")
        yield RunningGateway(server, thread, directory)
    finally:
        if "shutdown" in holder:
            thread.loop.call_soon_threadsafe(holder["shutdown"].set)
            try:
                future.result(15)
            except Exception:  # shutting down: must not hide the test's own failure
                pass
        thread.stop()
