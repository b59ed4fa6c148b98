"""The gateway ASGI app: a Quart app whose HTTP requests take a lean path straight into the pipeline.

Quart runs the lifespan (`while_serving` opens and closes the services); HTTP requests bypass
Quart's request/response objects and routing, which cost more than the whole policy pipeline
(docs/performance.md), and go to `Gateway.handle`, the single catch-all handler.
"""

from __future__ import annotations

import logging
import operator
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from quart import Quart

from engine import clock
from engine.context import RESPONSE_LATER, Context, Headers, MessageBody, Request, Response, Url
from engine.errors import PolicyRuntimeError
from engine.gateway import websocket
from engine.gateway.accesslog import AccessLog
from engine.gateway.backend import observe_backend_latency, take_stream
from engine.gateway.clientip import TrustedProxies
from engine.gateway.h1protocol import WHOLE_RESPONSE
from engine.gateway.pipeline import Pipeline
from engine.gateway.routing import Match
from engine.gateway.services import GatewayMetrics, Services
from engine.gateway.state import GatewayState, OperationEntry
from engine.gateway.urlpath import normalize_path
from engine.policy import BodyObserver, error_response, release_response_stream
from engine.wire import HOP_BY_HOP, encoded_headers

log = logging.getLogger("policygate.gateway")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
OperationMatch = Match[OperationEntry]
Respond = Callable[["Gateway", Context, str], Awaitable[int]]
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}

NOT_FOUND_MESSAGE = "Resource not found"
INVALID_HEADER_MESSAGE = "A request header value contains a control character"
AMBIGUOUS_FRAMING_MESSAGE = "A request must not have both Content-Length and Transfer-Encoding"
INVALID_LENGTH_MESSAGE = "The request's Content-Length is not valid"
INVALID_PATH_MESSAGE = "The request path contains an encoded dot segment"
_CONTROL_CHARACTER = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # HTAB is allowed in field values
_VALUE = operator.itemgetter(1)  # of a (name, value) header pair
_SKIP_WITH_BODY = HOP_BY_HOP | {"content-length"}
_NO_BODY_STATUS = frozenset({204, 304})


class ClientDisconnected(Exception):
    """The caller went away while we were reading its body."""


@dataclass(slots=True)
class Incoming:
    """The parts of an ASGI HTTP request the gateway routes on."""

    method: str
    path: str  # raw (percent-encoded) path without the query, dot segments removed (RFC 3986 §5.2.4)
    query_text: str
    query: dict[str, list[str]]
    headers: Headers
    refused_path: bool = False  # the path hides a dot segment behind an encoded separator: 400

    @classmethod
    def parse(cls, scope: Scope) -> Incoming:
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else scope["path"]
        path, _, _ = path.partition("?")
        normalized = normalize_path(path)
        query_text = scope.get("query_string", b"").decode("latin-1")
        query: dict[str, list[str]] = {}
        if query_text:
            for key, value in parse_qsl(query_text, keep_blank_values=True):
                query.setdefault(key, []).append(value)
        headers = Headers.from_wire(scope["headers"])
        return cls(scope["method"], path if normalized is None else normalized, query_text, query, headers,
                   refused_path=normalized is None)


