"""Backend entities: single backends and load-balanced pools, with circuit breakers kept per process.

`set-backend-service backend-id="x"` points the request at entity `x` (`route`); forward-request
sends it with `forward_to_backend`, which picks a pool member, refuses a backend whose circuit is
open (503), puts the member's credentials on for that one send and records the outcome for its
breaker. A request whose backend has no pool, breaker or credentials costs one dict lookup more.

A pool with `sessionAffinity` keeps each client session on one member: the session is an opaque
id in a cookie the gateway sets on the first answer, and the member is chosen from it by weighted
rendezvous hashing, so every gateway instance and worker picks the same member for a session
without sharing state; a session whose member is unavailable (open circuit, or already tried by
this request) goes to its next choice for that request.

Breaker state and pool rotation live in this process's memory (like APIM, gateway instances and
workers do not share them); a configuration reload keeps the state of entities it did not change.
Everything runs on the event loop without awaiting, so no lock is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import secrets
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from engine.context import Context, Headers, Slot
from engine.errors import PolicyRuntimeError
from engine.policy import FORWARD_PROXY, OutboundProxy, gateway_services

if TYPE_CHECKING:
    from engine.certificates import Certificate
    from engine.metrics import Counter, Gauge, Metrics
    from engine.policy import ForwardOptions

log = logging.getLogger("policygate.backends")

MAX_POOL_MEMBERS = 30
PERCENTAGE_MIN_REQUESTS = 10  # a percentage rule judges no fewer requests than this in its interval
WINDOW_BUCKETS = 20  # an interval is counted in this many slices (sliding window, 5% granularity)
NO_RESPONSE_STATUS = {"Timeout": 504, "BackendConnectionFailure": 502}
UNAVAILABLE_MESSAGE = "The backend service is unavailable; try again later."


# -- what the configuration declares --------------------------------------------------------------


@dataclass(frozen=True)
class BreakerRule:
    """`circuitBreaker.rules[0]`: trip after `count` failures (or `percentage` % of requests) within
    `interval` seconds; stay open `trip_duration` s, or as long as the answer's Retry-After says."""

    name: str
    interval: float
    trip_duration: float
    count: int | None = None
    percentage: int | None = None
    status_ranges: tuple[tuple[int, int], ...] = ()
    error_reasons: tuple[str, ...] = ()
    accept_retry_after: bool = False

    def is_failure(self, status: int, reason: str) -> bool:
        """Does an answer with `status` (or a failure without answer, `reason`) count against the backend?"""
        if any(low <= status <= high for low, high in self.status_ranges):
            return True
        if not reason or not self.error_reasons:
            return False
        named = [r for r in self.error_reasons if r.lower() in ("timeout", "backendconnectionfailure")]
        return not named or reason.lower() in (r.lower() for r in named)


@dataclass(frozen=True)
class Credentials:
    """`credentials`: headers, query parameters and an Authorization value sent to this backend."""

    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    query: tuple[tuple[str, tuple[str, ...]], ...] = ()
    authorization: str | None = None  # "<scheme> <parameter>"


@dataclass(frozen=True)
class PoolMember:
    backend: str  # id of a single backend
    priority: int = 0  # lower number = used first
    weight: int = 1  # share within its priority group (0: only when no weighted member is left)


@dataclass(frozen=True)
class BackendTls:
    """A backend's `tls`: whether its server certificate's chain and name are checked (both by default)."""

    validate_chain: bool = True
    validate_name: bool = True


@dataclass(frozen=True)
class BackendSpec:
    """One `backends` entry: a single backend (`url`) or a pool (`members`)."""

    id: str
    url: str = ""
    members: tuple[PoolMember, ...] = ()
    breaker: BreakerRule | None = None
    credentials: Credentials | None = None
    tls: BackendTls | None = None  # None: the gateway's defaults (both checks)
    proxy: OutboundProxy | None = None  # `proxy`: the HTTP proxy requests to this backend go through
    affinity_cookie: str = ""  # pools: the cookie carrying the session id (sessionAffinity)

    @property
    def is_pool(self) -> bool:
        return bool(self.members)


# -- runtime ----------------------------------------------------------------------------------------


