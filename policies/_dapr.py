"""Calls to the Dapr sidecar's HTTP API, shared by publish-to-dapr and invoke-dapr-binding."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import quote

from engine.context import Headers, MessageBody, Request, Url
from engine.errors import PolicyRuntimeError
from policies.send_request import send

if TYPE_CHECKING:
    from engine.context import Context, Response

DEFAULT_ENDPOINT = "http://localhost:3500"  # where APIM's self-hosted gateway expects its Dapr sidecar


def dapr_url(ctx: Context, *segments: str) -> Url:
    """`<dapr endpoint>/v1.0/<segments...>` (each segment percent-encoded)."""
    settings = getattr(ctx.services, "settings", None)
    endpoint = getattr(settings, "dapr_endpoint", "") or DEFAULT_ENDPOINT
    return Url.parse(endpoint.rstrip("/") + "/v1.0/" + "/".join(quote(s, safe="") for s in segments))


async def call_dapr(ctx: Context, source: str, url: Url, body: bytes, content_type: str, timeout: float,
                    ignore_error: bool, variable: str) -> None:
    """POST `body` to the sidecar; store its answer in `variable` (when named).

    A failure (no sidecar, a timeout, a status of 400 or more) fails the policy with the sidecar's
    message unless `ignore_error`.
    """
    headers = Headers([("Content-Type", content_type)])
    token = os.environ.get("DAPR_API_TOKEN")
    if token:
        headers.set("dapr-api-token", token)
    request = Request("POST", url, url.copy(), headers, MessageBody(body))
    response: Response | None = None
    try:
        response = await send(ctx, request, timeout, source)
        if response.status_code >= 400:
            detail = response.body.content.decode("utf-8", "replace")[:500] if response.body is not None else ""
            raise PolicyRuntimeError(f"Dapr answered {response.status_code}: {detail}", source=source,
                                     reason="DaprError", status=500)
    except PolicyRuntimeError:
        if not ignore_error:
            raise
    if variable:
        ctx.variables[variable] = response
