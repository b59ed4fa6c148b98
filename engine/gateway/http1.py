"""A lean HTTP/1.1 client for forward-request: pooled keep-alive connections on the gateway's loop.

aiohttp was a third of a pass-through's CPU. This client does what forward-request needs and
nothing else: one `transport.write` per request head (and body, when it is bytes), responses
parsed by llhttp through httptools (the parser Node.js and aiohttp's own C parser use), response
bodies handed over as they arrive, with reading from the backend paused while more than
`HIGH_WATER` bytes wait for the client.

`Http1Pool.request()` returns an `Answer` once the response headers are in. Its body is read with
`read()` or `chunks()`, or dropped with `release()`; a complete answer on a keep-alive connection
gives the connection back to the pool, anything else closes it. A request that fails on a reused
connection before any byte of the answer arrived (the backend closed an idle keep-alive
connection as we sent) is sent once more on a new connection when that is safe: an idempotent
method with a body that can be sent again (RFC 9112 §9.3.1).

What it does not do (proxies, following redirects, `Expect: 100-continue`, credentials in the
URL) stays with aiohttp: `engine.gateway.backend` chooses per request (`handles()`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator

import httptools
import yarl

from engine.httperrors import EndedPrematurely, HttpClientError, InvalidResponse, SendFailed

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # no `Content-Length: 0` without a body
HIGH_WATER = 1024 * 1024  # buffered body bytes at which reading from the backend pauses
IDLE_SECONDS = 15.0  # an idle keep-alive connection is closed after this long (aiohttp's default too)
TICK = 0.05  # how often late answers are looked for: a timeout fires at most this much after its deadline
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])  # control characters in a head line (HTAB allowed)
# Maps each control byte to 0 and every other byte to 1: `head.translate(_MARK_CONTROL).count(0)` counts them in two
# passes in C (translate with a deletion set first builds a 256-entry table on every call).
_MARK_CONTROL = bytes(0 if byte in _CONTROL_BYTES else 1 for byte in range(256))
_LINE = "%s: %s".__mod__  # one (name, value) tuple as a head line, formatted in C

PoolKey = tuple[str, int, "ssl.SSLContext | None"]


class Origin:
    """Where requests go, but for their path: scheme, host (as sent: yarl's raw_host, IDNA-encoded, IPv6
    without brackets), port, and the Host header's value (`authority`: the port only when it is not the
    scheme's default).

    `engine.gateway.backend.target_url` keeps one per ordinary scheme, host and port it sends to and
    pairs it with each request's percent-encoded path and query; `Origin.of(url)` reads one from a
    yarl URL (send-request, odd targets) and keeps that URL."""

    __slots__ = ("scheme", "host", "port", "authority", "credentials", "prefix", "_url")

    def __init__(self, scheme: str, host: str, port: int, authority: str, credentials: bool = False,
                 url: yarl.URL | None = None) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.authority = authority
        self.credentials = credentials  # the URL names a user or password
        self.prefix = f"{scheme}://{authority}"
        self._url = url

    @classmethod
    def of(cls, url: yarl.URL) -> Origin:
        port = url.port or (443 if url.scheme == "https" else 80)
        return cls(url.scheme, url.raw_host or "", port, url.host_port_subcomponent or "",
                   url.raw_user is not None or url.raw_password is not None, url)

    def url(self, path_qs: str) -> yarl.URL:
        """The whole URL (for aiohttp, tracing and error messages): the one this origin was read from, else
        this origin with `path_qs`."""
        return self._url if self._url is not None else yarl.URL(self.prefix + path_qs, encoded=True)

    def text(self, path_qs: str) -> str:
        """The whole URL as text."""
        return str(self._url) if self._url is not None else self.prefix + path_qs

    def parts(self) -> tuple[str, str, int, str, bool]:
        return self.scheme, self.host, self.port, self.authority, self.credentials

    def __repr__(self) -> str:
        return f"Origin{self.parts()!r}"


def handles(origin: Origin, follow_redirects: bool, has_proxy: bool, expect: str | None) -> bool:
    """Whether this client sends the request; otherwise aiohttp does (see the module docstring)."""
    return (
        not follow_redirects and not has_proxy and origin.scheme in ("http", "https") and bool(origin.host)
        and not origin.credentials and (expect is None or expect.strip().lower() != "100-continue")
    )


class Http1Pool:
    """Keep-alive connections per (host, port, TLS context); at most `max_connections` in use at once."""

    def __init__(self, max_connections: int, connect_timeout: float | None,
                 default_tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._idle: dict[PoolKey, list[_Connection]] = {}
        self._busy = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._default_tls = default_tls  # None: made on first use (`default_tls()`)
        self._sweeper: asyncio.TimerHandle | None = None
        self._deadlines: dict[Answer, float] = {}  # answers still waiting for their headers
        self._ticker: asyncio.TimerHandle | None = None

    def default_tls(self) -> ssl.SSLContext:
        """The verifying TLS context for https backends without a client certificate (made once)."""
        if self._default_tls is None:
            context = ssl.create_default_context()
            context.set_alpn_protocols(["http/1.1"])
            self._default_tls = context
        return self._default_tls

    async def close(self) -> None:
        for handle in (self._sweeper, self._ticker):
            if handle is not None:
                handle.cancel()
        self._sweeper = self._ticker = None
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    async def request(self, method: str, origin: Origin, path_qs: str, headers: list[tuple[str, str]],
                      body: bytes | AsyncIterator[bytes] | None, tls: ssl.SSLContext | None = None,
                      timeout: float | None = None) -> Answer:
        """Send the request; the answer once its headers are in, else TimeoutError after `timeout` s
        (None: no limit). `headers` are the end-to-end header lines to send (a streamed `body`
        without `Content-Length` among them goes chunked)."""
        now = time.monotonic()  # not the loop's clock: asyncio.get_running_loop() is a getpid() system call
        deadline = now + timeout if timeout else None
        if tls is None and origin.scheme == "https":
            tls = self.default_tls()
        head, chunked = _head(method, path_qs, origin.authority, headers, body)
        key: PoolKey = (origin.host, origin.port, tls)
        retried = False
        while True:
            connection = self._idle_connection(key, now)
            if connection is None:
                async with asyncio.timeout(None if deadline is None else deadline - time.monotonic()):
                    connection = await self._acquire(key, tls)
            answer = None
            try:
                if body is None or isinstance(body, bytes):
                    connection.write(head + body if body and len(body) <= 16384 else head)
                    if body and len(body) > 16384:
                        connection.write(body)
                else:
                    connection.upload = asyncio.ensure_future(connection.send_stream(head, body, chunked))
                # Made after the write, while the backend works: nothing of the answer can arrive before
                # this coroutine waits (the loop delivers it), and the write is the latency's critical path.
                answer = connection.start(method)
                if deadline is not None:
                    self._watch(answer, deadline)
                await answer.headers()
                return answer
            except (HttpClientError, ConnectionError) as exc:
                if answer is None:  # the write failed: the connection closed while it was idle in the pool
                    answer = connection.start(method)
                answer.release()
                stale = connection.reused and not answer.received and not isinstance(exc, InvalidResponse)
                if retried or not stale or method not in IDEMPOTENT or not (body is None or isinstance(body, bytes)):
                    raise
                retried = True  # the backend closed the idle connection as we sent: once more, on a new one
                now = time.monotonic()
            except BaseException:
                (answer or connection.start(method)).release()
                raise
            finally:
                if deadline is not None and answer is not None:
                    self._deadlines.pop(answer, None)

    def _watch(self, answer: Answer, deadline: float) -> None:
        """Fail `answer` with TimeoutError if its headers are not in by `deadline` (time.monotonic()).

        One repeating timer checks every TICK seconds while answers wait; a timer per request (or
        asyncio.timeout) cost about 7 µs of CPU per request on the pass-through path."""
        self._deadlines[answer] = deadline
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().call_later(TICK, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        for answer in [a for a, deadline in self._deadlines.items() if deadline <= now]:
            del self._deadlines[answer]
            answer.fail(TimeoutError())
        self._ticker = asyncio.get_running_loop().call_later(TICK, self._tick) if self._deadlines else None

    def _idle_connection(self, key: PoolKey, now: float) -> _Connection | None:
        """A kept connection to `key` that is still open and not idle too long at `now`, or None."""
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            if now - connection.idle_since > IDLE_SECONDS:
                connection.close()
                continue
            self._busy += 1
            connection.reused = True
            return connection
        return None

    async def _acquire(self, key: PoolKey, tls: ssl.SSLContext | None) -> _Connection:
        """A connection to `key` once fewer than `max_connections` are in use: a kept one or a new one."""
        while self._busy >= self.max_connections:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # hand the slot given to us on to the next waiter
                raise
            connection = self._idle_connection(key, time.monotonic())  # one may have come back while we waited
            if connection is not None:
                return connection
        self._busy += 1
        try:
            return await self._connect(key, tls)
        except BaseException:
            self._done_with()
            raise

    async def _connect(self, key: PoolKey, tls: ssl.SSLContext | None) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port, _ = key
        async with asyncio.timeout(self.connect_timeout):  # expiry: TimeoutError, a 504 as aiohttp gave
            if _is_address(host):
                addresses = [host]
            else:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
            error: OSError | None = None
            for address in addresses:  # like aiohttp: every address in turn, the last error if all fail
                try:
                    _, connection = await loop.create_connection(
                        lambda: _Connection(self, key), address, port, ssl=tls,
                        server_hostname=host.strip("[]") if tls is not None else None,
                    )
                    return connection
                except OSError as exc:
                    error = exc
            raise error or OSError(f"no address for {host}")

    def give_back(self, connection: _Connection) -> None:
        """An answer was complete: keep its connection for the next request to the same place."""
        self._done_with()
        connection.idle_since = time.monotonic()
        self._idle.setdefault(connection.key, []).append(connection)
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        limit = time.monotonic() - IDLE_SECONDS
        for key, connections in list(self._idle.items()):
            keep = [c for c in connections if not c.closed and c.idle_since > limit]
            for connection in connections:
                if connection not in keep:
                    connection.close()
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        if self._idle:
            self._sweeper = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._sweep)

    def _done_with(self) -> None:
        self._busy -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _encode_line(line: str) -> bytes:
    """One head line as the response side encodes header values (engine/wire.py): latin-1, else UTF-8."""
    try:
        return line.encode("latin-1")
    except UnicodeEncodeError:
        return line.encode("utf-8")


def _head(method: str, path_qs: str, authority: str, headers: list[tuple[str, str]],
          body: bytes | AsyncIterator[bytes] | None) -> tuple[bytes, bool]:
    """The request line and header block as aiohttp framed them; (bytes, chunked)."""
    lines = [f"{method} {path_qs} HTTP/1.1", f"Host: {authority}", *map(_LINE, headers)]
    chunked = False
    if isinstance(body, bytes):
        lines.append(f"Content-Length: {len(body)}")
    elif body is None:
        if method not in NO_BODY_METHODS:
            lines.append("Content-Length: 0")
    elif not any(name.lower() == "content-length" for name, _ in headers):
        lines.append("Transfer-Encoding: chunked")
        chunked = True
    text = "\r\n".join(lines) + "\r\n\r\n"
    try:  # as the server decoded them (ASGI: latin-1), so the client's bytes go on unchanged
        head = text.encode("latin-1")
    except UnicodeEncodeError:  # a policy wrote characters latin-1 cannot hold: those lines in UTF-8
        head = b"\r\n".join(_encode_line(line) for line in text.split("\r\n"))
    # One pass in C: deleting the control characters must delete only the CR LF pairs put between lines.
    if head.translate(_MARK_CONTROL).count(0) != 2 * (len(lines) + 1):
        raise ValueError("a control character in the request head")  # the caller names the header
    return head, chunked


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request on it at a time (`answer`)."""

    def __init__(self, pool: Http1Pool, key: PoolKey) -> None:
        self.pool = pool
        self.key = key
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.answer: Answer | None = None
        self.upload: asyncio.Future[None] | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._drained: asyncio.Future[None] | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP connection: always an asyncio.Transport

    def start(self, method: str) -> Answer:
        self.answer = Answer(self, method)
        return self.answer

    def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise EndedPrematurely("the connection to the backend is closed")
        self.transport.write(data)

    async def send_stream(self, head: bytes, body: AsyncIterator[bytes], chunked: bool) -> None:
        """Write a streamed request body (as it comes from the client), with flow control."""
        answer = self.answer
        try:
            self.write(head)
            async for chunk in body:
                if chunk:
                    self.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                    if self._paused:
                        await self._drain()
            if chunked:
                self.write(b"0\r\n\r\n")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client went away, or the backend did
            if answer is not None:
                answer.fail(SendFailed(f"sending the request body failed: {exc!r}"))
            self.close()

    async def _drain(self) -> None:
        while self._paused and not self.closed:
            self._drained = self.loop.create_future()
            await self._drained

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def data_received(self, data: bytes) -> None:
        answer = self.answer
        if answer is None or answer.complete:
            self.close()  # bytes nobody asked for: the connection's framing cannot be trusted
            return
        answer.feed(data)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if self.answer is not None:
            self.answer.connection_lost(exc)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()


