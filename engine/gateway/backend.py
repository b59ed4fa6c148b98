"""The backend HTTP client: one pooled aiohttp session, streaming bodies, APIM-style failures.

`forward(ctx, options)` sends `ctx.request` to `ctx.request.url` and puts the answer in
`ctx.response`. The body is streamed through unless the pipeline asked for buffering
(`ctx.exchange.buffer_response`), in which case `ctx.response.body` holds the bytes. Connection
failures raise PolicyRuntimeError 502 (BackendConnectionFailure); no response headers within
`timeout` seconds raise 504 (Timeout). Hop-by-hop headers are dropped in both directions.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import aiohttp
import yarl
from multidict import CIMultiDict

from engine.backends import FORWARD_TLS, tls_context
from engine.context import Context, Headers, MessageBody, Request, Response, ResponseStream, Slot
from engine.errors import PolicyRuntimeError
from engine.gateway.http1 import Answer, Http1Pool, Origin, ReleaseOnDrop, handles
from engine.httperrors import HttpClientError, http_failure_message
from engine.policy import (
    FORWARD_CERTIFICATE,
    FORWARD_PROXY,
    ForwardOptions,
    OutboundProxy,
    release_response_stream,
)
from engine.wire import HOP_BY_HOP, first_header_problem, wire_headers

if TYPE_CHECKING:
    from engine.certificates import Certificate
    from engine.gateway.services import GatewayMetrics
    from engine.gateway.settings import BackendClientSettings
    from engine.gateway.tracing import Tracing

_SKIP_REQUEST = HOP_BY_HOP | {"host", "content-length"}
MAX_CALL_RESPONSE_BYTES = 64 * 1024 * 1024  # the largest answer send-request keeps
SMALL_BODY = 64 * 1024  # bodies up to this size (with a Content-Length) are read at once: one send, not a stream


class BackendClient:
    """A shared, pooled client; `start()`/`close()` bracket the server's lifetime."""

    def __init__(self, settings: BackendClientSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._pool: Http1Pool | None = None  # forward-request's own client; aiohttp for what it does not do
        self._calls: Http1Pool | None = None  # the same client for send-request and other calls to services
        self.tracing: Tracing | None = None  # set when `tracing:` is configured

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.settings.max_connections, ttl_dns_cache=60, enable_cleanup_closed=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.settings.connect_timeout),
            )
        if self._pool is None:
            self._pool, self._calls = self.own_pools(self.settings)

    @staticmethod
    def own_pools(settings: BackendClientSettings) -> tuple[Http1Pool, Http1Pool]:
        """forward-request's pool and the calls' pool, sharing one verifying TLS context."""
        forward = Http1Pool(settings.max_connections, settings.connect_timeout)
        tls = forward.default_tls()  # loads the trust store now, not on the first https request
        return forward, Http1Pool(settings.max_connections, settings.connect_timeout, tls)

    async def close(self) -> None:
        pools, self._pool, self._calls = (self._pool, self._calls), None, None
        for pool in pools:
            if pool is not None:
                await pool.close()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("backend client is not started")
        return self._session

    async def forward(self, ctx: Context, options: ForwardOptions, *, source: str = "forward-request") -> None:
        """Send ctx.request to the backend and store the answer in ctx.response."""
        request = ctx.request
        origin, path_qs = target_url(ctx)
        headers = backend_headers(ctx, self.settings.forwarded_headers)
        data: Any = None
        if request.body is not None:
            data = request.body.content
        else:
            stream, ctx.exchange.request_stream = ctx.exchange.request_stream, None
            if stream is not None:
                data = stream
                if ctx.exchange.request_length is not None:  # validated by the gateway; else sent chunked
                    headers.append(("Content-Length", str(ctx.exchange.request_length)))
        if ctx.exchange.response_stream is not None:  # a retried forward-request replaces an earlier answer
            release_response_stream(ctx)
        span = None
        if self.tracing is not None:
            carrier = CIMultiDict(headers)  # the span's traceparent replaces the caller's
            span = self.tracing.client_span(source, request.method, origin.text(path_qs), carrier)
            headers = list(carrier.items())
        proxy = context = None
        if ctx.exchange.slots:  # a <proxy>, a client certificate or a backend's TLS settings
            proxy = FORWARD_PROXY.get(ctx)
            context = tls_context(FORWARD_CERTIFICATE.get(ctx), FORWARD_TLS.get(ctx))
        pool = self._pool
        if pool is not None and not handles(origin, options.follow_redirects, proxy is not None,
                                            request.headers.get("Expect")):
            pool = None
        started = time.perf_counter()
        status = 0
        answer: Answer | aiohttp.ClientResponse
        try:
            if pool is not None:
                answer = await pool.request(request.method, origin, path_qs, headers, data, context, options.timeout)
            else:
                async with asyncio.timeout(options.timeout):
                    answer = await self.session.request(
                        request.method,
                        origin.url(path_qs),
                        headers=CIMultiDict(headers),
                        data=data,
                        allow_redirects=options.follow_redirects,
                        max_redirects=10,
                        **proxy_options(proxy),
                        **tls_options(context),
                    )
            status = answer.status
        except TimeoutError:
            raise timeout_error(options.timeout, source) from None
        except (aiohttp.ClientError, OSError, ValueError, HttpClientError) as exc:
            if ctx.exchange.client_gone:
                raise PolicyRuntimeError(
                    "The client closed the connection while its request body was being sent to the backend.",
                    source=source, reason="ClientConnectionFailure", status=499,
                ) from None
            problem = first_header_problem(request.headers) if isinstance(exc, ValueError) else None
            if problem is not None:  # refused by the HTTP client before any connection: not a 502
                raise PolicyRuntimeError(problem, source=source, reason="InvalidHeaderValue", status=500) from None
            url = origin.url(path_qs)
            raise connection_error(http_failure_message(exc, url.host or "", url.port), source) from None
        finally:
            if span is not None:
                span.end(status)
        # Kept for the metrics, observed once the response is sent (observe_backend_latency): a histogram
        # update is not needed to produce the response.
        BACKEND_SECONDS.ensure(ctx).append(time.perf_counter() - started)
        response_headers = Headers.from_wire(answer.raw_headers, HOP_BY_HOP)
        response = Response(answer.status, answer.reason or "", response_headers)
        ctx.response = response
        failing = options.fail_on_error_status_code and answer.status >= 400
        small = answer.content_length is not None and answer.content_length <= SMALL_BODY and request.method != "HEAD"
        if small or ctx.exchange.buffer_response or failing:
            body = answer.complete_body() if isinstance(answer, Answer) else None
            if body is not None and not (ctx.exchange.buffer_response or failing):
                # Nothing reads it before it is sent: its connection goes back to the pool once the client
                # has the response (the gateway releases the stream after writing it), off the latency's path.
                response.body = MessageBody(body)
                ctx.exchange.response_stream = BackendStream(response, answer)
                return
            try:
                if body is None:
                    body = await answer.read()
            except (aiohttp.ClientError, OSError, TimeoutError, HttpClientError) as exc:
                raise PolicyRuntimeError(
                    f"Error occurred while reading the backend response: {http_failure_message(exc)}",
                    source=source, reason="BackendConnectionFailure", status=502,
                ) from None
            finally:
                answer.release()
            response.body = MessageBody(body)
        else:
            ctx.exchange.response_stream = BackendStream(response, answer)
        if failing:
            raise error_status(answer.status, source)

    async def call(self, request: Request, timeout: float, *, source: str, follow_redirects: bool = False,
                   proxy: OutboundProxy | None = None, certificate: Certificate | None = None) -> Response:
        """Send a request to another service (send-request) and read the whole answer within `timeout` s.

        Through the own client's second pool (`_calls`: a forward-request streaming its answer
        never holds the connection a send-request of the same request waits for), or aiohttp
        for what the own client leaves to it (proxies, redirects, `Expect: 100-continue`)."""
        headers = wire_headers(request.headers, _SKIP_REQUEST)
        data = request.body.content if request.body is not None else None
        span = None
        if self.tracing is not None:
            carrier = CIMultiDict(headers)  # the span's traceparent replaces the caller's
            span = self.tracing.client_span(source, request.method, str(request.url), carrier)
            headers = list(carrier.items())
        status = 0
        try:
            async with asyncio.timeout(timeout if timeout > 0 else None):
                url = yarl.URL(str(request.url))
                context = tls_context(certificate, None)
                pool = self._calls
                origin = Origin.of(url)
                if pool is not None and handles(origin, follow_redirects, proxy is not None,
                                                request.headers.get("Expect")):
                    answer = await pool.request(request.method, origin, url.raw_path_qs, headers, data, context)
                    status = answer.status
                    if answer.content_length is not None and answer.content_length > MAX_CALL_RESPONSE_BYTES:
                        answer.release()  # refused before reading it
                        raise _too_large(request, source)
                    body = await answer.read(MAX_CALL_RESPONSE_BYTES)
                    raw_headers, reason = answer.raw_headers, answer.reason
                else:
                    async with self.session.request(request.method, url, headers=CIMultiDict(headers), data=data,
                                                    allow_redirects=follow_redirects, **proxy_options(proxy),
                                                    **tls_options(context)) as response:
                        status = response.status
                        body = await response.content.read(MAX_CALL_RESPONSE_BYTES + 1)
                        raw_headers, reason = list(response.raw_headers), response.reason or ""
        except TimeoutError:
            raise PolicyRuntimeError(
                f"Request to {request.url.host} timed out after {timeout:g} seconds.", source=source, reason="Timeout"
            ) from None
        except (aiohttp.ClientError, OSError, ValueError, HttpClientError) as exc:
            raise PolicyRuntimeError(
                f"Error occurred while calling {request.url.host}: "
                f"{http_failure_message(exc, request.url.host, request.url.port)}", source=source,
                reason="BackendConnectionFailure",
            ) from None
        finally:
            if span is not None:
                span.end(status)
        if len(body) > MAX_CALL_RESPONSE_BYTES:
            raise _too_large(request, source)
        response_headers = Headers.from_wire(raw_headers, HOP_BY_HOP)
        return Response(status, reason, response_headers, MessageBody(body))


