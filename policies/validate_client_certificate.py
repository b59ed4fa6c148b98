"""`<validate-client-certificate>` (schema only): validate the client certificate presented to the gateway against rules and allowed identities."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Child, Scope, Section, Str


class ValidateClientCertificate(Policy):
    """Validate the client certificate presented to the gateway against rules and allowed identities.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-client-certificate"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("validate-revocation", Bool(), default=True),
        Attr("validate-trust", Bool(), default=True),
        Attr("validate-not-before", Bool(), default=True),
        Attr("validate-not-after", Bool(), default=True),
        Attr("ignore-error", Bool(), default=False),
    )
    children = (
        Child(
            "identities",
            children=(
                Child(
                    "identity",
                    attributes=tuple(
                        Attr(name, Str())
                        for name in (
                            "thumbprint",
                            "serial-number",
                            "common-name",
                            "subject",
                            "dns-name",
                            "issuer-subject",
                            "issuer-thumbprint",
                            "issuer-certificate-id",
                        )
                    ),
                ),
            ),
        ),
    )
    implemented = False
    unsupported_reason = "client certificate checks are not implemented yet"
