"""validate-content's XML and SOAP checks: a well-formed document without a DTD and, for SOAP, an
envelope of the version its content type names, with a Body (its payload is what a schema checks)."""

from __future__ import annotations

import re

from lxml import etree

SOAP_11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP_VERSIONS = {"text/xml": (SOAP_11,), "application/soap+xml": (SOAP_12,)}  # other content types: either

# No DTD, no entity expansion, no network: a body can neither read files nor blow up in memory.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_blank_text=False)


_WHERE = re.compile(r",? (?:\(?line \d+(?:, column \d+)?\)?)$")  # libxml2's own location, said once below


class XmlProblem(ValueError):
    """Why a body is not acceptable XML (or SOAP); the message ends with its line and position when known."""


def parse_xml(body: bytes) -> etree._Element:
    """The root element of `body`; raises XmlProblem (syntax, a DTD)."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (0, 0)
        message = _WHERE.sub("", str(exc.msg or "not well-formed")).rstrip(".")
        raise XmlProblem(f"{message}. Line: {line}, Position: {column}") from None
    doctype = root.getroottree().docinfo.doctype
    if doctype:
        raise XmlProblem("For security reasons DTD is prohibited in this XML document. Line: 1, Position: 1")
    return root


def soap_payload(root: etree._Element, content_type: str) -> etree._Element | None:
    """The first element in the SOAP Body of envelope `root` (None: an empty Body); raises XmlProblem."""
    versions = SOAP_VERSIONS.get(content_type, (SOAP_11, SOAP_12))
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "Envelope" or namespace not in versions:
        expected = " or ".join(f"{{{v}}}Envelope" for v in versions)
        raise XmlProblem(f"The root element is {etree.QName(root).text}, not a SOAP envelope ({expected}). "
                         f"Line: {root.sourceline}, Position: 1")
    bodies = [child for child in root if child.tag == f"{{{namespace}}}Body"]
    if len(bodies) != 1:
        raise XmlProblem(f"A SOAP envelope needs exactly one Body element, found {len(bodies)}. "
                         f"Line: {root.sourceline}, Position: 1")
    return next((child for child in bodies[0] if isinstance(child.tag, str)), None)
