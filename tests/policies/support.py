"""Helpers for policy tests: build steps from XML with the gateway's builder, lint snippets, run steps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.context import Context, Headers, MessageBody, Request, Response, Url
from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.errors import PolicyLoadError
from engine.gateway.backend import BackendClient
from engine.gateway.builder import PipelineBuilder
from engine.gateway.settings import BackendClientSettings
from engine.metrics import Metrics
from engine.openid import DEFAULT_TOKEN_VALIDATION
from engine.policy import Flow, Step, run_steps
from engine.registry import default_registry
from engine.validate import validate

SECTIONS = ("inbound", "backend", "outbound", "on-error")


def document(xml: str, section: str = "inbound") -> str:
    return f"<policies><{section}>{xml}</{section}></policies>"


def lint(xml: str, section: str = "inbound", *, scope: str | None = None) -> Diagnostics:
    """Load and validate `xml` placed in `section`; the diagnostics found."""
    diagnostics = Diagnostics()
    doc = load_document("test.xml", text=document(xml, section), diagnostics=diagnostics)
    if doc is not None:
        validate(doc, diagnostics=diagnostics, scope=scope)
    return diagnostics


def codes(xml: str, section: str = "inbound", **kwargs: Any) -> list[str]:
    return [d.code for d in lint(xml, section, **kwargs).sorted() if d.severity.name == "ERROR"]


def build(xml: str, section: str = "inbound") -> list[Step]:
    """Validate and build the policies of one section; PolicyLoadError on any error."""
    diagnostics = lint(xml, section)
    if diagnostics.has_errors:
        raise PolicyLoadError(diagnostics.sorted())
    doc = load_document("test.xml", text=document(xml, section), diagnostics=Diagnostics())
    assert doc is not None
    builder = PipelineBuilder(default_registry())
    steps = builder.steps(doc.policies(section))
    builder.finish()
    return steps


async def run(steps: Sequence[Step], ctx: Context) -> Flow | None:
    return await run_steps(steps, ctx)


class FakeServices:
    """The parts of the gateway's services a policy test needs (a real Metrics; `http` optional)."""

    def __init__(self, http: Any = None) -> None:
        self.metrics = Metrics()
        self.http = http
        self.token_validation = DEFAULT_TOKEN_VALIDATION


def context(
    method: str = "GET",
    url: str = "http://backend.test/api/items",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | str | None = None,
    ip: str = "10.0.0.1",
    services: Any = None,
) -> Context:
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    content = body.encode() if isinstance(body, str) else body
    parsed = Url.parse(url)
    request = Request(method, parsed, parsed.copy(), Headers(pairs), MessageBody(content) if content is not None else None, ip)
    return Context(request=request, services=services if services is not None else FakeServices())


def response(status: int = 200, headers: dict[str, str] | None = None, body: bytes | str | None = None) -> Response:
    content = body.encode() if isinstance(body, str) else body
    return Response(status, "OK", Headers(list((headers or {}).items())), MessageBody(content) if content is not None else None)


class HttpClient(BackendClient):
    """The gateway's own backend client, already started (tests `await close()` it)."""

    def __init__(self) -> None:
        import aiohttp

        super().__init__(BackendClientSettings())
        self._session = aiohttp.ClientSession()
        self._pool, self._calls = self.own_pools(self.settings)


@contextmanager
def policy_files(tmp_path: Path, **files: str) -> Iterator[Path]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    yield tmp_path