def _too_large(request: Request, source: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(f"the response of {request.url} is larger than {MAX_CALL_RESPONSE_BYTES} bytes",
                              source=source, reason="ResponseTooLarge")


def tls_options(context: ssl.SSLContext | None) -> dict[str, Any]:
    """aiohttp's `ssl`: a context presenting a client certificate or relaxing the backend's checks
    (connections are pooled per context, so they never mix identities or settings)."""
    return {"ssl": context} if context is not None else {}


def proxy_options(proxy: OutboundProxy | None) -> dict[str, Any]:
    """aiohttp's `proxy`/`proxy_auth` for `<proxy>` (HTTPS targets are tunnelled with CONNECT)."""
    if proxy is None:
        return {}
    auth = aiohttp.BasicAuth(proxy.username, proxy.password) if proxy.username else None
    return {"proxy": proxy.url, "proxy_auth": auth}


BACKEND_SECONDS: Slot[list[float]] = Slot("gateway.backend_seconds", list)




def observe_backend_latency(ctx: Context, metrics: GatewayMetrics) -> None:
    """Observe the latencies `forward` noted for this request (each answered backend call), by API."""
    latencies = BACKEND_SECONDS.pop(ctx)
    if latencies:
        api_id = ctx.api.id if ctx.api else ""
        for seconds in latencies:
            metrics.backend_duration.observe(seconds, api_id)


class BackendStream:
    """A backend answer whose body is still on the wire (`engine.context.ResponseStream`)."""

    __slots__ = ("response", "_answer", "_guard")

    def __init__(self, response: Response, answer: Answer | aiohttp.ClientResponse) -> None:
        self.response = response
        self._answer = answer
        # aiohttp releases a dropped answer itself (ClientResponse.__del__); ours needs a guard.
        self._guard = ReleaseOnDrop(answer) if isinstance(answer, Answer) else None

    async def read(self) -> bytes:
        try:
            return await self._answer.read()
        except (aiohttp.ClientError, OSError, HttpClientError) as exc:
            raise PolicyRuntimeError(
                f"Error occurred while reading the backend response: {http_failure_message(exc)}",
                source="forward-request", reason="BackendConnectionFailure", status=502,
            ) from None
        finally:
            self._answer.release()

    def chunks(self) -> AsyncGenerator[bytes, None]:
        if isinstance(self._answer, Answer):
            return self._answer.chunks(self._guard)
        return self._aiohttp_chunks(self._answer)

    @staticmethod
    async def _aiohttp_chunks(answer: aiohttp.ClientResponse) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in answer.content.iter_any():
                yield chunk
        finally:
            answer.release()

    def release(self) -> None:
        self._answer.release()


def take_stream(ctx: Context) -> tuple[ResponseStream | None, AsyncGenerator[bytes, None] | None]:
    """The backend answer the response came with, and the chunks of its body still to send for
    ctx.response (None when the body is buffered or the response replaced: then the caller
    releases the answer once the response is sent)."""
    stream, ctx.exchange.response_stream = ctx.exchange.response_stream, None
    if stream is None or stream.response is not ctx.response or stream.response.body is not None:
        return stream, None
    return stream, stream.chunks()


def backend_headers(ctx: Context, forwarded: bool) -> list[tuple[str, str]]:
    """The header lines forward-request sends: end-to-end headers, plus X-Forwarded-* when `forwarded`."""
    headers = wire_headers(ctx.request.headers, _SKIP_REQUEST)
    if forwarded:
        _add_forwarded(headers, ctx)
    return headers


def timeout_error(timeout: float, source: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(
        f"Request to the backend service timed out after {timeout:g} seconds.",
        source=source, reason="Timeout", status=504,
    )


def connection_error(detail: str, source: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(
        f"Error occurred while calling backend service: {detail}",
        source=source, reason="BackendConnectionFailure", status=502,
    )


def error_status(status: int, source: str) -> PolicyRuntimeError:
    """fail-on-error-status-code: the backend's answer stays the response, on-error runs."""
    return PolicyRuntimeError(
        f"Backend service responded with status code {status}.",
        source=source, reason="BackendErrorStatusCode", status=status, keep_response=True,
    )


def target_url(ctx: Context) -> tuple[Origin, str]:
    """The backend's origin and the percent-encoded path and query to send; the client's raw query string
    is kept unless a policy changed the query.

    Ordinary targets (a host name or IPv4 address, an already percent-encoded path) are put together
    from their parts, with one `Origin` kept per scheme, host and port; anything else is read by yarl
    (`parsed_target`), which gives the same parts for ordinary ones (tests/gateway/test_target_url.py
    compares both on random URLs)."""
    url = ctx.request.url
    raw = ctx.exchange.raw_query
    if raw is None or url.query != ctx.request.original_url.query:
        path_qs = url.path + url.query_string
    else:
        path_qs = f"{url.path}?{raw}" if raw else url.path
    key = (url.scheme, url.host, url.port)
    origin = _ORIGINS.get(key)
    if origin is None:
        origin = _plain_origin(*key)
        if len(_ORIGINS) < 256:  # the few backends a gateway calls; never grows with hostile values
            _ORIGINS[key] = origin
    if origin is not _ODD and _PLAIN_PATH.fullmatch(path_qs) is not None:
        return origin, path_qs
    return parsed_target(f"{url.scheme}://{url.host if url.default_port else f'{url.host}:{url.port}'}{path_qs}")


_ODD = Origin("", "", 0, "")  # not an ordinary origin: yarl reads the whole URL
_ORIGINS: dict[tuple[str, str, int], Origin] = {}


def _plain_origin(scheme: str, host: str, port: int) -> Origin:
    """The origin of an ordinary scheme, host and port (see target_url), else _ODD."""
    if scheme not in ("http", "https") or not 0 < port < 65536 or _PLAIN_HOST.fullmatch(host) is None:
        return _ODD
    default = port == (443 if scheme == "https" else 80)
    return Origin(scheme, host, port, host if default else f"{host}:{port}")


def parsed_target(text: str) -> tuple[Origin, str]:
    """`text` as yarl reads it; already percent-encoded text skips yarl's re-quoting."""
    url = yarl.URL(text, encoded=_ENCODED.fullmatch(text) is not None)
    return Origin.of(url), url.raw_path_qs


_ENCODED = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*)*")
# A host name or IPv4 address (no trailing dot: yarl leaves it out of Host).
_PLAIN_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?")
# A percent-encoded path from "/" with its query, without a fragment or an empty query (yarl drops its "?").
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=]*)*(?<!\?)")


_FORWARDED = frozenset({"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"})


def _add_forwarded(headers: list[tuple[str, str]], ctx: Context) -> None:
    received = ctx.request.headers
    if received.has_any(_FORWARDED):
        at = {name.lower(): i for i, (name, _) in enumerate(headers)}  # one line per name (wire_headers joins)
    else:
        at = {}  # the common case: none to extend or keep
    ip = ctx.exchange.peer_address or ctx.request.ip_address  # the hop that reached us, as proxies append
    if ip:
        i = at.get("x-forwarded-for")
        if i is None:
            headers.append(("X-Forwarded-For", ip))
        else:
            name, previous = headers[i]
            headers[i] = (name, f"{previous}, {ip}" if previous else ip)
    original = ctx.request.original_url
    if "x-forwarded-host" not in at:
        headers.append(("X-Forwarded-Host", original.host if original.default_port else f"{original.host}:{original.port}"))
    if "x-forwarded-proto" not in at:
        headers.append(("X-Forwarded-Proto", original.scheme))
