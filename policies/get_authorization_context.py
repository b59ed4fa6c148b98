"""`<get-authorization-context>` (schema only): get the authorization context (access token) of an API Management credential connection."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Enum, Scope, Section, Str


class GetAuthorizationContext(Policy):
    """Get the authorization context (access token) of an API Management credential connection.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "get-authorization-context"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("provider-id", Str(non_empty=True), required=True),
        Attr("authorization-id", Str(non_empty=True), required=True),
        Attr("context-variable-name", Str(non_empty=True), required=True, expr=False),
        Attr("identity-type", Enum("managed", "jwt"), default="managed"),
        Attr("identity", Str()),
        Attr("ignore-error", Bool(), default=False),
    )
    implemented = False
    unsupported_reason = "credential manager connections are not implemented yet"
