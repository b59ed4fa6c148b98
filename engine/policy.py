"""The policy runtime contract: everything a policy module uses, and nothing else.

A policy is one module of `policies/` with one `Policy` subclass (schema + runtime in one place).
It imports from here and from the engine core (`engine.context`, `engine.schema`, `engine.errors`,
`engine.model`), never from `engine.gateway`: the gateway implements `Builder` and runs the steps.

- declarations: `Policy` and its class attributes (schema, placement, what the gateway must do for it)
- building: the `Builder` protocol, `Value`, `Constant`
- running: `Step`, `Flow`, `run_steps`, `locate_error`, `PipelineObserver`
- responses: `REASONS`, `reason_phrase`, `error_response`
- per-request hooks: `at_start_of_outbound`, `check_at_start_of_outbound`, `at_end_of_pipeline`, `before_send`
- bodies: `buffer_body`, `release_response_stream` (streams live in `ctx.exchange`)
- watching the response body as it is sent: `BodyObserver`, `observe_response_body`
- backend calls: `ForwardOptions`, `BackendClient`, `OutboundProxy` (`FORWARD_PROXY`)
- shared services: `Services` (what `ctx.services` offers a policy)
"""

from __future__ import annotations

import enum
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlsplit

from engine.context import Context, Headers, MessageBody, Request, Response, Slot
from engine.errors import PolicyRuntimeError
from engine.schema import Attr, Child, Scope, Section, Text

if TYPE_CHECKING:
    from engine.apispec.instance import InstanceSchema
    from engine.backends import Backend
    from engine.cache.service import CacheService
    from engine.certificates import Certificate, CertificateStore
    from engine.credentials import CredentialService
    from engine.diagnostics import Diagnostics
    from engine.identity import TokenService
    from engine.loggers import LoggerService
    from engine.metrics import Metrics
    from engine.model import PolicyElement
    from engine.openid import TokenValidationSettings
    from engine.ratelimit.service import LimitService
    from engine.source import Span


class Flow(enum.Enum):
    """What a step asks the pipeline to do instead of continuing with the next step."""

    END = "end"  # return-response / mock-response / a policy that answered: send ctx.response now
    SKIP_TO_OUTBOUND = "skip-to-outbound"  # cache-lookup hit: skip rest of inbound and backend


class Step(Protocol):
    """A compiled policy: awaited once per request; a non-None Flow short-circuits."""

    async def __call__(self, ctx: Context) -> Flow | None: ...


class Value(Protocol):
    """A typed attribute value: a constant, or an expression evaluated per request.

    `get` returns the value coerced by the attribute's schema type (so its static type is `Any`).
    """

    @property
    def is_constant(self) -> bool: ...

    def get(self, ctx: Context) -> Any: ...


class Constant:
    """A value known at load time."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    @property
    def is_constant(self) -> bool:
        return True

    def get(self, ctx: Context | None = None) -> Any:
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


def constant_value(value: Value) -> Any:
    """The load-time value of a constant `Value` (callers check `is_constant` first)."""
    if not isinstance(value, Constant):
        raise TypeError(f"{value!r} is evaluated per request, not a constant")
    return value.value


class Builder(Protocol):
    """What `Policy.build` may use; the gateway's pipeline builder implements it."""

    def value(self, element: PolicyElement, name: str) -> Value:
        """The attribute `name` as a runtime value (constant or compiled expression, typed by schema)."""
        ...

    def text_value(self, element: PolicyElement) -> Value:
        """The element's text content as a runtime value."""
        ...

    def steps(self, elements: Sequence[PolicyElement]) -> list[Step]:
        """Build nested policies (choose/when, retry, return-response children).

        A built step that has a `followed_by(step)` method is then called with the step built right
        after it: the one that runs next, with nothing in between (a rate limit carrying the
        following cache lookup's Redis read uses this).
        """
        ...

    def require_body(self, *, request: bool = True, response: bool = True) -> None:
        """Ask the gateway to buffer the request and/or response body for this pipeline."""
        ...

    def error(self, code: str, message: str, element: PolicyElement, hint: str | None = None) -> None:
        """Report a build-time problem located at `element` (start-up then fails with all of them)."""
        ...


