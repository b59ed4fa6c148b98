"""`<find-and-replace>`: replace every occurrence of a string in the request or response body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Scope, Section, Str
from policies._body import charset_of, is_content_encoded, message_for, read_body, replace_body

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


@dataclass(frozen=True)
class FindAndReplaceStep:
    find: Value
    replacement: Value
    section: str

    async def __call__(self, ctx: Context) -> Flow | None:
        message = message_for(ctx, self.section)
        if is_content_encoded(message.headers):
            return None  # a compressed body is left alone
        content = await read_body(ctx, message)
        find = str(self.find.get(ctx) or "")
        if content is None or not find:
            return None
        replaced = replace_text(content, find, str(self.replacement.get(ctx) or ""), charset_of(message.headers))
        if replaced is not content:
            replace_body(message, replaced)
        return None


def replace_text(content: bytes, find: str, replacement: str, charset: str) -> bytes:
    """Replace in the encoded bytes (exact for UTF-8 and single-byte charsets: other bytes untouched).

    Returns `content` itself when nothing matched.
    """
    try:
        needle, substitute = find.encode(charset), replacement.encode(charset)
    except (LookupError, UnicodeEncodeError):
        needle, substitute = find.encode(), replacement.encode()
    if charset.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32")):
        text = content.decode(charset, errors="replace")  # multi-byte units: compare as text
        if find not in text:
            return content
        return text.replace(find, replacement).encode(charset)
    if needle not in content:
        return content
    return content.replace(needle, substitute)


class FindAndReplace(Policy):
    """Replace every occurrence of `from` with `to` in the body (case-sensitive, literal text).

    Inbound and backend act on the request body, outbound and on-error on the response body.
    Text is matched in the body's Content-Type charset (UTF-8 by default) and bytes outside the
    matches are kept as they are; an empty `to` removes the matches. A message without a body,
    or with a Content-Encoding (compressed), is left alone.
    """

    tag = "find-and-replace"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    attributes = (
        Attr("from", Str(non_empty=True), required=True, doc="The text to find."),
        Attr("to", Str(), required=True, doc="The replacement (may be empty)."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> FindAndReplaceStep:
        return FindAndReplaceStep(builder.value(element, "from"), builder.value(element, "to"), element.section)
