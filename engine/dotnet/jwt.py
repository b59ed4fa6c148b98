"""APIM's ``Jwt`` (``AsJwt``/``TryParseJwt``) and ``BasicAuthCredentials`` (``AsBasic``/``TryParseBasic``).

Parsing only: the signature is never checked here (that is ``validate-jwt``'s job). Invalid input
gives ``null``/``false``, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .collectionmembers import StringArrayDictionary
from .datetimes import UNIX_EPOCH_TICKS, DateTime, DateTimeKind
from .timespan import TICKS_PER_SECOND


def _b64url(segment: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*={0,2}", segment):
        raise ValueError("not base64url")
    padded = segment.rstrip("=") + "=" * (-len(segment.rstrip("=")) % 4)
    return base64.urlsafe_b64decode(padded)


def _claim_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        from .formatting import double_to_string

        return double_to_string(value)
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _unix_time(value: Any) -> DateTime | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    ticks = UNIX_EPOCH_TICKS + int(seconds) * TICKS_PER_SECOND
    try:
        return DateTime._make(ticks, DateTimeKind.Utc)
    except Exception:  # noqa: BLE001 - out-of-range timestamps read as "no value"
        return None


class Jwt:
    """A decoded JSON Web Token (header and payload claims)."""

    dotnet_name = "Jwt"

    def __init__(self, header: dict[str, Any], payload: dict[str, Any], raw: str) -> None:
        self._header = header
        self._payload = payload
        self._raw = raw

    @property
    def Algorithm(self) -> str | None:
        value = self._header.get("alg")
        return None if value is None else _claim_text(value)

    @property
    def Type(self) -> str | None:
        value = self._header.get("typ")
        return None if value is None else _claim_text(value)

    @property
    def Audiences(self) -> list[str]:
        aud = self._payload.get("aud")
        if aud is None:
            return []
        return [_claim_text(a) for a in aud] if isinstance(aud, list) else [_claim_text(aud)]

    @property
    def Claims(self) -> StringArrayDictionary:
        claims = StringArrayDictionary()
        for name, value in self._payload.items():
            claims[name] = (
                [_claim_text(v) for v in value] if isinstance(value, list) else [_claim_text(value)]
            )
        return claims

    @property
    def ExpirationTime(self) -> DateTime | None:
        return _unix_time(self._payload.get("exp"))

    @property
    def IssuedAt(self) -> DateTime | None:
        return _unix_time(self._payload.get("iat"))

    @property
    def NotBefore(self) -> DateTime | None:
        return _unix_time(self._payload.get("nbf"))

    def _text(self, name: str) -> str | None:
        value = self._payload.get(name)
        return None if value is None else _claim_text(value)

    @property
    def Id(self) -> str | None:
        return self._text("jti")

    @property
    def Issuer(self) -> str | None:
        return self._text("iss")

    @property
    def Subject(self) -> str | None:
        return self._text("sub")

    def ToString(self) -> str:
        return self._raw


def as_jwt(text: str | None) -> Jwt | None:
    """``string.AsJwt()``: the decoded token, or ``null`` when ``text`` is not a JWT."""
    if not text or not isinstance(text, str):
        return None
    token = text.strip()
    if token[:7].lower() == "bearer ":
        return None
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    try:
        header = json.loads(_b64url(parts[0]).decode("utf-8"))
        payload = json.loads(_b64url(parts[1]).decode("utf-8"))
        if parts[2]:
            _b64url(parts[2])
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    return Jwt(header, payload, token)


def try_parse_jwt(text: str | None) -> tuple[bool, Jwt | None]:
    """``string.TryParseJwt(out Jwt)``."""
    jwt = as_jwt(text)
    return jwt is not None, jwt


class BasicAuthCredentials:
    """``BasicAuthCredentials``: ``UserId`` and ``Password``."""

    dotnet_name = "BasicAuthCredentials"

    def __init__(self, user_id: str, password: str) -> None:
        self._user = user_id
        self._password = password

    @property
    def UserId(self) -> str:
        return self._user

    @property
    def Password(self) -> str:
        return self._password


def as_basic(text: str | None) -> BasicAuthCredentials | None:
    """``string.AsBasic()``: parse ``Basic base64(user:password)`` (the scheme word is optional)."""
    if not text or not isinstance(text, str):
        return None
    value = text.strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "basic":
        value = rest.strip()
    elif rest:
        return None
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return BasicAuthCredentials(user, password)


def try_parse_basic(text: str | None) -> tuple[bool, BasicAuthCredentials | None]:
    """``string.TryParseBasic(out BasicAuthCredentials)``."""
    creds = as_basic(text)
    return creds is not None, creds


__all__ = [
    "BasicAuthCredentials",
    "Extensions",
    "Jwt",
    "as_basic",
    "as_jwt",
    "try_parse_basic",
    "try_parse_jwt",
]


class Extensions:
    """APIM's string extension methods (receiver first): ``AsJwt``, ``TryParseJwt``, ``AsBasic``, ``TryParseBasic``."""

    AsJwt = staticmethod(as_jwt)
    TryParseJwt = staticmethod(try_parse_jwt)
    AsBasic = staticmethod(as_basic)
    TryParseBasic = staticmethod(try_parse_basic)