class BackendMetrics:
    """The metric families of backends (`/metrics`)."""

    def __init__(self, registry: Metrics) -> None:
        self.open: Gauge = registry.gauge(
            "policygate_backend_circuit_open", "1 while the backend's circuit breaker is open in this process.", ("backend",))
        self.trips: Counter = registry.counter(
            "policygate_backend_circuit_trips_total", "Times the backend's circuit breaker tripped.", ("backend",))
        self.unavailable: Counter = registry.counter(
            "policygate_backend_unavailable_total",
            "Requests answered 503 because the backend (every member of the pool) had its circuit open.", ("backend",))
        self.selected: Counter = registry.counter(
            "policygate_backend_pool_requests_total", "Requests a pool sent to each member.", ("pool", "backend"))


class Circuit:
    """The breaker of one single backend: a sliding window of outcomes and, when tripped, an end time."""

    __slots__ = ("rule", "backend", "metrics", "open_until", "_window", "_width")

    def __init__(self, rule: BreakerRule, backend: str, metrics: BackendMetrics | None) -> None:
        self.rule = rule
        self.backend = backend
        self.metrics = metrics
        self.open_until = 0.0
        self._width = max(rule.interval / WINDOW_BUCKETS, 1e-3)
        self._window: deque[list[int]] = deque()  # [slice number, requests, failures]

    def is_open(self, now: float) -> bool:
        return now < self.open_until

    def record(self, now: float, failed: bool, retry_after: float | None) -> None:
        """Count one outcome; trip when the rule's threshold is reached."""
        if self.is_open(now):
            return  # an answer to a request sent before the trip
        slot = int(now / self._width)
        window = self._window
        while window and window[0][0] <= slot - WINDOW_BUCKETS:
            window.popleft()
        if window and window[-1][0] == slot:
            window[-1][1] += 1
            window[-1][2] += failed
        else:
            window.append([slot, 1, int(failed)])
        if failed and self._threshold_reached():
            self._trip(now, retry_after)

    def _threshold_reached(self) -> bool:
        failures = sum(entry[2] for entry in self._window)
        if self.rule.count is not None:
            return failures >= self.rule.count
        requests = sum(entry[1] for entry in self._window)
        percentage = self.rule.percentage or 100
        return requests >= PERCENTAGE_MIN_REQUESTS and failures * 100 >= percentage * requests

    def _trip(self, now: float, retry_after: float | None) -> None:
        duration = self.rule.trip_duration
        if self.rule.accept_retry_after and retry_after is not None:
            duration = retry_after
        self.open_until = now + duration
        self._window.clear()
        log.warning("circuit breaker of backend '%s' tripped (rule '%s'): no requests for %g s",
                    self.backend, self.rule.name, duration)
        if self.metrics is not None:
            self.metrics.trips.inc(self.backend)
            self.metrics.open.set(self.backend, value=1)
            try:
                asyncio.get_running_loop().call_later(duration, self._closed_check)
            except RuntimeError:
                pass

    def _closed_check(self) -> None:
        if self.metrics is not None and not self.is_open(time.monotonic()):
            self.metrics.open.set(self.backend, value=0)

    def carry_from(self, old: Circuit) -> None:
        """Keep the state of the same rule across a configuration reload."""
        self.open_until, self._window = old.open_until, old._window


class Single:
    """A single backend at runtime."""

    __slots__ = ("spec", "id", "url", "circuit")

    def __init__(self, spec: BackendSpec, metrics: BackendMetrics | None) -> None:
        self.spec = spec
        self.id = spec.id
        self.url = spec.url
        self.circuit = Circuit(spec.breaker, spec.id, metrics) if spec.breaker is not None else None

    @property
    def plain(self) -> bool:
        """No breaker, credentials, TLS or proxy settings: set-backend-service only changes the URL."""
        spec = self.spec
        return self.circuit is None and spec.credentials is None and spec.tls is None and spec.proxy is None

    def available(self, now: float) -> bool:
        return self.circuit is None or not self.circuit.is_open(now)

    def reopens_in(self, now: float) -> float:
        return max(self.circuit.open_until - now, 0.0) if self.circuit is not None else 0.0


