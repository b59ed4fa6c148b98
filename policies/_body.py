"""Body helpers shared by the policies that read or rewrite a message body.

A policy in `inbound`/`backend` acts on the request, in `outbound`/`on-error` on the response
(an element with no section, e.g. inside a fragment built on its own, acts on the request).
The gateway buffers bodies for pipelines that contain body-reading policies; a response that is
still streaming is buffered with `engine.policy.buffer_body`.
"""

from __future__ import annotations

from engine.context import Context, Headers, MessageBody, Request, Response
from engine.policy import buffer_body

RESPONSE_SECTIONS = frozenset({"outbound", "on-error"})


def acts_on_response(section: str) -> bool:
    return section in RESPONSE_SECTIONS


def message_for(ctx: Context, section: str) -> Request | Response:
    """The message a body policy in `section` reads and rewrites."""
    return ctx.response if acts_on_response(section) else ctx.request


async def read_body(ctx: Context, message: Request | Response) -> bytes | None:
    """The message's body bytes (buffering it first), or None when the message has no body."""
    await buffer_body(ctx, message)
    return message.body.content if message.body is not None else None


def replace_body(message: Request | Response, content: bytes | None, content_type: str | None = None) -> None:
    """Set a new body; a present Content-Length is updated, Content-Type set when given."""
    message.body = MessageBody(content) if content is not None else None
    headers: Headers = message.headers
    if "content-length" in headers:
        headers.set("Content-Length", str(len(content or b"")))
    if content_type is not None:
        headers.set("Content-Type", content_type)


def media_type(headers: Headers) -> str:
    """The lower-cased media type of Content-Type without parameters ('' when absent)."""
    value = headers.get("content-type") or ""
    return value.split(";", 1)[0].strip().lower()


def is_content_encoded(headers: Headers) -> bool:
    """True when the body is compressed or otherwise encoded (Content-Encoding other than identity)."""
    value = (headers.get("content-encoding") or "").strip().lower()
    return value not in ("", "identity")


def charset_of(headers: Headers) -> str:
    value = headers.get("content-type") or ""
    for part in value.split(";")[1:]:
        key, _, val = part.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            return val.strip().strip('"')
    return "utf-8"


def decode_text(content: bytes, headers: Headers) -> str:
    """Body bytes as text, by the Content-Type charset (UTF-8 default; BOM skipped)."""
    try:
        text = content.decode(charset_of(headers), errors="replace")
    except LookupError:
        text = content.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def is_json_type(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def is_xml_type(media: str) -> bool:
    return media in ("application/xml", "text/xml") or media.endswith("+xml")
