"""`<xsl-transform>`: transform an XML body with the XSLT 1.0 stylesheet written inside the element."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Child, Scope, Section, Str, Text
from policies._body import acts_on_response, is_content_encoded, message_for, read_body, replace_body
from policies._markup import parse_markup

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "xsl-transform"
XSLT_NAMESPACE = "http://www.w3.org/1999/XSL/Transform"
MAX_INPUT = 16 * 1024 * 1024  # bytes of XML a transform reads
TIMEOUT = 10.0  # seconds a transform may take before the request fails
# document(), xsl:include/import of files or URLs and writing files are all refused
ACCESS = etree.XSLTAccessControl.DENY_ALL


def _parser() -> etree.XMLParser:
    """No DTDs, no entity expansion, no network, default size limits."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def compile_stylesheet(element: PolicyElement) -> etree.XSLT:
    """The stylesheet child compiled once (raises etree.XSLTParseError / XMLSyntaxError / ValueError)."""
    sheet = stylesheet_of(element)
    if sheet is None:
        raise ValueError("<xsl-transform> needs an <xsl:stylesheet> (or <xsl:transform>) child")
    return etree.XSLT(etree.ElementTree(parse_markup(sheet)), access_control=ACCESS)


def stylesheet_of(element: PolicyElement) -> PolicyElement | None:
    return next((c for c in element.children if c.tag.split(":")[-1] in ("stylesheet", "transform")), None)


def parameter_name(child: PolicyElement) -> str:
    named = child.get("name") or child.get("parameter-name")
    return named.text.strip() if named is not None else ""


@dataclass(frozen=True)
class XslTransformStep:
    transform: etree.XSLT
    parameters: tuple[tuple[str, Value], ...]
    media_type: str | None  # <xsl:output media-type>: the new Content-Type
    section: str

    async def __call__(self, ctx: Context) -> Flow | None:
        message = message_for(ctx, self.section)
        if is_content_encoded(message.headers):
            return None
        content = await read_body(ctx, message)
        if not content:
            return None
        failure_status = 500 if acts_on_response(self.section) else 400
        if len(content) > MAX_INPUT:
            raise PolicyRuntimeError(f"The body is larger than {MAX_INPUT} bytes, the most xsl-transform reads.",
                                     source=TAG, reason="XslTransformFailure", status=failure_status)
        parameters = {name: etree.XSLT.strparam(str(value.get(ctx) or "")) for name, value in self.parameters}
        try:
            result = await asyncio.wait_for(asyncio.to_thread(self._run, content, parameters), TIMEOUT)
        except TimeoutError:
            raise PolicyRuntimeError(f"The XSLT transform took longer than {TIMEOUT:g} seconds.", source=TAG,
                                     reason="XslTransformFailure", status=500) from None
        except etree.XMLSyntaxError as exc:
            raise PolicyRuntimeError(f"The body is not well-formed XML: {exc}", source=TAG,
                                     reason="XslTransformFailure", status=failure_status) from None
        except etree.XSLTApplyError as exc:
            raise PolicyRuntimeError(f"The XSLT transform failed: {exc}", source=TAG,
                                     reason="XslTransformFailure", status=500) from None
        replace_body(message, result, self.media_type)
        return None

    def _run(self, content: bytes, parameters: dict[str, Any]) -> bytes:
        document = etree.fromstring(content, _parser()).getroottree()
        # The result tree is a C-level buffer holding the <xsl:output> serialisation: no stub can declare that.
        output: bytes = bytes(self.transform(document, **parameters))  # type: ignore[call-overload]
        return output


class XslTransform(Policy):
    """Transform the XML body (the request's in inbound, the response's in outbound) with the
    XSLT 1.0 stylesheet written inside the element (libxslt through lxml, EXSLT functions
    included). Each `<parameter name="...">` (APIM's docs also write `parameter-name`) sets the
    stylesheet's top-level `xsl:param` of that name to its text or expression, as a string.

    The stylesheet is compiled once when the configuration loads; a stylesheet that does not
    compile stops start-up with libxslt's message. For safety the stylesheet cannot read or write
    anything outside the message: `document()`, `xsl:include` and `xsl:import` of files or URLs
    are refused, as are extension elements; DTDs and entities in the body are not expanded. A
    transform reads at most 16 MiB, runs off the event loop, and fails after 10 seconds (the
    request gets a 500; libxslt cannot be interrupted, so that transform finishes in the
    background). A body that is not well-formed XML fails the policy (reason
    `XslTransformFailure`; 400 for a request body, 500 for a response body). The Content-Type is
    kept unless `<xsl:output media-type="...">` names another. Compressed bodies are left as they are.
    """

    tag = TAG
    sections = Section.INBOUND | Section.OUTBOUND
    scopes = Scope.ALL
    implemented = True
    children = (
        Child("parameter", attributes=(Attr("name", Str(non_empty=True)), Attr("parameter-name", Str(non_empty=True))),
              text=Text(), doc="A value for the stylesheet's `xsl:param` of that name."),
        Child("*"),  # the <xsl:stylesheet> with any XSLT inside
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        for child in element.children_named("parameter"):
            if not parameter_name(child):
                diagnostics.error("policy-missing-attribute", "<parameter> needs 'name'", child.span)
        try:
            compile_stylesheet(element)
        except (etree.XSLTParseError, etree.XMLSyntaxError, ValueError) as exc:
            sheet = stylesheet_of(element)
            diagnostics.error("policy-bad-value", f"the XSLT stylesheet does not compile: {exc}",
                              (sheet or element).span)

    def build(self, element: PolicyElement, builder: Builder) -> XslTransformStep:
        transform = compile_stylesheet(element)
        sheet = stylesheet_of(element)
        assert sheet is not None  # check() refused documents without one
        output = next((c for c in sheet.children if c.tag.split(":")[-1] == "output"), None)
        media = output.get("media-type") if output is not None else None
        parameters = tuple((parameter_name(c), builder.text_value(c)) for c in element.children_named("parameter"))
        return XslTransformStep(transform, parameters, media.text.strip() if media is not None else None,
                                element.section)