class Policy:
    """One APIM policy element. Subclasses declare the schema and behaviour as class attributes.

    The class docstring is the user-facing description rendered in docs/policies.md.
    """

    tag: ClassVar[str]
    sections: ClassVar[Section] = Section.ALL
    scopes: ClassVar[Scope] = Scope.ALL
    attributes: ClassVar[tuple[Attr, ...]] = ()
    children: ClassVar[tuple[Child, ...]] = ()
    text: ClassVar[Text | None] = None
    contains_policies: ClassVar[bool] = False  # retry: its children are policies
    allowed_in_fragment: ClassVar[bool] = True
    once_per_section: ClassVar[bool] = False
    implemented: ClassVar[bool] = False  # the gateway refuses documents using unimplemented ones
    needs_settings: ClassVar[tuple[str, ...]] = ()  # configuration keys (e.g. "identity") without which it cannot run
    needs_client_certificate: ClassVar[bool] = False  # reads the caller's TLS certificate: mutual TLS on the native server
    # (attribute, configuration key): a constant attribute names an entry of it (checked at load);
    # "child/grandchild@attribute" names an attribute of descendants
    settings_refs: ClassVar[tuple[tuple[str, str], ...]] = ()
    unsupported_reason: ClassVar[str] = ""  # why not implemented (and the alternative): lint's `policy-unsupported`
    # -- what the gateway does for this policy --
    reads_body: ClassVar[bool] = True  # False: stream-safe, the gateway need not buffer bodies for it
    raw_content: ClassVar[bool] = False  # child markup is the element's text (a message body), not structure
    ends_pipeline: ClassVar[bool] = False  # always answers (return-response): later siblings never run
    # (branch child, its condition attribute): the policy runs the first branch whose condition holds (choose);
    # its other policy containers are the fallback, and without one no branch runs
    branch_condition: ClassVar[tuple[str, str] | None] = None
    answers_preflight: ClassVar[bool] = False  # top-level in inbound: also runs for CORS preflight requests
    answers_unmatched: ClassVar[bool] = False  # top-level in global inbound: also runs for requests matching no API
    cache_hit_resumes_after: ClassVar[bool] = False  # outbound resumes after it when a cache lookup hit
    # -- what lint checks around it --
    needs_in_inbound: ClassVar[tuple[str, str] | None] = None  # (partner tag, lint code): an outbound
    # policy that does nothing without the partner in inbound (cache-store needs cache-lookup)

    def keeps_unknown_named_values(self, element: PolicyElement) -> bool:
        """True when `{{name}}` in this element's text is content, not a named value (Liquid templates)."""
        return False

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        """Cross-field rules the declarative schema cannot express (default: none)."""

    def settings_problem(self, holder: PolicyElement, key: str, entry: object) -> str | None:
        """Why the entry of configuration key `key` that a constant attribute of `holder` names
        (`settings_refs`) cannot serve it, e.g. a schema of the wrong kind (default: None, it can)."""
        return None

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        """Return the runtime step for a validated element."""
        raise NotImplementedError(f"<{self.tag}> is not implemented by the gateway")


# -- running --------------------------------------------------------------------------------------


async def run_steps(steps: Sequence[Step], ctx: Context) -> Flow | None:
    """Run steps in order; the first non-None Flow stops the list and is returned."""
    for step in steps:
        flow = await step(ctx)
        if flow is not None:
            return flow
    return None


def locate_error(error: PolicyRuntimeError, element: PolicyElement) -> None:
    """Stamp a runtime error with the element it happened in (becomes context.LastError)."""
    error.section = element.section
    error.scope = element.scope
    error.path = element.path or element.tag
    error.policy_id = element.policy_id
    if error.source == "expression":
        error.source = element.tag


class PipelineObserver:
    """Watches one request's pipeline (set `ctx.exchange.observer`), e.g. for policy coverage in tests.

    Subclass and override; the default methods do nothing.
    """

    def step_started(self, element: PolicyElement, ctx: Context) -> None:
        """The policy `element` (top-level or nested) is about to run."""

    def step_finished(self, element: PolicyElement, ctx: Context) -> None:
        """The policy `element` ran to its end without failing (it may have ended the pipeline)."""

    def expression_evaluated(self, span: Span, value: object, ctx: Context) -> None:
        """The policy expression written at `span` was evaluated to `value`."""

    def failed(self, error: PolicyRuntimeError, ctx: Context) -> None:
        """A policy failed: context.LastError is about to be set and on-error to run."""


# -- responses ------------------------------------------------------------------------------------

REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
    304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 413: "Payload Too Large",
    415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


