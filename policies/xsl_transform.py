"""`<xsl-transform>`: transform an XML body with the XSLT 1.0 stylesheet written inside the element."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from engine.errors import PolicyRuntimeError
from engine.isolation import WorkerFailed, worker_pool
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Child, Scope, Section, Str, Text
from policies._body import acts_on_response, is_content_encoded, message_for, read_body, replace_body
from policies._markup import parse_markup
from policies._xslt_worker import compile_sheet

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "xsl-transform"
XSLT_NAMESPACE = "http://www.w3.org/1999/XSL/Transform"
MAX_INPUT = 16 * 1024 * 1024  # bytes of XML a transform reads
MAX_OUTPUT = 64 * 1024 * 1024  # bytes a transform may write
MEMORY = 1024 * 1024 * 1024  # address space of a transform process
WORKERS = 2  # transform processes per gateway worker
TIMEOUT = 10.0  # seconds a transform may take (waiting for a free process included)
WORKER_SCRIPT = Path(__file__).with_name("_xslt_worker.py")


def stylesheet_text(element: PolicyElement) -> str:
    """The stylesheet child as standalone XML (raises etree.XMLSyntaxError / ValueError)."""
    sheet = stylesheet_of(element)
    if sheet is None:
        raise ValueError("<xsl-transform> needs an <xsl:stylesheet> (or <xsl:transform>) child")
    return etree.tostring(parse_markup(sheet), encoding="unicode")


def stylesheet_of(element: PolicyElement) -> PolicyElement | None:
    return next((c for c in element.children if c.tag.split(":")[-1] in ("stylesheet", "transform")), None)


def parameter_name(child: PolicyElement) -> str:
    named = child.get("name") or child.get("parameter-name")
    return named.text.strip() if named is not None else ""


@dataclass(frozen=True)
class XslTransformStep:
    stylesheet: str  # compiled at load to check it; the transform processes compile it once each
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
        parameters = {name: str(value.get(ctx) or "") for name, value in self.parameters}
        pool = worker_pool(WORKER_SCRIPT, (str(MEMORY), str(MAX_OUTPUT)), size=WORKERS, max_reply=MAX_OUTPUT)
        try:
            reply, result = await pool.call({"sheet": self.stylesheet, "parameters": parameters}, content, TIMEOUT)
        except TimeoutError:
            raise PolicyRuntimeError(f"The XSLT transform took longer than {TIMEOUT:g} seconds.", source=TAG,
                                     reason="XslTransformFailure", status=500) from None
        except WorkerFailed:
            raise PolicyRuntimeError("The XSLT transform process stopped (its memory limit or a crash).", source=TAG,
                                     reason="XslTransformFailure", status=500) from None
        error = reply.get("error")
        if error == "syntax":
            raise PolicyRuntimeError(f"The body is not well-formed XML: {reply['message']}", source=TAG,
                                     reason="XslTransformFailure", status=failure_status)
        if error is not None:
            raise PolicyRuntimeError(f"The XSLT transform failed: {reply['message']}", source=TAG,
                                     reason="XslTransformFailure", status=500)
        replace_body(message, result, self.media_type)
        return None


class XslTransform(Policy):
    """Transform the XML body (the request's in inbound, the response's in outbound) with the
    XSLT 1.0 stylesheet written inside the element (libxslt through lxml, EXSLT functions
    included). Each `<parameter name="...">` (APIM's docs also write `parameter-name`) sets the
    stylesheet's top-level `xsl:param` of that name to its text or expression, as a string.

    The stylesheet is compiled once when the configuration loads; a stylesheet that does not
    compile stops start-up with libxslt's message. For safety the stylesheet cannot read or write
    anything outside the message: `document()`, `xsl:include` and `xsl:import` of files or URLs
    are refused, as are extension elements; DTDs and entities in the body are not expanded.
    Transforms run in two helper processes per gateway worker (libxslt cannot be interrupted in
    process), each limited to 1 GiB of address space: a transform reads at most 16 MiB, writes at
    most 64 MiB, and fails after 10 seconds, waiting for a free process included (the request gets
    a 500, and a transform past its deadline is stopped by killing its process, which is replaced
    on the next call). A body that is not well-formed XML fails the policy (reason
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
            compile_sheet(stylesheet_text(element))  # exactly as the transform processes compile it
        except (etree.XSLTParseError, etree.XMLSyntaxError, ValueError) as exc:
            sheet = stylesheet_of(element)
            diagnostics.error("policy-bad-value", f"the XSLT stylesheet does not compile: {exc}",
                              (sheet or element).span)

    def build(self, element: PolicyElement, builder: Builder) -> XslTransformStep:
        text = stylesheet_text(element)
        sheet = stylesheet_of(element)
        assert sheet is not None  # check() refused documents without one
        output = next((c for c in sheet.children if c.tag.split(":")[-1] == "output"), None)
        media = output.get("media-type") if output is not None else None
        parameters = tuple((parameter_name(c), builder.text_value(c)) for c in element.children_named("parameter"))
        return XslTransformStep(text, parameters, media.text.strip() if media is not None else None,
                                element.section)
