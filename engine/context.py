"""The per-request `context` object graph that policies act on and expressions read.

Python attributes are snake_case; the C# names expressions use (`context.Request.Headers`)
are mapped onto them by the allow-list in `engine.expr` — nothing here is reachable from an
expression unless that table declares it.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

from engine import clock

if TYPE_CHECKING:
    from engine.apispec import OperationSpec
    from engine.policy import BodyObserver, PipelineObserver, Services


class Headers:
    """Case-insensitive, order-preserving multi-valued HTTP headers (`IReadOnlyDictionary<string,string[]>`)."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, list[str]]] = {}
        entries = self._items
        for name, value in items:  # `add`, inlined: headers are built on every request
            key = name.lower()
            entry = entries.get(key)
            if entry is None:
                entries[key] = (name, [value])
            else:
                entry[1].append(value)

    @classmethod
    def from_wire(cls, raw: Iterable[tuple[bytes, bytes]], drop: frozenset[str] = frozenset()) -> Headers:
        """Headers from latin-1 (name, value) byte pairs as an HTTP server hands them over (ASGI's scope),
        without the lines whose lower-case name is in `drop` (e.g. the hop-by-hop ones of a response)."""
        headers = cls.__new__(cls)
        items: dict[str, tuple[str, list[str]]] = {}
        for raw_name, raw_value in raw:
            name = raw_name.decode("latin-1")
            key = name.lower()
            entry = items.get(key)
            if entry is None:
                if key not in drop:
                    items[key] = (name, [raw_value.decode("latin-1")])
            else:
                entry[1].append(raw_value.decode("latin-1"))
        headers._items = items
        return headers

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        entry = self._items.get(key)
        if entry is None:
            self._items[key] = (name, [value])
        else:
            entry[1].append(value)

    def set(self, name: str, values: str | list[str]) -> None:
        self._items[name.lower()] = (name, [values] if isinstance(values, str) else list(values))

    def remove(self, name: str) -> None:
        self._items.pop(name.lower(), None)

    def get(self, name: str, default: str | None = None) -> str | None:
        """All values joined with ',' (APIM's GetValueOrDefault), or `default`."""
        entry = self._items.get(name.lower())
        return ",".join(entry[1]) if entry is not None else default

    def get_list(self, name: str) -> list[str]:
        entry = self._items.get(name.lower())
        return list(entry[1]) if entry is not None else []

    def has_any(self, lower_names: frozenset[str]) -> bool:
        """Whether one of these lower-case names is present (one check for several names)."""
        return not lower_names.isdisjoint(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return [name for name, _ in self._items.values()]

    def items(self) -> Iterator[tuple[str, list[str]]]:
        """(name, values) per header."""
        yield from self._items.values()

    def entries(self) -> Iterable[tuple[str, tuple[str, list[str]]]]:
        """(lower-case name, (name, values)) per header: the stored form, for code that would lower-case
        every name again (the response writer). Read-only."""
        return self._items.items()

    def pairs(self) -> Iterator[tuple[str, str]]:
        """(name, value) per header line."""
        for name, values in self._items.values():
            for value in values:
                yield name, value

    def copy(self) -> Headers:
        clone = Headers()
        clone._items = {k: (n, list(v)) for k, (n, v) in self._items.items()}
        return clone

    def __repr__(self) -> str:
        return f"Headers({list(self.pairs())!r})"


class Url:
    """`IUrl`: scheme, host, port, path and an ordered multi-valued query."""

    __slots__ = ("scheme", "host", "port", "path", "query")

    def __init__(self, scheme: str = "http", host: str = "localhost", port: int = 80, path: str = "/",
                 query: dict[str, list[str]] | None = None) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query: dict[str, list[str]] = {} if query is None else query

    @classmethod
    def parse(cls, text: str) -> Url:
        parts = urlsplit(text)
        scheme = parts.scheme or "http"
        port = parts.port or (443 if scheme in ("https", "wss") else 80)
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        return cls(scheme, parts.hostname or "localhost", port, parts.path or "/", query)

    @property
    def query_string(self) -> str:
        """The query with its leading '?', or '' (APIM's QueryString)."""
        if not self.query:
            return ""
        pairs = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, vs in self.query.items() for v in vs]
        return "?" + "&".join(pairs)

    @property
    def default_port(self) -> bool:
        return (self.scheme, self.port) in (("http", 80), ("https", 443), ("ws", 80), ("wss", 443))

    def __str__(self) -> str:
        netloc = self.host if self.default_port else f"{self.host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}{self.query_string}"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Url:
            return NotImplemented
        assert isinstance(other, Url)
        return (self.scheme, self.host, self.port, self.path, self.query) == (
            other.scheme, other.host, other.port, other.path, other.query)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return f"Url({self.scheme!r}, {self.host!r}, {self.port!r}, {self.path!r}, {self.query!r})"

    def copy(self) -> Url:
        return Url(self.scheme, self.host, self.port, self.path, {k: list(v) for k, v in self.query.items()})