class ReleaseOnDrop:
    """Releases an answer when its last holder lets go of it unreleased.

    An answer in flight is referenced by its connection, so it is never garbage itself; a body
    stream the gateway dropped without reading it (the client left before the response started)
    would keep its connection and its place under `max_connections` for ever. Whoever may still
    read the body holds one of these (the gateway's response stream, the chunks generator).
    """

    __slots__ = ("answer",)

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def __del__(self) -> None:
        try:
            self.answer.release()  # does nothing when the reader released it
        except Exception:  # noqa: S110 - the loop is gone (interpreter exit): nothing left to release
            pass


class Answer:
    """A backend response: status and headers at once, the body as it arrives (httptools callbacks)."""

    __slots__ = ("_connection", "_head_only", "_parser", "status", "reason", "raw_headers", "content_length",
                 "complete", "received", "_error", "_waiter", "_chunks", "_buffered", "_paused", "_until_close",
                 "_keep_alive", "_released", "_has_headers")

    def __init__(self, connection: _Connection, method: str) -> None:
        self._connection = connection
        self._head_only = method == "HEAD"
        self._parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.reason = ""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.complete = False
        self.received = False  # any byte of the answer arrived
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._paused = False
        self._until_close = False
        self._keep_alive = False
        self._released = False
        self._has_headers = False

    # -- reading, for the gateway ------------------------------------------------------------

    async def headers(self) -> None:
        while not self._has_headers:
            if self._error is not None:
                raise self._error
            await self._wait()

    def complete_body(self) -> bytes | None:
        """The whole body when it has already arrived, else None: a small answer usually comes in one
        piece with its head, and needs no coroutine to read. The caller releases the answer."""
        if not self.complete or self._error is not None:
            return None
        return self._take() if self._chunks else b""

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body; then the answer is released. With `limit`, reading stops as soon as more
        than `limit` bytes are in (the caller sees the longer result; the connection is closed)."""
        try:
            parts = []
            size = 0
            while True:
                if self._chunks:
                    part = self._take()
                    parts.append(part)
                    size += len(part)
                    if limit is not None and size > limit:
                        return b"".join(parts)
                elif self.complete:
                    return b"".join(parts)
                elif self._error is not None:
                    raise self._error
                else:
                    await self._wait()
        finally:
            self.release()

    async def chunks(self, guard: ReleaseOnDrop | None = None) -> AsyncGenerator[bytes, None]:
        """The body as it arrives; then the answer is released. `guard` lives as long as the
        generator, so one that is dropped without ever being started still releases the answer."""
        try:
            while True:
                if self._chunks:
                    yield self._take()
                elif self.complete:
                    return
                elif self._error is not None:
                    raise self._error
                else:
                    await self._wait()
        finally:
            self.release()

    def release(self) -> None:
        """Done with this answer: its connection goes back to the pool if it can carry another request."""
        if self._released:
            return
        self._released = True
        del self._parser  # it holds our bound methods: a cycle only the cyclic GC would free (never fed after this)
        connection = self._connection
        connection.answer = None
        upload = connection.upload
        connection.upload = None
        if upload is not None and not upload.done():
            upload.cancel()
            connection.close()
        if self.complete and self._keep_alive and self._error is None and not connection.closed:
            if self._paused:
                connection.resume_reading()
            connection.pool.give_back(connection)
        else:
            connection.close()
            connection.pool._done_with()

    def _take(self) -> bytes:
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._paused:
            self._paused = False
            self._connection.resume_reading()
        return data

    async def _wait(self) -> None:
        self._waiter = self._connection.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None  # woken once: the head, body and end of a small answer come in one feed
            if not waiter.done():
                waiter.set_result(None)

    # -- events, from the connection ---------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # 101 Switching Protocols: the answer is its head
            self._finish(keep_alive=False)
        except httptools.HttpParserError as exc:
            if not self.complete:
                self.fail(InvalidResponse(f"invalid HTTP response from the backend: {exc}"))
            self._connection.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.complete:
            return
        if self._has_headers and self._until_close and exc is None:
            self._finish(keep_alive=False)  # a body without framing ends when the connection does
        elif isinstance(exc, OSError):
            self.fail(exc)
        else:
            self.fail(EndedPrematurely("the backend closed the connection before the whole response arrived"))

    def fail(self, error: BaseException) -> None:
        if self._error is None and not self.complete:
            self._error = error
        self._wake()

    def _finish(self, keep_alive: bool) -> None:
        self.complete = True
        self._keep_alive = keep_alive
        self._wake()

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.raw_headers = []
        self.reason = ""

    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200 and status != 101:
            return  # 1xx: an interim answer; the final one follows on the same parser
        self.status = status
        chunked = False
        for name, value in self.raw_headers:
            lower = name.lower()
            if lower == b"content-length" and value.strip().isdigit():
                self.content_length = int(value)
            elif lower == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        self._has_headers = True
        if self._head_only:
            self._finish(keep_alive=False)  # llhttp would wait for the body a HEAD answer announces
        elif status not in (204, 304) and self.content_length is None and not chunked:
            self._until_close = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused:
            self._paused = True
            self._connection.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status == 0:
            return  # the end of a 1xx answer
        if not self.complete:
            self._finish(keep_alive=self._parser.should_keep_alive() and not self._until_close)
