"""OpenTelemetry tracing (off unless `tracing:` is configured): spans exported over OTLP/HTTP.

Each request gets a SERVER span (`<METHOD> <api>/<operation>`) whose parent is the caller's W3C
`traceparent`/`tracestate`, with the API, operation, product and subscription as attributes.
Calls to the backend (`forward-request`) and `send-request` get CLIENT child spans, and their
requests carry the child's `traceparent`/`tracestate`; Redis commands get spans from
opentelemetry-instrumentation-redis. Spans go to the collector in batches from a background
thread of each worker.

With tracing off, this module (and so OpenTelemetry) is not imported; the request path checks one
attribute for None.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry.propagators.textmap import Getter

if TYPE_CHECKING:
    from engine.context import Context
    from engine.gateway.settings import TracingSettings

log = logging.getLogger("policygate.tracing")

API = "policygate.api"
OPERATION = "policygate.operation"
PRODUCT = "policygate.product"
SUBSCRIPTION = "policygate.subscription"


class Tracing:
    """A tracer provider per process, created when the services start (after any fork)."""

    def __init__(self, settings: TracingSettings) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self.settings = settings
        self.propagator = TraceContextTextMapPropagator()
        self.provider: Any = None
        self.tracer: Any = None
        self._redis: Any = None

    def start(self) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        from engine.lint import tool_version

        if self.provider is not None:
            return
        settings = self.settings
        resource = Resource.create({"service.name": settings.service_name, "service.version": tool_version()})
        self.provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)))
        exporter = OTLPSpanExporter(endpoint=settings.endpoint, headers=dict(settings.headers), timeout=settings.timeout)
        self.provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=settings.export_delay_ms))
        self.tracer = self.provider.get_tracer("policygate", tool_version())
        self._instrument_redis()

    def _instrument_redis(self) -> None:
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        instrumentor = RedisInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=self.provider)
            self._redis = instrumentor

    def close(self) -> None:
        """Export what is left and stop the exporter thread."""
        if self._redis is not None:
            self._redis.uninstrument()
            self._redis = None
        if self.provider is not None:
            provider, self.provider, self.tracer = self.provider, None, None
            provider.shutdown()

    # -- spans -----------------------------------------------------------------------------------
    def server_span(self, method: str, path: str, headers: Any) -> ServerSpan | None:
        """Start the request's span, continuing the caller's trace; None before `start()`."""
        if self.tracer is None:
            return None
        from opentelemetry import context, trace

        parent = self.propagator.extract(headers, getter=_HEADERS)
        span = self.tracer.start_span(f"{method}", context=parent, kind=trace.SpanKind.SERVER,
                                      attributes={"http.request.method": method, "url.path": path})
        token = context.attach(trace.set_span_in_context(span, parent))
        return ServerSpan(span, token)

    def client_span(self, name: str, method: str, url: str, headers: MutableMapping[str, str]) -> ClientSpan | None:
        """A CLIENT span for an outgoing HTTP call (child of the current span); `headers` get its
        traceparent/tracestate. None before `start()`."""
        if self.tracer is None:
            return None
        from opentelemetry import trace

        span = self.tracer.start_span(name, kind=trace.SpanKind.CLIENT,
                                      attributes={"http.request.method": method, "url.full": url})
        self.propagator.inject(headers, context=trace.set_span_in_context(span))
        return ClientSpan(span)


class ClientSpan:
    """An outgoing call's span; `end(status)` records the answer (0: no answer, an error)."""

    __slots__ = ("span",)

    def __init__(self, span: Any) -> None:
        self.span = span

    def end(self, status: int) -> None:
        from opentelemetry import trace

        if status:
            self.span.set_attribute("http.response.status_code", status)
        if not status or status >= 500:
            self.span.set_status(trace.Status(trace.StatusCode.ERROR))
        self.span.end()


class ServerSpan:
    """The span of one request; `end()` names it after the matched operation and closes it."""

    __slots__ = ("span", "token")

    def __init__(self, span: Any, token: Any) -> None:
        self.span, self.token = span, token

    def end(self, ctx: Context, status: int, api: str, operation: str) -> None:
        from opentelemetry import context, trace

        span = self.span
        if api:
            span.update_name(f"{ctx.request.method} {api}/{operation}")
        span.set_attributes({
            "http.response.status_code": status, API: api, OPERATION: operation,
            PRODUCT: ctx.product.id if ctx.product else "",
            SUBSCRIPTION: ctx.subscription.id if ctx.subscription else "",
        })
        if status >= 500:
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        if ctx.last_error is not None:
            span.set_attribute("policygate.error.reason", ctx.last_error.reason)
        span.end()
        context.detach(self.token)


class _HeaderGetter(Getter[Any]):
    """Reads W3C trace headers from the gateway's case-insensitive Headers."""

    def get(self, carrier: Any, key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if value is not None else None

    def keys(self, carrier: Any) -> list[str]:
        return [name for name, _ in carrier.items()]


_HEADERS = _HeaderGetter()
