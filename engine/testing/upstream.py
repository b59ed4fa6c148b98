"""The test clock and the scripted HTTP client that stands in for the network in `policygate test`.

`ScriptedUpstream` has the shape of the gateway's backend client (`ctx.services.http`): the
pipeline's `forward-request` and `send-request` call it exactly as they call the real one, and it
answers from scripts instead of opening connections. Every call is recorded as the request the
backend (or target) would have received: the same URL and header lines the real client sends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.context import Context, Headers, MessageBody, Request, Response
from engine.errors import PolicyRuntimeError
from engine.gateway.backend import backend_headers, connection_error, error_status, target_url, timeout_error
from engine.policy import REASONS, ForwardOptions, OutboundProxy, release_response_stream
from engine.wire import HOP_BY_HOP, first_header_problem

if TYPE_CHECKING:
    from engine.certificates import Certificate


@dataclass(frozen=True)
class Answer:
    """What the backend or a send-request target answers to one call."""

    status: int = 200
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay: float = 0.0  # seconds on the test clock before the answer (beyond a timeout: Timeout)
    fail: str | None = None  # "connection": the connection fails; "timeout": no answer at all

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
        """A JSON answer (Content-Type application/json unless `headers` sets one)."""
        pairs = dict(headers or {})
        if not any(name.lower() == "content-type" for name in pairs):
            pairs["Content-Type"] = "application/json"
        return cls(status, None, tuple(pairs.items()), json.dumps(value).encode())


class TestClock:
    """A clock that stands still until told to move (`advance`, `set`)."""

    __test__ = False

    def __init__(self, start: datetime | float | None = None) -> None:
        if isinstance(start, datetime):
            start = start.timestamp()
        self._wall = time.time() if start is None else float(start)
        self._monotonic = 1_000_000.0

    def time(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._monotonic += seconds

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (monotonic time moves forward by the same amount, never back)."""
        step = moment.timestamp() - self._wall
        self._wall = moment.timestamp()
        self._monotonic += max(step, 0.0)


@dataclass
class Call:
    """One request as the backend or a send-request target received it."""

    method: str
    url: str
    headers: Headers
    body: bytes
    source: str  # forward-request, send-request, send-one-way-request ...

    @property
    def path(self) -> str:
        rest = self.url.split("://", 1)[-1]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Calls:
    """The calls one request made (the harness opens one record per request, see `recording`)."""

    backend: list[Call] = field(default_factory=list)
    targets: list[Call] = field(default_factory=list)
    unscripted: list[str] = field(default_factory=list)  # target URLs that had no answer (they failed to connect)


_recording: ContextVar[Calls | None] = ContextVar("policygate.testing.calls", default=None)


@contextmanager
def recording() -> Iterator[Calls]:
    """Record the calls made by the current task (one request) into a fresh `Calls`."""
    calls = Calls()
    token = _recording.set(calls)
    try:
        yield calls
    finally:
        _recording.reset(token)


@dataclass
class Script:
    """Answers given in order; the last one repeats."""

    answers: list[Answer] = field(default_factory=list)
    used: int = 0

    def next(self) -> Answer | None:
        if not self.answers:
            return None
        answer = self.answers[min(self.used, len(self.answers) - 1)]
        self.used += 1
        return answer


