"""`<publish-to-dapr>` (schema only): publish a message (the element text) to a Dapr publish/subscribe topic."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Enum, Int, Scope, Section, Str, Text


class PublishToDapr(Policy):
    """Publish a message (the element text) to a Dapr publish/subscribe topic.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "publish-to-dapr"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("pubsub-name", Str(non_empty=True), required=True),
        Attr("topic", Str(non_empty=True), required=True),
        Attr("ignore-error", Bool(), default=False),
        Attr("response-variable-name", Str(), expr=False),
        Attr("timeout", Int(min=1, max=240), default=5),
        Attr("template", Enum("liquid")),
        Attr("content-type", Str()),
    )
    text = Text(doc="The message content.")
    implemented = False
    unsupported_reason = "Dapr pub/sub is not supported; call the Dapr sidecar's HTTP API with send-request"