class Pool:
    """A load-balanced pool: priority groups in order; smooth weighted round-robin within a group."""

    __slots__ = ("id", "groups", "metrics", "affinity_cookie", "_current")

    def __init__(self, spec: BackendSpec, singles: Mapping[str, Single], metrics: BackendMetrics | None) -> None:
        self.id = spec.id
        self.metrics = metrics
        self.affinity_cookie = spec.affinity_cookie
        by_priority: dict[int, list[tuple[Single, int]]] = {}
        for member in spec.members:
            by_priority.setdefault(member.priority, []).append((singles[member.backend], member.weight))
        self.groups = [by_priority[p] for p in sorted(by_priority)]
        self._current: dict[str, int] = {}

    def choose(self, now: float, avoid: Collection[str], session: str = "") -> Single | None:
        """The member for the next request: the first priority group with a closed circuit decides;
        within it, members this request has not tried yet come first; a session's own member when
        it has one (`session`), else the next in weighted rotation."""
        for group in self.groups:
            available = [(s, w) for s, w in group if s.available(now)]
            if not available:
                continue
            fresh = [(s, w) for s, w in available if s.id not in avoid] or available
            weighted = [(s, w) for s, w in fresh if w > 0] or [(s, 1) for s, _ in fresh]
            return _rendezvous(session, weighted) if session else self._rotate(weighted)
        return None

    def _rotate(self, candidates: list[tuple[Single, int]]) -> Single:
        """Smooth weighted round-robin (nginx's): even spreading, exact shares over a cycle."""
        current = self._current
        total = 0
        best: Single | None = None
        best_value = 0
        for single, weight in candidates:
            value = current.get(single.id, 0) + weight
            current[single.id] = value
            total += weight
            if best is None or value > best_value:
                best, best_value = single, value
        assert best is not None
        current[best.id] -= total
        return best

    def reopens_in(self, now: float) -> float:
        return min((s.reopens_in(now) for group in self.groups for s, _ in group), default=0.0)


def _rendezvous(session: str, candidates: list[tuple[Single, int]]) -> Single:
    """Weighted rendezvous hashing: each session's member, in proportion to the weights, and a
    session moves only when its own member leaves the candidates."""
    def score(candidate: tuple[Single, int]) -> float:
        single, weight = candidate
        digest = hashlib.blake2b(f"{session}\0{single.id}".encode(), digest_size=8).digest()
        uniform = (int.from_bytes(digest, "big") + 0.5) / 2.0**64  # in (0, 1)
        return -weight / math.log(uniform)

    return max(candidates, key=score)[0]


Backend = Single | Pool


class Backends:
    """Every backend entity of a configuration, by id (`ctx.services.backends`)."""

    def __init__(self, specs: Mapping[str, BackendSpec], metrics: Metrics | None = None,
                 previous: Backends | None = None) -> None:
        self.specs = dict(specs)
        self.metrics = BackendMetrics(metrics) if metrics is not None else None
        singles = {bid: Single(spec, self.metrics) for bid, spec in specs.items() if not spec.is_pool}
        if previous is not None:
            for bid, single in singles.items():
                old = previous.entities.get(bid)
                if isinstance(old, Single) and old.spec == single.spec and old.circuit and single.circuit:
                    single.circuit.carry_from(old.circuit)
        self.entities: dict[str, Backend] = dict(singles)
        for bid, spec in specs.items():
            if spec.is_pool:
                pool = Pool(spec, singles, self.metrics)
                old = previous.entities.get(bid) if previous is not None else None
                if isinstance(old, Pool) and previous is not None and previous.specs.get(bid) == spec:
                    pool._current = old._current
                self.entities[bid] = pool

    def get(self, backend_id: str) -> Backend | None:
        return self.entities.get(backend_id)

    def url(self, backend_id: str) -> str | None:
        """The URL of a single backend (e.g. an embeddings or content-safety endpoint), else None."""
        entity = self.entities.get(backend_id)
        return entity.url if isinstance(entity, Single) else None


# -- per request ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Route:
    """Where this request goes: the entity set-backend-service named, and the members tried so far."""

    backend: Backend
    target: Single | None = None
    tried: list[str] = field(default_factory=list)
    session: str = ""  # the client's session id (a pool with sessionAffinity)
    new_session: bool = False  # the session id was made for this request: the answer sets the cookie


ROUTE: Slot[Route] = Slot("backends.route")
# What forward-request runs instead of an HTTP call: a synthetic API's executor (engine/graphql), a WebSocket
# handshake's connection to the backend (engine/gateway/websocket.py); set on routing
SYNTHETIC_BACKEND: Slot[Callable[[Context, ForwardOptions], Awaitable[None]]] = Slot("backends.synthetic")
FORWARD_TLS: Slot[BackendTls] = Slot("backends.tls")  # the TLS settings of the member this forward goes to
_RELAXED_CONTEXTS: dict[tuple[str, bool, bool], ssl.SSLContext] = {}


