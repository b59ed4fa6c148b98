"""`<log-to-eventhub>` (schema only): send a message (the element text) to an Azure Event Hubs logger."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Scope, Section, Str, Text


class LogToEventhub(Policy):
    """Send a message (the element text) to an Azure Event Hubs logger.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "log-to-eventhub"
    sections = Section.INBOUND | Section.OUTBOUND | Section.BACKEND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("logger-id", Str(non_empty=True), required=True, expr=False),
        Attr("partition-id", Str()),
        Attr("partition-key", Str()),
    )
    text = Text(required=True, doc="The message to log.")
    implemented = False
    unsupported_reason = "Event Hubs loggers are not implemented yet; trace writes to the gateway log"
