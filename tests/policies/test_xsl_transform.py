"""xsl-transform through the real gateway (a real echo backend) and its load-time checks."""

from __future__ import annotations

from tests.policies.support import codes

SHEET = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:param name="greeting" />
      <xsl:output method="xml" indent="no" />
      <xsl:template match="/order">
        <summary id="{@id}"><xsl:value-of select="$greeting" />: <xsl:value-of select="count(item)" /> items</summary>
      </xsl:template>
    </xsl:stylesheet>"""


def transform(sheet: str = SHEET, parameters: str = "") -> str:
    return f"<xsl-transform>{parameters}{sheet}</xsl-transform>"


def document(inbound: str = "", outbound: str = "") -> str:
    return (f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend>"
            f"<outbound><base />{outbound}</outbound><on-error><base /></on-error></policies>")


class TestSchema:
    def test_valid(self) -> None:
        assert codes(transform(parameters='<parameter name="greeting">hi</parameter>')) == []
        assert codes(transform(parameters='<parameter parameter-name="greeting">hi</parameter>'), "outbound") == []

    def test_refused_at_load(self) -> None:
        assert codes("<xsl-transform><parameter>x</parameter></xsl-transform>") == \
            ["policy-bad-value", "policy-missing-attribute"]  # no name, no stylesheet
        broken = SHEET.replace("<xsl:value-of select=\"count(item)\" />", "<xsl:value-of select=\"count(((\" />")
        assert codes(transform(broken)) == ["policy-bad-value"]
        include = SHEET.replace("<xsl:param", '<xsl:include href="/etc/hostname" /><xsl:param')
        assert codes(transform(include)) == ["policy-bad-value"]  # no file access, even at load time


def test_transforms_response_with_parameters(api_gateway, backend) -> None:
    backend.respond(200, '<order id="7"><item/><item/></order>', {"Content-Type": "application/xml"})
    parameters = '<parameter name="greeting">@(context.Request.Headers.GetValueOrDefault("X-Hello", "hello"))</parameter>'
    with api_gateway(document(outbound=transform(parameters=parameters))) as gw:
        answer = gw.get("/echo/x", headers={"X-Hello": "bonjour"})
    assert answer.status == 200
    assert answer.body.rstrip().endswith(b'<summary id="7">bonjour: 2 items</summary>')
    assert answer.headers.get("Content-Type") == "application/xml"


def test_request_body_and_errors(api_gateway, backend) -> None:
    with api_gateway(document(inbound=transform(parameters='<parameter name="greeting">in</parameter>'))) as gw:
        sent = gw.request("POST", "/echo/x", body=b'<order id="1"><item/></order>',
                          headers={"Content-Type": "text/xml"}).json()
        assert sent["body"].rstrip().endswith('<summary id="1">in: 1 items</summary>')
        bad = gw.request("POST", "/echo/x", body=b"<order>", headers={"Content-Type": "text/xml"})
        assert bad.status == 400 and "not well-formed XML" in bad.json()["message"]
        entity = b'<!DOCTYPE o [<!ENTITY e SYSTEM "file:///etc/hostname">]><order id="&e;"/>'
        refused = gw.request("POST", "/echo/x", body=entity, headers={"Content-Type": "text/xml"})
        assert refused.status == 400  # external entities are never read


def test_document_function_cannot_read_files(api_gateway, backend) -> None:
    sheet = SHEET.replace('<xsl:value-of select="$greeting" />', "<xsl:value-of select=\"document('/etc/hostname')\" />")
    backend.respond(200, '<order id="7"/>', {"Content-Type": "application/xml"})
    with api_gateway(document(outbound=transform(sheet))) as gw:
        answer = gw.get("/echo/x")
    assert answer.status == 500 and b"summary" not in answer.body