class ScriptedUpstream:
    """`ctx.services.http` for tests: the backend and send-request targets answer from scripts."""

    def __init__(self, clock: TestClock, *, forwarded_headers: bool = True) -> None:
        self.clock = clock
        self.forwarded_headers = forwarded_headers
        self.backend = Script([Answer()])
        self.targets: dict[str, Script] = {}
        self.calls = Calls()  # every call, of every request

    # -- scripting ---------------------------------------------------------------------------------
    def answer_backend(self, *answers: Answer) -> None:
        """The backend's answers to its next calls, in order (the last one repeats)."""
        self.backend = Script(list(answers) or [Answer()])

    def answer_target(self, url: str, *answers: Answer) -> None:
        """Answers for send-request calls whose URL starts with `url` (the longest match wins)."""
        self.targets[url] = Script(list(answers) or [Answer()])

    def _record(self, call: Call, backend: bool) -> None:
        for calls in (self.calls, _recording.get()):
            if calls is not None:
                (calls.backend if backend else calls.targets).append(call)

    # -- the client's interface ----------------------------------------------------------------------
    async def start(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to close."""

    async def forward(self, ctx: Context, options: ForwardOptions, *, source: str = "forward-request") -> None:
        request = ctx.request
        if request.body is not None:
            body = request.body.content
        else:
            chunks, ctx.exchange.request_stream = ctx.exchange.request_stream, None
            body = b"".join([chunk async for chunk in chunks]) if chunks is not None else b""
        release_response_stream(ctx)
        problem = first_header_problem(request.headers)
        if problem is not None:  # the real client refuses such a header before connecting
            raise PolicyRuntimeError(problem, source=source, reason="InvalidHeaderValue", status=500)
        origin, path_qs = target_url(ctx)
        url = origin.text(path_qs)
        headers = Headers(backend_headers(ctx, self.forwarded_headers))
        self._record(Call(request.method, url, headers, body, source), backend=True)
        answer = self.backend.next() or Answer()
        if answer.fail == "connection":
            raise connection_error(f"Cannot connect to host {_host(url)} (scripted connection failure)", source)
        self._wait(answer, options.timeout, lambda: timeout_error(options.timeout, source))
        ctx.response = _response(answer)
        if options.fail_on_error_status_code and answer.status >= 400:
            raise error_status(answer.status, source)

    async def call(self, request: Request, timeout: float, *, source: str, follow_redirects: bool = False,
                   proxy: OutboundProxy | None = None, certificate: Certificate | None = None) -> Response:
        url = str(request.url)  # scripted answers stand in for the service: a proxy or certificate changes nothing
        headers = Headers((name, value) for name, value in request.headers.pairs()
                          if name.lower() not in HOP_BY_HOP | {"host", "content-length"})
        body = request.body.content if request.body is not None else b""
        self._record(Call(request.method, url, headers, body, source), backend=False)
        script = self._target(url)
        answer = script.next() if script is not None else None
        if answer is None:
            for calls in (self.calls, _recording.get()):
                if calls is not None:
                    calls.unscripted.append(url)
            raise PolicyRuntimeError(f"Error occurred while calling {request.url.host}: no answer scripted for {url}",
                                     source=source, reason="BackendConnectionFailure")
        if answer.fail == "connection":
            raise PolicyRuntimeError(f"Error occurred while calling {request.url.host}: scripted connection failure",
                                     source=source, reason="BackendConnectionFailure")
        self._wait(answer, timeout, lambda: PolicyRuntimeError(
            f"Request to {request.url.host} timed out after {timeout:g} seconds.", source=source, reason="Timeout"))
        return _response(answer)

    # -- internals --------------------------------------------------------------------------------------
    def _target(self, url: str) -> Script | None:
        matches = [prefix for prefix in self.targets if url.startswith(prefix)]
        return self.targets[max(matches, key=len)] if matches else None

    def _wait(self, answer: Answer, timeout: float, error: Any) -> None:
        """Let test time pass for the answer's delay; past the timeout the call times out instead."""
        limited = timeout > 0
        if answer.fail == "timeout" or (limited and answer.delay >= timeout):
            self.clock.advance(timeout if limited else answer.delay)
            raise error()
        self.clock.advance(answer.delay)



def _response(answer: Answer) -> Response:
    headers = Headers((name, value) for name, value in answer.headers if name.lower() not in HOP_BY_HOP)
    if answer.body and "content-length" not in headers:
        headers.add("Content-Length", str(len(answer.body)))
    reason = answer.reason if answer.reason is not None else REASONS.get(answer.status, "")
    return Response(answer.status, reason, headers, MessageBody(answer.body))


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]

