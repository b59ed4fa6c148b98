"""A tiny pet-store backend for the bundled sample (`demo-backend:` in the configuration).

Every answer carries `X-Backend-Call: N` (a counter), so a cached answer is easy to recognise:
its number does not move. Endpoints: GET /pets, GET /pets/{id}, POST /pets, GET /slow?seconds=S,
GET /fail (500), GET /health.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from engine.gateway.settings import DemoBackendSettings

PETS = {
    "1": {"id": 1, "name": "Rex", "species": "dog", "owner": {"name": "Alice", "email": "alice@example.com"}},
    "2": {"id": 2, "name": "Tom", "species": "cat", "owner": {"name": "Bob", "email": "bob@example.com"}},
    "3": {"id": 3, "name": "Nemo", "species": "fish", "owner": {"name": "Carol", "email": "carol@example.com"}},
}


@dataclass
class DemoBackend:
    runner: web.AppRunner
    host: str
    port: int

    async def stop(self) -> None:
        await self.runner.cleanup()


def create_demo_app() -> web.Application:
    calls = 0

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        response = await handler(request)
        response.headers["X-Backend-Call"] = str(calls)
        return response

    def as_json(data: object, status: int = 200) -> web.Response:
        return web.Response(text=json.dumps(data), status=status, content_type="application/json")

    async def list_pets(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)  # a backend worth caching
        return as_json(list(PETS.values()))

    async def get_pet(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        pet = PETS.get(request.match_info["id"])
        if pet is None:
            return as_json({"error": "no such pet"}, 404)
        return as_json(pet)

    async def add_pet(request: web.Request) -> web.Response:
        try:
            pet = await request.json()
        except ValueError:
            return as_json({"error": "body must be JSON"}, 400)
        return as_json({"created": pet}, 201)

    async def slow(request: web.Request) -> web.Response:
        seconds = min(float(request.query.get("seconds", "2")), 30.0)
        await asyncio.sleep(seconds)
        return as_json({"slept": seconds})

    async def fail(request: web.Request) -> web.Response:
        return as_json({"error": "the demo backend failed on purpose"}, 500)

    async def health(request: web.Request) -> web.Response:
        return as_json({"status": "ok"})

    app = web.Application(middlewares=[count])
    app.add_routes([
        web.get("/pets", list_pets), web.get("/pets/{id}", get_pet), web.post("/pets", add_pet),
        web.get("/slow", slow), web.get("/fail", fail), web.get("/health", health),
    ])
    return app


async def start_demo_backend(settings: DemoBackendSettings) -> DemoBackend:
    """Start the demo backend on the running loop."""
    runner = web.AppRunner(create_demo_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    return DemoBackend(runner, settings.host, settings.port)
