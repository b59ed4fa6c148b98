"""End-to-end harness: a real echo backend and a real gateway (native, Granian or Hypercorn), both on loopback.

Both servers run in background threads with their own event loops, so tests may be plain
functions (use `gateway.request(...)`, a small blocking HTTP client) or async (use
`gateway.url` with aiohttp).

    from tests.support.gateway import Backend, run_gateway

    API = '''
    apis:
      echo:
        path: echo
        service-url: "{{backend-url}}"      # the harness sets this named value to the backend's URL
        subscription-required: false
        policy: api.xml
    '''

    def test_header_is_set(tmp_path):
        with Backend() as backend, run_gateway(tmp_path, API, {"api.xml": XML}, backend=backend) as gateway:
            answer = gateway.request("GET", "/echo/x?a=1", headers={"Accept": "text/plain"})
            assert answer.status == 200
            assert answer.json()["path"] == "/x"       # what the backend received
            assert backend.calls == 1

`run_gateway(tmp_path, config, policies, backend=None, **server_options)`:
  - `config`: YAML text or a dict (written to `tmp_path/gateway.yaml`; relative paths resolve there);
  - `policies`: {relative file name: XML text}, written next to the config;
  - `backend`: sets the named value `backend-url` unless the config defines it;
  - `server_options`: passed to `GatewayServer` (e.g. `access_log=True`, `admin_port=False`).
    The HTTP server is `current_server()`: the default choice (`DEFAULT_SERVER`), or $POLICYGATE_TEST_SERVER, or
    the one a test marked `@pytest.mark.every_server` is running on (tests/conftest.py runs those
    once per server in SERVERS).
  Startup problems raise `ConfigError` / `PolicyLoadError` from `run_gateway` itself.
  The returned `RunningGateway` has `.url`, `.admin_url`, `.server` (the GatewayServer, e.g.
  `.services.metrics`), `.request(method, path, headers=, body=, timeout=)` -> `HttpAnswer`
  (`.status`, `.headers` (case-insensitive `get`/`get_all`), `.body`, `.text`, `.json()`),
  `.metrics()` (the /metrics text), `.reload()` -> bool, `.write(name, text)` (rewrite a file),
  `.run(lambda: coroutine)` (run it on the gateway's event loop, e.g. to inspect services).
  `http_request(url, method, path, headers=, body=, timeout=, context=)` is the same blocking
  client for any URL (admin port, https with an `ssl.SSLContext`). `simple_config(...)` builds a
  one-API config dict (API `echo` at `/echo` -> the backend).

`Backend()` echoes every request as JSON: `method`, `path` and `query` (both as sent, still encoded), `headers`
({lower-case name: value, repeated lines joined with ", "}), `header_lines` ([[name, value]...]),
`body` (text, when under 64 KiB), `body_length`, `body_sha256`. Per-request controls (request
headers, forwarded by the gateway like any other): `X-Test-Status: 503`, `X-Test-Delay: 0.5`
(seconds before answering), `X-Test-Size: 1048576` (answer with that many bytes, streamed),
`X-Test-Response-Header: Name: value` (repeatable), `X-Test-Close: 1` (drop the connection),
`X-Test-Redirect: /path` (302 to /path unless the request is for /path), `X-Test-Hold: 1` (send
"first chunk\n", then wait for `backend.released.set()` before "the rest\n" - proves streaming).
`backend.respond(status=, body=, headers=, delay=)` fixes the next answers; `backend.reset()`
clears that and the counters. `backend.calls` counts requests, `backend.requests` records them
(`RecordedRequest`: method, path, query, headers list, body bytes). `Backend.unused_url()` is a
loopback URL where nothing listens (for connection-failure tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

START_TIMEOUT = 15.0
SHUTDOWN_SECONDS = 0.5  # a Backend that stops cancels the handlers still running after this (e.g. a long X-Test-Delay)
_server_override: list[str] = []  # set while an `every_server` test runs on a given server
_reserved: list[socket.socket] = []  # the ports of `unused_port()`, held for the whole run


def unused_port() -> int:
    """A loopback port where nothing listens, and nothing will while the tests run: a socket bound
    to it (without SO_REUSEADDR) that never listens keeps every other process from taking it, and
    connections to it are refused. (A port merely found free may be taken by another process.)"""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _reserved.append(sock)
    return int(sock.getsockname()[1])


def listening_socket() -> socket.socket:
    """A socket listening on a loopback port the OS picked: a server bound there has no port to race for."""
    from engine.gateway.runner import bind_socket

    return bind_socket("127.0.0.1", 0)


def current_server() -> str:
    """The HTTP server gateways started by the harness (and `serve_args`) use."""
    from engine.gateway.listeners import DEFAULT_SERVER

    if _server_override:
        return _server_override[-1]
    return os.environ.get("POLICYGATE_TEST_SERVER") or DEFAULT_SERVER


@contextmanager
def use_server(name: str) -> Iterator[None]:
    """Start gateways on `name` while the block runs."""
    _server_override.append(name)
    try:
        yield
    finally:
        _server_override.pop()


def serve_args() -> list[str]:
    """Arguments that make a `policygate serve` child process use `current_server()`."""
    return ["--server", current_server()]


class _LoopThread:
    """An event loop running in a daemon thread; `call(coro)` runs a coroutine there and waits."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = START_TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.call(drain(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


