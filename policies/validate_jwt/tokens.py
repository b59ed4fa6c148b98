"""JWS compact tokens: decoding, signature verification (HMAC, RSA PKCS#1 v1.5/PSS, ECDSA).

Pure functions over bytes and keys; no policy or gateway knowledge. RSA/EC use the
`cryptography` package (imported lazily), HMAC the standard library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
SUPPORTED_ALGORITHMS = frozenset(
    f"{family}{bits}" for family in ("HS", "RS", "PS", "ES") for bits in ("256", "384", "512")
)


class TokenFormatError(ValueError):
    """The text is not a well-formed JWS compact token."""


def b64url_decode(text: str) -> bytes:
    """Base64url without padding (RFC 7515); also accepts standard base64 and padding."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise TokenFormatError("invalid base64url") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Token:
    """A decoded (not yet verified) JWS: header and payload JSON, the signed input and signature."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes = field(repr=False)

    @property
    def algorithm(self) -> str:
        return str(self.header.get("alg") or "")

    @property
    def key_id(self) -> str | None:
        kid = self.header.get("kid")
        return str(kid) if kid is not None else None

    @property
    def is_signed(self) -> bool:
        """False only for `alg: none`; a signing `alg` with an empty signature fails verification."""
        return self.algorithm.lower() != "none"

    def audiences(self) -> list[str]:
        aud = self.claims.get("aud")
        if aud is None:
            return []
        return [str(a) for a in aud] if isinstance(aud, list) else [str(aud)]


def decode(raw: str) -> Token:
    """Split and decode a compact JWS; raises TokenFormatError (JWE has 5 parts and is refused)."""
    parts = raw.strip().split(".")
    if len(parts) == 5:
        raise TokenFormatError("encrypted tokens (JWE) are not supported")
    if len(parts) != 3:
        raise TokenFormatError("a JWT has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TokenFormatError("header or payload is not JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenFormatError("header and payload must be JSON objects")
    signature = b64url_decode(parts[2]) if parts[2] else b""
    return Token(raw.strip(), header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


@dataclass(frozen=True)
class VerificationKey:
    """One key to try: an HMAC secret and/or a public key (RSA or EC), with an optional key id."""

    kid: str | None = None
    secret: bytes | None = None
    public_key: Any = None  # cryptography RSAPublicKey / EllipticCurvePublicKey

    def usable_for(self, algorithm: str) -> bool:
        family = algorithm[:2]
        if family == "HS":
            return self.secret is not None
        if family in ("RS", "PS"):
            return self.public_key is not None and _is_rsa(self.public_key)
        if family == "ES":
            return self.public_key is not None and not _is_rsa(self.public_key)
        return False


def _is_rsa(key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return isinstance(key, rsa.RSAPublicKey)


def verify(token: Token, key: VerificationKey) -> bool:
    """True when `key` verifies the token's signature with the token's `alg`."""
    algorithm = token.algorithm
    if algorithm not in SUPPORTED_ALGORITHMS or not key.usable_for(algorithm):
        return False
    bits = algorithm[2:]
    if algorithm.startswith("HS"):
        expected = hmac.new(key.secret or b"", token.signing_input, HASHES[bits]).digest()
        return hmac.compare_digest(expected, token.signature)
    return _verify_asymmetric(token, key.public_key, algorithm[:2], bits)


def _verify_asymmetric(token: Token, public_key: Any, family: str, bits: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    digest: hashes.HashAlgorithm = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[bits]
    try:
        if family == "RS":
            public_key.verify(token.signature, token.signing_input, padding.PKCS1v15(), digest)
        elif family == "PS":
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            public_key.verify(token.signature, token.signing_input, pss, digest)
        else:
            half = len(token.signature) // 2
            if half == 0 or len(token.signature) % 2:
                return False
            r = int.from_bytes(token.signature[:half], "big")
            s = int.from_bytes(token.signature[half:], "big")
            public_key.verify(encode_dss_signature(r, s), token.signing_input, ec.ECDSA(digest))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def sign_hmac(claims: dict[str, Any], secret: bytes, algorithm: str = "HS256", header: dict[str, Any] | None = None) -> str:
    """Create an HMAC-signed token (for tests and tooling)."""
    head = {"alg": algorithm, "typ": "JWT", **(header or {})}
    signing_input = f"{b64url_encode(json.dumps(head).encode())}.{b64url_encode(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode("ascii"), HASHES[algorithm[2:]]).digest()
    return f"{signing_input}.{b64url_encode(signature)}"
