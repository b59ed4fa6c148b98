"""`--reload` on an APIOps folder: a change to any file of the folder (here apiInformation.json) is picked up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from engine.gateway.apiops import load_apiops
from tests.apiops.helpers import serve_settings
from tests.apiops.test_serve_sample import SECRET, copy_sample
from tests.support.gateway import Backend


def test_file_watch_reloads_changed_api_information(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.gateway.reload import watch_files

    for name, value in SECRET.items():
        monkeypatch.setenv(name, value)  # reload reads secrets from the process environment
    with Backend() as backend:
        folder = copy_sample(tmp_path, backend.url)
        with serve_settings(load_apiops(folder), folder) as gateway:
            assert gateway.get("/petstore/pets/1").headers.get("X-Api") == "Pet Store"

            async def start() -> tuple[asyncio.Event, asyncio.Future[None]]:
                stop = asyncio.Event()
                return stop, asyncio.ensure_future(watch_files(gateway.server, stop, interval=0.05))

            stop, task = gateway.run(start)
            try:
                info = folder / "apis" / "petstore" / "apiInformation.json"
                info.write_text(info.read_text().replace('"Pet Store"', '"Pet Store v2"'))
                deadline = time.monotonic() + 20
                while gateway.get("/petstore/pets/1").headers.get("X-Api") != "Pet Store v2":
                    assert time.monotonic() < deadline, "the changed apiInformation.json was not picked up"
                    time.sleep(0.05)
            finally:
                async def finish() -> None:
                    stop.set()
                    await task

                gateway.run(finish)
