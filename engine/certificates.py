"""Certificates declared in the configuration (`certificates:`), APIM's uploaded certificates.

Each entry is a PEM file (certificate chain, and the private key unless `key-file` names it) or a
PKCS#12 file (`.pfx`/`.p12`), with an optional `password` for the key or the PKCS#12 file. They
are looked up by id (`certificate-id`) or SHA-1 thumbprint; `authentication-certificate` presents
one as the TLS client certificate of backend calls, validate-jwt uses their public keys.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

PKCS12_SUFFIXES = (".pfx", ".p12")
MAX_INLINE = 64  # certificates built from `body` kept (their TLS contexts are costly to make)


class CertificateError(ValueError):
    """A certificate cannot be read or used (the message says which and why)."""


@dataclass(frozen=True)
class CertificateSettings:
    """One entry of `certificates:`."""

    file: Path  # where the certificate comes from (with `data`: the file that holds it, for messages)
    key_file: Path | None = None
    password: str = field(default="", repr=False)
    data: bytes | None = field(default=None, repr=False)  # the PKCS#12 bytes themselves (APIOps `data`)
    thumbprint: str = ""  # when set, the certificate must have this SHA-1 thumbprint
    declared_only: bool = False  # lint of an APIOps Key Vault certificate: the id exists, nothing is loaded


class Certificate:
    """A certificate (with its chain and, for client authentication, its private key)."""

    def __init__(self, certificate: x509.Certificate, key: Any = None, chain: tuple[x509.Certificate, ...] = ()) -> None:
        self.certificate = certificate
        self.key = key
        self.chain = chain

    @property
    def thumbprint(self) -> str:
        """SHA-1 of the DER encoding, upper-case hex (as APIM shows it)."""
        return hashlib.sha1(self.certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()  # noqa: S324

    def public_key(self) -> Any:
        return self.certificate.public_key()

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context presenting this certificate; the server's certificate is verified
        against the system trust store (SSL_CERT_FILE / SSL_CERT_DIR). Made once."""
        return self.new_ssl_context()

    def new_ssl_context(self) -> ssl.SSLContext:
        """A new context like `ssl_context`, for a caller that changes its verification settings."""
        if self.key is None:
            raise CertificateError(f"certificate {self.thumbprint} has no private key")
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain))
        key = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        with tempfile.TemporaryDirectory(prefix="policygate-cert-") as folder:  # load_cert_chain reads files only
            certfile, keyfile = Path(folder, "cert.pem"), Path(folder, "key.pem")
            for path, data in ((certfile, pem), (keyfile, key)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as out:
                    out.write(data)
            context.load_cert_chain(certfile, keyfile)
        return context


def parse_certificate(data: bytes, password: str = "", key_data: bytes | None = None, *, pkcs12_file: bool | None = None) -> Certificate:
    """A certificate from PKCS#12 bytes, PEM text (chain + key) or DER; raises CertificateError."""
    secret = password.encode() if password else None
    try:
        if pkcs12_file or pkcs12_file is None and not data.lstrip().startswith(b"-----") and not _is_der_certificate(data):
            key, certificate, extra = pkcs12.load_key_and_certificates(data, secret)
            if certificate is None:
                raise CertificateError("the PKCS#12 data holds no certificate")
            return Certificate(certificate, key, tuple(extra))
        if data.lstrip().startswith(b"-----"):
            certificates = x509.load_pem_x509_certificates(data)
            pem_key = key_data if key_data is not None else data
            key = serialization.load_pem_private_key(pem_key, secret) if b"PRIVATE KEY-----" in pem_key else None
            return Certificate(certificates[0], key, tuple(certificates[1:]))
        return Certificate(x509.load_der_x509_certificate(data))
    except (ValueError, TypeError) as exc:
        raise CertificateError(str(exc) or type(exc).__name__) from None


def _is_der_certificate(data: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        return False
    return True


def load_certificate(settings: CertificateSettings) -> Certificate:
    """Read an entry of `certificates:` (CertificateError names the file)."""
    try:
        data = settings.data if settings.data is not None else settings.file.read_bytes()
        key = settings.key_file.read_bytes() if settings.key_file is not None else None
    except OSError as exc:
        raise CertificateError(f"cannot read {exc.filename}: {exc.strerror}") from None
    pkcs12_file = settings.data is not None or settings.file.suffix.lower() in PKCS12_SUFFIXES
    try:
        certificate = parse_certificate(data, settings.password, key, pkcs12_file=pkcs12_file)
    except CertificateError as exc:
        raise CertificateError(f"{settings.file}: {exc}") from None
    expected = settings.thumbprint.replace(" ", "").replace(":", "").upper()
    if expected and certificate.thumbprint != expected:
        raise CertificateError(f"{settings.file}: the certificate's thumbprint is {certificate.thumbprint}, "
                               f"not {expected} as declared")
    return certificate


class CertificateStore:
    """`ctx.services.certificates`: the configured certificates by id and thumbprint."""

    def __init__(self, settings: dict[str, CertificateSettings]) -> None:
        self.by_id: dict[str, Certificate] = {}
        for name, entry in settings.items():
            if entry.declared_only:
                continue
            try:
                self.by_id[name] = load_certificate(entry)
            except CertificateError as exc:
                raise CertificateError(f"certificates.{name}: {exc}") from None
        self.by_thumbprint = {c.thumbprint: c for c in self.by_id.values()}
        self._inline: OrderedDict[bytes, Certificate] = OrderedDict()

    def find(self, *, certificate_id: str = "", thumbprint: str = "") -> Certificate | None:
        if certificate_id:
            return self.by_id.get(certificate_id)
        return self.by_thumbprint.get(thumbprint.replace(" ", "").replace(":", "").upper())

    def inline(self, body: bytes, password: str = "") -> Certificate:
        """A certificate given as bytes (`body`), kept so its TLS context is built once."""
        key = hashlib.sha256(hashlib.sha256(body).digest() + password.encode()).digest()
        found = self._inline.get(key)
        if found is None:
            found = parse_certificate(body, password)
            self._inline[key] = found
            if len(self._inline) > MAX_INLINE:
                self._inline.popitem(last=False)
        else:
            self._inline.move_to_end(key)
        return found


def certificate_store(settings: dict[str, CertificateSettings] | None) -> CertificateStore:
    """The store of `certificates:` (empty when absent); raises CertificateError."""
    return CertificateStore(settings or {})