# --------------------------------------------------------------------------------------------
# The echo backend
# --------------------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class _Fixed:
    status: int = 200
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Backend:
    """A real HTTP server on 127.0.0.1 that echoes requests and obeys X-Test-* controls."""

    def __init__(self) -> None:
        self.calls = 0
        self.requests: list[RecordedRequest] = []
        self._fixed: _Fixed | None = None
        self.released = threading.Event()  # for X-Test-Hold
        self._thread: _LoopThread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def unused_url() -> str:
        return f"http://127.0.0.1:{unused_port()}"

    def respond(self, status: int = 200, body: bytes | str | None = None, headers: dict[str, str] | None = None,
                delay: float = 0.0) -> None:
        self._fixed = _Fixed(status, body, dict(headers or {}), delay)

    def reset(self) -> None:
        self._fixed = None
        self.released.clear()
        self.calls = 0
        self.requests.clear()

    def start(self) -> Backend:
        self._thread = _LoopThread("test-backend")
        self._thread.call(self._start())
        return self

    async def _start(self) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS)
        await self._runner.setup()
        sock = listening_socket()
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._thread is not None:
            if self._runner is not None:
                self._thread.call(self._runner.cleanup())
            self._thread.stop()
            self._thread = None

    def __enter__(self) -> Backend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.calls += 1
        lines = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        self.requests.append(RecordedRequest(request.method, request.raw_path.split("?")[0], request.raw_path.partition("?")[2], lines, body))
        fixed = self._fixed
        if fixed is not None:
            if fixed.delay:
                await asyncio.sleep(fixed.delay)
            content = fixed.body.encode() if isinstance(fixed.body, str) else fixed.body
            if content is None:
                content = self._echo(request, lines, body)
            return web.Response(status=fixed.status, body=content, headers=fixed.headers or {"Content-Type": "application/json"})
        delay = float(request.headers.get("X-Test-Delay", "0") or 0)
        if delay:
            await asyncio.sleep(delay)
        if request.headers.get("X-Test-Close"):
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        target = request.headers.get("X-Test-Redirect")
        if target and request.path != target.split("?")[0]:
            return web.Response(status=302, headers={"Location": target})
        status = int(request.headers.get("X-Test-Status", "200"))
        extra = [item.split(":", 1) for line in request.headers.getall("X-Test-Response-Header", [])
                 for item in line.split(",") if ":" in item]  # the gateway may comma-join repeated lines
        if request.headers.get("X-Test-Hold"):
            response = web.StreamResponse(status=200)
            response.content_type = "text/plain"
            await response.prepare(request)
            await response.write(b"first chunk\n")
            while not self.released.is_set():  # the test releases the rest once it saw the first chunk
                await asyncio.sleep(0.01)
            await response.write(b"the rest\n")
            await response.write_eof()
            return response
        size = request.headers.get("X-Test-Size")
        if size is not None:
            response = web.StreamResponse(status=status)
            response.content_type = "application/octet-stream"
            for name, value in extra:
                response.headers.add(name.strip(), value.strip())
            remaining = int(size)
            response.content_length = remaining
            await response.prepare(request)
            chunk = b"x" * 65536
            while remaining > 0:
                piece = chunk[: min(remaining, len(chunk))]
                await response.write(piece)
                remaining -= len(piece)
            await response.write_eof()
            return response
        response = web.Response(status=status, body=self._echo(request, lines, body), content_type="application/json")
        for name, value in extra:
            response.headers.add(name.strip(), value.strip())
        return response

    @staticmethod
    def _echo(request: web.Request, lines: list[tuple[str, str]], body: bytes) -> bytes:
        joined: dict[str, str] = {}
        for name, value in lines:
            key = name.lower()
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        return json.dumps({
            "method": request.method,
            "path": request.raw_path.split("?")[0],
            "query": request.raw_path.partition("?")[2],
            "headers": joined,
            "header_lines": [[n, v] for n, v in lines],
            "body": body.decode("utf-8", "replace") if len(body) < 65536 else None,
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }).encode()


# --------------------------------------------------------------------------------------------
# The gateway
# --------------------------------------------------------------------------------------------
class AnswerHeaders:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        return [v for n, v in self.pairs if n.lower() == name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.get_all(name))


