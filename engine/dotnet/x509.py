"""``X509Certificate2`` and ``X500DistinguishedName``: the caller's certificate (``context.Request.Certificate``).

Names print as .NET prints them: relative names most specific first (``CN=api, O=Contoso, C=US``),
separated by ``", "``, several values of one relative name joined with ``" + "``, .NET's short
attribute names (``S`` for the state, ``E`` for the e-mail, ``OID.1.2.3`` for unnamed ones), and a
value quoted (inner quotes doubled) when it is empty, starts or ends with white space, or holds
one of ``,+="\\n<>#;``. The thumbprint and serial number are upper-case hex; ``NotBefore`` and
``NotAfter`` are local ``DateTime`` values (the gateway's local time is UTC).

``Verify()`` is what the gateway knows of the certificate: the listener verified its chain against
``server.tls.client-ca-file`` during the TLS handshake; ``Verify()`` adds the validity period of
the chain now and the revocation lists of ``server.tls.client-crl-file`` (docs/gateway.md).
"""

from __future__ import annotations

import datetime
import enum
import hashlib
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .datetimes import DateTime, DateTimeKind

# .NET's short names of name attributes (anything else prints as OID.<dotted>)
_SHORT_NAMES = {
    NameOID.COMMON_NAME.dotted_string: "CN", NameOID.ORGANIZATION_NAME.dotted_string: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME.dotted_string: "OU", NameOID.LOCALITY_NAME.dotted_string: "L",
    NameOID.STATE_OR_PROVINCE_NAME.dotted_string: "S", NameOID.COUNTRY_NAME.dotted_string: "C",
    NameOID.EMAIL_ADDRESS.dotted_string: "E", NameOID.STREET_ADDRESS.dotted_string: "STREET",
    NameOID.TITLE.dotted_string: "T", NameOID.GIVEN_NAME.dotted_string: "G", NameOID.SURNAME.dotted_string: "SN",
    NameOID.SERIAL_NUMBER.dotted_string: "SERIALNUMBER", NameOID.DOMAIN_COMPONENT.dotted_string: "DC",
    NameOID.INITIALS.dotted_string: "I", NameOID.DN_QUALIFIER.dotted_string: "dnQualifier",
    NameOID.USER_ID.dotted_string: "UID",
}
_QUOTE_NEEDING = frozenset(',+="\n<>#;')
_UNIX_EPOCH_TICKS = 621_355_968_000_000_000


class X500DistinguishedNameFlags(enum.IntFlag):
    """``System.Security.Cryptography.X509Certificates.X500DistinguishedNameFlags``."""

    None_ = 0
    Reversed = 0x1
    UseSemicolons = 0x10
    DoNotUsePlusSign = 0x20
    DoNotUseQuotes = 0x40
    UseCommas = 0x80
    UseNewLines = 0x100


class X509NameType(enum.IntEnum):
    """``X509NameType``: which name ``GetNameInfo`` returns."""

    SimpleName = 0
    EmailName = 1
    UpnName = 2
    DnsName = 3
    DnsFromAlternativeName = 4
    UrlName = 5

    def ToString(self, fmt: str | None = None) -> str:
        from .enums import EnumMembers

        return EnumMembers.ToString(self, fmt)


def _value_text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.hex().upper()


def _quoted(value: str) -> str:
    if (not value or value[0] in " \t\n\v\f\r" or value[-1] in " \t\n\v\f\r"
            or any(c in _QUOTE_NEEDING for c in value)):
        return '"' + value.replace('"', '""') + '"'
    return value


def decode_name(name: x509.Name, flags: int = X500DistinguishedNameFlags.Reversed) -> str:
    """The text of a distinguished name as .NET's ``X500DistinguishedName.Decode(flags)`` writes it."""
    quote = not flags & X500DistinguishedNameFlags.DoNotUseQuotes
    if flags & X500DistinguishedNameFlags.UseSemicolons:
        separator = "; "
    elif flags & (X500DistinguishedNameFlags.UseNewLines | X500DistinguishedNameFlags.UseCommas) == \
            X500DistinguishedNameFlags.UseNewLines:
        separator = "\r\n"
    else:
        separator = ", "
    plus = " " if flags & X500DistinguishedNameFlags.DoNotUsePlusSign else " + "
    rdns = list(name.rdns)
    if flags & X500DistinguishedNameFlags.Reversed:
        rdns.reverse()
    parts = []
    for rdn in rdns:
        values = []
        for attribute in rdn:
            oid = attribute.oid.dotted_string
            text = _value_text(attribute.value)
            values.append(f"{_SHORT_NAMES.get(oid) or 'OID.' + oid}={_quoted(text) if quote else text}")
        parts.append(plus.join(values))
    return separator.join(parts)


_NAME_KEYS = {short.upper(): oid for oid, short in _SHORT_NAMES.items()} | {
    "ST": NameOID.STATE_OR_PROVINCE_NAME.dotted_string, "EMAILADDRESS": NameOID.EMAIL_ADDRESS.dotted_string,
    "EMAIL": NameOID.EMAIL_ADDRESS.dotted_string, "SERIALNUMBER": NameOID.SERIAL_NUMBER.dotted_string,
    "GN": NameOID.GIVEN_NAME.dotted_string, "STREET": NameOID.STREET_ADDRESS.dotted_string,
}


