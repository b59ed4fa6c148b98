"""`<find-and-replace>`: replace every occurrence of a string in the request or response body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Scope, Section, Str
from policies._body import charset_of, decode_text, message_for, read_body, replace_body

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
        content = await read_body(ctx, message)
        find = str(self.find.get(ctx) or "")
        if content is None or not find:
            return None
        text = decode_text(content, message.headers)
        if find not in text:
            return None
        replaced = text.replace(find, str(self.replacement.get(ctx) or ""))
        try:
            encoded = replaced.encode(charset_of(message.headers))
        except (LookupError, UnicodeEncodeError):
            encoded = replaced.encode("utf-8")
        replace_body(message, encoded)
        return None


class FindAndReplace(Policy):
    """Replace every occurrence of `from` with `to` in the body (case-sensitive, literal text).

    Inbound and backend act on the request body, outbound and on-error on the response body.
    The body is decoded with its Content-Type charset (UTF-8 by default); an empty `to` removes
    the matches. A message without a body is left alone.
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
