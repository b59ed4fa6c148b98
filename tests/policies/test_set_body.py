from __future__ import annotations

import json

from engine.diagnostics import Diagnostics
from engine.document import load_document
from policies.set_body import body_bytes
from tests.policies.support import build, codes, context, lint, response, run

LIQUID = """<set-body template="liquid">{
  "id": "{{ body.order.id }}",
  "customer": "{{ body.order.customer | Upcase }}",
  "items": [{% for item in body.order.items %}"{{ item.sku }}"{% unless forloop.last %},{% endunless %}{% endfor %}],
  "path": "{{ context.Request.Url.Path }}",
  "agent": "{{ context.Request.Headers.User-Agent | Default: 'none' }}",
  "method": "{{ context.Request.Method }}"
}</set-body>"""


class TestSchema:
    def test_attributes(self) -> None:
        assert codes('<set-body template="mustache">x</set-body>') == ["policy-bad-value"]
        assert codes('<set-body xsi-nil="zero">x</set-body>') == ["policy-bad-value"]
        assert codes('<set-body template="liquid" xsi-nil="null">{{ body.x }}</set-body>') == []

    def test_liquid_syntax_error_is_located(self) -> None:
        diagnostics = lint('<set-body template="liquid">{% if body.x %}no end</set-body>')
        errors = [d for d in diagnostics.sorted() if d.code == "liquid-syntax"]
        assert len(errors) == 1 and errors[0].span.line == 1 and "endif" in errors[0].message

    def test_named_values_substituted_but_liquid_kept(self) -> None:
        diagnostics = Diagnostics()
        doc = load_document(
            "t.xml",
            text='<policies><inbound><set-body template="liquid">{{ body.x }}/{{tenant}}/{{body.y}}</set-body></inbound></policies>',
            named_values={"tenant": "contoso"},
            diagnostics=diagnostics,
        )
        assert doc is not None and not diagnostics.has_errors
        assert doc.policies("inbound")[0].text.text == "{{ body.x }}/contoso/{{body.y}}"


class TestValues:
    def test_body_bytes(self) -> None:
        assert body_bytes(None) == b""
        assert body_bytes(b"\x00\x01") == b"\x00\x01"
        assert body_bytes("é") == "é".encode()
        assert body_bytes(42) == b"42"


