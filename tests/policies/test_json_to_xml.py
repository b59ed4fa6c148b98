from __future__ import annotations

import pytest

from engine.errors import PolicyRuntimeError
from policies._json_xml import ConversionError, encode_name, json_to_xml
from tests.policies.support import build, codes, context, response, run


class TestConversion:
    def test_objects_arrays_scalars(self) -> None:
        text = '{"a": 1, "b": [1, 2.5, true, null], "n": {"k": "v"}, "f": 1.0}'
        assert json_to_xml(text) == (
            "<Document><a>1</a><b>1</b><b>2.5</b><b>true</b><b /><n><k>v</k></n><f>1</f></Document>"
        )

    def test_attributes_text_and_escaping(self) -> None:
        assert json_to_xml('{"c": {"@id": "x&y", "#text": "<t>"}}') == '<Document><c id="x&amp;y">&lt;t&gt;</c></Document>'

    def test_attribute_block(self) -> None:
        text = '{"item": {"attrs": {"id": "1"}, "name": "n"}}'
        assert json_to_xml(text, attribute_block_name="attrs") == '<Document><item id="1"><name>n</name></item></Document>'

    def test_invalid_names_are_encoded(self) -> None:
        assert encode_name("first name") == "first_x0020_name"
        assert encode_name("1st") == "_x0031_st"

    def test_dates(self) -> None:
        text = '{"d": "2020-01-01T10:00:00.500Z"}'
        assert json_to_xml(text) == "<Document><d>2020-01-01T10:00:00.5Z</d></Document>"
        assert json_to_xml(text, parse_date=False) == "<Document><d>2020-01-01T10:00:00.500Z</d></Document>"

    def test_namespaces(self) -> None:
        text = '{"xmlns_s": "urn:s", "s_item": "1"}'
        assert json_to_xml(text, namespace_prefix="xmlns") == '<Document xmlns:s="urn:s"><s:item>1</s:item></Document>'

    def test_root_array_and_errors(self) -> None:
        assert json_to_xml("[1, 2]") == "<Document><Array>1</Array><Array>2</Array></Document>"
        with pytest.raises(ConversionError, match="not valid JSON"):
            json_to_xml("{oops")


class TestSchema:
    def test_apply_required(self) -> None:
        assert codes("<json-to-xml />") == ["policy-missing-attribute"]
        assert codes('<json-to-xml apply="sometimes" />') == ["policy-bad-value"]
        assert "policy-not-allowed-in-section" in codes('<json-to-xml apply="always" />', "backend")


class TestRun:
    async def test_response_converted_in_outbound(self) -> None:
        ctx = context(headers={"Accept": "application/xml"})
        ctx.response = response(body='{"a": 1}', headers={"Content-Type": "application/json", "Content-Length": "8"})
        await run(build('<json-to-xml apply="always" />', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b"<Document><a>1</a></Document>"
        assert ctx.response.headers.get("Content-Type") == "application/xml; charset=utf-8"
        assert ctx.response.headers.get("Content-Length") == "29"

    async def test_content_type_json_only(self) -> None:
        ctx = context()
        ctx.response = response(body='{"a": 1}', headers={"Content-Type": "text/plain"})
        await run(build('<json-to-xml apply="content-type-json" consider-accept-header="false" />', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b'{"a": 1}'

    async def test_accept_header_considered(self) -> None:
        ctx = context(headers={"Accept": "application/json"})
        ctx.response = response(body='{"a": 1}', headers={"Content-Type": "application/json"})
        await run(build('<json-to-xml apply="always" />', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b'{"a": 1}'

    async def test_compressed_body_is_not_converted(self) -> None:
        import gzip

        packed = gzip.compress(b'{"a": 1}')
        ctx = context()
        ctx.response = response(body=packed, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        await run(build('<json-to-xml apply="always" consider-accept-header="false" />', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == packed

    async def test_invalid_request_json_is_a_400(self) -> None:
        ctx = context(method="POST", body="{nope", headers={"Content-Type": "application/json"})
        with pytest.raises(PolicyRuntimeError) as caught:
            await run(build('<json-to-xml apply="always" consider-accept-header="false" />'), ctx)
        assert (caught.value.status, caught.value.reason) == (400, "JsonToXmlConversionFailure")


def test_end_to_end(api_gateway, backend) -> None:
    policy = """<policies><inbound><base /><json-to-xml apply="content-type-json" consider-accept-header="false" /></inbound>
      <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        echoed = gw.request("POST", "/echo/x", body='{"order": {"id": 3}}', headers={"Content-Type": "application/json"}).json()
    assert echoed["body"] == "<Document><order><id>3</id></order></Document>"
    assert echoed["headers"]["content-type"] == "application/xml; charset=utf-8"


def test_deep_nesting_is_a_clean_error() -> None:
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    with pytest.raises(ConversionError, match="nested too deeply"):
        json_to_xml(deep)
