"""Request tracing like APIM's: one request, traced on demand, its trace read from the admin port.

An operator asks the admin port for a token (`POST /trace/tokens`, valid for an hour unless
`?minutes=N`, at most a day) and sends it with a request in the `Apim-Debug-Authorization` header.
That request then runs with `context.Tracing` true and a `RequestTrace` observing its pipeline:
every policy (nested ones too) with its section, path and source position, the request and
response as the policy found them (input) and as it left them (output), the value of every
policy expression, `<trace>` entries and the error that sent it to on-error. The answer carries
`Ocp-Apim-Trace-Location: /trace/<id>`; `GET /trace/<id>` on the admin port returns the JSON
(issuing and reading both need `server.admin-token` when one is set: engine/gateway/admin.py).

Tokens are signed (HMAC-SHA256 with a secret every worker shares through the environment), so any
worker accepts a token the admin worker issued; traces are kept in memory for one process and,
with several workers, as files in the shared folder (engine/gateway/worker_metrics.py), the most
recent `KEEP` of them. Without the header a request pays one header lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.gateway.worker_metrics import metrics_dir
from engine.policy import PipelineObserver, before_send
from engine.registry import PolicyRegistry, default_registry

if TYPE_CHECKING:
    from engine.context import Context
    from engine.errors import PolicyRuntimeError
    from engine.model import PolicyElement
    from engine.source import Span

log = logging.getLogger("policygate.trace")

TOKEN_HEADER = "apim-debug-authorization"
LOCATION_HEADER = "Ocp-Apim-Trace-Location"
SECRET_ENV = "POLICYGATE_TRACE_SECRET"
KEEP = 100
MAX_MINUTES = 24 * 60
MASKED_HEADERS = frozenset({"authorization", "ocp-apim-subscription-key", TOKEN_HEADER, "cookie", "set-cookie"})
MAX_VALUE = 2000  # characters of an expression value or variable kept in the trace
_RESPONSE_SECTIONS = frozenset({"outbound", "on-error"})


class TraceTokens:
    """Issues and checks signed, expiring trace tokens."""

    def __init__(self, secret: bytes | None = None) -> None:
        if secret is None:
            shared = os.environ.get(SECRET_ENV)
            secret = shared.encode() if shared else secrets.token_bytes(32)
        self.secret = secret

    def issue(self, minutes: float = 60.0, now: float | None = None) -> tuple[str, float]:
        expires = int((time.time() if now is None else now) + max(1.0, min(minutes, MAX_MINUTES)) * 60)
        return f"{expires}.{self._sign(str(expires))}", float(expires)

    def valid(self, token: str, now: float | None = None) -> bool:
        expires, _, signature = token.strip().partition(".")
        if not expires.isdigit() or not hmac.compare_digest(signature, self._sign(expires)):
            return False
        return int(expires) > (time.time() if now is None else now)

    def _sign(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()


def share_secret() -> None:
    """Before forking workers: one secret for all of them (and for restarted ones)."""
    os.environ.setdefault(SECRET_ENV, secrets.token_hex(32))


class RequestTrace(PipelineObserver):
    """Records one request's pipeline as a list of entries (see the module docstring)."""

    def __init__(self, ctx: Context, registry: PolicyRegistry | None = None) -> None:
        self.registry = registry or default_registry()
        self.id = str(ctx.request_id)
        self.entries: list[dict[str, Any]] = []
        self.open: list[dict[str, Any]] = []
        self.ctx = ctx

    def step_started(self, element: PolicyElement, ctx: Context) -> None:
        entry = {"policy": element.tag, "section": element.section, "path": element.path or element.tag,
                 "at": str(element.span), "elapsed_ms": _ms(ctx),
                 "input": snapshot(ctx, response=element.section in _RESPONSE_SECTIONS)}
        self.entries.append(entry)
        self.open.append(entry)

    def step_finished(self, element: PolicyElement, ctx: Context) -> None:
        if self.open:
            entry = self.open.pop()
            policy = self.registry.get(element.tag)
            answered = policy is not None and policy.ends_pipeline  # return-response in inbound made a response
            entry["output"] = snapshot(ctx, response=element.section != "inbound" or answered)
            entry["duration_ms"] = round(_ms(ctx) - entry["elapsed_ms"], 3)

    def expression_evaluated(self, span: Span, value: object, ctx: Context) -> None:
        self.entries.append({"expression": str(span), "value": _short(value), "elapsed_ms": _ms(ctx)})

    def failed(self, error: PolicyRuntimeError, ctx: Context) -> None:
        self.open.clear()
        self.entries.append({"error": {"source": error.source, "reason": error.reason, "message": error.message,
                                       "section": error.section, "path": error.path}, "elapsed_ms": _ms(ctx)})

    def add_location(self, ctx: Context) -> None:
        """Tell the caller where the trace is (a path on the admin port)."""
        ctx.response.headers.set(LOCATION_HEADER, f"/trace/{self.id}")

    def document(self, status: int, api: str, operation: str) -> dict[str, Any]:
        ctx = self.ctx
        return {"id": self.id, "method": ctx.request.method, "url": str(ctx.request.original_url), "api": api,
                "operation": operation, "status": status, "duration_ms": _ms(ctx),
                "traces": [{"source": s, "severity": v, "message": m} for s, v, m in ctx.traces],
                "policies": self.entries}