class TestRun:
    async def test_literal_text_replaces_request_body(self) -> None:
        ctx = context(method="POST", body="old", headers={"Content-Length": "3"})
        await run(build("<set-body>new body!</set-body>"), ctx)
        assert ctx.request.body is not None and ctx.request.body.content == b"new body!"
        assert ctx.request.headers.get("Content-Length") == "9"

    async def test_outbound_replaces_response_body(self) -> None:
        ctx = context()
        ctx.response = response(body="backend")
        await run(build('<set-body>@(context.Response.StatusCode.ToString())</set-body>', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b"200"

    async def test_jobject_uses_newtonsoft_formatting(self) -> None:
        ctx = context(method="POST", body='{"a":1}')
        xml = '<set-body>@{ var o = context.Request.Body.As&lt;JObject&gt;(); o["b"] = "x"; return o; }</set-body>'
        await run(build(xml), ctx)
        assert ctx.request.body is not None and ctx.request.body.content == b'{\r\n  "a": 1,\r\n  "b": "x"\r\n}'

    async def test_null_gives_empty_body(self) -> None:
        ctx = context(method="POST", body="x")
        await run(build("<set-body>@((string)null)</set-body>"), ctx)
        assert ctx.request.body is not None and ctx.request.body.content == b""

    async def test_liquid_with_json_body_and_context(self) -> None:
        order = {"order": {"id": 7, "customer": "ann", "items": [{"sku": "a1"}, {"sku": "b2"}]}}
        ctx = context(method="POST", url="http://b.test/orders/7", body=json.dumps(order),
                      headers={"Content-Type": "application/json", "User-Agent": "curl"})
        await run(build(LIQUID), ctx)
        assert ctx.request.body is not None
        assert json.loads(ctx.request.body.content) == {
            "id": "7", "customer": "ANN", "items": ["a1", "b2"], "path": "/orders/7", "agent": "curl", "method": "POST",
        }

    async def test_liquid_without_json_content_type_has_no_body_binding(self) -> None:
        ctx = context(method="POST", body='{"x": 1}', headers={"Content-Type": "text/plain"})
        await run(build('<set-body template="liquid">[{{ body.x }}]</set-body>'), ctx)
        assert ctx.request.body is not None and ctx.request.body.content == b"[]"

    async def test_liquid_xml_body_and_xsi_nil(self) -> None:
        xml_body = ('<Order xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" status="new">'
                    '<Id>5</Id><Note xsi:nil="true" /></Order>')
        template = ('<set-body template="liquid" xsi-nil="{mode}">{{{{ body.Order.Id }}}}|{{{{ body.order.status }}}}|'
                    '{{% if body.Order.Note == nil %}}null{{% else %}}blank{{% endif %}}</set-body>')
        for mode, expected in (("blank", b"5|new|blank"), ("null", b"5|new|null")):
            ctx = context(method="POST", body=xml_body, headers={"Content-Type": "application/xml"})
            await run(build(template.format(mode=mode)), ctx)
            assert ctx.request.body is not None and ctx.request.body.content == expected

    async def test_liquid_in_outbound_binds_response_body(self) -> None:
        ctx = context()
        ctx.response = response(body='{"name": "widget"}', headers={"Content-Type": "application/json; charset=utf-8"})
        await run(build('<set-body template="liquid">{{ body.name }}:{{ context.Response.StatusCode }}</set-body>', "outbound"), ctx)
        assert ctx.response.body is not None and ctx.response.body.content == b"widget:200"


def test_end_to_end(api_gateway, backend) -> None:
    policy = f"""<policies><inbound><base />{LIQUID}</inbound><backend><base /></backend>
      <outbound><base /><set-body>@{{ var echoed = context.Response.Body.As&lt;JObject&gt;(); return (string)echoed["body"]; }}</set-body></outbound>
      <on-error><base /></on-error></policies>"""
    order = {"order": {"id": 1, "customer": "bob", "items": [{"sku": "z"}]}}
    with api_gateway(policy) as gw:
        answer = gw.request("PUT", "/echo/orders", body=json.dumps(order),
                            headers={"Content-Type": "application/json", "User-Agent": "t"})
    assert answer.status == 200
    assert json.loads(answer.text) == {"id": "1", "customer": "BOB", "items": ["z"], "path": "/orders", "agent": "t",
                                       "method": "PUT"}
    assert int(answer.headers.get("content-length")) == len(answer.body)


def test_inside_return_response(api_gateway, backend) -> None:
    policy = """<policies><inbound><base />
        <return-response>
            <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
            <set-body template="liquid">{"method": "{{ context.Request.Method }}", "body": "{{ body.x | Default: 'empty' }}"}</set-body>
        </return-response>
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        answer = gw.request("POST", "/echo/x", body='{"x": 1}', headers={"Content-Type": "application/json"})
    assert answer.status == 200
    assert answer.json() == {"method": "POST", "body": "empty"}  # Liquid in return-response sees no body
    assert backend.calls == 0


def test_plain_body_replaces_a_streamed_backend_response(api_gateway, backend) -> None:
    policy = """<policies><inbound><base /></inbound><backend><base /></backend>
      <outbound><base /><set-body>replaced</set-body></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        answer = gw.request("GET", "/echo/big", headers={"X-Test-Size": "1048576"})
    assert answer.status == 200
    assert answer.body == b"replaced"
    assert answer.headers.get("content-length") == "8"


def test_only_liquid_asks_the_gateway_to_buffer() -> None:
    from engine.diagnostics import Diagnostics
    from engine.document import load_document
    from engine.gateway.builder import PipelineBuilder
    from engine.registry import default_registry

    def needs_buffering(xml: str) -> bool:
        doc = load_document("t.xml", text=f"<policies><outbound>{xml}</outbound></policies>", diagnostics=Diagnostics())
        assert doc is not None
        builder = PipelineBuilder(default_registry())
        builder.steps(doc.policies("outbound"))
        builder.finish()
        return builder.needs_response_body

    assert not needs_buffering("<set-body>plain</set-body>")
    assert needs_buffering('<set-body template="liquid">{{ body.x }}</set-body>')
    assert needs_buffering("<set-body>@(context.Response.Body.As&lt;string&gt;())</set-body>")
