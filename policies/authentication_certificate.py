"""`<authentication-certificate>`: present a client certificate in the TLS handshake with the backend."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.certificates import Certificate, CertificateError
from engine.errors import PolicyRuntimeError
from engine.policy import FORWARD_CERTIFICATE, Builder, Flow, Policy, Value
from engine.schema import Attr, AttrType, Scope, Section, Str
from policies._rules import require_one_of

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "authentication-certificate"
FAILURE_REASON = "CertificateNotFound"


@dataclass(frozen=True)
class AuthenticationCertificateStep:
    thumbprint: Value
    certificate_id: Value
    body: Value
    password: Value

    def certificate(self, ctx: Context) -> Certificate:
        """The certificate to present (PolicyRuntimeError 500 when it is unknown or unusable)."""
        store = ctx.services.certificates if ctx.services is not None else None
        certificate_id = str(self.certificate_id.get(ctx) or "").strip()
        thumbprint = str(self.thumbprint.get(ctx) or "").strip()
        try:
            if certificate_id or thumbprint:
                found = store.find(certificate_id=certificate_id, thumbprint=thumbprint) if store is not None else None
                if found is None:
                    which = f"id '{certificate_id}'" if certificate_id else f"thumbprint '{thumbprint}'"
                    raise CertificateError(f"no certificate with {which} is configured (`certificates:`)")
            else:
                body = _bytes(self.body.get(ctx))
                password = str(self.password.get(ctx) or "")
                found = store.inline(body, password) if store is not None else None
                if found is None:
                    raise CertificateError("the gateway has no certificate store")
            if found.key is None:
                raise CertificateError(f"certificate {found.thumbprint} has no private key")
            found.ssl_context  # noqa: B018 - built now, so a broken key fails here and not mid-call
        except CertificateError as exc:
            raise PolicyRuntimeError(f"Cannot use the client certificate: {exc}", source=TAG, reason=FAILURE_REASON,
                                     status=500) from None
        return found

    async def __call__(self, ctx: Context) -> Flow | None:
        FORWARD_CERTIFICATE.set(ctx, self.certificate(ctx))
        return None


class ByteArray(AttrType):
    """A `byte[]` expression result, kept as is (a literal is base64 text)."""

    label = "byte array or base64"


def _bytes(value: object) -> bytes:
    """`body`: a byte array, or a base64 string of one."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list) and all(isinstance(b, int) for b in value):
        return bytes(value)
    if isinstance(value, str) and value.strip():
        try:
            return base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("body is neither a byte array nor base64 text") from None
    raise CertificateError("body is empty")


class AuthenticationCertificate(Policy):
    """Present a client certificate in the TLS handshake with the backend (forward-request), or,
    as a child of `<send-request>`/`<send-one-way-request>`, with that request's server.

    The certificate is one declared in the gateway configuration (`certificates:`: PEM or PKCS#12
    files, passwords from the environment), chosen by `certificate-id` or `thumbprint` (SHA-1, any
    case), or given inline as `body` (a byte array or base64 text of a PKCS#12 file, PEM or DER,
    with `password`). The backend's own certificate is still verified against the system trust
    store (`SSL_CERT_FILE`/`SSL_CERT_DIR` add private CAs). An unknown certificate, or one
    without a private key, fails the policy (status 500, reason `CertificateNotFound`); a constant
    `certificate-id` that names no configured certificate is refused when the gateway loads.
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    settings_refs = (("certificate-id", "certificates"),)
    attributes = (
        Attr("thumbprint", Str(), doc="SHA-1 thumbprint of a configured certificate."),
        Attr("certificate-id", Str(), doc="Id of a configured certificate (`certificates.<id>`)."),
        Attr("body", ByteArray(), doc="The certificate itself: a byte array or base64 (PKCS#12, PEM or DER)."),
        Attr("password", Str(), doc="Password of the `body` certificate's key."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        require_one_of(element, ("thumbprint", "certificate-id", "body"), diagnostics)

    def build(self, element: PolicyElement, builder: Builder) -> AuthenticationCertificateStep:
        return AuthenticationCertificateStep(
            builder.value(element, "thumbprint"), builder.value(element, "certificate-id"),
            builder.value(element, "body"), builder.value(element, "password"),
        )
