"""`<authentication-certificate>` (schema only): authenticate to the backend with a client certificate (by thumbprint, certificate id or body)."""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.model import PolicyElement
from engine.policy import Policy
from engine.schema import Attr, Scope, Section, Str
from policies._rules import require_one_of


class AuthenticationCertificate(Policy):
    """Authenticate to the backend with a client certificate (by thumbprint, certificate id or body).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "authentication-certificate"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("thumbprint", Str()),
        Attr("certificate-id", Str()),
        Attr("body", Str()),
        Attr("password", Str()),
    )
    implemented = False
    unsupported_reason = "client certificates from configuration are not implemented yet"

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        require_one_of(element, ("thumbprint", "certificate-id", "body"), diagnostics)
