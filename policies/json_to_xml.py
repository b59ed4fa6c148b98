"""`<json-to-xml>`: convert a JSON request or response body to XML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Enum, Scope, Section, Str
from policies._body import (
    decode_text,
    is_content_encoded,
    is_json_type,
    is_xml_type,
    media_type,
    message_for,
    read_body,
    replace_body,
)
from policies._json_xml import ConversionError, json_to_xml

if TYPE_CHECKING:
    from engine.context import Context, Headers
    from engine.model import PolicyElement


def accepts(headers: Headers, wanted: Callable[[str], bool]) -> bool:
    """True when the Accept header is absent, `*/*`, or names a media type `wanted` approves."""
    accept = headers.get("accept")
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ("*/*", "") or wanted(media):
            return True
    return False


@dataclass(frozen=True)
class BodyConversionStep:
    """The run shared by `<json-to-xml>` and `<xml-to-json>`: pick the section's message, honour
    `apply` and `consider-accept-header`, convert the body and replace it. A subclass names its
    policy, media types and failure reason, and implements `convert`."""

    apply: Value
    consider_accept: Value
    section: str

    tag: ClassVar[str]
    reason: ClassVar[str]  # context.LastError.Reason when the body does not convert
    apply_by_type: ClassVar[str]  # the `apply` value that converts only bodies of the source media type
    content_type: ClassVar[str]  # Content-Type of the converted body

    @staticmethod
    def is_source_type(media: str) -> bool:
        """The body's media type is the source format (for `apply_by_type`)."""
        raise NotImplementedError

    @staticmethod
    def is_target_type(media: str) -> bool:
        """The media type is the target format (what the Accept header must allow)."""
        raise NotImplementedError

    def convert(self, ctx: Context, content: bytes, headers: Headers) -> str:
        """The converted body; raises ConversionError when `content` is not valid."""
        raise NotImplementedError

    async def __call__(self, ctx: Context) -> Flow | None:
        message = message_for(ctx, self.section)
        if self.apply.get(ctx) == self.apply_by_type and not self.is_source_type(media_type(message.headers)):
            return None
        if self.consider_accept.get(ctx) and not accepts(ctx.request.headers, self.is_target_type):
            return None
        if is_content_encoded(message.headers):
            return None  # compressed bodies are passed through unconverted
        content = await read_body(ctx, message)
        if not content:
            return None
        try:
            text = self.convert(ctx, content, message.headers)
        except ConversionError as exc:
            raise PolicyRuntimeError(str(exc), source=self.tag, reason=self.reason, status=400
                                     if message is ctx.request else 500) from None
        replace_body(message, text.encode("utf-8"), self.content_type)
        return None


@dataclass(frozen=True)
class JsonToXmlStep(BodyConversionStep):
    parse_date: bool
    namespace_separator: str
    namespace_prefix: str | None
    attribute_block_name: str | None

    tag = "json-to-xml"
    reason = "JsonToXmlConversionFailure"
    apply_by_type = "content-type-json"
    content_type = "application/xml; charset=utf-8"

    @staticmethod
    def is_source_type(media: str) -> bool:
        return is_json_type(media)

    @staticmethod
    def is_target_type(media: str) -> bool:
        return is_xml_type(media)

    def convert(self, ctx: Context, content: bytes, headers: Headers) -> str:
        return json_to_xml(
            decode_text(content, headers),
            parse_date=self.parse_date,
            attribute_block_name=self.attribute_block_name,
            namespace_separator=self.namespace_separator,
            namespace_prefix=self.namespace_prefix,
        )


def _literal(element: PolicyElement, name: str) -> str | None:
    value = element.get(name)
    return value.text if value is not None else None


class JsonToXml(Policy):
    """Convert a JSON body to XML (Newtonsoft style, wrapped in `<Document>`).

    `apply="content-type-json"` converts only bodies whose Content-Type is JSON; with
    `consider-accept-header` (default true) only when the caller's Accept header allows XML (or is
    absent). Inbound converts the request, outbound/on-error the response; Content-Type becomes
    `application/xml; charset=utf-8`. Invalid JSON fails with reason JsonToXmlConversionFailure.
    """

    tag = "json-to-xml"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    implemented = True
    attributes = (
        Attr("apply", Enum("always", "content-type-json"), required=True, doc="When to convert."),
        Attr("consider-accept-header", Bool(), default=True, doc="Convert only when the caller accepts XML."),
        Attr("parse-date", Bool(), default=True, expr=False, doc="Normalise ISO 8601 date strings."),
        Attr("namespace-separator", Str(non_empty=True), default="_", expr=False,
             doc="Separates a namespace prefix from the local name in property names."),
        Attr("namespace-prefix", Str(non_empty=True), expr=False,
             doc="Properties '<prefix><separator><p>' declare namespace prefix p."),
        Attr("attribute-block-name", Str(non_empty=True), expr=False,
             doc="A property with this name holds the attributes of its parent element."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> JsonToXmlStep:
        parse_date = element.get("parse-date")
        return JsonToXmlStep(
            apply=builder.value(element, "apply"),
            consider_accept=builder.value(element, "consider-accept-header"),
            parse_date=parse_date is None or parse_date.text.strip().lower() != "false",
            namespace_separator=_literal(element, "namespace-separator") or "_",
            namespace_prefix=_literal(element, "namespace-prefix"),
            attribute_block_name=_literal(element, "attribute-block-name"),
            section=element.section,
        )
