"""JSON calls to a service declared as a backend (embeddings for the semantic cache, Content Safety).

The backend's URL comes from the configuration's `backends:` (by `backend-id`). With `identity:`
configured, the call carries `Authorization: Bearer <token>` for the Cognitive Services resource
(APIM's `system-assigned`); without it the call goes unauthenticated (a local model server).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.context import Headers, MessageBody, Request, Url
from engine.errors import PolicyRuntimeError
from engine.identity import TokenError

if TYPE_CHECKING:
    from engine.context import Context

COGNITIVE_SERVICES = "https://cognitiveservices.azure.com"


class ServiceCallError(Exception):
    """The service could not be called, or did not answer with JSON (the message says why)."""


def backend_url(ctx: Context, backend_id: str) -> str:
    """The URL of backend `backend_id`; raises ServiceCallError when it is not declared."""
    services = ctx.services
    backends = getattr(getattr(services, "settings", None), "backends", None) or {}
    entry = backends.get(backend_id)
    url = entry if isinstance(entry, str) else getattr(entry, "url", None)
    if not url:
        raise ServiceCallError(f"backend '{backend_id}' is not defined (backends: in the gateway configuration)")
    return str(url)


async def post_json(
    ctx: Context, url: str, payload: object, *, source: str, timeout: float, query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """POST `payload` as JSON to `url`; (status, parsed JSON answer or None when the body is not JSON).

    Raises:
        ServiceCallError: no HTTP client, no token, the connection failed or timed out.
    """
    services = ctx.services
    if services is None or getattr(services, "http", None) is None:
        raise ServiceCallError("no HTTP client")
    try:
        target = Url.parse(url)
    except ValueError:
        raise ServiceCallError(f"'{url}' is not a valid URL") from None
    for name, value in (query or {}).items():
        target.query.setdefault(name, [value])
    headers = Headers([("Content-Type", "application/json"), ("Accept", "application/json")])
    identity = getattr(services, "identity", None)
    if identity is not None:
        cache = getattr(services, "cache", None)
        try:
            token = await identity.token(COGNITIVE_SERVICES, "", cache.external if cache is not None else None)
        except TokenError as exc:
            raise ServiceCallError(f"no managed identity token: {exc}") from None
        headers.set("Authorization", f"Bearer {token}")
    request = Request("POST", target, target.copy(), headers, MessageBody(json.dumps(payload).encode()))
    try:
        response = await services.http.call(request, timeout, source=source)
    except PolicyRuntimeError as exc:
        raise ServiceCallError(exc.message) from None
    content = response.body.content if response.body is not None else b""
    try:
        return response.status_code, json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return response.status_code, None