class Gateway:
    """Holds the current GatewayState (swapped atomically by reload) and handles requests."""

    def __init__(self, state: GatewayState, services: Services, access_log: AccessLog | None = None) -> None:
        self.state = state
        self.services = services
        self.metrics = services.gateway_metrics or GatewayMetrics(services.metrics)
        services.gateway_metrics = self.metrics
        self.access_log = access_log
        self.tracing = services.tracing
        self.request_traces = services.request_traces
        self.proxies = TrustedProxies.of(state.settings.server)
        # Called with each request's new context before routing (policygate test seeds and observes it).
        self.on_request: Callable[[Context], None] | None = None

    def swap(self, state: GatewayState) -> None:
        self.proxies = TrustedProxies.of(state.settings.server)
        self.state = state  # one reference assignment: requests in flight keep the state they started with

    async def handle(self, scope: Scope, receive: Receive, send: Send, respond: Respond | None = None) -> None:
        """Route, run the pipeline, send the response, record metrics and the access log.

        A WebSocket connection (ASGI scope `websocket`) goes to engine/gateway/websocket.py, which calls
        back with `respond`: what sends the handshake's answer in place of `send`."""
        if respond is None and scope["type"] == "websocket":
            await websocket.serve(self, scope, receive, send)
            return
        state = self.state  # the whole request uses the configuration it started with
        started = time.perf_counter()
        incoming = Incoming.parse(scope)
        ctx = self.context(scope, incoming)
        span = self.tracing.server_span(incoming.method, incoming.path, incoming.headers) if self.tracing else None
        trace = self.request_traces.begin(ctx) if self.request_traces is not None else None
        status, api_id, operation_id = 499, "", ""
        try:
            api_id, operation_id = await self.dispatch(state, ctx, scope, incoming, receive)
            if ctx.exchange.before_send:
                hooks, ctx.exchange.before_send = ctx.exchange.before_send, ()
                for hook in hooks:  # e.g. <cors> adding its headers to the final response
                    hook(ctx)
            # Counted before sending: a client that reads /metrics right after its answer sees it counted.
            self.metrics.requests.inc(api_id, operation_id, str(ctx.response.status_code))
            if respond is not None:
                status = await respond(self, ctx, api_id)
            else:
                extensions = scope.get("extensions")
                status = await self.send(ctx, send, incoming.method, extensions is not None and WHOLE_RESPONSE in extensions)
        except ClientDisconnected:
            release_response_stream(ctx)
            if ctx.exchange.body_observers is not None:
                await _finish_observers(ctx, ctx.exchange.body_observers, complete=False)
            return
        finally:  # from here on, nothing the client waits for: the response is sent (or never will be)
            observe_backend_latency(ctx, self.metrics)
            if span is not None:
                span.end(ctx, status, api_id, operation_id)
            if trace is not None and self.request_traces is not None:
                self.request_traces.finish(trace, status, api_id, operation_id)
        self.record(ctx, status, time.perf_counter() - started, api_id, operation_id)

    def context(self, scope: Scope, incoming: Incoming) -> Context:
        """The request's policy context, before routing."""
        client = scope.get("client")
        peer = client[0] if client else ""
        proxies = self.proxies
        if proxies.networks:  # a trusted proxy may have forwarded the request
            scheme = proxies.forwarded_scheme(peer, incoming.headers) or scope.get("scheme", "http")
            caller = proxies.client_address(peer, incoming.headers)
        else:
            scheme, caller = scope.get("scheme", "http"), peer
        if scope["type"] == "websocket":  # a WebSocket handshake routes to the APIs of the ws/wss schemes
            scheme = _WEBSOCKET_SCHEMES.get(scheme, scheme)
        original = _original_url(scope, scheme, incoming.headers, incoming.path, incoming.query)
        extensions = scope.get("extensions")
        ctx = Context(
            request=Request(method=incoming.method, url=original, original_url=original, headers=incoming.headers,
                            ip_address=caller, tls=extensions.get("tls") if extensions else None),
            response=RESPONSE_LATER,  # dispatch sets it: a pass-through never builds a default one
            services=self.services,
        )
        ctx.exchange.peer_address = peer
        ctx.exchange.original_method = incoming.method
        ctx.exchange.raw_query = incoming.query_text
        if self.on_request is not None:
            self.on_request(ctx)
        return ctx

    async def dispatch(
        self, state: GatewayState, ctx: Context, scope: Scope, incoming: Incoming, receive: Receive
    ) -> tuple[str, str]:
        """Produce ctx.response; returns (api id, operation id) for metrics ('' when unmatched).

        The context comes without a response (RESPONSE_LATER): every path sets one before anything
        reads it; a pipeline whose first step is forward-request (`Pipeline.backend_first`) gets the
        backend's answer as its first response."""
        if _has_control_character(scope["headers"]):  # h11 lets them through; forwarding them would fail as a 502
            ctx.response = error_response(400, INVALID_HEADER_MESSAGE)
            return "", ""
        framing = _framing_problem(ctx, incoming.headers)
        if framing is not None:  # RFC 9112 §6.1: the message boundary is unknown, so is the next request's
            ctx.exchange.close_connection = True
            ctx.response = error_response(400, framing)
            return "", ""
        if incoming.refused_path:
            ctx.response = error_response(400, INVALID_PATH_MESSAGE)
            return "", ""
        scheme = ctx.request.original_url.scheme  # the caller's scheme: a trusted proxy's, else this connection's
        match = state.router.route(scheme, incoming.method, incoming.path, incoming.query)
        preflight = _preflight_match(state, scheme, incoming, match) if incoming.method == "OPTIONS" else None
        if preflight is not None:
            ctx.response = Response()
            return await _run_preflight(ctx, preflight.operation)
        if match is None:
            ctx.response = Response()
            if not await state.global_pipeline.answer_unmatched(ctx):
                await _run_not_found(state, ctx)
            return "", ""
        entry = match.operation
        _enter_operation(ctx, entry, match, incoming.query)
        observed = ctx.exchange.observer is not None  # an observer may read the response at any step
        if observed:
            ctx.response = Response()
        pipeline = await _subscribe(state, ctx, entry, incoming)
        if pipeline is not None:
            if not (pipeline.backend_first and not observed and not ctx.exchange.slots):  # slots: e.g. a synthetic backend
                ctx.response = Response()
            await self.run_pipeline(state, ctx, pipeline, incoming, receive)
        return entry.api.id, entry.operation.id

    async def run_pipeline(
        self, state: GatewayState, ctx: Context, pipeline: Pipeline, incoming: Incoming, receive: Receive
    ) -> None:
        """Read (or stream) the request body as the pipeline needs, then run it."""
        try:
            length = ctx.exchange.request_length  # a valid Content-Length (_framing_problem), else None
            if length > 0 if length is not None else "transfer-encoding" in incoming.headers:
                if pipeline.needs_request_body:
                    limit = state.settings.server.max_body_size
                    ctx.request.body = MessageBody(await _read_body(receive, incoming.headers, limit))
                else:
                    ctx.exchange.request_stream = _body_chunks(receive, ctx)
            ctx.exchange.buffer_response = pipeline.needs_response_body
            await pipeline.run(ctx)
        except ClientDisconnected:
            raise
        except PolicyRuntimeError as error:  # the body was too large to buffer
            await pipeline.fail(ctx, error)
        except Exception:  # the pipeline converts policy failures; this is a gateway bug
            log.exception("unexpected failure handling %s %s", incoming.method, incoming.path)
            release_response_stream(ctx)
            ctx.response = error_response(500, "Internal server error")

    def record(self, ctx: Context, status: int, elapsed: float, api_id: str, operation_id: str) -> None:
        """Metrics (but the request count, taken before sending) and the access log of a sent response."""
        self.metrics.duration.observe(elapsed, api_id)
        if ctx.last_error is not None and ctx.last_error.reason in ("BackendConnectionFailure", "Timeout"):
            self.metrics.backend_errors.inc(api_id, ctx.last_error.reason)
        if self.access_log is not None:
            self.access_log.write(ctx, status, elapsed, api_id, operation_id)

    async def send(self, ctx: Context, send: Send, method: str, whole: bool = False) -> int:
        """Send ctx.response (streaming the backend body when it was not buffered); returns the status.

        `whole`: the server takes a response in one message (WHOLE_RESPONSE, the native server)."""
        response = ctx.response
        status = response.status_code
        answer, stream = take_stream(ctx)
        body = response.body.content if response.body is not None else b""
        if "date" not in response.headers:
            response.headers.add("Date", http_date())
        observers = ctx.exchange.body_observers
        if whole and stream is None and observers is None:
            try:
                await send({"type": WHOLE_RESPONSE, "status": status, "body": body,
                            "headers": encoded_headers(response.headers, _SKIP_WITH_BODY),
                            "close": ctx.exchange.close_connection})
            except Exception as exc:  # the client went away: nothing to send
                log.debug("response to %s aborted: %s", ctx.request.original_url, exc)
            if answer is not None:  # its body was sent from memory: done with it
                answer.release()
            return status
        if stream is not None:
            raw_headers = encoded_headers(response.headers)
        else:
            raw_headers = encoded_headers(response.headers, _SKIP_WITH_BODY)
            if status not in _NO_BODY_STATUS:
                raw_headers.append((b"content-length", str(len(body)).encode()))
        if ctx.exchange.close_connection:
            raw_headers.append((b"connection", b"close"))  # the ASGI server closes after this response
        complete = False
        try:
            await send({"type": "http.response.start", "status": status, "headers": raw_headers})
            if method == "HEAD" or status in _NO_BODY_STATUS:
                if stream is not None:
                    await stream.aclose()
                await send({"type": "http.response.body", "body": b""})
            elif stream is not None:
                try:
                    async for chunk in stream:
                        if observers:
                            _show(observers, chunk)
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                finally:
                    await stream.aclose()
                await send({"type": "http.response.body", "body": b""})
            else:
                if observers and body:
                    _show(observers, body)
                await send({"type": "http.response.body", "body": body})
            complete = True
        except Exception as exc:  # the client went away or the backend broke mid-body: nothing to send
            log.debug("response to %s aborted: %s", ctx.request.original_url, exc)
        if answer is not None and stream is None:  # its body was sent from memory (or not at all): done with it
            answer.release()
        if observers is not None:
            await _finish_observers(ctx, observers, complete)
        return status


