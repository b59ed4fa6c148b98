"""`<send-service-bus-message>` (schema only): send a message to an Azure Service Bus queue or topic."""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.model import PolicyElement
from engine.policy import Policy
from engine.schema import Attr, Child, Scope, Section, Str, Text
from policies._rules import require_one_of


class SendServiceBusMessage(Policy):
    """Send a message to an Azure Service Bus queue or topic.

    Declared so documents using it lint; the gateway refuses to load a document that uses it (the
    reason and the alternative are below).
    """

    tag = "send-service-bus-message"
    sections = Section.INBOUND | Section.OUTBOUND | Section.BACKEND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("queue-name", Str()),
        Attr("topic-name", Str()),
        Attr("namespace", Str()),
        Attr("client-id", Str()),
    )
    children = (
        Child(
            "message-properties",
            children=(
                Child("message-property", attributes=(Attr("name", Str(), required=True),), text=Text()),
            ),
        ),
        Child("payload", text=Text(), min=1, max=1),
    )
    implemented = False
    unsupported_reason = (
        "Azure Service Bus exists only in Azure; send with send-request and authentication-managed-"
        "identity to its HTTP API (POST https://<namespace>/<queue or topic>/messages)"
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        require_one_of(element, ("queue-name", "topic-name"), diagnostics)
