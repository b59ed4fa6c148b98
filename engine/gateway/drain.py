"""Graceful shutdown: track in-flight requests, let them finish, answer 503 to those that take too long.

`DrainingApp` wraps the gateway's ASGI app on Granian and Hypercorn. When the process is asked to
stop, the listener stops accepting at once (engine/gateway/listeners.py) and `drain(timeout)`
waits for the requests in flight. A request still running after `timeout` seconds is cancelled
and its caller gets a clean 503 (APIM's error body, `send_unavailable`), or, when its response
had already started, the connection is closed. The native server knows its requests and drains
them itself, with the same 503 (engine/gateway/h1server.py): no wrapper on its requests' path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from engine.gateway.pipeline import error_response

log = logging.getLogger("policygate.gateway")

SHUTDOWN_MESSAGE = "The gateway is shutting down; the request did not complete in time. Retry it."


class _Tracked:
    """One in-flight request: its task and whether its response has started."""

    __slots__ = ("task", "send", "started")

    def __init__(self, task: asyncio.Task[Any], send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self.task = task
        self.send = send
        self.started = False

    def tracked_send(self, message: dict[str, Any]) -> Awaitable[None]:
        """The server's `send` (no coroutine of its own: it is on every response's path)."""
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)


class DrainingApp:
    """An ASGI app that forwards to `app` and can drain its in-flight HTTP requests.

    `http`, when given, handles the HTTP requests in place of `app` (the gateway's own handler, one
    call less on every request than going through its Quart app).
    """

    def __init__(self, app: Any, http: Callable[[dict[str, Any], Any, Any], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.http = http if http is not None else app
        self.in_flight: set[_Tracked] = set()
        self.expired = False
        self._idle: asyncio.Event | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        request = _Tracked(task, send)
        self.in_flight.add(request)
        try:
            await self.http(scope, receive, request.tracked_send)
        except asyncio.CancelledError:
            if not self.expired:
                raise  # the server cancelled it (client gone): not ours to answer
            task.uncancel()
            if not request.started:
                await send_unavailable(send)
        finally:
            self.in_flight.discard(request)
            if not self.in_flight and self._idle is not None:
                self._idle.set()

    async def drain(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for in-flight requests; then cancel the rest (they answer 503)."""
        if self.in_flight:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
                return
            except TimeoutError:
                pass
            log.warning("graceful shutdown: %d request(s) still running after %g s; answering 503",
                        len(self.in_flight), timeout)
            self.expired = True
            for request in list(self.in_flight):
                request.task.cancel()
            try:
                await asyncio.wait_for(self._idle.wait(), 5)
            except TimeoutError:
                log.warning("graceful shutdown: %d request(s) did not stop", len(self.in_flight))
        # No pause for the server to flush the last answers: after `drained`, Granian's listener waits
        # until its connections are closed and Hypercorn until its connection tasks end
        # (engine/gateway/listeners.py).


async def send_unavailable(send: Any) -> None:
    """The 503 of a request the shutdown cut off (`Connection: close`, `Retry-After: 1`)."""
    response = error_response(503, SHUTDOWN_MESSAGE)
    body = response.body.content if response.body is not None else b""
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.pairs()]
    headers += [(b"content-length", str(len(body)).encode()), (b"connection", b"close"), (b"retry-after", b"1")]
    try:
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    except Exception as exc:  # the client went away meanwhile
        log.debug("503 during shutdown not delivered: %s", exc)
