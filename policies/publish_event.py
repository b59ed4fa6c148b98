"""`<publish-event>` (schema only): graphQL resolver step that publishes an event to GraphQL subscriptions."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Scope, Section, Str


class PublishEvent(Policy):
    """GraphQL resolver step that publishes an event to GraphQL subscriptions.

    Declared so documents using it lint; the gateway refuses to load a document that uses it (the
    reason and the alternative are below).
    """

    tag = "publish-event"
    sections = Section.ALL
    scopes = Scope.ALL
    children = (
        Child(
            "targets",
            children=(
                Child("graphql-subscription", attributes=(Attr("id", Str(non_empty=True), required=True),)),
            ),
            min=1,
            max=1,
        ),
    )
    implemented = False
    unsupported_reason = (
        "policygate's synthetic GraphQL APIs answer queries and mutations but not subscriptions; publish with"
        " publish-to-dapr or log-to-eventhub"
    )