class MessageBody:
    """`IMessageBody`: the buffered bytes of a request or response body.

    APIM consumes the body on `As<T>()` unless `preserveContent: true`; `consumed` records that.
    """

    __slots__ = ("content", "consumed", "parsed")

    def __init__(self, content: bytes = b"") -> None:
        self.content = content
        self.consumed = False
        self.parsed: tuple[bytes, str, object] | None = None  # expression cache: (content, As<T> type, value)

    def __len__(self) -> int:
        return len(self.content)


class _SlotsRepr:
    """`Name(field=value, ...)` over the public slots (what the dataclasses these replaced printed)."""

    __slots__ = ()

    def __repr__(self) -> str:
        names: tuple[str, ...] = self.__slots__
        fields = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in names if not name.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Request(_SlotsRepr):
    """`IRequest`: what the client sent, as policies have changed it so far."""

    __slots__ = ("method", "url", "original_url", "headers", "body", "ip_address", "matched_parameters", "tls")

    def __init__(self, method: str = "GET", url: Url | None = None, original_url: Url | None = None,
                 headers: Headers | None = None, body: MessageBody | None = None, ip_address: str = "",
                 matched_parameters: dict[str, str] | None = None, tls: dict[str, Any] | None = None) -> None:
        self.method = method
        self.url = Url() if url is None else url
        self.original_url = Url() if original_url is None else original_url
        self.headers = Headers() if headers is None else headers
        self.body = body
        self.ip_address = ip_address
        self.matched_parameters: dict[str, str] = {} if matched_parameters is None else matched_parameters
        self.tls = tls  # the connection's ASGI TLS extension (the caller's certificate chain)

    @property
    def certificate(self) -> Any:
        """context.Request.Certificate: the caller's X509Certificate2, or None (engine/clientcert.py)."""
        if self.tls is None:
            return None
        from engine.clientcert import request_certificate

        return request_certificate(self.tls)


class Response(_SlotsRepr):
    """`IResponse`; also the type of a `send-request` response variable."""

    __slots__ = ("status_code", "status_reason", "headers", "body")

    def __init__(self, status_code: int = 200, status_reason: str = "OK", headers: Headers | None = None,
                 body: MessageBody | None = None) -> None:
        self.status_code = status_code
        self.status_reason = status_reason
        self.headers = Headers() if headers is None else headers
        self.body = body


@dataclass
class Api:
    id: str = ""
    name: str = ""
    path: str = ""
    service_url: Url | None = None
    revision: str = "1"
    version: str = ""
    is_current_revision: bool = True
    protocols: list[str] = field(default_factory=lambda: ["http", "https"])


@dataclass
class Operation:
    id: str = ""
    name: str = ""
    method: str = ""
    url_template: str = ""
    spec: OperationSpec | None = field(default=None, repr=False, compare=False)  # the API description's (validate-*)


@dataclass
class Group:
    id: str = ""
    name: str = ""


@dataclass
class Product:
    id: str = ""
    name: str = ""
    approval_required: bool = False
    subscription_required: bool = True
    subscriptions_limit: int | None = None
    state: str = "Published"
    groups: list[Group] = field(default_factory=list)


@dataclass
class User:
    id: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    note: str = ""
    groups: list[Group] = field(default_factory=list)
    registration_date: datetime = field(default_factory=lambda: datetime(2020, 1, 1, tzinfo=UTC))


@dataclass
class Subscription:
    id: str = ""
    key: str = ""
    name: str = ""
    primary_key: str = ""
    secondary_key: str = ""
    created_date: datetime = field(default_factory=lambda: datetime(2020, 1, 1, tzinfo=UTC))
    start_date: datetime | None = None
    end_date: datetime | None = None