@dataclass
class HttpAnswer:
    status: int
    reason: str
    headers: AnswerHeaders
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def held_exchange(url: str, request: bytes, backend: Backend) -> bytes:
    """Send the raw HTTP/1.1 `request` (with `X-Test-Hold: 1` and `Connection: close`) to the gateway at
    `url`; assert its answer's first chunk arrives while `backend` still holds the rest (streamed, not
    buffered); then release the backend and return everything received."""
    host, port = url.split("://")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b"first chunk" not in received:
            data = sock.recv(65536)
            assert data, "connection closed before the first chunk"
            received += data
        assert b"the rest" not in received
        backend.released.set()
        while data := sock.recv(65536):
            received += data
    return received


def http_request(url: str, method: str, path: str, *, headers: dict[str, str] | list[tuple[str, str]] | None = None,
                 body: bytes | str | None = None, timeout: float = 30.0, context: ssl.SSLContext | None = None) -> HttpAnswer:
    """A blocking HTTP/1.1 request (new connection each time); `context` verifies https URLs."""
    scheme, host_port = url.split("://", 1)
    host, _, port = host_port.partition(":")
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = http.client.HTTPSConnection(host, int(port or 443), timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        data = body.encode() if isinstance(body, str) else body
        connection.putrequest(method, path, skip_accept_encoding=True)
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        for name, value in pairs:
            connection.putheader(name, value)
        if data is not None and not any(n.lower() == "content-length" for n, _ in pairs):
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        content = response.read()
        return HttpAnswer(response.status, response.reason, AnswerHeaders(response.getheaders()), content)
    finally:
        connection.close()


class RunningGateway:
    """A started gateway: URLs, a blocking client, metrics, reload."""

    def __init__(self, server: Any, thread: _LoopThread, directory: Path) -> None:
        self.server = server
        self.directory = directory
        self._thread = thread

    @property
    def url(self) -> str:
        return self.server.url("gateway")

    @property
    def admin_url(self) -> str:
        return self.server.url("admin")

    def request(self, method: str, path: str, **kwargs: Any) -> HttpAnswer:
        return http_request(self.url, method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> HttpAnswer:
        return self.request("GET", path, **kwargs)

    def metrics(self) -> str:
        return http_request(self.admin_url, "GET", "/metrics").text

    def write(self, name: str, text: str) -> Path:
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def reload(self) -> bool:
        return bool(self._thread.call(self.server.reload(), timeout=30))

    def run(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """Run a coroutine on the gateway's event loop (e.g. to inspect services)."""
        return self._thread.call(make())


def write_config(directory: Path, config: str | dict[str, Any], policies: dict[str, str] | None,
                 backend: Backend | None) -> Path:
    data = yaml.safe_load(config) if isinstance(config, str) else json.loads(json.dumps(config))
    data = data or {}
    if backend is not None:
        values = data.setdefault("named-values", {}) or {}
        values.setdefault("backend-url", backend.url)
        data["named-values"] = values
    for name, text in (policies or {}).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    file = directory / "gateway.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return file


@contextmanager
def run_gateway(directory: Path, config: str | dict[str, Any], policies: dict[str, str] | None = None, *,
                backend: Backend | None = None, **server_options: Any) -> Iterator[RunningGateway]:
    """Write the files, start the gateway on free loopback ports, yield it, stop it."""
    from engine.gateway.config import load_settings
    from engine.gateway.runner import GatewayServer

    file = write_config(Path(directory), config, policies, backend)
    server_options.setdefault("host", "127.0.0.1")
    server_options.setdefault("port", 0)
    server_options.setdefault("http_server", current_server())
    if server_options.get("admin_port", True) is True:
        server_options["admin_port"] = 0
    server = GatewayServer(load_settings(file), **server_options)
    server.prepare()  # raises ConfigError / PolicyLoadError here, in the test's thread
    thread = _LoopThread("test-gateway")
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
        yield RunningGateway(server, thread, Path(directory))
    finally:
        if "shutdown" in holder:
            thread.loop.call_soon_threadsafe(holder["shutdown"].set)
            try:
                future.result(15)
            except Exception:  # shutting down: errors here must not hide the test's own failure
                pass
        thread.stop()


def simple_config(
    *,
    api_policy: str | None = None,
    global_policy: str | None = None,
    path: str = "echo",
    operations: dict[str, dict[str, Any]] | None = None,
    subscription_required: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A one-API config dict pointing at `{{backend-url}}`; policies are file names."""
    api: dict[str, Any] = {"path": path, "service-url": "{{backend-url}}", "subscription-required": subscription_required}
    if api_policy:
        api["policy"] = api_policy
    if operations is not None:
        api["operations"] = operations
    config: dict[str, Any] = {"apis": {"echo": api}}
    if global_policy:
        config["policy"] = global_policy
    config.update(extra)
    return config
