"""The backend HTTP client: one pooled aiohttp session, streaming bodies, APIM-style failures.

`forward(ctx, options)` sends `ctx.request` to `ctx.request.url` and puts the answer in
`ctx.response`. The body is streamed through unless the pipeline asked for buffering
(`ctx.state[BUFFER_RESPONSE]`), in which case `ctx.response.body` holds the bytes. Connection
failures raise PolicyRuntimeError 502 (BackendConnectionFailure); no response headers within
`timeout` seconds raise 504 (Timeout). Hop-by-hop headers are dropped in both directions.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import yarl
from multidict import CIMultiDict

from engine.context import Context, Headers, MessageBody, Response
from engine.errors import PolicyRuntimeError

if TYPE_CHECKING:
    from engine.gateway.config import BackendClientSettings

# ctx.state keys shared by the app, the pipeline and forward-request.
REQUEST_STREAM = "gateway.request_stream"  # async iterator of the client's body chunks (unbuffered)
RESPONSE_STREAM = "gateway.response_stream"  # (Response, aiohttp.ClientResponse) while streaming
BUFFER_RESPONSE = "gateway.buffer_response"  # True: read the whole backend body into ctx.response.body
CLIENT_GONE = "gateway.client_gone"  # set when the client disconnected while its body was streamed
RAW_QUERY = "gateway.raw_query"  # the client's query string as sent (forwarded as is while unchanged)

HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade",
    }
)
# Header fields that are sent as one line per value instead of one comma-joined line (set-header docs).
SEPARATE_LINES = frozenset(
    {
        "user-agent", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie", "warning", "date",
        "expires", "if-modified-since", "if-unmodified-since", "last-modified", "retry-after",
    }
)
_SKIP_REQUEST = HOP_BY_HOP | {"host", "content-length"}
SMALL_BODY = 64 * 1024  # bodies up to this size (with a Content-Length) are read at once: one send, not a stream


@dataclass(frozen=True)
class ForwardOptions:
    timeout: float = 300.0
    follow_redirects: bool = False
    fail_on_error_status_code: bool = False


def wire_headers(headers: Headers, skip: frozenset[str] = HOP_BY_HOP) -> Iterable[tuple[str, str]]:
    """Header lines to send: comma-joined values, except the fields that need one line per value."""
    dropped = _connection_tokens(headers)
    for name, values in headers.items():
        lower = name.lower()
        if lower in skip or lower in dropped:
            continue
        if len(values) == 1 or lower in SEPARATE_LINES:
            for value in values:
                yield name, value
        else:
            yield name, ",".join(values)


def _connection_tokens(headers: Headers) -> frozenset[str]:
    value = headers.get("connection")
    if not value:
        return frozenset()
    return frozenset(token.strip().lower() for token in value.split(",") if token.strip())


class BackendClient:
    """A shared, pooled client; `start()`/`close()` bracket the server's lifetime."""

    def __init__(self, settings: BackendClientSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

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

    async def close(self) -> None:
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
        url = _target_url(ctx)
        headers = CIMultiDict(wire_headers(request.headers, _SKIP_REQUEST))
        data: Any = None
        if request.body is not None:
            data = request.body.content
        else:
            stream = ctx.state.pop(REQUEST_STREAM, None)
            if stream is not None:
                data = stream
                length = request.headers.get("content-length")
                if length is not None:
                    headers["Content-Length"] = length
        if self.settings.forwarded_headers:
            _add_forwarded(headers, ctx)
        release_stream(ctx)  # a retried forward-request replaces an earlier answer
        started = time.perf_counter()
        try:
            async with asyncio.timeout(options.timeout):
                answer = await self.session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=data,
                    allow_redirects=options.follow_redirects,
                    max_redirects=10,
                )
        except TimeoutError:
            raise PolicyRuntimeError(
                f"Request to the backend service timed out after {options.timeout:g} seconds.",
                source=source, reason="Timeout", status=504,
            ) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            if ctx.state.get(CLIENT_GONE):
                raise PolicyRuntimeError(
                    "The client closed the connection while its request body was being sent to the backend.",
                    source=source, reason="ClientConnectionFailure", status=499,
                ) from None
            raise PolicyRuntimeError(
                f"Error occurred while calling backend service: {_describe(exc)}",
                source=source, reason="BackendConnectionFailure", status=502,
            ) from None
        _observe_latency(ctx, time.perf_counter() - started)
        response = Response(
            status_code=answer.status,
            status_reason=answer.reason or "",
            headers=Headers(
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in answer.raw_headers
                if k.lower().decode("latin-1") not in HOP_BY_HOP
            ),
        )
        ctx.response = response
        small = answer.content_length is not None and answer.content_length <= SMALL_BODY and request.method != "HEAD"
        if small or ctx.state.get(BUFFER_RESPONSE) or options.fail_on_error_status_code and answer.status >= 400:
            try:
                body = await answer.read()
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise PolicyRuntimeError(
                    f"Error occurred while reading the backend response: {_describe(exc)}",
                    source=source, reason="BackendConnectionFailure", status=502,
                ) from None
            finally:
                answer.release()
            response.body = MessageBody(body)
        else:
            ctx.state[RESPONSE_STREAM] = (response, answer)
        if options.fail_on_error_status_code and answer.status >= 400:
            error = PolicyRuntimeError(
                f"Backend service responded with status code {answer.status}.",
                source=source, reason="BackendErrorStatusCode", status=answer.status,
            )
            error.keep_response = True  # type: ignore[attr-defined]
            raise error