def tls_context(certificate: Certificate | None, tls: BackendTls | None) -> ssl.SSLContext | None:
    """The client TLS context of a backend call: the client certificate's (authentication-certificate),
    relaxed as the backend's `tls` says; None: the client's default (every check, no certificate)."""
    if tls is None or (tls.validate_chain and tls.validate_name):
        return certificate.ssl_context if certificate is not None else None
    key = (certificate.thumbprint if certificate is not None else "", tls.validate_chain, tls.validate_name)
    context = _RELAXED_CONTEXTS.get(key)
    if context is None:
        context = certificate.new_ssl_context() if certificate is not None else ssl.create_default_context()
        context.check_hostname = False
        if not tls.validate_chain:
            context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["http/1.1"])
        if len(_RELAXED_CONTEXTS) >= 64:
            _RELAXED_CONTEXTS.clear()
        _RELAXED_CONTEXTS[key] = context
    return context


def route(ctx: Context, backend: Backend) -> None:
    """set-backend-service backend-id: point the request at `backend` (a pool picks a member now;
    forward-request picks again when this one was tried already or its circuit opened)."""
    if isinstance(backend, Single) and backend.plain:
        ROUTE.pop(ctx)
        retarget(ctx, backend.url)
        return
    previous = ROUTE.get(ctx)
    same = previous is not None and previous.backend is backend
    current = Route(backend, tried=previous.tried if same and previous is not None else [])
    if isinstance(backend, Pool) and backend.affinity_cookie:
        if same and previous is not None and previous.session:
            current.session, current.new_session = previous.session, previous.new_session
        else:
            current.session = session_cookie(ctx, backend.affinity_cookie)
            if not current.session:
                current.session, current.new_session = secrets.token_urlsafe(18), True
    ROUTE.set(ctx, current)
    target = backend if isinstance(backend, Single) else backend.choose(time.monotonic(), current.tried, current.session)
    if target is not None:
        current.target = target
        retarget(ctx, target.url)


def leave(ctx: Context) -> None:
    """set-backend-service base-url: the request no longer goes to a backend entity."""
    ROUTE.pop(ctx)


async def forward_to_backend(ctx: Context, options: ForwardOptions) -> None:
    """forward-request: send the request to its backend, through its entity's pool and breaker (a
    synthetic API's executor answers it instead)."""
    synthetic = SYNTHETIC_BACKEND.get(ctx)
    if synthetic is not None:
        await synthetic(ctx, options)
        return
    http = gateway_services(ctx, "forward-request").http
    current = ROUTE.get(ctx)
    if current is None:
        await http.forward(ctx, options)
        return
    target = _target(ctx, current, time.monotonic())
    current.tried.append(target.id)
    if isinstance(current.backend, Pool) and current.backend.metrics is not None:
        current.backend.metrics.selected.inc(current.backend.id, target.id)
    saved = _dress(ctx, target.spec.credentials) if target.spec.credentials is not None else None
    if target.spec.tls is not None:
        FORWARD_TLS.set(ctx, target.spec.tls)
    entity_proxy = target.spec.proxy is not None and FORWARD_PROXY.get(ctx) is None  # a <proxy> policy wins
    if entity_proxy and target.spec.proxy is not None:
        FORWARD_PROXY.set(ctx, target.spec.proxy)
    try:
        await http.forward(ctx, options)
    except PolicyRuntimeError as error:
        if target.circuit is not None:
            if error.keep_response:  # fail-on-error-status-code: the backend did answer
                _record(target.circuit, ctx.response.status_code, "", ctx)
            elif error.reason in NO_RESPONSE_STATUS:
                _record(target.circuit, NO_RESPONSE_STATUS[error.reason], error.reason, None)
        raise
    finally:
        FORWARD_TLS.pop(ctx)
        if entity_proxy:
            FORWARD_PROXY.pop(ctx)
        if saved is not None:
            _undress(ctx, saved)
    if target.circuit is not None:
        _record(target.circuit, ctx.response.status_code, "", ctx)
    if current.new_session and isinstance(current.backend, Pool):
        secure = "; Secure" if ctx.request.original_url.scheme == "https" else ""
        ctx.response.headers.add("Set-Cookie", f"{current.backend.affinity_cookie}={current.session}; Path=/; HttpOnly{secure}")


_SESSION_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")