def reason_phrase(status: int) -> str:
    """The standard reason phrase of a status code ('' when unknown)."""
    return REASONS.get(status, "")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """APIM's default error body: {"statusCode": N, "message": "..."}."""
    body = json.dumps({"statusCode": status, "message": message}).encode()
    response_headers = Headers([("Content-Type", "application/json; charset=utf-8")])
    for name, value in (headers or {}).items():
        response_headers.set(name, value)
    return Response(status, reason_phrase(status), response_headers, MessageBody(body))


def empty_response(status: int = 200) -> Response:
    """A response without a body."""
    return Response(status, reason_phrase(status), Headers(), MessageBody(b""))


# -- per-request hooks ----------------------------------------------------------------------------


def at_end_of_pipeline(ctx: Context, callback: Callable[[Context], Awaitable[None]]) -> None:
    """Run `callback(ctx)` once the response is final (after outbound or on-error), before it is sent.

    Used by rate-limit-by-key/quota-by-key deferred counting. A failing callback is logged; it cannot
    change the outcome.
    """
    ctx.exchange.end_of_pipeline = [*ctx.exchange.end_of_pipeline, callback]


def gateway_services(ctx: Context, source: str) -> Services:
    """`ctx.services`, for a policy that cannot run without the gateway (e.g. forward-request)."""
    if ctx.services is None:
        raise PolicyRuntimeError("the gateway's services are not available here", source=source, status=500)
    return ctx.services


def at_start_of_outbound(ctx: Context, callback: Callable[[Context], Awaitable[None]]) -> None:
    """Run `callback(ctx)` once the backend answered (or a cache lookup hit), before the outbound steps.

    Used by the token policies to read the answer's token usage. Not run when outbound is not
    reached (a policy answered in inbound, or the request failed). A failing callback is logged.
    """
    ctx.exchange.start_of_outbound = [*ctx.exchange.start_of_outbound, callback]


def check_at_start_of_outbound(ctx: Context, check: Callable[[Context], Awaitable[None]]) -> None:
    """Run `check(ctx)` once the backend answered (or a cache lookup hit), after the
    `at_start_of_outbound` callbacks and before the outbound steps. Unlike those callbacks, a
    `PolicyRuntimeError` it raises fails the request as a policy's would (on-error runs).

    Used by an inbound policy that also judges the answer (llm-content-safety's enforce-on-completions).
    """
    ctx.exchange.outbound_checks = [*ctx.exchange.outbound_checks, check]


def before_send(ctx: Context, hook: Callable[[Context], None]) -> None:
    """Run `hook(ctx)` right before the response is sent, whatever produced it (e.g. CORS headers)."""
    ctx.exchange.before_send = [*ctx.exchange.before_send, hook]


# -- bodies ---------------------------------------------------------------------------------------


async def buffer_body(ctx: Context, message: Request | Response) -> None:
    """Make `message.body` hold the whole body (reads a still-streaming request or backend response)."""
    exchange = ctx.exchange
    if message is ctx.response and message.body is None:
        stream = exchange.response_stream
        if stream is not None and stream.response is message:  # only this response's own backend stream
            exchange.response_stream = None
            message.body = MessageBody(await stream.read())
    elif message is ctx.request and message.body is None:
        chunks = exchange.request_stream
        if chunks is not None:
            exchange.request_stream = None
            message.body = MessageBody(b"".join([chunk async for chunk in chunks]))


def replaces_response(step: Step) -> Step:
    """Mark `step` as one that sets ctx.response without reading it first (forward-request with constant
    attributes): a pipeline that starts with it needs no default response (`Pipeline.backend_first`)."""
    setattr(step, REPLACES_RESPONSE, True)  # noqa: B010 - a mark on a function, read with getattr
    return step


REPLACES_RESPONSE = "replaces_response"


def release_response_stream(ctx: Context) -> None:
    """Drop an unsent backend body (the response was replaced or the request failed)."""
    stream, ctx.exchange.response_stream = ctx.exchange.response_stream, None
    if stream is not None:
        stream.release()


class BodyObserver(Protocol):
    """Sees the response body on its way to the client, chunk by chunk, without buffering it.

    Register one with `observe_response_body` at any point of the pipeline (e.g. in inbound, to
    count the tokens of the final server-sent event of a streamed completion). It sees the body of
    whatever response is finally sent: a streamed backend body as its chunks leave, a buffered or
    policy-made body as one chunk, a HEAD or 204 answer as no chunk.
    """

    def chunk(self, data: bytes) -> None:
        """One piece of the body, just before it is sent. Runs between two sends of a stream: keep it
        cheap and never block (do I/O in `finished`)."""
        ...

    async def finished(self, ctx: Context, complete: bool) -> None:
        """The body ended; `complete` is False when the backend or the client broke off mid-body.
        Runs after the last byte was handed to the server (the client already has the answer)."""
        ...


