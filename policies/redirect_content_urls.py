"""`<redirect-content-urls>`: rewrite backend URLs in bodies to gateway URLs (outbound) and back (inbound)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.context import Url
from engine.policy import Builder, Flow, Policy
from engine.schema import Scope, Section
from policies._body import (
    acts_on_response,
    charset_of,
    is_content_encoded,
    is_json_type,
    is_xml_type,
    media_type,
    message_for,
    read_body,
    replace_body,
)

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

TEXT_TYPES = ("application/javascript", "application/x-www-form-urlencoded", "application/xhtml+xml")


def _origin(url: Url) -> str:
    netloc = url.host if url.default_port else f"{url.host}:{url.port}"
    return f"{url.scheme}://{netloc}"


def backend_base(ctx: Context) -> str:
    """The backend URL the API's operations hang under, e.g. `http://10.0.0.5:8080/v1`."""
    return _origin(ctx.request.url) + ctx.exchange.base_path.rstrip("/")


def gateway_base(ctx: Context) -> str:
    """The gateway URL of the API as the caller used it, e.g. `https://api.example.com/orders`."""
    suffix = ctx.api.path.strip("/") if ctx.api is not None else ""
    return _origin(ctx.request.original_url) + (f"/{suffix}" if suffix else "")


def rewrite(text: str, old: str, new: str) -> str:
    """`text` with each URL starting with `old` (as a whole host and path segment) starting with `new`."""
    if not old or old == new:
        return text
    return re.sub(re.escape(old) + r"(?![\w-]|\.\w|:\d)", lambda _: new, text, flags=re.IGNORECASE)


def is_text(media: str) -> bool:
    return media.startswith("text/") or is_json_type(media) or is_xml_type(media) or media in TEXT_TYPES


@dataclass(frozen=True)
class RedirectContentUrlsStep:
    section: str

    async def __call__(self, ctx: Context) -> Flow | None:
        message = message_for(ctx, self.section)
        if not is_text(media_type(message.headers)) or is_content_encoded(message.headers):
            return None
        content = await read_body(ctx, message)
        if not content:
            return None
        charset = charset_of(message.headers)
        try:
            text = content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return None  # not text in its declared charset: left as it is
        backend, gateway = backend_base(ctx), gateway_base(ctx)
        old, new = (backend, gateway) if acts_on_response(self.section) else (gateway, backend)
        rewritten = rewrite(text, old, new)
        if is_json_type(media_type(message.headers)):  # JSON may escape "/" as "\/"
            rewritten = rewrite(rewritten, old.replace("/", "\\/"), new.replace("/", "\\/"))
        if rewritten != text:
            replace_body(message, rewritten.encode(charset))
        return None


class RedirectContentUrls(Policy):
    """Rewrite absolute URLs in message bodies so callers only see the gateway: in `outbound`, URLs
    of the backend in the response body (`<backend scheme://host[:port]><base path>...`) become
    the gateway URL of the API (the caller's `scheme://host[:port]` and the API's URL suffix); in
    `inbound`, gateway URLs in the request body become backend URLs. A URL matches as a whole host
    and path segment (`http://backend/api` does not match inside `http://backend/apis`), letters
    case-insensitively. Only text bodies (`text/*`, JSON, XML, JavaScript, form data) in their
    declared charset are rewritten, and not compressed ones; in JSON, URLs written with escaped
    slashes (`http:\\/\\/backend\\/api`) are rewritten too, keeping the escapes. Headers such as
    `Location` are left as they are, as in APIM.
    """

    tag = "redirect-content-urls"
    sections = Section.INBOUND | Section.OUTBOUND
    scopes = Scope.ALL
    once_per_section = True
    implemented = True

    def build(self, element: PolicyElement, builder: Builder) -> RedirectContentUrlsStep:
        return RedirectContentUrlsStep(element.section)