def _show(observers: list[BodyObserver], chunk: bytes) -> None:
    """Give `chunk` to every body observer; one that fails is logged and dropped."""
    for observer in list(observers):
        try:
            observer.chunk(chunk)
        except Exception:
            log.exception("response body observer %r failed; dropped", observer)
            observers.remove(observer)


async def _finish_observers(ctx: Context, observers: list[BodyObserver], complete: bool) -> None:
    ctx.exchange.body_observers = None  # each observer is finished once
    for observer in observers:
        try:
            await observer.finished(ctx, complete)
        except Exception:
            log.exception("response body observer %r failed at the end of the body", observer)


class GatewayQuart(Quart):
    """Quart for the lifespan; HTTP goes straight to the gateway's handler."""

    gateway: Gateway

    # Quart declares hypercorn's typed ASGI dicts; the gateway's handler takes plain ones.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] in ("http", "websocket"):
            await self.gateway.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)  # type: ignore[arg-type]


def gateway_app(gateway: Gateway) -> GatewayQuart:
    """The ASGI app serving `gateway`; its lifespan starts and stops the gateway's services.

    `engine.gateway.runner.create_app(settings)` builds the whole gateway from a configuration.
    """
    app = GatewayQuart("policygate")
    app.gateway = gateway
    services = gateway.services

    @app.while_serving
    async def lifespan() -> AsyncGenerator[None, None]:
        await services.start()
        try:
            yield
        finally:
            await services.close()

    return app