@dataclass
class LastError:
    source: str = ""
    reason: str = ""
    message: str = ""
    scope: str = ""
    section: str = ""
    path: str = ""
    policy_id: str = ""


def _instance_id() -> str:
    import os
    import socket

    return f"{socket.gethostname()}_{os.getpid()}"


@dataclass
class Gateway:
    """`context.Deployment.Gateway`: this gateway (policygate is self-hosted, so `IsManaged` is false)."""

    id: str = "policygate"
    instance_id: str = field(default_factory=_instance_id)
    is_managed: bool = False


@dataclass
class Deployment:
    gateway_id: str = "policygate"
    region: str = "local"
    service_name: str = "policygate"
    service_id: str = "policygate"
    gateway: Gateway = field(default_factory=Gateway)


_process_deployment: list[Deployment] = []


def _this_deployment() -> Deployment:
    """This process's `context.Deployment`, made once: it is read-only to policies and expressions, and
    building it (the host name is a system call) for every request cost more than the rest of the context."""
    if not _process_deployment:
        _process_deployment.append(Deployment())
    return _process_deployment[0]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_process_deployment.clear)  # a forked worker has its own InstanceId


@dataclass
class Authorization:
    """The `Authorization` that `get-authorization-context` stores in its context variable."""

    access_token: str = ""
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphQL:
    """`context.GraphQL` inside a resolver: the parent object's value and the field's arguments (JSON-like)."""

    parent: Any = None
    arguments: dict[str, Any] = field(default_factory=dict)


class ResponseStream(Protocol):
    """A backend answer whose body is still on the wire (the gateway's backend client makes these)."""

    response: Response  # the Response whose body this is

    async def read(self) -> bytes:
        """The whole remaining body (then the stream is released)."""
        ...

    def chunks(self) -> AsyncGenerator[bytes, None]:
        """The remaining body chunk by chunk (the stream is released at the end)."""
        ...

    def release(self) -> None:
        """Drop the unread body and give the connection back."""
        ...


T = TypeVar("T")


class Slot(Generic[T]):
    """A typed per-request value owned by one policy or service (e.g. the cache lookup's state).

    Declare one module-level `Slot` per kind of value; `slot.get(ctx)` is typed, no string keys.
    """

    __slots__ = ("name", "_factory")

    def __init__(self, name: str, factory: Callable[[], T] | None = None) -> None:
        self.name = name
        self._factory = factory

    def get(self, ctx: Context) -> T | None:
        value: T | None = ctx.exchange.slots.get(self)
        return value

    def set(self, ctx: Context, value: T) -> None:
        ctx.exchange.slots[self] = value

    def pop(self, ctx: Context) -> T | None:
        value: T | None = ctx.exchange.slots.pop(self, None)
        return value

    def ensure(self, ctx: Context) -> T:
        """The value, created with the slot's factory on first use."""
        slots = ctx.exchange.slots
        if self in slots:
            value: T = slots[self]
            return value
        if self._factory is None:
            raise KeyError(f"per-request slot {self.name!r} is not set and has no factory")
        created = slots[self] = self._factory()
        return created

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Exchange:
    """Per-request state shared by the gateway, the pipeline and policies; expressions never see it."""

    __slots__ = ("original_method", "peer_address", "request_length", "close_connection", "base_path", "raw_query",
                 "request_stream", "response_stream", "buffer_response", "body_observers", "client_gone",
                 "skipped_to_outbound", "before_send", "end_of_pipeline", "start_of_outbound", "outbound_checks",
                 "slots", "observer")

    def __init__(self, observer: PipelineObserver | None = None) -> None:
        self.original_method = ""  # the client's method, before set-method
        self.peer_address = ""  # the TCP peer (a trusted proxy when Request.ip_address came from its header)
        self.request_length: int | None = None  # the client body's validated Content-Length (None: unknown, sent chunked)
        self.close_connection = False  # answer with `Connection: close` (the request's framing cannot be trusted)
        self.base_path = ""  # the backend base path the operation path is appended to (set-backend-service)
        self.raw_query: str | None = None  # the client's query string as sent, forwarded as is while unchanged
        self.request_stream: AsyncIterator[bytes] | None = None  # the client's body chunks while not buffered
        self.response_stream: ResponseStream | None = None  # a backend body still streaming
        self.buffer_response = False  # read the whole backend body into ctx.response.body
        self.body_observers: list[BodyObserver] | None = None  # see the response body as it is sent (observe_response_body)
        self.client_gone = False  # the client disconnected while its body was streamed
        self.skipped_to_outbound = False  # a cache hit answered the request
        # Per-request hooks (engine.policy registers them): empty tuples until one is registered.
        self.before_send: Sequence[Callable[[Context], None]] = ()
        self.end_of_pipeline: Sequence[Callable[[Context], Awaitable[None]]] = ()
        self.start_of_outbound: Sequence[Callable[[Context], Awaitable[None]]] = ()
        self.outbound_checks: Sequence[Callable[[Context], Awaitable[None]]] = ()
        self.slots: dict[Slot[Any], Any] = {}
        self.observer = observer  # sees each policy run and each failure (coverage, tracing)