def _observe_latency(ctx: Context, seconds: float) -> None:
    metrics = getattr(ctx.services, "gateway_metrics", None)
    if metrics is not None:
        metrics.backend_duration.observe(seconds, ctx.api.id if ctx.api else "")


def release_stream(ctx: Context) -> None:
    """Drop an unsent backend body (the response was replaced or the request failed)."""
    entry = ctx.state.pop(RESPONSE_STREAM, None)
    if entry is not None:
        entry[1].release()


async def read_stream(ctx: Context) -> None:
    """Buffer a streamed backend body into ctx.response.body (for a policy that needs it late)."""
    entry = ctx.state.pop(RESPONSE_STREAM, None)
    if entry is None:
        return
    response, answer = entry
    try:
        body = await answer.read()
    except (aiohttp.ClientError, OSError) as exc:
        raise PolicyRuntimeError(
            f"Error occurred while reading the backend response: {_describe(exc)}",
            source="forward-request", reason="BackendConnectionFailure", status=502,
        ) from None
    finally:
        answer.release()
    if response.body is None:
        response.body = MessageBody(body)


def stream_of(ctx: Context) -> AsyncIterator[bytes] | None:
    """The chunks of the backend body still to send for ctx.response, or None when buffered/replaced."""
    entry = ctx.state.pop(RESPONSE_STREAM, None)
    if entry is None:
        return None
    response, answer = entry
    if response is not ctx.response or response.body is not None:
        answer.release()
        return None
    return _chunks(answer)


async def _chunks(answer: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.content.iter_any():
            yield chunk
    finally:
        answer.release()


def _target_url(ctx: Context) -> yarl.URL:
    """The backend URL; the client's raw query string is kept unless a policy changed the query."""
    url = ctx.request.url
    raw = ctx.state.get(RAW_QUERY)
    if raw is None or url.query != ctx.request.original_url.query:
        text = str(url)
    else:
        netloc = url.host if url.default_port else f"{url.host}:{url.port}"
        text = f"{url.scheme}://{netloc}{url.path}?{raw}" if raw else f"{url.scheme}://{netloc}{url.path}"
    # Already percent-encoded text skips yarl's re-quoting (measurably cheaper per request).
    return yarl.URL(text, encoded=_ENCODED.fullmatch(text) is not None)


_ENCODED = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*)*")


def _add_forwarded(headers: CIMultiDict[str], ctx: Context) -> None:
    ip = ctx.request.ip_address
    if ip:
        previous = headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{previous}, {ip}" if previous else ip
    original = ctx.request.original_url
    if "X-Forwarded-Host" not in headers:
        host = original.host if original.default_port else f"{original.host}:{original.port}"
        headers["X-Forwarded-Host"] = host
    if "X-Forwarded-Proto" not in headers:
        headers["X-Forwarded-Proto"] = original.scheme


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]
