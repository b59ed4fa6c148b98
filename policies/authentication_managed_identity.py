"""`<authentication-managed-identity>` (schema only): authenticate to the backend with a token for the gateway's managed identity."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Scope, Section, Str


class AuthenticationManagedIdentity(Policy):
    """Authenticate to the backend with a token for the gateway's managed identity.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "authentication-managed-identity"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("resource", Str(non_empty=True), required=True),
        Attr("client-id", Str()),
        Attr("output-token-variable-name", Str(), expr=False),
        Attr("ignore-error", Bool(), default=False),
    )
    implemented = False
