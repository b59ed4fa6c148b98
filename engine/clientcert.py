"""The caller's TLS certificate: from the ASGI TLS extension to `context.Request.Certificate`.

The native server puts the verified chain of a mutual-TLS connection into the request scope as
the ASGI TLS extension does (`scope["extensions"]["tls"]["client_cert_chain"]`, PEM, the caller's
certificate first). `request_certificate` turns it into an `X509Certificate2`, parsed once per
chain (a keep-alive connection's requests share it).

Only certificates the listener verified reach the application (Python's `ssl` hands over no
other), so the chain is trusted by construction; `Verify()` adds the validity period of every
certificate of the chain now. Revocation is checked during the handshake when
`server.tls.client-crl-file` is configured (docs/gateway.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography import x509

from engine import clock
from engine.dotnet.x509 import X509Certificate2

CHAINS_KEPT = 1024  # parsed chains kept (one per distinct caller certificate)


def request_certificate(tls: Mapping[str, Any] | None) -> X509Certificate2 | None:
    """The caller's certificate of a request's TLS extension (None: none was presented)."""
    if tls is None:
        return None
    chain = tls.get("client_cert_chain")
    if not chain:
        return None
    return _parsed(tuple(chain))


@lru_cache(maxsize=CHAINS_KEPT)
def _parsed(chain: tuple[str, ...]) -> X509Certificate2 | None:
    try:
        certificates = [x509.load_pem_x509_certificate(pem.encode("ascii")) for pem in chain]
    except (ValueError, UnicodeEncodeError):
        return None
    return ClientCertificate(certificates[0], tuple(certificates[1:]))


class ClientCertificate(X509Certificate2):
    """A certificate the listener verified during the handshake, with the rest of its chain."""

    def __init__(self, certificate: x509.Certificate, chain: tuple[x509.Certificate, ...]) -> None:
        super().__init__(certificate, verify=_verify)
        self.chain = chain


def within_validity(certificate: x509.Certificate, now: datetime.datetime | None = None) -> bool:
    moment = now or datetime.datetime.fromtimestamp(clock.now(), datetime.UTC)
    return certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc


def _verify(certificate: X509Certificate2, check_revocation: bool) -> bool:
    """`Verify()`: trusted by the handshake (revocation there too, when configured); valid now."""
    chain = getattr(certificate, "chain", ())
    return all(within_validity(c) for c in (certificate.certificate, *chain))
