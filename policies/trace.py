"""`<trace>`: record a custom trace message for the request."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Child, Enum, Scope, Section, Str, Text
from policies._values import text_or_empty

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

log = logging.getLogger("policygate.trace")
LOG_LEVELS = {"verbose": logging.DEBUG, "information": logging.INFO, "error": logging.ERROR}


@dataclass(frozen=True)
class TraceStep:
    source: Value
    severity: Value
    message: Value
    metadata: tuple[tuple[Value, Value], ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        source = str(self.source.get(ctx) or "")
        severity = str(self.severity.get(ctx) or "verbose")
        message = str(self.message.get(ctx) or "").strip()
        if self.metadata:
            pairs = ", ".join(f"{name.get(ctx)}={value.get(ctx)}" for name, value in self.metadata)
            message = f"{message} [{pairs}]"
        ctx.trace(message, source=source, severity=severity)
        log.log(LOG_LEVELS.get(severity, logging.DEBUG), "%s: %s (request %s)", source, message, ctx.request_id,
                extra={"request_id": str(ctx.request_id), "source": source, "severity": severity,
                       "api": ctx.api.id if ctx.api else "", "operation": ctx.operation.id if ctx.operation else ""})
        return None


class Trace(Policy):
    """Record a custom trace entry `(source, severity, message)` in `context` traces.

    Entries are kept on the request context (where the access log and tests can read them) and
    written to the `policygate.trace` logger (verbose = DEBUG, information = INFO, error = ERROR),
    with the request id, source, severity, API and operation as record fields (JSON logs show them).
    `<metadata name value>` pairs are appended to the message as `[name=value, ...]`. The
    message may be a `<message>` child or, as older documents write it, the element's own text.
    """

    tag = "trace"
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("source", Str(), required=True, expr=False, doc="Where the trace comes from (shown with it)."),
        Attr("severity", Enum("verbose", "information", "error"), default="verbose", expr=False, doc="Trace level."),
    )
    text = Text(Str(), doc="Legacy form: the message as the element's text.")
    children = (
        Child("message", text=Text(Str()), max=1, doc="The message."),
        Child(
            "metadata",
            attributes=(
                Attr("name", Str(non_empty=True), required=True, doc="Property name."),
                Attr("value", Str(), required=True, doc="Property value."),
            ),
            doc="A custom property of the trace.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        if element.child("message") is None and (element.text is None or not element.text.text.strip()):
            diagnostics.error("policy-missing-child", "<trace> needs a <message>", element.span)

    def build(self, element: PolicyElement, builder: Builder) -> TraceStep:
        message_element = element.child("message")
        message = text_or_empty(builder, message_element if message_element is not None else element)
        metadata = tuple(
            (builder.value(child, "name"), builder.value(child, "value")) for child in element.children_named("metadata")
        )
        return TraceStep(builder.value(element, "source"), builder.value(element, "severity"), message, metadata)
