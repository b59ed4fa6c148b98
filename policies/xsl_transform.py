"""`<xsl-transform>` (schema only): transform an XML body with an XSLT stylesheet."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Scope, Section, Str, Text

# "*" accepts any element with any content (see docs/lint-rules.md)
ANY_CONTENT = Child("*")


class XslTransform(Policy):
    """Transform an XML body with an XSLT stylesheet.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "xsl-transform"
    sections = Section.INBOUND | Section.OUTBOUND
    scopes = Scope.ALL
    children = (
        Child("parameter", attributes=(Attr("name", Str(non_empty=True), required=True),), text=Text()),
        ANY_CONTENT,  # the <xsl:stylesheet> with any XSLT inside
    )
    implemented = False
    unsupported_reason = "XSLT is not implemented yet"
