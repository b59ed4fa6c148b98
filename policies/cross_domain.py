"""`<cross-domain>` (schema only): allow Adobe Flash and Microsoft Silverlight clients to call the API (crossdomain.xml)."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Child, Scope, Section

# "*" accepts any element with any content (see docs/lint-rules.md)
ANY_CONTENT = Child("*")


class CrossDomain(Policy):
    """Allow Adobe Flash and Microsoft Silverlight clients to call the API (crossdomain.xml).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "cross-domain"
    sections = Section.INBOUND
    scopes = Scope.ALL
    children = (ANY_CONTENT,)  # a <cross-domain-policy> document (crossdomain.xml)
    implemented = False
    unsupported_reason = "not implemented yet; return the policy file with return-response"
