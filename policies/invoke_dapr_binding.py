"""`<invoke-dapr-binding>` (schema only): invoke a Dapr output binding."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text


class InvokeDaprBinding(Policy):
    """Invoke a Dapr output binding.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "invoke-dapr-binding"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("name", Str(non_empty=True), required=True),
        Attr("operation", Str()),
        Attr("ignore-error", Bool(), default=False),
        Attr("response-variable-name", Str(), expr=False),
        Attr("timeout", Int(min=1, max=240), default=5),
        Attr("template", Enum("liquid")),
        Attr("content-type", Str()),
    )
    children = (
        Child(
            "metadata",
            children=(Child("item", attributes=(Attr("key", Str(), required=True),), text=Text()),),
            max=1,
        ),
        Child("data", text=Text(), max=1),
    )
    implemented = False
    unsupported_reason = "Dapr bindings are not supported; call the Dapr sidecar's HTTP API with send-request"
