"""`<log-to-eventhub>`: send a message to a logger declared under `loggers:` (engine.loggers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Scope, Section, Str, Text

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement


@dataclass(frozen=True)
class LogToEventhubStep:
    logger_id: str
    message: Value
    partition_id: str | None
    partition_key: Value | None

    async def __call__(self, ctx: Context) -> Flow | None:
        loggers = getattr(ctx.services, "loggers", None)
        logger = loggers.get(self.logger_id) if loggers is not None else None
        if logger is not None:  # the gateway checks the id at load time; `policygate test` may have none
            key = self.partition_key.get(ctx) if self.partition_key is not None else None
            logger.log(str(self.message.get(ctx) or ""), self.partition_id, None if key is None else str(key))
        return None


class LogToEventhub(Policy):
    """Send a message (the element text, usually an expression) to the logger `logger-id` of
    `loggers:` in the gateway configuration: a Redis stream (`XADD ... MAXLEN ~`), a JSON-lines
    file or standard output, in place of APIM's Azure Event Hubs logger entity.

    The request never waits for the sink: the event is queued in memory and written in the
    background; when the logger's queue is full the event is dropped and counted
    (`policygate_logger_events_total{outcome="dropped"}`). Each event records the logger id, the
    time (UTC), the message and `partition-id` or `partition-key` when given. Messages longer than
    204,000 bytes are truncated, as APIM truncates them (its docs say 200 KB). A `logger-id` that
    is not declared stops the gateway at load time.
    """

    tag = "log-to-eventhub"
    sections = Section.INBOUND | Section.OUTBOUND | Section.BACKEND | Section.ON_ERROR
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    settings_refs = (("logger-id", "loggers"),)
    attributes = (
        Attr("logger-id", Str(non_empty=True), required=True, expr=False, doc="A logger id declared under `loggers:`."),
        Attr("partition-id", Str(), expr=False, doc="The partition the event is sent to (recorded with the event)."),
        Attr("partition-key", Str(), doc="The partition key (recorded with the event)."),
    )
    text = Text(Str(), required=True, doc="The message to log.")

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        if element.get("partition-id") is not None and element.get("partition-key") is not None:
            diagnostics.error("policy-bad-value",
                              "<log-to-eventhub> takes either 'partition-id' or 'partition-key', not both", element.span)

    def build(self, element: PolicyElement, builder: Builder) -> LogToEventhubStep:
        partition_id = element.get("partition-id")
        return LogToEventhubStep(
            element.get("logger-id").text.strip(),  # type: ignore[union-attr]  # required
            builder.text_value(element),
            partition_id.text.strip() if partition_id is not None else None,
            builder.value(element, "partition-key") if element.get("partition-key") is not None else None,
        )
