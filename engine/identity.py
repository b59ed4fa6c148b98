"""Access tokens for the gateway's identity (`authentication-managed-identity`), from the provider
configured in `identity:` and cached per (provider, resource, client id).

Providers speak the protocols of docs/configuration.md: the Azure Instance Metadata Service (IMDS),
Azure workload identity (a federated token file exchanged at the Entra token endpoint), OAuth 2.0
client credentials against any token endpoint, and a static token for local work.

A token is served until shortly before it expires (`STALE_MARGIN`); from `refresh-ahead` seconds
before expiry one background request refreshes it while callers keep the current token. Concurrent
callers without a usable token wait for one shared request (single flight). Failures are not cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import aiohttp

from engine import clock
from engine.cache.stores import Store

log = logging.getLogger("policygate.identity")

PROVIDERS = ("imds", "workload-identity", "client-credentials", "static")
IMDS_ENDPOINT = "http://169.254.169.254/metadata/identity/oauth2/token"
IMDS_API_VERSION = "2018-02-01"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
STALE_MARGIN = 10.0  # seconds before expiry a token is no longer handed out (capped at a tenth of its life)
RETRY_AFTER_FAILED_REFRESH = 5.0  # seconds between background refresh attempts that fail
MAX_TOKEN_RESPONSE = 1024 * 1024
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class IdentitySettings:
    """`identity:` of gateway.yaml / policygate.yaml, validated by the configuration reader."""

    provider: str  # one of PROVIDERS
    endpoint: str = IMDS_ENDPOINT  # imds: the metadata token endpoint
    token_endpoint: str = ""  # client-credentials, workload-identity: the OAuth 2.0 token endpoint
    client_id: str = ""  # client-credentials, workload-identity: the application (client) id
    client_secret: str = ""  # client-credentials
    token_file: Path | None = None  # workload-identity: the projected service-account token
    token: str = ""  # static
    shared: bool = False  # also keep tokens in the external (Redis) cache, shared by every gateway instance
    timeout: float = 10.0  # seconds per token request
    refresh_ahead: float = 300.0  # seconds before expiry a token is refreshed in the background


class TokenError(Exception):
    """No token could be obtained; the message says why (safe for logs, not for callers)."""


@dataclass(frozen=True)
class Token(Generic[V]):
    value: V
    refresh_at: float  # wall-clock seconds: refresh in the background from here
    stale_at: float  # ... and stop handing it out from here

    @classmethod
    def expiring(cls, value: V, issued: float, expires_at: float, refresh_ahead: float) -> Token[V]:
        """`value` refreshed from `refresh_ahead` s (at most half its life) before `expires_at`."""
        life = max(expires_at - issued, 0.0)
        return cls(value, expires_at - min(refresh_ahead, life / 2), expires_at - min(STALE_MARGIN, life / 10))


class TokenCache(Generic[K, V]):
    """Values (tokens) by key, handed out until stale and refreshed ahead of expiry, one request per
    key at a time (single flight); failures are not cached. Subclasses implement `obtain`."""

    def __init__(self) -> None:
        self._tokens: dict[K, Token[V]] = {}
        self._flights: dict[K, asyncio.Task[Token[V]]] = {}
        self._retry_at: dict[K, float] = {}

    async def obtain(self, key: K) -> Token[V]:
        """Ask the provider (raises TokenError)."""
        raise NotImplementedError

    async def cached(self, key: K) -> V:
        """The value of `key`: the cached one while usable, else one shared request's; raises TokenError."""
        now = clock.now()
        cached = self._tokens.get(key)
        if cached is not None and now < cached.stale_at:
            if now >= cached.refresh_at and now >= self._retry_at.get(key, 0.0):
                self._flight(key)  # refresh in the background; this caller keeps the current token
            return cached.value
        return (await asyncio.shield(self._flight(key))).value

    def _flight(self, key: K) -> asyncio.Task[Token[V]]:
        task = self._flights.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch_and_keep(key))
            self._flights[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return task

    def _landed(self, key: K, task: asyncio.Task[Token[V]]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled() and task.exception() is not None:  # retrieved: waiting callers re-raise it
            self._retry_at[key] = clock.now() + RETRY_AFTER_FAILED_REFRESH
            log.warning("token request for %s failed: %s", key, task.exception())

    async def _fetch_and_keep(self, key: K) -> Token[V]:
        token = await self.obtain(key)
        self._tokens[key] = token
        self._retry_at.pop(key, None)
        return token


class TokenService(TokenCache[tuple[str, str, str], str]):
    """`ctx.services.identity`: tokens for (resource, client id) from one configured provider."""

    def __init__(self, settings: IdentitySettings) -> None:
        super().__init__()
        self.settings = settings
        self._shared: Store | None = None

    async def token(self, resource: str, client_id: str = "", shared: Store | None = None) -> str:
        """An access token for `resource` (as identity `client_id`, or the default); raises TokenError.

        `shared` is the external cache (used when `shared: true`): tokens other instances fetched.
        """
        self._shared = shared if self.settings.shared else None
        return await self.cached((self.settings.provider, resource, client_id))

    async def obtain(self, key: tuple[str, str, str]) -> Token[str]:
        _, resource, client_id = key
        shared, shared_key = self._shared, _shared_key(self.settings, key)
        issued = clock.now()
        token = await _read_shared(shared, shared_key, issued)
        if token is None:
            value, expires_at = await self._fetch(resource, client_id, issued)
            token = Token.expiring(value, issued, expires_at, self.settings.refresh_ahead)
            if shared is not None and token.stale_at != float("inf"):
                entry = json.dumps({"value": value, "refresh_at": token.refresh_at, "stale_at": token.stale_at})
                await shared.set(shared_key, entry.encode(), token.stale_at - issued)
        return token

    async def _fetch(self, resource: str, client_id: str, now: float) -> tuple[str, float]:
        s = self.settings
        if s.provider == "static":
            return s.token, float("inf")
        if s.provider == "imds":
            query = {"api-version": IMDS_API_VERSION, "resource": resource}
            if client_id:
                query["client_id"] = client_id
            answer = await request_token("GET", f"{s.endpoint}?{urlencode(query)}", {"Metadata": "true"}, None, s.timeout)
        else:
            form = {"grant_type": "client_credentials", "scope": scope_of(resource)}
            if s.provider == "client-credentials":
                if client_id and client_id != s.client_id:
                    raise TokenError(f"client-id '{client_id}' is not the configured client '{s.client_id}'")
                form |= {"client_id": s.client_id, "client_secret": s.client_secret}
            else:
                form |= {"client_id": client_id or s.client_id, "client_assertion_type": JWT_BEARER,
                         "client_assertion": self._federated_token()}
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            answer = await request_token("POST", s.token_endpoint, headers, urlencode(form).encode(), s.timeout)
        return read_token(answer, now)

    def _federated_token(self) -> str:
        path = self.settings.token_file
        assert path is not None  # the reader requires it for workload-identity
        try:  # read on every request: the kubelet rotates the file
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise TokenError(f"cannot read the federated token file {path}: {exc.strerror or exc}") from None


async def request_token(method: str, url: str, headers: dict[str, str], body: bytes | None,
                        timeout_seconds: float) -> dict[str, Any]:
    """The JSON object a token endpoint answers 200 with (raises TokenError naming the problem)."""
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.request(method, url, headers=headers, data=body, allow_redirects=False) as response:
            text = (await response.content.read(MAX_TOKEN_RESPONSE)).decode("utf-8", "replace")
            status = response.status
    except TimeoutError:
        raise TokenError(f"the token endpoint did not answer within {timeout_seconds:g} s") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise TokenError(f"cannot reach the token endpoint: {exc}") from None
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise TokenError(f"the token endpoint answered {status} without a JSON object")
    if status != 200:
        error = answer.get("error") or "error"
        description = answer.get("error_description") or ""
        raise TokenError(f"the token endpoint answered {status}: {error}" + (f": {description}" if description else ""))
    return answer


def _shared_key(settings: IdentitySettings, key: tuple[str, str, str]) -> str:
    where = settings.endpoint if settings.provider == "imds" else settings.token_endpoint
    digest = hashlib.sha256("\n".join((*key, where, settings.client_id)).encode()).hexdigest()
    return f"policygate:identity:{digest}"


async def _read_shared(shared: Store | None, key: str, now: float) -> Token[str] | None:
    """A token another instance keeps in the external cache, if it needs no refresh yet."""
    if shared is None:
        return None
    try:
        raw = await shared.get(key)
        entry = json.loads(raw) if raw is not None else None
        token = Token(str(entry["value"]), float(entry["refresh_at"]), float(entry["stale_at"])) if entry else None
    except (ValueError, TypeError, KeyError):
        return None
    return token if token is not None and now < token.refresh_at else None


def token_service(settings: IdentitySettings | None) -> TokenService | None:
    """The service of `identity:`, or None when the configuration has none."""
    return TokenService(settings) if settings is not None else None


def scope_of(resource: str) -> str:
    """The OAuth 2.0 scope of an Entra resource: `https://vault.azure.net` -> `https://vault.azure.net/.default`."""
    return resource.rstrip("/") + "/.default"


def read_token(answer: dict[str, Any], now: float) -> tuple[str, float]:
    """(access token, expiry as wall-clock seconds) from an IMDS or OAuth 2.0 token response."""
    value = answer.get("access_token")
    if not isinstance(value, str) or not value:
        raise TokenError("the token response has no access_token")
    try:
        if answer.get("expires_on") not in (None, ""):  # IMDS: Unix seconds, as a string
            return value, float(answer["expires_on"])
        return value, now + float(answer["expires_in"])  # OAuth 2.0: seconds (IMDS: as a string)
    except (KeyError, TypeError, ValueError):
        raise TokenError("the token response has no valid expires_in or expires_on") from None