def _preflight_match(
    state: GatewayState, scheme: str, incoming: Incoming, match: OperationMatch | None
) -> OperationMatch | None:
    """A CORS preflight, routed by the method it asks for, when that operation's inbound answers preflights.

    An operation that explicitly defines OPTIONS gets the request as usual (apim-spec §5.3).
    """
    headers = incoming.headers
    if incoming.method != "OPTIONS" or "origin" not in headers or "access-control-request-method" not in headers:
        return None
    if match is not None and match.operation.operation.method.upper() == "OPTIONS":
        return None
    requested = (headers.get("access-control-request-method") or "").strip().upper()
    target = (state.router.route(scheme, requested, incoming.path, incoming.query) if requested else None) or match
    if target is None or not target.operation.pipelines[None].preflight:
        return None
    return target


async def _run_preflight(ctx: Context, entry: OperationEntry) -> tuple[str, str]:
    """Only the top-level preflight-answering policies (<cors>) of inbound run (apim-spec §5.3)."""
    ctx.api, ctx.operation = entry.context_api, entry.context_operation
    await entry.pipelines[None].run_preflight(ctx)
    return entry.api.id, entry.operation.id


def _enter_operation(ctx: Context, entry: OperationEntry, match: OperationMatch, query: dict[str, list[str]]) -> None:
    """Point the request at the operation's backend and fill context.Api/Operation/MatchedParameters."""
    target = entry.target
    ctx.request.url = Url(target.scheme, target.host, target.port, (target.base_path + match.relative_path) or "/",
                          {k: list(v) for k, v in query.items()} if query else {})  # a comprehension is a call
    ctx.request.matched_parameters = match.params
    ctx.api = entry.context_api
    ctx.operation = entry.context_operation
    ctx.exchange.base_path = target.base_path
    if entry.graphql is not None:
        entry.graphql.enter(ctx)
    if entry.websocket is not None and ctx.request.original_url.scheme in ("ws", "wss"):
        entry.websocket.enter(ctx)  # a WebSocket handshake: forward-request opens the backend connection