class TraceStore:
    """The latest KEEP traces: in memory, or as files when workers share a folder (worker_metrics)."""

    def __init__(self) -> None:
        self.memory: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def folder() -> Path | None:
        shared = metrics_dir()  # set by `serve --workers N` before the workers start
        return shared / "traces" if shared is not None else None

    def put(self, trace_id: str, document: dict[str, Any]) -> None:
        text = json.dumps(document, default=str)
        folder = self.folder()
        if folder is None:
            self.memory[trace_id] = text
            while len(self.memory) > KEEP:
                self.memory.popitem(last=False)
            return
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f"{trace_id}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, folder / f"{trace_id}.json")
        for old in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
            old.unlink(missing_ok=True)

    def get(self, trace_id: str) -> str | None:
        folder = self.folder()
        if folder is None:
            return self.memory.get(trace_id)
        if not trace_id.replace("-", "").isalnum():
            return None
        try:
            return (folder / f"{trace_id}.json").read_text(encoding="utf-8")
        except OSError:
            return None


class RequestTraces:
    """What the gateway and the admin app share: the token signer and the trace store."""

    def __init__(self, tokens: TraceTokens | None = None, store: TraceStore | None = None,
                 registry: PolicyRegistry | None = None) -> None:
        self.tokens = tokens or TraceTokens()
        self.store = store or TraceStore()
        self.registry = registry or default_registry()  # the gateway's: which policies answer requests

    def begin(self, ctx: Context) -> RequestTrace | None:
        """Trace this request when it carries a valid token (sets context.Tracing and the observer)."""
        token = ctx.request.headers.get(TOKEN_HEADER)
        if token is None or not self.tokens.valid(token) or ctx.exchange.observer is not None:
            return None
        ctx.request.headers.remove(TOKEN_HEADER)  # meant for the gateway: never passed to the backend
        trace = RequestTrace(ctx, self.registry)
        ctx.tracing = True
        ctx.exchange.observer = trace
        before_send(ctx, trace.add_location)
        return trace

    def finish(self, trace: RequestTrace, status: int, api: str, operation: str) -> None:
        try:
            self.store.put(trace.id, trace.document(status, api, operation))
        except OSError as exc:
            log.warning("cannot keep the trace of request %s: %s", trace.id, exc.strerror or exc)


def snapshot(ctx: Context, *, response: bool) -> dict[str, Any]:
    """The request (and, once there is one, the response) as they are now; secret headers masked."""
    request = ctx.request
    view: dict[str, Any] = {"request": {"method": request.method, "url": str(request.url),
                                        "headers": _headers(request.headers)}}
    if response:
        view["response"] = {"status": ctx.response.status_code, "headers": _headers(ctx.response.headers)}
    if ctx.variables:
        view["variables"] = {name: _short(value) for name, value in ctx.variables.items()}
    return view


def _headers(headers: Any) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in headers.pairs():
        value = "***" if name.lower() in MASKED_HEADERS else value
        shown[name] = f"{shown[name]}, {value}" if name in shown else value
    return shown


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "..."


def _ms(ctx: Context) -> float:
    return round((time.perf_counter() - ctx.started) * 1000, 3)
