"""`<validate-client-certificate>`: check the caller's TLS certificate against rules and allowed identities."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509.oid import NameOID

from engine import clock
from engine.dotnet.x509 import X509Certificate2, name_pairs, parse_name
from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy
from engine.schema import Attr, Bool, Child, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "validate-client-certificate"
STATUS = 401
PUBLIC_MESSAGE = "Invalid client certificate."
IDENTITY_ATTRIBUTES = ("thumbprint", "serial-number", "common-name", "subject", "dns-name", "issuer-subject",
                       "issuer-thumbprint", "issuer-certificate-id", "certificate-id")
ISSUER_ATTRIBUTES = ("issuer-subject", "issuer-thumbprint")
NamePairs = tuple[tuple[str, str], ...]


def _hex(text: str) -> str:
    """A thumbprint or serial number as compared: upper-case hex without separators or leading zeros."""
    return text.replace(" ", "").replace(":", "").upper().lstrip("0")


def _same_name(wanted: NamePairs, actual: list[tuple[str, str]]) -> bool:
    """A written distinguished name matches in .NET's order or the reverse (RFC 4514's), values
    compared case-insensitively as X.500 does."""
    folded = [(oid, value.casefold()) for oid, value in actual]
    written = [(oid, value.casefold()) for oid, value in wanted]
    return written == folded or written == folded[::-1]


@dataclass(frozen=True)
class Identity:
    """One `<identity>`: every claim it makes must hold."""

    thumbprint: str = ""
    serial_number: str = ""
    common_name: str = ""
    subject: NamePairs | None = None
    dns_name: str = ""
    issuer_subject: NamePairs | None = None
    issuer_thumbprint: str = ""
    issuer_certificate_id: str = ""
    certificate_id: str = ""

    def matches(self, ctx: Context, certificate: X509Certificate2) -> bool:
        leaf = certificate.certificate
        if self.thumbprint and _hex(self.thumbprint) != _hex(certificate.Thumbprint):
            return False
        if self.serial_number and _hex(self.serial_number) != _hex(certificate.SerialNumber):
            return False
        if self.common_name and self.common_name.casefold() not in {
                str(a.value).casefold() for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}:
            return False
        if self.subject is not None and not _same_name(self.subject, name_pairs(leaf.subject)):
            return False
        if self.dns_name and self.dns_name.casefold() not in {n.casefold() for n in certificate.dns_names()}:
            return False
        if self.issuer_subject is not None and not _same_name(self.issuer_subject, name_pairs(leaf.issuer)):
            return False
        issuer = _issuer_of(certificate)
        if self.issuer_thumbprint and (issuer is None or _hex(self.issuer_thumbprint) != _hex(issuer.Thumbprint)):
            return False
        if self.issuer_certificate_id and not _is_configured(ctx, self.issuer_certificate_id, issuer):
            return False
        return not self.certificate_id or _is_configured(ctx, self.certificate_id, certificate)


def _issuer_of(certificate: X509Certificate2) -> X509Certificate2 | None:
    """The certificate that issued the caller's: the next of the verified chain (itself when self-issued)."""
    chain: tuple[x509.Certificate, ...] = getattr(certificate, "chain", ())
    if chain:
        return X509Certificate2(chain[0])
    leaf = certificate.certificate
    return certificate if leaf.issuer == leaf.subject else None


def _is_configured(ctx: Context, certificate_id: str, certificate: X509Certificate2 | None) -> bool:
    store = ctx.services.certificates if ctx.services is not None else None
    found = store.find(certificate_id=certificate_id) if store is not None else None
    return found is not None and certificate is not None and found.thumbprint == certificate.Thumbprint


