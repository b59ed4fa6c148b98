"""Credential manager connections (`credentials:`): the access tokens `get-authorization-context` returns.

A provider is an OAuth 2.0 authorization server (token endpoint, client id and secret, scopes);
each of its connections gets tokens by one grant: `client-credentials`, `refresh-token` (the
configured refresh token is the first one; a rotated refresh token from an answer replaces it in
memory) or `static` (a fixed access token, for local work). Tokens are cached per connection and
refreshed ahead of expiry with one request at a time (`engine.identity.TokenCache`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from engine import clock
from engine.context import Authorization
from engine.identity import Token, TokenCache, TokenError, request_token

GRANTS = ("client-credentials", "refresh-token", "static")
DEFAULT_LIFETIME = 3600.0  # seconds a token is kept when the answer has no expires_in (e.g. GitHub OAuth apps)
SECRET_FIELDS = frozenset({"access_token", "refresh_token", "id_token"})  # never among the Claims


@dataclass(frozen=True)
class ConnectionSettings:
    grant: str  # one of GRANTS
    refresh_token: str = ""  # refresh-token
    access_token: str = ""  # static
    access_policies: frozenset[tuple[str, str]] = frozenset()  # (tenant id, object id) of callers (identity-type jwt)


@dataclass(frozen=True)
class ProviderSettings:
    token_endpoint: str = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: tuple[str, ...] = ()
    connections: dict[str, ConnectionSettings] = field(default_factory=dict)


@dataclass(frozen=True)
class CredentialSettings:
    """`credentials:` of gateway.yaml / policygate.yaml, validated by the configuration reader."""

    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    timeout: float = 10.0  # seconds per token request
    refresh_ahead: float = 300.0  # seconds before expiry a token is refreshed in the background


class CredentialService(TokenCache[tuple[str, str], Authorization]):
    """`ctx.services.credentials`: the Authorization of (provider id, connection id)."""

    def __init__(self, settings: CredentialSettings) -> None:
        super().__init__()
        self.settings = settings
        self._refresh_tokens: dict[tuple[str, str], str] = {}

    async def authorization(self, provider_id: str, connection_id: str,
                            caller: tuple[str, str] | None = None) -> Authorization:
        """The connection's current Authorization; raises TokenError (unknown connection, provider
        failure, or a `caller` (tenant id, object id) its access policies do not name). Without
        `caller` the gateway asks for itself (identity-type managed), which every connection allows."""
        provider = self.settings.providers.get(provider_id)
        if provider is None:
            raise TokenError(f"no credential provider '{provider_id}' is configured (`credentials.providers`)")
        connection = provider.connections.get(connection_id)
        if connection is None:
            raise TokenError(f"credential provider '{provider_id}' has no connection '{connection_id}'")
        if caller is not None and caller not in connection.access_policies:
            raise TokenError(f"the identity (tenant '{caller[0]}', object '{caller[1]}') is not allowed by the "
                             f"access policies of connection '{connection_id}'")
        return await self.cached((provider_id, connection_id))

    async def obtain(self, key: tuple[str, str]) -> Token[Authorization]:
        provider = self.settings.providers[key[0]]
        connection = provider.connections[key[1]]
        if connection.grant == "static":
            return Token(Authorization(connection.access_token, {"token_type": "Bearer"}), float("inf"), float("inf"))
        form = {"client_id": provider.client_id, "client_secret": provider.client_secret}
        if connection.grant == "refresh-token":
            form |= {"grant_type": "refresh_token",
                     "refresh_token": self._refresh_tokens.get(key, connection.refresh_token)}
        else:
            form["grant_type"] = "client_credentials"
        if provider.scopes:
            form["scope"] = " ".join(provider.scopes)
        issued = clock.now()
        answer = await request_token("POST", provider.token_endpoint, {
            "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
        }, urlencode(form).encode(), self.settings.timeout)
        access_token = answer.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise TokenError("the token response has no access_token")
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_tokens[key] = rotated
        expires_at = issued + _lifetime(answer.get("expires_in"))
        claims: dict[str, Any] = {name: value for name, value in answer.items() if name not in SECRET_FIELDS}
        return Token.expiring(Authorization(access_token, claims), issued, expires_at, self.settings.refresh_ahead)


def _lifetime(expires_in: object) -> float:
    if expires_in in (None, ""):
        return DEFAULT_LIFETIME
    if not isinstance(expires_in, str | int | float):  # a JSON object or list
        raise TokenError("the token response has an invalid expires_in")
    try:
        return float(expires_in)
    except ValueError:
        raise TokenError("the token response has an invalid expires_in") from None


def credential_service(settings: CredentialSettings | None) -> CredentialService | None:
    """The service of `credentials:`, or None when the configuration has none."""
    return CredentialService(settings) if settings is not None else None
