"""`<http-data-source>`: a synthetic GraphQL API's resolver that reads a field's data from an HTTP endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Constant, Flow, Policy, Step, Value, run_steps
from engine.schema import Attr, Child, Int, Scope, Section
from policies.send_request import RequestTemplate, request_children, send

if TYPE_CHECKING:
    from engine.context import Context, Url
    from engine.model import PolicyElement

TAG = "http-data-source"
DEFAULT_TIMEOUT = 60


@dataclass(frozen=True)
class BackendBase:
    """`<set-backend-service>` inside `<http-request>`: the base URL the data source's request goes to."""

    base_url: Value | None
    backend_id: Value | None

    def url(self, ctx: Context) -> str:
        if self.backend_id is None:
            return str(self.base_url.get(ctx) or "") if self.base_url is not None else ""
        name = str(self.backend_id.get(ctx) or "")
        url = ctx.services.backend_url(name) if ctx.services is not None else None
        if url is None:
            raise PolicyRuntimeError(f"Backend with id '{name}' is not defined, or is a pool (a data source "
                                     "calls one backend).", source=TAG, reason="BackendNotFound", status=500)
        return url

    def apply(self, ctx: Context, url: Url) -> None:
        """Scheme, host and port become the base's; its path goes before the request's path (set-backend-service)."""
        base = self.url(ctx)
        try:
            parts = urlsplit(base)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise PolicyRuntimeError(f"Backend base URL '{base}' is not an absolute http(s) URL.", source=TAG,
                                     reason="InvalidBackendUrl", status=500)
        url.scheme, url.host = parts.scheme, parts.hostname
        url.port = port or (443 if parts.scheme == "https" else 80)
        url.path = parts.path.rstrip("/") + url.path
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            url.query.setdefault(name, [value])


@dataclass(frozen=True)
class HttpDataSourceStep:
    template: RequestTemplate
    timeout: Value
    response_steps: tuple[Step, ...]
    backend: BackendBase | None = None

    async def __call__(self, ctx: Context) -> Flow | None:
        request = await self.template.build(ctx)
        if self.backend is not None:
            self.backend.apply(ctx, request.url)
        timeout = self.timeout.get(ctx)
        response = await send(ctx, request, float(timeout if timeout is not None else DEFAULT_TIMEOUT), TAG,
                              self.template.proxy(ctx), self.template.certificate(ctx))
        if response.status_code >= 400:
            raise PolicyRuntimeError(
                f"The data source answered {response.status_code} {response.status_reason}".rstrip(),
                source=TAG, reason="DataSourceError", status=502,
            )
        ctx.response = response
        if self.response_steps:
            await run_steps(self.response_steps, ctx)
        return None


class HttpDataSource(Policy):
    """Resolve a field of a synthetic GraphQL API with an HTTP call (the resolver's whole document).

    `<http-request>` builds a new request (a GET until `set-method` says otherwise) from its `set-url`,
    `set-method`, `set-header`, `set-body` and `authentication-*` children, in order; their expressions
    read the field's arguments (`context.GraphQL.Arguments["id"]`), the parent object's value
    (`context.GraphQL.Parent["id"]`), and the caller's request (`context.Request`). A
    `<set-backend-service base-url="..."/>` (or `backend-id`, a single backend of `backends:`) in it
    redirects the request: scheme, host and port become the backend's and its path is put before
    `set-url`'s path (`base-url="https://people.example/v2"` + `https://any/users/1` ->
    `https://people.example/v2/users/1`), as set-backend-service keeps an operation's path; pools
    are refused (BackendNotFound). `<backend>` may hold a
    `<forward-request timeout="seconds">` (default 60). The answer becomes `context.Response`;
    `<http-response>` policies (`set-body`, `xml-to-json`, `json-to-xml`, `find-and-replace`, `set-header`,
    `choose`...) may rewrite it, and its final body, read as JSON (or as text when it is not JSON), is the
    field's value. A timeout, a connection failure, a failing expression or an answer of status 400 or more
    (reason `DataSourceError`) makes the field null and adds an entry with the field's `path` to the
    response's `errors`; the other fields keep their values.
    """

    tag = TAG
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    children = (
        Child("http-request", min=1, max=1, doc="The request sent to the data source.", children=(
            *request_children("URL of the data source (required)."),
            Child("set-backend-service", ref="set-backend-service", max=1,
                  doc="Redirects the request to a backend (`base-url`, or `backend-id` of a single backend)."),
        )),
        Child("backend", max=1, doc="How the request is sent.", children=(
            Child("forward-request", max=1, doc="Only `timeout` (seconds) is honoured.", attributes=(
                Attr("timeout", Int(min=0), default=DEFAULT_TIMEOUT, doc="Seconds for the whole exchange."),
            )),
        )),
        Child("http-response", policies=True, max=1,
              doc="Policies rewriting the data source's answer (`context.Response`) before it becomes the value."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> HttpDataSourceStep:
        request = element.child("http-request")
        assert request is not None  # min=1: validation reported its absence
        forward = element.child("backend")
        forward = forward.child("forward-request") if forward is not None else None
        timeout = builder.value(forward, "timeout") if forward is not None else None
        response = element.child("http-response")
        if response is not None:
            _act_on_response(response)
        backend = request.child("set-backend-service")
        return HttpDataSourceStep(
            RequestTemplate.from_element(request, builder, TAG),
            timeout if timeout is not None else Constant(DEFAULT_TIMEOUT),
            tuple(builder.steps(response.children)) if response is not None else (),
            BackendBase(builder.value(backend, "base-url"), builder.value(backend, "backend-id")
                        if backend.get("backend-id") is not None else None) if backend is not None else None,
        )


def _act_on_response(element: PolicyElement) -> None:
    """Body and header policies under `<http-response>` act on the data source's response, as in outbound."""
    for child in element.children:
        child.section = "outbound"
        _act_on_response(child)
