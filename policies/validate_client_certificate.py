"""`<validate-client-certificate>` (schema only): validate the client certificate presented to the gateway against rules and allowed identities."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Child, Scope, Section, Str


class ValidateClientCertificate(Policy):
    """Validate the client certificate presented to the gateway against rules and allowed identities.

    Not run by the gateway: none of its HTTP servers (native, Granian, Hypercorn) hands the
    caller's TLS certificate to the application, so there is nothing to check (and
    `context.Request.Certificate` is always null). Lint warns `policy-unsupported` and `serve`
    refuses the document. The local alternative is mutual TLS at the listener:
    `server.tls.client-ca-file` makes the handshake require a certificate issued by those CAs
    (trust, not-before and not-after are then checked for every connection; revocation and
    per-identity rules are not).
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
    unsupported_reason = ("the gateway's HTTP servers (native, Granian, Hypercorn) do not give the application the caller's "
                          "TLS certificate; require client certificates at the listener with server.tls.client-ca-file")
