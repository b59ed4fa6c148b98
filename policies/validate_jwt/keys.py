"""Signing keys for validate-jwt: `<key>` elements, JWKS documents and cached OpenID configurations."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from engine import clock as engine_clock
from engine.context import Headers, Request, Url
from engine.openid import DEFAULT_TOKEN_VALIDATION, TokenValidationSettings
from policies.validate_jwt.tokens import TokenFormatError, VerificationKey, b64url_decode

log = logging.getLogger("policygate.validate_jwt")
FETCH_TIMEOUT = 10.0
MAX_DOCUMENT_BYTES = 1024 * 1024


class InvalidKeyError(ValueError):
    """A configured key cannot be used (bad base64, PEM or modulus/exponent)."""


def _rsa_from_numbers(n: bytes, e: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()


def _public_key_from_pem(text: str) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = text.strip().encode("ascii", errors="ignore")
    try:
        if b"CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise InvalidKeyError(f"not a valid PEM certificate or public key: {exc}") from None


def _certificate_from_der(data: bytes) -> Any | None:
    if not data.startswith(b"\x30"):
        return None
    try:
        from cryptography import x509

        return x509.load_der_x509_certificate(data).public_key()
    except ValueError:
        return None


def key_from_element(text: str | None, n: str | None, e: str | None, kid: str | None) -> VerificationKey:
    """A `<key>`: `n`/`e` (base64url RSA), PEM text, base64 DER certificate, or a base64 HMAC secret."""
    if n or e:
        if not (n and e):
            raise InvalidKeyError("an RSA key needs both 'n' and 'e'")
        try:
            return VerificationKey(kid, public_key=_rsa_from_numbers(b64url_decode(n), b64url_decode(e)))
        except (TokenFormatError, ValueError) as exc:
            raise InvalidKeyError(f"invalid RSA modulus/exponent: {exc}") from None
    value = (text or "").strip()
    if not value:
        raise InvalidKeyError("the key is empty")
    if value.startswith("-----BEGIN"):
        return VerificationKey(kid, public_key=_public_key_from_pem(value))
    try:
        secret = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKeyError("a symmetric key must be base64-encoded") from None
    certificate_key = _certificate_from_der(secret)
    if certificate_key is not None:  # a public certificate is never an HMAC secret (no alg confusion)
        return VerificationKey(kid, public_key=certificate_key)
    return VerificationKey(kid, secret=secret)


def keys_from_jwks(document: Any) -> list[VerificationKey]:
    """The usable keys of a JWK Set (RSA `n`/`e`, EC `crv`/`x`/`y`, `x5c` certificates, `oct`)."""
    keys: list[VerificationKey] = []
    entries = document.get("keys") if isinstance(document, dict) else None
    for jwk in entries if isinstance(entries, list) else []:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        kid = str(jwk["kid"]) if "kid" in jwk else None
        try:
            keys.append(_key_from_jwk(jwk, kid))
        except (InvalidKeyError, TokenFormatError, ValueError, KeyError, TypeError) as exc:
            log.warning("skipping JWK %s: %s", kid or "(no kid)", exc)
    return keys


def _key_from_jwk(jwk: dict[str, Any], kid: str | None) -> VerificationKey:
    kty = jwk.get("kty")
    if kty == "RSA" and "n" in jwk and "e" in jwk:
        return VerificationKey(kid, public_key=_rsa_from_numbers(b64url_decode(jwk["n"]), b64url_decode(jwk["e"])))
    if kty == "EC":
        from cryptography.hazmat.primitives.asymmetric import ec

        curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64url_decode(jwk["x"]), "big"),
            int.from_bytes(b64url_decode(jwk["y"]), "big"),
            curves[jwk["crv"]],
        )
        return VerificationKey(kid, public_key=numbers.public_key())
    if kty == "oct":
        return VerificationKey(kid, secret=b64url_decode(jwk["k"]))
    if isinstance(jwk.get("x5c"), list) and jwk["x5c"]:
        public_key = _certificate_from_der(base64.b64decode(jwk["x5c"][0]))
        if public_key is not None:
            return VerificationKey(kid, public_key=public_key)
    raise InvalidKeyError(f"unsupported key type {kty!r}")


@dataclass
class OpenIdConfig:
    issuer: str | None
    keys: list[VerificationKey]
    fetched_at: float


@dataclass
class OpenIdCache:
    """Per-URL cache of OpenID configurations + JWKS, with rate-limited refreshes (`token-validation:`).

    Entries are kept per HTTP client (one per gateway; each policy-test harness has its own).
    """

    entries: dict[tuple[int, str], OpenIdConfig] = field(default_factory=dict)
    locks: dict[tuple[int, str], asyncio.Lock] = field(default_factory=dict)
    clock: Any = engine_clock.monotonic

    async def get(self, url: str, client: Any, *, refresh: bool = False,
                  settings: TokenValidationSettings = DEFAULT_TOKEN_VALIDATION) -> OpenIdConfig | None:
        """The configuration (fetched when missing, stale, or `refresh` and not refreshed recently)."""
        key = (id(client), url)
        entry = self.entries.get(key)
        now = self.clock()
        if entry is not None and now - entry.fetched_at < settings.metadata_ttl and not (
            refresh and now - entry.fetched_at >= settings.key_refresh_interval
        ):
            return entry
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            latest = self.entries.get(key)
            if latest is not None and latest is not entry:
                return latest  # another request refreshed it meanwhile
            try:
                fetched = await _fetch_config(url, client)
            except Exception as exc:  # network, JSON, size: keep serving the previous keys
                log.warning("cannot load OpenID configuration %s: %s", url, exc)
                if entry is not None:
                    # retry after one refresh interval
                    entry.fetched_at = self.clock() - settings.metadata_ttl + settings.key_refresh_interval
                return entry
            fetched.fetched_at = self.clock()
            self.entries[key] = fetched
            return fetched


async def _fetch_json(url: str, client: Any) -> Any:
    """GET a JSON document through the gateway's HTTP client (`ctx.services.http.call`)."""
    target = Url.parse(url)
    request = Request("GET", target, target.copy(), Headers([("Accept", "application/json")]))
    response = await client.call(request, FETCH_TIMEOUT, source="validate-jwt", follow_redirects=True)
    if response.status_code != 200:
        raise ValueError(f"{url} answered {response.status_code}")
    body = response.body.content if response.body is not None else b""
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


async def _fetch_config(url: str, client: Any) -> OpenIdConfig:
    metadata = await _fetch_json(url, client)
    if not isinstance(metadata, dict) or not isinstance(metadata.get("jwks_uri"), str):
        raise ValueError("the OpenID configuration has no jwks_uri")
    jwks = await _fetch_json(metadata["jwks_uri"], client)
    issuer = metadata.get("issuer")
    return OpenIdConfig(str(issuer) if issuer else None, keys_from_jwks(jwks), 0.0)


OPENID_CACHE = OpenIdCache()  # process-wide, like APIM's per-gateway cache
