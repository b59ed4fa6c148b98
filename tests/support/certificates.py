"""Test certificates, generated at test time (never committed): a CA, server and client certificates.

    pki = TestPki(tmp_path)                         # ca.pem
    server = pki.issue("localhost", server=True)    # server.pem + server.key (SAN localhost, 127.0.0.1)
    client = pki.issue("orders-client")             # orders-client.pem (cert + key), .key, .pfx (password PFX_PASSWORD)
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PFX_PASSWORD = "pfx-pass"


@dataclass
class Issued:
    name: str
    certificate: x509.Certificate
    key: Any
    pem: Path  # certificate followed by the key
    cert_file: Path
    key_file: Path
    pfx: Path

    @property
    def thumbprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303


class TestPki:
    __test__ = False  # not a pytest class

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "policygate test CA")])
        self.ca = self._builder(name, name, self.ca_key.public_key()).add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(self.ca_key, hashes.SHA256())
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))

    @staticmethod
    def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any, valid_for: datetime.timedelta | None = None,
                 starts_in: datetime.timedelta | None = None) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        start = now + starts_in if starts_in is not None else now - datetime.timedelta(minutes=5)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number()).not_valid_before(start)
                .not_valid_after(now + (valid_for or datetime.timedelta(days=1))))

    def issue(self, common_name: str, *, server: bool = False, dns_names: tuple[str, ...] = (),
              valid_for: datetime.timedelta | None = None, starts_in: datetime.timedelta | None = None) -> Issued:
        """A certificate of this CA; `valid_for` from now (default a day), `starts_in` (default 5 minutes ago)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso, Inc.")])
        builder = self._builder(subject, self.ca.subject, key.public_key(), valid_for, starts_in)
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        elif dns_names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
                                            critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        certificate = builder.sign(self.ca_key, hashes.SHA256())
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        files = {suffix: self.folder / f"{common_name}{suffix}" for suffix in (".pem", ".crt", ".key", ".pfx")}
        files[".pem"].write_bytes(cert_pem + key_pem)
        files[".crt"].write_bytes(cert_pem)
        files[".key"].write_bytes(key_pem)
        files[".pfx"].write_bytes(pkcs12.serialize_key_and_certificates(
            common_name.encode(), key, certificate, [self.ca],
            serialization.BestAvailableEncryption(PFX_PASSWORD.encode())))
        return Issued(common_name, certificate, key, files[".pem"], files[".crt"], files[".key"], files[".pfx"])

    def revocation_list(self, *revoked: Issued) -> Path:
        """crl.pem: this CA's certificate revocation list naming `revoked`."""
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.ca.subject)
                   .last_update(now - datetime.timedelta(minutes=5)).next_update(now + datetime.timedelta(days=1)))
        for issued in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(issued.certificate.serial_number)
                .revocation_date(now - datetime.timedelta(minutes=1)).build())
        path = self.folder / "crl.pem"
        path.write_bytes(builder.sign(self.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
        return path