def observe_response_body(ctx: Context, observer: BodyObserver) -> None:
    """Show `observer` the response body as it is sent. An observer that raises is logged and dropped;
    it never changes or delays the response."""
    observers = ctx.exchange.body_observers
    if observers is None:
        ctx.exchange.body_observers = [observer]
    else:
        observers.append(observer)


# -- backend calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardOptions:
    """How forward-request calls the backend."""

    timeout: float = 300.0
    follow_redirects: bool = False
    fail_on_error_status_code: bool = False


@dataclass(frozen=True)
class OutboundProxy:
    """An HTTP proxy for backend calls (`<proxy>`): `http://host:port`, optional Basic credentials."""

    url: str
    username: str = ""
    password: str = field(default="", repr=False)

    @staticmethod
    def url_problem(url: str) -> str | None:
        """Why `url` cannot be a proxy address (None when it can)."""
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            return f"'{url}' is not a valid proxy URL: {exc}"
        if parts.scheme.lower() != "http" or not parts.hostname:
            return f"'{url}' is not an http:// proxy URL (the gateway talks to proxies in plain HTTP, as APIM does)"
        return None


FORWARD_PROXY: Slot[OutboundProxy] = Slot("proxy")  # the proxy of this request's forward-request (set by <proxy>)
# the TLS client certificate of this request's forward-request (set by <authentication-certificate>)
FORWARD_CERTIFICATE: Slot[Certificate] = Slot("client-certificate")


class BackendClient(Protocol):
    """The gateway's HTTP client (`ctx.services.http`); `policygate test` puts a scripted one here."""

    async def forward(self, ctx: Context, options: ForwardOptions, *, source: str = "forward-request") -> None:
        """Send ctx.request to the backend and set ctx.response (forward-request)."""
        ...

    async def call(self, request: Request, timeout: float, *, source: str, follow_redirects: bool = False,
                   proxy: OutboundProxy | None = None, certificate: Certificate | None = None) -> Response:
        """Send `request` to another service and read the whole answer within `timeout` s (send-request,
        validate-jwt's OpenID configuration), through `proxy` and presenting `certificate` when given."""
        ...


class Services(Protocol):
    """What a policy may use of the gateway's shared services (`ctx.services`; None outside a gateway).

    The gateway's `engine.gateway.services.Services` implements it; a component that is not
    configured is None.
    """

    @property
    def http(self) -> BackendClient: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def cache(self) -> CacheService | None: ...

    @property
    def limits(self) -> LimitService | None: ...

    @property
    def identity(self) -> TokenService | None: ...

    @property
    def credentials(self) -> CredentialService | None: ...

    @property
    def loggers(self) -> LoggerService | None: ...

    @property
    def certificates(self) -> CertificateStore: ...

    @property
    def token_validation(self) -> TokenValidationSettings:
        """`token-validation:`: where validate-jwt and validate-azure-ad-token get signing keys."""
        ...

    def backend(self, backend_id: str) -> Backend | None:
        """The backend entity declared under `backends:` (set-backend-service backend-id)."""
        ...

    def backend_url(self, backend_id: str) -> str | None:
        """The base URL of a single backend declared under `backends:` (None for a pool or an unknown id)."""
        ...

    def operation_examples(self, api_id: str, operation_id: str) -> dict[int, dict[str, str]]:
        """The operation's response examples from the API description: status -> content type -> body."""
        ...

    def schema(self, schema_id: str) -> InstanceSchema | None:
        """A schema added to the instance (`schemas:`), compiled (validate-content's `schema-id`)."""
        ...


__all__ = [
    "FORWARD_CERTIFICATE", "FORWARD_PROXY", "REASONS", "BackendClient", "BodyObserver", "Builder", "Constant", "Flow", "ForwardOptions",
    "OutboundProxy", "PipelineObserver", "Policy", "Services", "Step", "Value", "at_end_of_pipeline", "before_send",
    "buffer_body", "constant_value", "empty_response", "error_response", "gateway_services", "locate_error",
    "observe_response_body", "reason_phrase", "release_response_stream", "run_steps",
]