def session_cookie(ctx: Context, name: str) -> str:
    """The request's session id from cookie `name` ("" when absent or not a plausible id)."""
    for header in ctx.request.headers.get_list("Cookie"):
        for pair in header.split(";"):
            key, _, value = pair.strip().partition("=")
            if key == name and _SESSION_ID.fullmatch(value.strip().strip('"')):
                return value.strip().strip('"')
    return ""


def _target(ctx: Context, current: Route, now: float) -> Single:
    """The single backend this forward goes to; a pool picks again when needed (503 when none is left)."""
    backend = current.backend
    if isinstance(backend, Single):
        if not backend.available(now):
            raise _unavailable(backend, now)
        return backend
    target = current.target
    if target is None or target.id in current.tried or not target.available(now):
        target = backend.choose(now, current.tried, current.session)
        if target is None:
            raise _unavailable(backend, now)
        current.target = target
        retarget(ctx, target.url)
    return target


def _record(circuit: Circuit, status: int, reason: str, ctx: Context | None) -> None:
    failed = circuit.rule.is_failure(status, reason)
    retry_after = retry_after_seconds(ctx.response.headers) if failed and ctx is not None else None
    circuit.record(time.monotonic(), failed, retry_after)


def _unavailable(backend: Backend, now: float) -> PolicyRuntimeError:
    metrics = backend.metrics if isinstance(backend, Pool) else (backend.circuit.metrics if backend.circuit else None)
    if metrics is not None:
        metrics.unavailable.inc(backend.id)
    kind = "every member of pool" if isinstance(backend, Pool) else "backend"
    wait = max(1, math.ceil(backend.reopens_in(now)))
    return PolicyRuntimeError(
        f"The circuit breaker of {kind} '{backend.id}' is open.", source="forward-request",
        reason="BackendUnavailable", status=503, headers={"Retry-After": str(wait)},
        public_message=UNAVAILABLE_MESSAGE,
    )


Saved = tuple[list[tuple[str, list[str]]], list[tuple[str, list[str] | None]]]


def _dress(ctx: Context, credentials: Credentials) -> Saved:
    """Put the backend's credentials on the request for this one send; returns what they replaced."""
    headers, query = ctx.request.headers, ctx.request.url.query
    names = [name for name, _ in credentials.headers] + (["Authorization"] if credentials.authorization else [])
    saved_headers = [(name, headers.get_list(name)) for name in names]
    for name, values in credentials.headers:
        headers.set(name, list(values))
    if credentials.authorization is not None:
        headers.set("Authorization", credentials.authorization)
    saved_query = [(name, query.get(name)) for name, _ in credentials.query]
    for name, values in credentials.query:
        query[name] = list(values)
    return saved_headers, saved_query


def _undress(ctx: Context, saved: Saved) -> None:
    """Take the credentials off again: policies after forward-request (and another member) never see them."""
    headers, query = ctx.request.headers, ctx.request.url.query
    for name, old in saved[0]:
        headers.remove(name)
        if old:
            headers.set(name, old)
    for name, previous in saved[1]:
        if previous is None:
            query.pop(name, None)
        else:
            query[name] = previous


_SECONDS = re.compile(r"\s*(\d+(?:\.\d+)?)\s*")


def retry_after_seconds(headers: Headers) -> float | None:
    """`retry-after-ms` (milliseconds) or `Retry-After` (seconds or an HTTP date), when present and valid."""
    millis = headers.get("retry-after-ms")
    if millis is not None and (match := _SECONDS.fullmatch(millis)):
        return float(match.group(1)) / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    if match := _SECONDS.fullmatch(value):
        return float(match.group(1))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def retarget(ctx: Context, base_url: str) -> None:
    """Point ctx.request.url at `base_url`, keeping the path relative to the current base."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(base_url)
        port = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise PolicyRuntimeError(
            f"Backend base URL '{base_url}' is not an absolute http(s) URL.", source="set-backend-service",
            reason="InvalidBackendUrl", status=500,
        )
    url = ctx.request.url
    old_base = ctx.exchange.base_path
    relative = url.path[len(old_base):] if url.path.startswith(old_base) else url.path
    if relative and not relative.startswith("/"):
        relative = "/" + relative
    new_base = parts.path.rstrip("/")
    url.scheme = parts.scheme
    url.host = parts.hostname
    url.port = port or (443 if parts.scheme == "https" else 80)
    url.path = (new_base + relative) or "/"
    ctx.exchange.base_path = new_base
    if parts.query:  # a base URL may carry parameters (e.g. ?api-version=...); the request's own win
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            url.query.setdefault(name, [value])
