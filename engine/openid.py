"""`token-validation:` settings: where validate-jwt and validate-azure-ad-token get signing keys.

OpenID Connect discovery documents and their JWK sets are cached `metadata-ttl` seconds; a token
signed with an unknown `kid` refetches them, at most once per `key-refresh-interval` seconds per
document. validate-azure-ad-token discovers `<entra-authority>/<tenant>/v2.0/.well-known/openid-configuration`.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTRA_AUTHORITY = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class TokenValidationSettings:
    entra_authority: str = ENTRA_AUTHORITY  # validate-azure-ad-token's default authentication endpoint
    metadata_ttl: float = 3600.0  # seconds discovery documents and keys are kept
    key_refresh_interval: float = 300.0  # an unknown kid refetches the keys at most this often


DEFAULT_TOKEN_VALIDATION = TokenValidationSettings()


def entra_metadata_url(authority: str, tenant: str) -> str:
    """The v2.0 OpenID configuration of an Entra tenant (a GUID, a domain, or common/organizations)."""
    return f"{authority.rstrip('/')}/{tenant.strip().strip('/')}/v2.0/.well-known/openid-configuration"
