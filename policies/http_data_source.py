"""`<http-data-source>`: a synthetic GraphQL API's resolver that reads a field's data from an HTTP endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Constant, Flow, Policy, Step, Value, run_steps
from engine.schema import Attr, Bool, Child, Int, Scope, Section
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
class SendOptions:
    """`<backend><forward-request>` of a data source."""

    timeout: Value
    follow_redirects: Value
    fail_on_error_status_code: Value


@dataclass(frozen=True)
class HttpDataSourceStep:
    template: RequestTemplate
    options: SendOptions
    response_steps: tuple[Step, ...]
    backend: BackendBase | None = None

    async def __call__(self, ctx: Context) -> Flow | None:
        request = await self.template.build(ctx)
        if self.backend is not None:
            self.backend.apply(ctx, request.url)
        timeout = self.options.timeout.get(ctx)
        response = await send(ctx, request, float(timeout if timeout is not None else DEFAULT_TIMEOUT), TAG,
                              self.template.proxy(ctx), self.template.certificate(ctx),
                              follow_redirects=bool(self.options.follow_redirects.get(ctx)))
        if response.status_code >= 400 and self.options.fail_on_error_status_code.get(ctx) is not False:
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
    are refused (BackendNotFound). `<get-authorization-context>` in it runs where it stands (the
    token it reads is in `context.Variables` for the children after it), and `<include-fragment>`
    puts a policy fragment's policies in its place (they must be children `<http-request>` takes: any
    other is a load error at the fragment's element); `<http-response>` may include fragments too.
    `<backend>` may hold a `<forward-request>`: `timeout` (seconds, default 60), `follow-redirects`,
    and `fail-on-error-status-code` (default `true` here: an answer of status 400 or more is a field
    error; `false` makes it the value like any other answer); `buffer-request-body` and
    `buffer-response` are accepted (the request and the answer are always whole). The answer
    becomes `context.Response`; `<http-response>` policies (`set-body`, `xml-to-json`, `json-to-xml`, `find-and-replace`, `set-header`,
    `choose`...) may rewrite it, and its final body, read as JSON (or as text when it is not JSON), is the
    field's value. A timeout, a connection failure, a failing expression or an answer of status 400 or more
    (reason `DataSourceError`, unless `fail-on-error-status-code="false"`) makes the field null and
    adds an entry with the field's `path` to the response's `errors`; the other fields keep their
    values.
    """

    tag = TAG
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    children = (
        Child("http-request", min=1, max=1, doc="The request sent to the data source.", children=(
            Child("get-authorization-context", ref="get-authorization-context",
                  doc="Reads a credential manager connection's token into a variable, before the request is built."),
            *request_children("URL of the data source (required)."),
            Child("set-backend-service", ref="set-backend-service", max=1,
                  doc="Redirects the request to a backend (`base-url`, or `backend-id` of a single backend)."),
            Child("include-fragment", ref="include-fragment",
                  doc="The children of a policy fragment, in place (they must be children `<http-request>` takes)."),
        )),
        Child("backend", max=1, doc="How the request is sent.", children=(
            Child("forward-request", max=1, doc="How the data source is called.", attributes=(
                Attr("timeout", Int(min=0), default=DEFAULT_TIMEOUT, doc="Seconds for the whole exchange."),
                Attr("follow-redirects", Bool(), default=False, doc="Follow the data source's redirects."),
                Attr("fail-on-error-status-code", Bool(), default=True,
                     doc="An answer of status 400 or more is a field error (`false`: it becomes the value, "
                         "through `<http-response>`, like any other answer)."),
                Attr("buffer-request-body", Bool(), default=False, doc="Accepted; the request is always whole."),
                Attr("buffer-response", Bool(), default=True, doc="Accepted; the answer is always read whole."),
            )),
        )),
        Child("http-response", policies=True, max=1,
              doc="Policies rewriting the data source's answer (`context.Response`) before it becomes the value."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> HttpDataSourceStep:
        request = element.child("http-request")
        assert request is not None  # min=1: validation reported its absence
        allowed = {child.tag for child in self.children[0].children} - {"include-fragment"}
        for child in request.children:  # a policy fragment's policies, in place of <include-fragment>
            if child.tag not in allowed:
                builder.error("policy-unknown-child", f"<{child.tag}> (from a policy fragment) is not allowed inside "
                              "<http-request>", child, f"<http-request> may contain: <{'>, <'.join(sorted(allowed))}>")
        forward = element.child("backend")
        forward = forward.child("forward-request") if forward is not None else None
        options = SendOptions(*(builder.value(forward, name) if forward is not None else Constant(default)
                                for name, default in (("timeout", DEFAULT_TIMEOUT), ("follow-redirects", False),
                                                      ("fail-on-error-status-code", True))))
        response = element.child("http-response")
        if response is not None:
            _act_on_response(response)
        backend = request.child("set-backend-service")
        return HttpDataSourceStep(
            RequestTemplate.from_element(request, builder, TAG),
            options,
            tuple(builder.steps(response.children)) if response is not None else (),
            BackendBase(builder.value(backend, "base-url"), builder.value(backend, "backend-id")
                        if backend.get("backend-id") is not None else None) if backend is not None else None,
        )


def _act_on_response(element: PolicyElement) -> None:
    """Body and header policies under `<http-response>` act on the data source's response, as in outbound."""
    for child in element.children:
        child.section = "outbound"
        _act_on_response(child)