@dataclass(frozen=True)
class ValidateClientCertificateStep:
    validate_trust: bool
    validate_not_before: bool
    validate_not_after: bool
    ignore_error: bool
    identities: tuple[Identity, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        problem = self.problem(ctx)
        if problem is not None and not self.ignore_error:
            reason, message = problem
            raise PolicyRuntimeError(message, source=TAG, reason=reason, status=STATUS, public_message=PUBLIC_MESSAGE)
        return None

    def problem(self, ctx: Context) -> tuple[str, str] | None:
        """(LastError reason, message) of the first rule the caller's certificate breaks, or None."""
        certificate = ctx.request.certificate
        if certificate is None:
            return "ClientCertificateMissing", "The request has no client certificate."
        if self.validate_trust and getattr(certificate, "chain", None) is None:  # not from the verifying listener
            return "ClientCertificateNotTrusted", "The client certificate does not chain to a trusted CA."
        now = datetime.datetime.fromtimestamp(clock.now(), datetime.UTC)
        leaf = certificate.certificate
        if self.validate_not_before and now < leaf.not_valid_before_utc:
            return "ClientCertificateNotYetValid", f"The client certificate is not valid before {leaf.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}."
        if self.validate_not_after and now > leaf.not_valid_after_utc:
            return "ClientCertificateExpired", f"The client certificate expired at {leaf.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}."
        if self.identities and not any(identity.matches(ctx, certificate) for identity in self.identities):
            return ("ClientCertificateIdentityMismatch",
                    f"The client certificate ({certificate.Subject}, thumbprint {certificate.Thumbprint}) "
                    "matches none of the allowed identities.")
        return None


class ValidateClientCertificate(Policy):
    """Check the caller's TLS certificate (`context.Request.Certificate`) against rules and allowed identities.

    Needs mutual TLS on the native server: `server.tls.client-ca-file` (with `client-certificate:
    optional`, callers without a certificate reach the policies, as with APIM's "negotiate client
    certificate"); the gateway refuses a document using it otherwise. The listener verifies the
    chain against `client-ca-file` during the handshake, so an untrusted certificate never
    reaches the policy: the connection fails instead. The policy checks again, for each request:
    `validate-trust` (the certificate came through that verifying handshake), `validate-not-before`
    and `validate-not-after` against the current time (a keep-alive connection can outlive its
    certificate). `validate-revocation` is honoured at the handshake when
    `server.tls.client-crl-file` is configured (a revoked certificate, or one whose issuer has no
    list there, fails the connection); without it revocation is not checked and lint warns.

    With `<identities>`, the certificate must also match every attribute of at least one
    `<identity>`: `thumbprint` and `serial-number` (hex, any case, separators and leading zeros
    ignored), `common-name` (a CN of the subject), `subject` and `issuer-subject` (distinguished
    names as .NET writes them, e.g. `CN=orders, O="Contoso, Inc."`, also accepted in the reverse
    order; values compared case-insensitively), `dns-name` (a DNS name of the subject alternative
    name), `issuer-thumbprint` (the issuing certificate of the verified chain),
    `issuer-certificate-id` (the issuing certificate is that entry of `certificates:`) and
    `certificate-id` (the caller's certificate is that entry of `certificates:`).

    On failure the caller gets 401 `{"statusCode": 401, "message": "Invalid client certificate."}`
    (APIM does not document its answer); `context.LastError` has source `validate-client-certificate`,
    a reason among `ClientCertificateMissing`, `ClientCertificateNotTrusted`,
    `ClientCertificateNotYetValid`, `ClientCertificateExpired` and `ClientCertificateIdentityMismatch`,
    and a message naming the certificate. With `ignore-error="true"` the request goes on instead.
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    needs_client_certificate = True
    settings_refs = (("identities/identity@issuer-certificate-id", "certificates"),
                     ("identities/identity@certificate-id", "certificates"))
    attributes = (
        Attr("validate-revocation", Bool(), default=True, expr=False,
             doc="Refuse revoked certificates (checked at the handshake with `server.tls.client-crl-file`)."),
        Attr("validate-trust", Bool(), default=True, expr=False, doc="Require a chain to a trusted CA."),
        Attr("validate-not-before", Bool(), default=True, expr=False, doc="Refuse certificates not yet valid."),
        Attr("validate-not-after", Bool(), default=True, expr=False, doc="Refuse expired certificates."),
        Attr("ignore-error", Bool(), default=False, expr=False, doc="Go on with the request when validation fails."),
    )
    children = (
        Child(
            "identities",
            doc="Allowed identities: the certificate must match one.",
            children=(
                Child("identity", doc="Claims that must all hold.",
                      attributes=tuple(Attr(name, Str(non_empty=True), expr=False) for name in IDENTITY_ATTRIBUTES)),
            ),
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        revocation = element.get("validate-revocation")
        if revocation is None or revocation.text.strip().lower() == "true":
            diagnostics.warning(
                "policy-unsupported",
                "validate-revocation: `policygate serve` checks revocation only during the TLS handshake "
                "(with server.tls.client-crl-file configured), never in the policy",
                revocation.span if revocation is not None else element.span,
                "configure server.tls.client-crl-file, or set validate-revocation=\"false\" (docs/gateway.md)",
            )
        identities = element.child("identities")
        for identity in identities.children_named("identity") if identities is not None else ():
            given = [name for name in IDENTITY_ATTRIBUTES if identity.get(name) is not None]
            if not given:
                diagnostics.error("policy-missing-attribute", "<identity> needs at least one attribute", identity.span)
            if "issuer-certificate-id" in given and any(name in given for name in ISSUER_ATTRIBUTES):
                diagnostics.error("policy-bad-value", "issuer-certificate-id excludes issuer-subject and "
                                  "issuer-thumbprint", identity.span)
            for name in ("subject", "issuer-subject"):
                value = identity.get(name)
                if value is not None and parse_name(value.text) is None:
                    diagnostics.error("policy-bad-value", f"{name}: '{value.text}' is not a distinguished name "
                                      "(e.g. CN=client, O=\"Contoso, Inc.\")", value.span)

    def build(self, element: PolicyElement, builder: Builder) -> ValidateClientCertificateStep:
        def flag(name: str, default: bool) -> bool:
            value = element.get(name)
            return default if value is None else value.text.strip().lower() == "true"

        identities = element.child("identities")
        return ValidateClientCertificateStep(
            validate_trust=flag("validate-trust", True),
            validate_not_before=flag("validate-not-before", True),
            validate_not_after=flag("validate-not-after", True),
            ignore_error=flag("ignore-error", False),
            identities=tuple(_identity(e) for e in (identities.children_named("identity") if identities else ())),
        )


def _identity(element: PolicyElement) -> Identity:
    def text(name: str) -> str:
        value = element.get(name)
        return value.text.strip() if value is not None else ""

    def name(attribute: str) -> NamePairs | None:
        written = text(attribute)
        return tuple(parse_name(written) or ()) if written else None

    return Identity(
        thumbprint=text("thumbprint"), serial_number=text("serial-number"), common_name=text("common-name"),
        subject=name("subject"), dns_name=text("dns-name"), issuer_subject=name("issuer-subject"),
        issuer_thumbprint=text("issuer-thumbprint"), issuer_certificate_id=text("issuer-certificate-id"),
        certificate_id=text("certificate-id"),
    )