def name_pairs(name: x509.Name) -> list[tuple[str, str]]:
    """(attribute OID, value) of a name, most specific first (the order .NET prints)."""
    return [(a.oid.dotted_string, _value_text(a.value)) for rdn in reversed(name.rdns) for a in rdn]


def parse_name(text: str) -> list[tuple[str, str]] | None:
    """(attribute OID, value) of a distinguished name written as .NET reads one (`CN=x, O="a, b"`:
    `,` `;` or `+` between attributes, values in double quotes with `""` for a quote); None when
    it is not one."""
    pairs: list[tuple[str, str]] = []
    position, end = 0, len(text)
    while position < end:
        equals = text.find("=", position)
        if equals < 0:
            return None
        key = text[position:equals].strip().upper()
        oid = key[4:] if key.startswith("OID.") else key if key[:1].isdigit() else _NAME_KEYS.get(key)
        if not oid:
            return None
        position = equals + 1
        while position < end and text[position] in " \t":
            position += 1
        if position < end and text[position] == '"':
            value, position = _quoted_value(text, position + 1)
            if value is None:
                return None
            while position < end and text[position] in " \t":
                position += 1
            if position < end and text[position] not in ",;+":
                return None
        else:
            stop = min((i for i in (text.find(c, position) for c in ",;+") if i >= 0), default=end)
            value, position = text[position:stop].strip(), stop
        pairs.append((oid, value))
        position += 1
    return pairs


def _quoted_value(text: str, position: int) -> tuple[str | None, int]:
    chars = []
    while position < len(text):
        c = text[position]
        if c == '"':
            if text[position + 1: position + 2] == '"':
                chars.append('"')
                position += 2
                continue
            return "".join(chars), position + 1
        chars.append(c)
        position += 1
    return None, position


class X500DistinguishedName:
    """A certificate's subject or issuer name."""

    dotnet_name = "System.Security.Cryptography.X509Certificates.X500DistinguishedName"

    def __init__(self, name: x509.Name) -> None:
        self._name = name
        self._text = decode_name(name)

    @property
    def Name(self) -> str:
        return self._text

    @property
    def RawData(self) -> bytes:
        return self._name.public_bytes()

    def Decode(self, flags: int) -> str:
        return decode_name(self._name, int(flags))

    def Format(self, multi_line: bool) -> str:
        if multi_line:
            return "".join(line + "\r\n" for line in decode_name(self._name, 0x100).split("\r\n"))
        return decode_name(self._name, 0)

    def ToString(self) -> str:
        return self.dotnet_name


def _local_datetime(moment: datetime.datetime) -> DateTime:
    ticks = int(moment.replace(tzinfo=datetime.UTC).timestamp()) * 10_000_000 + _UNIX_EPOCH_TICKS
    return DateTime(ticks, DateTimeKind.Local)


