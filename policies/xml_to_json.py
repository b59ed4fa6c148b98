"""`<xml-to-json>`: convert an XML request or response body to JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Policy, Value
from engine.schema import Attr, Bool, Enum, Scope, Section
from policies._body import is_json_type, is_xml_type
from policies._json_xml import xml_to_json
from policies.json_to_xml import BodyConversionStep

if TYPE_CHECKING:
    from engine.context import Context, Headers
    from engine.model import PolicyElement


@dataclass(frozen=True)
class XmlToJsonStep(BodyConversionStep):
    kind: Value
    always_array: Value

    tag = "xml-to-json"
    reason = "XmlToJsonConversionFailure"
    apply_by_type = "content-type-xml"
    content_type = "application/json; charset=utf-8"

    @staticmethod
    def is_source_type(media: str) -> bool:
        return is_xml_type(media)

    @staticmethod
    def is_target_type(media: str) -> bool:
        return is_json_type(media)

    def convert(self, ctx: Context, content: bytes, headers: Headers) -> str:
        return xml_to_json(
            content, kind=str(self.kind.get(ctx)), always_array_child_elements=bool(self.always_array.get(ctx))
        )


class XmlToJson(Policy):
    """Convert an XML body to JSON.

    `kind="direct"` follows Newtonsoft's SerializeXmlNode (`{"root": {...}}`, attributes `@name`,
    text `#text`, repeated elements as arrays, `?xml` for the declaration); `javascript-friendly`
    drops the declaration, the `@` of attribute names and namespace prefixes.
    `always-array-child-elements` makes every child element an array. `apply="content-type-xml"`
    converts only XML bodies; `consider-accept-header` (default true) only when the caller's Accept
    allows JSON (or is absent). The XML parser refuses DOCTYPEs and never expands entities.
    """

    tag = "xml-to-json"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    implemented = True
    attributes = (
        Attr("kind", Enum("javascript-friendly", "direct"), required=True, doc="Shape of the JSON."),
        Attr("apply", Enum("always", "content-type-xml"), required=True, doc="When to convert."),
        Attr("consider-accept-header", Bool(), default=True, doc="Convert only when the caller accepts JSON."),
        Attr("always-array-child-elements", Bool(), default=False, doc="Every child element becomes an array."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> XmlToJsonStep:
        return XmlToJsonStep(
            kind=builder.value(element, "kind"),
            apply=builder.value(element, "apply"),
            consider_accept=builder.value(element, "consider-accept-header"),
            always_array=builder.value(element, "always-array-child-elements"),
            section=element.section,
        )
