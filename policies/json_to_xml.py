"""`<json-to-xml>`: convert a JSON request or response body to XML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def accepts(headers: Headers, wanted: object) -> bool:
    """True when the Accept header is absent, `*/*`, or names a media type `wanted` approves."""
    accept = headers.get("accept")
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ("*/*", "") or wanted(media):  # type: ignore[operator]
            return True
    return False


@dataclass(frozen=True)
class JsonToXmlStep:
    apply: Value
    consider_accept: Value
    parse_date: bool
    namespace_separator: str
    namespace_prefix: str | None
    attribute_block_name: str | None
    section: str

    async def __call__(self, ctx: Context) -> Flow | None:
        message = message_for(ctx, self.section)
        if self.apply.get(ctx) == "content-type-json" and not is_json_type(media_type(message.headers)):
            return None
        if self.consider_accept.get(ctx) and not accepts(ctx.request.headers, is_xml_type):
            return None
        if is_content_encoded(message.headers):
            return None  # compressed bodies are passed through unconverted
        content = await read_body(ctx, message)
        if not content:
            return None
        try:
            xml = json_to_xml(
                decode_text(content, message.headers),
                parse_date=self.parse_date,
                attribute_block_name=self.attribute_block_name,
                namespace_separator=self.namespace_separator,
                namespace_prefix=self.namespace_prefix,
            )
        except ConversionError as exc:
            raise PolicyRuntimeError(str(exc), source="json-to-xml", reason="JsonToXmlConversionFailure", status=400
                                     if message is ctx.request else 500) from None
        replace_body(message, xml.encode("utf-8"), "application/xml; charset=utf-8")
        return None


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