def _serial_bytes(serial: int) -> bytes:
    """The serial number's DER content octets (big-endian, two's complement, minimal)."""
    return serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True) if serial >= 0 else \
        serial.to_bytes((serial.bit_length() + 8) // 8, "big", signed=True)


class X509Certificate2:
    """An X.509 certificate as .NET's ``X509Certificate2`` shows it (read-only, no private key).

    `verify` answers ``Verify()`` (``check_revocation`` False for ``VerifyNoRevocation()``);
    without one, ``Verify()`` is False: the gateway has no trust to check a certificate against.
    """

    dotnet_name = "System.Security.Cryptography.X509Certificates.X509Certificate2"

    def __init__(self, certificate: x509.Certificate | bytes,
                 verify: Callable[[X509Certificate2, bool], bool] | None = None) -> None:
        if isinstance(certificate, bytes | bytearray):
            certificate = x509.load_der_x509_certificate(bytes(certificate))
        self.certificate = certificate
        self._verify = verify
        self._der = certificate.public_bytes(serialization.Encoding.DER)
        self._subject = X500DistinguishedName(certificate.subject)
        self._issuer = X500DistinguishedName(certificate.issuer)
        self._thumbprint = hashlib.sha1(self._der).hexdigest().upper()  # noqa: S324 - the certificate's identity, as .NET
        self._serial = _serial_bytes(certificate.serial_number).hex().upper()
        self._not_before = _local_datetime(certificate.not_valid_before_utc)
        self._not_after = _local_datetime(certificate.not_valid_after_utc)

    @property
    def SubjectName(self) -> X500DistinguishedName:
        return self._subject

    @property
    def IssuerName(self) -> X500DistinguishedName:
        return self._issuer

    @property
    def Subject(self) -> str:
        return self._subject.Name

    @property
    def Issuer(self) -> str:
        return self._issuer.Name

    @property
    def Thumbprint(self) -> str:
        return self._thumbprint

    @property
    def SerialNumber(self) -> str:
        return self._serial

    @property
    def NotBefore(self) -> DateTime:
        return self._not_before

    @property
    def NotAfter(self) -> DateTime:
        return self._not_after

    @property
    def Version(self) -> int:
        return self.certificate.version.value + 1

    @property
    def HasPrivateKey(self) -> bool:
        return False

    @property
    def FriendlyName(self) -> str:
        return ""

    @property
    def Archived(self) -> bool:
        return False

    @property
    def RawData(self) -> bytes:
        return self._der

    def GetRawCertData(self) -> bytes:
        return self._der

    def GetRawCertDataString(self) -> str:
        return self._der.hex().upper()

    def GetCertHash(self) -> bytes:
        return bytes.fromhex(self.Thumbprint)

    def GetCertHashString(self) -> str:
        return self.Thumbprint

    def GetSerialNumber(self) -> bytes:
        return bytes.fromhex(self.SerialNumber)[::-1]  # .NET: little-endian

    def GetSerialNumberString(self) -> str:
        return self.SerialNumber

    def GetFormat(self) -> str:
        return "X509"

    def GetKeyAlgorithm(self) -> str:
        return self.certificate.public_key_algorithm_oid.dotted_string

    def GetPublicKey(self) -> bytes:
        return _public_key_bits(self.certificate.public_key())

    def GetPublicKeyString(self) -> str:
        return self.GetPublicKey().hex().upper()

    def GetEffectiveDateString(self) -> str:
        return self.NotBefore.ToString()

    def GetExpirationDateString(self) -> str:
        return self.NotAfter.ToString()

    def GetNameInfo(self, name_type: int, for_issuer: bool) -> str:
        """The simple, e-mail, DNS or URL name of the subject (or issuer), as .NET picks it."""
        name = self.certificate.issuer if for_issuer else self.certificate.subject
        names = [] if for_issuer else self._alternative_names()
        kind = int(name_type)
        if kind == X509NameType.SimpleName:
            for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME,
                        NameOID.EMAIL_ADDRESS):
                found = _last_value(name, oid)
                if found:
                    return found
            return _first(names, x509.RFC822Name) or _first(names, x509.DNSName) or ""
        if kind == X509NameType.EmailName:
            return _last_value(name, NameOID.EMAIL_ADDRESS) or _first(names, x509.RFC822Name) or ""
        if kind == X509NameType.DnsName:
            return _first(names, x509.DNSName) or _last_value(name, NameOID.COMMON_NAME) or ""
        if kind == X509NameType.DnsFromAlternativeName:
            return _first(names, x509.DNSName) or ""
        if kind == X509NameType.UrlName:
            return _first(names, x509.UniformResourceIdentifier) or ""
        return ""  # UpnName: not read

    def dns_names(self) -> list[str]:
        """The subject alternative name's DNS names."""
        return [n.value for n in self._alternative_names() if isinstance(n, x509.DNSName)]

    def _alternative_names(self) -> list[Any]:
        try:
            return list(self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
        except (x509.ExtensionNotFound, ValueError):
            return []

    def Verify(self) -> bool:
        return self._verify is not None and self._verify(self, True)

    def VerifyNoRevocation(self) -> bool:  # APIM's extension method
        return self._verify is not None and self._verify(self, False)

    def Equals(self, other: Any) -> bool:
        return isinstance(other, X509Certificate2) and other._der == self._der

    def __eq__(self, other: object) -> bool:
        return self.Equals(other)

    def __hash__(self) -> int:
        return hash(self._der)

    def GetHashCode(self) -> int:
        return int.from_bytes(self.GetCertHash()[:4], "big", signed=True)

    def ToString(self, verbose: bool = False) -> str:
        if not verbose:
            return self.dotnet_name
        return (f"[Subject]\n  {self.Subject}\n\n[Issuer]\n  {self.Issuer}\n\n[Serial Number]\n  {self.SerialNumber}\n\n"
                f"[Not Before]\n  {self.NotBefore.ToString()}\n\n[Not After]\n  {self.NotAfter.ToString()}\n\n"
                f"[Thumbprint]\n  {self.Thumbprint}\n")

    def __repr__(self) -> str:
        return f"X509Certificate2({self.Subject!r}, {self.Thumbprint})"


def _last_value(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    """The most specific (last encoded) value of an attribute, as .NET's name lookups take it."""
    found = name.get_attributes_for_oid(oid)
    return _value_text(found[-1].value) if found else ""


def _first(names: list[Any], kind: type) -> str:
    return next((str(getattr(n, "value", "")) for n in names if isinstance(n, kind)), "")


def _public_key_bits(key: Any) -> bytes:
    """The subjectPublicKey bits of a key: what .NET's ``GetPublicKey`` returns (RSA: the PKCS#1
    RSAPublicKey; EC: the uncompressed point; Ed25519/Ed448: the raw key)."""
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


__all__ = ["X500DistinguishedName", "X500DistinguishedNameFlags", "X509Certificate2", "X509NameType", "decode_name",
           "name_pairs", "parse_name"]