async def _subscribe(state: GatewayState, ctx: Context, entry: OperationEntry, incoming: Incoming) -> Pipeline | None:
    """Resolve the subscription and pick the product's pipeline; None when the request was refused."""
    try:
        grant = state.subscriptions.resolve(entry.api, incoming.headers, incoming.query)
    except PolicyRuntimeError as error:
        await entry.pipelines[None].fail(ctx, error)
        return None
    ctx.subscription, ctx.user = grant.subscription, grant.user
    product_id = grant.product.id if grant.product is not None else None
    ctx.product = state.products[product_id] if product_id else None
    return entry.pipelines.get(product_id) or entry.pipelines[None]


async def _run_not_found(state: GatewayState, ctx: Context) -> None:
    error = PolicyRuntimeError(
        "Unable to match incoming request to an operation.", source="configuration", reason="OperationNotFound",
        status=404, public_message=NOT_FOUND_MESSAGE,  # APIM's caller-facing text
    )
    await state.global_pipeline.fail(ctx, error)


def _original_url(scope: Scope, scheme: str, headers: Headers, path: str, query: dict[str, list[str]]) -> Url:
    host_header = headers.get("host")
    if not host_header:
        default_port = 443 if scheme in ("https", "wss") else 80
        server = scope.get("server") or ("localhost", default_port)
        return Url(scheme, server[0], server[1] or default_port, path or "/", query)
    authority = _AUTHORITIES.get((scheme, host_header))
    if authority is None:
        authority = _authority(scheme, host_header)
        if len(_AUTHORITIES) < 256:  # the few names a gateway is called by; never grows with hostile Host values
            _AUTHORITIES[(scheme, host_header)] = authority
    return Url(scheme, authority[0], authority[1], path or "/", query)


_AUTHORITIES: dict[tuple[str, str], tuple[str, int]] = {}


def _authority(scheme: str, host_header: str) -> tuple[str, int]:
    """(host, port) of a Host header; the scheme's default port when it names none (or no number)."""
    default_port = 443 if scheme in ("https", "wss") else 80
    if host_header.startswith("["):  # [::1]:8080
        end = host_header.find("]") + 1
        host, rest = host_header[:end], host_header[end:]
    else:
        host, _, rest = host_header.partition(":")
        rest = ":" + rest if rest else ""
    return host, int(rest[1:]) if rest[1:].isdigit() else default_port


_date_cache: list[object] = [0, ""]


def http_date() -> str:
    """The current IMF-fixdate, formatted at most once per second."""
    now = int(clock.now())
    if _date_cache[0] != now:
        _date_cache[0], _date_cache[1] = now, formatdate(now, usegmt=True)
    return str(_date_cache[1])


def _has_control_character(raw_headers: list[tuple[bytes, bytes]]) -> bool:
    """A request header value with a control character (RFC 9110 §5.5) other than HTAB."""
    return _CONTROL_CHARACTER.search(b" ".join(map(_VALUE, raw_headers))) is not None


def _framing_problem(ctx: Context, headers: Headers) -> str | None:
    """Why the request's body framing cannot be trusted, or None; records a valid Content-Length.

    The ASGI server has already read the body by its own rules; the gateway still refuses what
    RFC 9112 §6.1/§6.3 call unsafe (both headers, or a Content-Length that is not one number),
    whatever server runs it, and computes the backend request's framing itself.
    """
    lengths = headers.get_list("content-length")
    if not lengths:
        return None
    if "transfer-encoding" in headers:
        return AMBIGUOUS_FRAMING_MESSAGE
    values = {value.strip() for line in lengths for value in line.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        return INVALID_LENGTH_MESSAGE
    ctx.exchange.request_length = int(values.pop())
    return None


async def _read_body(receive: Receive, headers: Headers, limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _too_large(limit: int) -> PolicyRuntimeError:
    return PolicyRuntimeError(
        f"The request body is larger than the {limit} bytes the gateway buffers (server.max-body-size).",
        source="configuration", reason="RequestEntityTooLarge", status=413,
    )


async def _body_chunks(receive: Receive, ctx: Context) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            ctx.exchange.client_gone = True
            raise ClientDisconnected()
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body"):
            return