# `Context(response=RESPONSE_LATER)`: no response yet; the caller sets one before anything reads it (the
# gateway, for a pipeline whose first step replaces the response: a pass-through builds no default).
RESPONSE_LATER = Response.__new__(Response)


class Context(_SlotsRepr):
    """Everything one request's policies and expressions see."""

    __slots__ = ("request", "response", "variables", "api", "operation", "product", "subscription", "user",
                 "last_error", "_deployment", "received", "started", "tracing", "traces", "services", "exchange",
                 "graphql", "_request_id", "__weakref__")  # weakly referenced by the cache's single-flight

    def __init__(self, request: Request | None = None, response: Response | None = None,
                 variables: dict[str, Any] | None = None, api: Api | None = None, operation: Operation | None = None,
                 product: Product | None = None, subscription: Subscription | None = None, user: User | None = None,
                 last_error: LastError | None = None, deployment: Deployment | None = None,
                 received: float | None = None, started: float | None = None, tracing: bool = False,
                 traces: list[tuple[str, str, str]] | None = None, services: Services | None = None,
                 exchange: Exchange | None = None, graphql: GraphQL | None = None,
                 _request_id: uuid.UUID | None = None) -> None:
        self.request = Request() if request is None else request
        if response is None:
            self.response = Response()
        elif response is not RESPONSE_LATER:
            self.response = response
        self.variables: dict[str, Any] = {} if variables is None else variables
        self.api = api
        self.operation = operation
        self.product = product
        self.subscription = subscription
        self.user = user
        self.last_error = last_error
        self._deployment = deployment  # None: this process's (`deployment`)
        self.received = clock.now() if received is None else received  # wall clock at arrival (context.Timestamp)
        self.started = time.perf_counter() if started is None else started
        self.tracing = tracing
        self.traces: list[tuple[str, str, str]] = [] if traces is None else traces  # (source, severity, message)
        self.services = services  # the gateway's shared services (engine.policy.Services)
        self.exchange = Exchange() if exchange is None else exchange  # per-request state of gateway and policies
        self.graphql = graphql  # set while a synthetic GraphQL API's resolver runs
        self._request_id = _request_id

    @property
    def deployment(self) -> Deployment:
        """context.Deployment: this process's, unless the context was made with another one."""
        return self._deployment if self._deployment is not None else _this_deployment()

    def nested(self, graphql: GraphQL) -> Context:
        """A context for a GraphQL resolver's run: this request, variables and identity (the same
        RequestId), with a response and per-request state of its own."""
        return Context(self.request, Response(), self.variables, self.api, self.operation, self.product,
                       self.subscription, self.user, self.last_error, self._deployment, self.received, self.started,
                       self.tracing, self.traces, self.services, Exchange(self.exchange.observer), graphql,
                       self.request_id)

    @property
    def request_id(self) -> uuid.UUID:
        """context.RequestId, made on first read: most requests never read it, and uuid4 costs."""
        if self._request_id is None:
            self._request_id = uuid.uuid4()
        return self._request_id

    @property
    def timestamp(self) -> datetime:
        """context.Timestamp: when the request arrived (UTC)."""
        return datetime.fromtimestamp(self.received, UTC)

    @property
    def elapsed_seconds(self) -> float:
        return time.perf_counter() - self.started

    def trace(self, message: str, source: str = "expression", severity: str = "verbose") -> None:
        self.traces.append((source, severity, message))
