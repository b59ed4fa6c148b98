from __future__ import annotations

import json

import pytest

from engine.errors import PolicyRuntimeError
from policies._json_xml import XmlConversionError, xml_to_json
from tests.policies.support import build, codes, context, response, run

SAMPLE = b'<?xml version="1.0" encoding="utf-8"?><root xmlns:s="urn:s" a="1"><s:item>1</s:item><s:item>2</s:item><e/><t x="y">text</t></root>'


class TestConversion:
    def test_direct(self) -> None:
        assert json.loads(xml_to_json(SAMPLE)) == {
            "?xml": {"@version": "1.0", "@encoding": "utf-8"},
            "root": {"@xmlns:s": "urn:s", "@a": "1", "s:item": ["1", "2"], "e": None, "t": {"@x": "y", "#text": "text"}},
        }

    def test_javascript_friendly_and_always_array(self) -> None:
        result = json.loads(xml_to_json(SAMPLE, kind="javascript-friendly", always_array_child_elements=True))
        assert result == {"root": {"a": "1", "item": ["1", "2"], "e": [None], "t": [{"x": "y", "#text": "text"}]}}

    def test_text_only_root(self) -> None:
        assert json.loads(xml_to_json(b"<a>hi</a>")) == {"a": "hi"}

    def test_entities_are_not_expanded(self) -> None:
        bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>'
        with pytest.raises(XmlConversionError, match="DOCTYPE"):
            xml_to_json(bomb)
        external = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
        with pytest.raises(XmlConversionError):
            xml_to_json(external)

    def test_malformed(self) -> None:
        with pytest.raises(XmlConversionError, match="not valid XML"):
            xml_to_json(b"<a><b></a>")


class TestSchema:
    def test_required(self) -> None:
        assert codes('<xml-to-json apply="always" />') == ["policy-missing-attribute"]
        assert codes('<xml-to-json kind="pretty" apply="always" />') == ["policy-bad-value"]


class TestRun:
    async def test_response_converted(self) -> None:
        ctx = context()
        ctx.response = response(body="<r><v>1</v></r>", headers={"Content-Type": "text/xml"})
        await run(build('<xml-to-json kind="direct" apply="content-type-xml" />', "outbound"), ctx)
        assert ctx.response.body is not None and json.loads(ctx.response.body.content) == {"r": {"v": "1"}}
        assert ctx.response.headers.get("Content-Type") == "application/json; charset=utf-8"

    async def test_not_xml_left_alone(self) -> None:
        ctx = context()
        ctx.response = response(body="plain", headers={"Content-Type": "text/plain"})
        await run(build('<xml-to-json kind="direct" apply="content-type-xml" />', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b"plain"

    async def test_accept_must_allow_json(self) -> None:
        ctx = context(headers={"Accept": "application/xml"})
        ctx.response = response(body="<r/>", headers={"Content-Type": "application/xml"})
        await run(build('<xml-to-json kind="direct" apply="always" />', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b"<r/>"

    async def test_bad_backend_xml_is_a_500(self) -> None:
        ctx = context()
        ctx.response = response(body="<r>", headers={"Content-Type": "application/xml"})
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build('<xml-to-json kind="direct" apply="always" consider-accept-header="false" />', "outbound"), ctx)
        assert (caught.value.status, caught.value.reason) == (500, "XmlToJsonConversionFailure")


def test_end_to_end(api_gateway, backend) -> None:
    backend.respond(status=200, body="<quote><symbol>MSFT</symbol><price>420.5</price></quote>",
                    headers={"Content-Type": "application/xml"})
    policy = """<policies><inbound><base /></inbound><backend><base /></backend>
      <outbound><base /><xml-to-json kind="javascript-friendly" apply="content-type-xml" /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        answer = gw.request("GET", "/echo/quote", headers={"Accept": "application/json"})
    assert answer.status == 200
    assert answer.json() == {"quote": {"symbol": "MSFT", "price": "420.5"}}
    assert answer.headers.get("content-type") == "application/json; charset=utf-8"
