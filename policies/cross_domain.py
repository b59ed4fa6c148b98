"""`<cross-domain>`: serve the Flash `crossdomain.xml` / Silverlight `clientaccesspolicy.xml` file it contains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from engine.context import Headers, MessageBody, Response
from engine.policy import Builder, Flow, Policy
from engine.schema import Child, Scope, Section
from policies._markup import parse_markup

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

# the file each kind of policy document is served as
FILES = {"cross-domain-policy": "/crossdomain.xml", "access-policy": "/clientaccesspolicy.xml"}


@dataclass(frozen=True)
class CrossDomainStep:
    files: dict[str, bytes]  # request path -> the XML document

    async def __call__(self, ctx: Context) -> Flow | None:
        content = self.files.get(ctx.request.original_url.path)
        if content is None or ctx.request.method not in ("GET", "HEAD"):
            return None
        headers = Headers([("Content-Type", "application/xml; charset=utf-8"), ("Content-Length", str(len(content)))])
        ctx.response = Response(200, "OK", headers, MessageBody(b"" if ctx.request.method == "HEAD" else content))
        return Flow.END


class CrossDomain(Policy):
    """Make the gateway's APIs callable from Adobe Flash and Microsoft Silverlight clients by serving
    the policy file written inside the element: a `<cross-domain-policy>` document is answered to
    `GET /crossdomain.xml`, an `<access-policy>` document (Silverlight's format) to
    `GET /clientaccesspolicy.xml` (Silverlight also reads `crossdomain.xml`). The file is answered
    with `200` and `Content-Type: application/xml` before anything else of the pipeline runs,
    including for requests that match no API (APIM allows this policy at global scope only, and
    does not document how it serves the file). Other requests pass through unchanged.
    """

    tag = "cross-domain"
    sections = Section.INBOUND
    scopes = Scope.GLOBAL
    reads_body = False
    implemented = True
    answers_unmatched = True
    children = (Child("*"),)  # the policy file's root element, with any content

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        for child in element.children:
            if child.tag not in FILES:
                diagnostics.error("policy-unknown-child",
                                  f"<cross-domain> contains <{child.tag}>; expected <cross-domain-policy> or <access-policy>",
                                  child.span)
                continue
            try:
                parse_markup(child)
            except (etree.XMLSyntaxError, ValueError) as exc:
                diagnostics.error("policy-bad-value", f"<{child.tag}> cannot be read: {exc}", child.span)

    def build(self, element: PolicyElement, builder: Builder) -> CrossDomainStep:
        files = {}
        for child in element.children:
            document = parse_markup(child)
            files[FILES[child.tag]] = b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(document, encoding="utf-8")
        return CrossDomainStep(files)
