"""jsonp, cross-domain and redirect-content-urls through the real gateway and a real echo backend."""

from __future__ import annotations

import json

from tests.policies.support import codes


def document(inbound: str = "", outbound: str = "") -> str:
    return (f"<policies><inbound><base />{inbound}</inbound><backend><base /></backend>"
            f"<outbound><base />{outbound}</outbound><on-error><base /></on-error></policies>")


class TestJsonp:
    def test_schema(self) -> None:
        assert codes("<jsonp />", "outbound") == ["policy-missing-attribute"]
        assert "policy-not-allowed-in-section" in codes('<jsonp callback-parameter-name="cb" />')
        assert codes('<jsonp callback-parameter-name="cb" /><jsonp callback-parameter-name="cb" />', "outbound") \
            == ["policy-repeated"]

    def test_wraps_json_when_the_callback_is_given(self, api_gateway, backend) -> None:
        backend.respond(200, '{"a": 1}', {"Content-Type": "application/json"})
        with api_gateway(document(outbound='<jsonp callback-parameter-name="cb" />')) as gw:
            wrapped = gw.get("/echo/x?cb=app.handlers.done")
            plain = gw.get("/echo/x")
            bad = gw.get("/echo/x?cb=alert(1)//")
        assert wrapped.status == 200 and wrapped.body == b'app.handlers.done({"a": 1});'
        assert wrapped.headers.get("Content-Type") == "application/javascript; charset=utf-8"
        assert plain.body == b'{"a": 1}' and plain.headers.get("Content-Type") == "application/json"
        assert bad.status == 400 and "not a valid JavaScript function name" in bad.json()["message"]

    def test_other_content_types_pass(self, api_gateway, backend) -> None:
        backend.respond(200, "<a/>", {"Content-Type": "application/xml"})
        with api_gateway(document(outbound='<jsonp callback-parameter-name="cb" />')) as gw:
            assert gw.get("/echo/x?cb=f").body == b"<a/>"


CROSS_DOMAIN = """<policies><inbound><cross-domain>
    <cross-domain-policy>
      <!-- Flash clients of any origin -->
      <allow-http-request-headers-from domain="*" headers="*" />
    </cross-domain-policy>
    <access-policy><cross-domain-access><policy><allow-from http-request-headers="*"><domain uri="*" /></allow-from>
      <grant-to><resource path="/" include-subpaths="true" /></grant-to></policy></cross-domain-access></access-policy>
  </cross-domain><base /></inbound><backend><forward-request /></backend><outbound /><on-error /></policies>"""


class TestCrossDomain:
    def test_schema(self) -> None:
        assert codes("<cross-domain><cross-domain-policy/></cross-domain>", scope="global") == []
        assert codes("<cross-domain><other/></cross-domain>", scope="global") == ["policy-unknown-child"]
        assert codes("<cross-domain><cross-domain-policy/></cross-domain>", scope="api") == ["policy-not-allowed-in-scope"]

    def test_serves_the_policy_files(self, tmp_path, backend) -> None:
        from tests.support.gateway import run_gateway, simple_config

        with run_gateway(tmp_path, simple_config(global_policy="global.xml"), {"global.xml": CROSS_DOMAIN},
                         backend=backend) as gw:
            flash = gw.get("/crossdomain.xml")
            silverlight = gw.get("/clientaccesspolicy.xml")
            api = gw.get("/echo/x")
            missing = gw.get("/nothing-here")
        assert flash.status == 200 and flash.headers.get("Content-Type") == "application/xml; charset=utf-8"
        assert b'<allow-http-request-headers-from domain="*" headers="*"/>' in flash.body
        assert b"<!-- Flash clients of any origin -->" in flash.body and flash.body.startswith(b"<?xml")
        assert silverlight.status == 200 and b'<domain uri="*"/>' in silverlight.body
        assert api.status == 200 and missing.status == 404
        assert [r.path for r in backend.requests] == ["/x"]


class TestRedirectContentUrls:
    def test_schema(self) -> None:
        assert codes("<redirect-content-urls />", "outbound") == []
        assert codes("<redirect-content-urls /><redirect-content-urls />") == ["policy-repeated"]

    def test_rewrites_both_ways(self, api_gateway, backend) -> None:
        policy = document(inbound="<redirect-content-urls />", outbound="<redirect-content-urls />")
        with api_gateway(policy) as gw:
            gateway_url = f"{gw.url}/echo"
            body = json.dumps({"next": f"{gateway_url}/items/2", "other": f"{gw.url}/echoes/1"})
            gw.request("POST", "/echo/items", body=body.encode(), headers={"Content-Type": "application/json"})
            sent = json.loads(backend.requests[-1].body)
            assert sent == {"next": f"{backend.url}/items/2", "other": f"{gw.url}/echoes/1"}
            backend.respond(200, json.dumps({"self": f"{backend.url}/items/1", "near": f"{backend.url}0/x"}),
                            {"Content-Type": "application/json", "Location": f"{backend.url}/items/1"})
            answer = gw.get("/echo/items/1")
        assert answer.json() == {"self": f"{gateway_url}/items/1", "near": f"{backend.url}0/x"}
        assert answer.headers.get("Location") == f"{backend.url}/items/1"  # headers are left alone

    def test_rewrites_json_escaped_slashes(self, api_gateway, backend) -> None:
        with api_gateway(document(outbound="<redirect-content-urls />")) as gw:
            escaped = json.dumps({"self": f"{backend.url}/items/1"}).replace("/", "\\/")
            backend.respond(200, escaped, {"Content-Type": "application/json"})
            answer = gw.get("/echo/items/1")
        assert "\\/" in answer.text and answer.json() == {"self": f"{gw.url}/echo/items/1"}


