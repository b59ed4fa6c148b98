"""validate-content `schema-id`: schemas added to the instance (`schemas:`, APIOps `schemas/<id>/`), XML and
JSON, through the real gateway in front of the echo backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.apispec.instance import SchemaSource, compile_schemas
from engine.apispec.schemas import SchemaError
from engine.errors import ConfigError, PolicyLoadError
from engine.gateway.check import check_configuration
from tests.gateway.conftest import document
from tests.support.gateway import Backend, HttpAnswer, RunningGateway, run_gateway, write_config

XS = "http://www.w3.org/2001/XMLSchema"
NOWHERE = "http://127.0.0.1:9"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
ORDER_XSD = f"""<xs:schema xmlns:xs="{XS}" xmlns:t="urn:shop" targetNamespace="urn:shop" elementFormDefault="qualified">
  <xs:include schemaLocation="/schemas/common" />
  <xs:element name="Order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Sku" type="t:Sku" />
        <xs:element name="Quantity" type="xs:positiveInteger" />
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
COMMON_XSD = f"""<xs:schema xmlns:xs="{XS}" targetNamespace="urn:shop">
  <xs:simpleType name="Sku"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{{3}}-[0-9]{{4}}" /></xs:restriction></xs:simpleType>
</xs:schema>
"""
CUSTOMER = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0},
                           "tags": {"type": "object"}}}
LAST_ERROR = ('<set-header name="X-Last-Error" exists-action="override"><value>@(context.LastError.Source + "|" + '
              'context.LastError.Reason)</value></set-header>')
POLICY = document(
    inbound='<base /><validate-content unspecified-content-type-action="prevent" max-size="10000" '
            'size-exceeded-action="prevent" errors-variable-name="errors">'
            '<content type="application/xml" validate-as="xml" schema-id="order" action="prevent" />'
            '<content type="text/xml" validate-as="soap" schema-id="order" action="prevent" />'
            '<content type="application/json" validate-as="json" schema-id="customer" action="prevent" '
            'allow-additional-properties="false" />'
            '<content type="application/vnd.detect+json" validate-as="json" schema-id="customer" action="detect" />'
            '</validate-content>',
    outbound='<base /><set-header name="X-Errors" exists-action="override"><value>@(JsonConvert.SerializeObject('
             'context.Variables.ContainsKey("errors") ? context.Variables["errors"] : null))</value></set-header>',
    on_error=f"<base />{LAST_ERROR}",
)
RESPONSE_POLICY = document(
    outbound='<base /><validate-content unspecified-content-type-action="prevent" max-size="10000" '
             'size-exceeded-action="prevent"><content type="application/xml" validate-as="xml" schema-id="order" '
             'action="prevent" /></validate-content>',
    on_error=f"<base />{LAST_ERROR}",
)
FILES = {"api.xml": POLICY, "out.xml": RESPONSE_POLICY, "schemas/order.xsd": ORDER_XSD, "schemas/common.xsd": COMMON_XSD,
         "schemas/customer.json": json.dumps(CUSTOMER)}


def config(schemas: dict[str, Any] | None = None, service_url: str = "{{backend-url}}") -> dict[str, Any]:
    return {"schemas": schemas or {"order": "schemas/order.xsd", "common": {"file": "schemas/common.xsd", "type": "xml"},
                                   "customer": "schemas/customer.json"},
            "apis": {"shop": {"path": "shop", "service-url": service_url, "subscription-required": False,
                              "policy": "api.xml"},
                     "shop-out": {"path": "shop-out", "service-url": service_url, "subscription-required": False,
                                  "policy": "out.xml"}}}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Backend]]:
    with Backend() as backend, run_gateway(tmp_path_factory.mktemp("schemas"), config(), FILES,
                                           backend=backend) as gateway:
        yield gateway, backend


@pytest.fixture
def gw(shop: tuple[RunningGateway, Backend]) -> RunningGateway:
    shop[1].reset()
    return shop[0]


@pytest.fixture
def backend(shop: tuple[RunningGateway, Backend]) -> Backend:
    return shop[1]


def post(gw: RunningGateway, body: bytes | str, content_type: str) -> HttpAnswer:
    return gw.request("POST", "/shop/orders", headers={"Content-Type": content_type},
                      body=body.encode() if isinstance(body, str) else body)


def order(sku: str = "ABC-1234", quantity: str = "2") -> str:
    return f"<Order xmlns='urn:shop'>\n  <Sku>{sku}</Sku>\n  <Quantity>{quantity}</Quantity>\n</Order>"


def envelope(payload: str) -> str:
    return f"<s:Envelope xmlns:s='{SOAP11}'><s:Header /><s:Body>\n{payload}</s:Body></s:Envelope>"


class TestXml:
    def test_valid_documents_reach_the_backend(self, gw: RunningGateway, backend: Backend) -> None:
        assert post(gw, order(), "application/xml").status == 200
        assert post(gw, envelope(order()), "text/xml; charset=utf-8").status == 200
        assert backend.calls == 2

    def test_invalid_document_is_refused_with_the_schema_error_and_line(self, gw: RunningGateway,
                                                                        backend: Backend) -> None:
        answer = post(gw, order(sku="abc"), "application/xml")
        assert answer.status == 400 and backend.calls == 0
        message = answer.json()["message"]
        assert message == ("Body of the request does not conform to the definition order, which is associated with "
                           "the content type application/xml. Element '{urn:shop}Sku': [facet 'pattern'] The value "
                           "'abc' is not accepted by the pattern '[A-Z]{3}-[0-9]{4}'. Line: 2, Position: 4")
        assert answer.headers.get("X-Last-Error") == "validate-content|Bad request"

    def test_soap_payload_is_checked_against_the_schema(self, gw: RunningGateway, backend: Backend) -> None:
        message = post(gw, envelope(order(quantity="0")), "text/xml").json()["message"]
        assert message.endswith("'0' is not a valid value of the atomic type 'xs:positiveInteger'. Line: 4, Position: 4")
        wrong_root = post(gw, envelope("<Invoice xmlns='urn:shop' />"), "text/xml").json()["message"]
        assert "No matching global declaration available for the validation root" in wrong_root
        assert backend.calls == 0

    def test_malformed_xml_and_dtds_are_still_refused(self, gw: RunningGateway) -> None:
        assert "Line: 1" in post(gw, "<Order xmlns='urn:shop'>", "application/xml").json()["message"]
        bomb = "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY f SYSTEM 'file:///etc/passwd'>]><Order>&f;</Order>"
        assert "DTD is prohibited" in post(gw, bomb, "application/xml").json()["message"]


class TestResponse:
    def test_response_body_is_checked_against_the_xsd(self, gw: RunningGateway, backend: Backend) -> None:
        backend.respond(body=order(), headers={"Content-Type": "application/xml"})
        assert gw.get("/shop-out/orders/7").status == 200
        backend.respond(body=order(quantity="many"), headers={"Content-Type": "application/xml"})
        answer = gw.get("/shop-out/orders/7")
        assert answer.status == 502  # the client never sees what the backend did wrong
        assert answer.json()["message"] == ("The request could not be processed due to an internal error. "
                                            "Contact the API owner.")
        assert answer.headers.get("X-Last-Error") == "validate-content|Response not allowed"


class TestJson:
    def test_valid_body_passes_and_errors_name_the_schema_id(self, gw: RunningGateway, backend: Backend) -> None:
        assert post(gw, json.dumps({"name": "Ada", "age": 36}), "application/json").status == 200
        message = post(gw, json.dumps({"name": "Ada", "age": -1}), "application/json").json()["message"]
        assert message.startswith("Body of the request does not conform to the definition customer, which is "
                                  "associated with the content type application/json. ")
        assert message.endswith("Path: 'age'.")
        assert backend.calls == 1

    def test_allow_additional_properties_overrides_the_schema(self, gw: RunningGateway) -> None:
        answer = post(gw, json.dumps({"name": "Ada", "extra": 1}), "application/json")
        assert answer.status == 400 and "Additional properties are not allowed" in answer.json()["message"]

    def test_detect_records_the_error_and_lets_the_request_through(self, gw: RunningGateway) -> None:
        answer = post(gw, json.dumps({"age": "x"}), "application/vnd.detect+json")
        assert answer.status == 200
        records = json.loads(answer.headers.get("X-Errors") or "null")
        assert {(r["Name"], r["Type"], r["ValidationRule"], r["Action"]) for r in records} == {
            ("application/vnd.detect+json", "RequestBody", "IncorrectMessage", "detect")}
        assert len(records) == 2  # `name` missing, `age` not an integer


class TestLoading:
    def test_unknown_schema_id_stops_the_start_at_the_attribute(self, tmp_path: Path) -> None:
        files = {**FILES, "api.xml": POLICY.replace('schema-id="customer"', 'schema-id="client"', 1)}
        with pytest.raises(PolicyLoadError) as raised:
            with run_gateway(tmp_path, config(service_url=NOWHERE), files):
                pass
        (found,) = raised.value.diagnostics
        assert found.code == "gateway-settings-missing"
        assert "schema-id 'client' is not declared under `schemas:`" in found.message
        line = next(n for n, text in enumerate(files["api.xml"].splitlines(), 1) if 'schema-id="client"' in text)
        assert (Path(found.span.file).name, found.span.line) == ("api.xml", line)

    def test_schema_of_the_wrong_kind_is_found_when_loading(self, tmp_path: Path) -> None:
        files = {**FILES, "api.xml": POLICY.replace('schema-id="customer" action="detect"', 'schema-id="order" action="detect"')
                 .replace('validate-as="soap" schema-id="order"', 'validate-as="soap" schema-id="customer"')}
        report = check_configuration(write_config(tmp_path, config(service_url=NOWHERE), files, None))
        found = sorted((d.span.line, d.span.col, d.message) for d in report.diagnostics if d.is_error)
        lines = files["api.xml"].splitlines()
        expected = []
        for needle, problem in (('validate-as="soap" schema-id="customer"', "'customer': the schema is a JSON schema; "
                                 'validate-as="soap" needs an XML schema (XSD)'),
                                ('validate-as="json" schema-id="order"', "'order': the schema is an XML schema (XSD); "
                                 'validate-as="json" needs a JSON schema')):
            line = next(n for n, text in enumerate(lines, 1) if needle in text)
            column = lines[line - 1].index(needle) + len(needle) - len(needle.split('"')[-2])  # the schema-id value
            expected.append((line, column, f"<validate-content> schema-id {problem}"))
        assert found == sorted(expected)
        assert {d.code for d in report.diagnostics if d.is_error} == {"policy-bad-value"}

    def test_check_reports_the_unknown_id(self, tmp_path: Path) -> None:
        files = {**FILES, "api.xml": POLICY.replace('schema-id="order"', 'schema-id="ordr"')}
        report = check_configuration(write_config(tmp_path, config(service_url=NOWHERE), files, None))
        assert [d.code for d in report.diagnostics if d.is_error] == ["gateway-settings-missing"] * 2

    @pytest.mark.parametrize(("schemas", "files", "message"), [
        ({"order": "schemas/order.xsd"}, {}, r"schemas\.order: schemaLocation '/schemas/common' is not allowed"),
        ({"bad": "evil.xsd"}, {"evil.xsd": f"<xs:schema xmlns:xs='{XS}'><xs:include schemaLocation='file:///etc/passwd'/>"
                                           "</xs:schema>"}, r"schemas\.bad: schemaLocation 'file:///etc/passwd'"),
        ({"c": {"file": "schemas/customer.json", "type": "xml"}}, {}, r"schemas\.c: declared xml but the document is json"),
        ({"c": "api.xml"}, {}, r"schemas\.c: the root element is policies, not an XML schema"),
        ({"c": {"file": "x.json"}}, {"x.json": '{"type": "objectt"}'}, r"schemas\.c: cannot be compiled"),
        ({"c": {"file": "missing.json"}}, {}, r"schemas\.c\.file: file not found"),
    ])
    def test_broken_schema_stops_the_start_with_its_location(self, tmp_path: Path, schemas: dict[str, Any],
                                                             files: dict[str, str], message: str) -> None:
        with pytest.raises(ConfigError, match=message) as raised:
            with run_gateway(tmp_path, config(schemas, NOWHERE), {**FILES, **files}):
                pass
        assert str(raised.value).startswith(f"{tmp_path / 'gateway.yaml'}:")

    def test_reload_compiles_the_changed_schema(self, tmp_path: Path) -> None:
        with Backend() as backend, run_gateway(tmp_path, config(), FILES, backend=backend) as gw:
            assert post(gw, order(sku="ABCD-1"), "application/xml").status == 400
            (tmp_path / "schemas/common.xsd").write_text(COMMON_XSD.replace("[A-Z]{3}-[0-9]{4}", "[A-Z]{4}-[0-9]"))
            assert gw.reload()
            assert post(gw, order(sku="ABCD-1"), "application/xml").status == 200
            assert post(gw, order(), "application/xml").status == 400
            (tmp_path / "schemas/common.xsd").write_text("<xs:schema")  # broken: the running schemas stay
            assert not gw.reload()
            assert post(gw, order(sku="ABCD-1"), "application/xml").status == 200


def test_apiops_schemas_folder(tmp_path: Path) -> None:
    from engine.gateway.apiops import load_apiops
    from tests.apiops.helpers import api_folder, serve_settings, write_json, write_text

    write_json(tmp_path / "schemas/order/schemaInformation.json", {"properties": {"schemaType": "xml", "value": ORDER_XSD}})
    write_text(tmp_path / "schemas/common/schema.xsd", COMMON_XSD)
    write_json(tmp_path / "schemas/customer/schemaInformation.json",
               {"properties": {"schemaType": "json", "description": "a customer", "document": CUSTOMER}})
    with Backend() as backend:
        spec = 'openapi: 3.0.1\ninfo: {title: shop, version: "1"}\npaths:\n  /orders:\n    post: {responses: {"200": {description: ok}}}\n'
        folder = api_folder(tmp_path, "shop", "shop", spec=spec, serviceUrl=backend.url, subscriptionRequired=False)
        write_text(folder / "policy.xml", POLICY)
        settings = load_apiops(tmp_path)
        assert sorted(settings.schemas) == ["common", "customer", "order"]
        with serve_settings(settings, tmp_path) as gw:
            assert post(gw, order(), "application/xml").status == 200
            assert "definition order" in post(gw, order(sku="x"), "application/xml").json()["message"]
            assert "definition customer" in post(gw, "{}", "application/json").json()["message"]
        assert backend.calls == 1


@pytest.mark.parametrize(("text", "problem"), [
    (f"<!DOCTYPE xs:schema [<!ENTITY e 'x'>]><xs:schema xmlns:xs='{XS}' />", "a DTD is not allowed"),
    (f"<xs:schema xmlns:xs='{XS}'><xs:import namespace='urn:x' schemaLocation='http://example.com/x.xsd' /></xs:schema>",
     "schemaLocation 'http://example.com/x.xsd' is not allowed"),
    ("[1, 2]", "neither a JSON schema (an object) nor an XML schema"),
    ('{"$ref": "http://example.com/s.json"}', "cannot be compiled"),
])
def test_schemas_never_fetch_anything(text: str, problem: str) -> None:
    with pytest.raises(SchemaError, match=problem.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        compile_schemas({"s": SchemaSource(text)})


def test_lint_of_an_apiops_folder_reports_an_unknown_schema_id(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main
    from tests.apiops.helpers import api_folder, write_text

    write_text(tmp_path / "schemas/order/schema.xsd", ORDER_XSD.replace('<xs:include schemaLocation="/schemas/common" />', "")
               .replace('type="t:Sku"', 'type="xs:string"'))
    folder = api_folder(tmp_path, "shop", "shop")
    write_text(folder / "policy.xml", POLICY)  # names `customer`, which the folder does not declare
    assert main(["lint", "--format", "json", str(tmp_path)]) == 1
    findings = json.loads(capsys.readouterr().out)["diagnostics"]
    missing = [f for f in findings if f["code"] == "gateway-settings-missing"]
    assert len(missing) == 2  # the two <content> elements naming it
    for finding in missing:
        assert "schema-id 'customer' is not declared under `schemas:`" in finding["message"]
        assert finding["location"]["file"].endswith("apis/shop/policy.xml") and finding["location"]["line"] > 1


def test_serve_reload_watches_the_schema_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.gateway.config import load_settings

    write_config(tmp_path, config(service_url=NOWHERE), FILES, None)
    monkeypatch.chdir(tmp_path)  # a relative configuration path, as `policygate serve gateway.yaml --reload` gets
    watched = {path.resolve() for path in load_settings(Path("gateway.yaml")).policy_files()}
    assert {tmp_path / "schemas/order.xsd", tmp_path / "schemas/customer.json"} <= watched


def test_xsd_errors_carry_the_line_and_column_of_the_name() -> None:
    from lxml import etree

    from engine.apispec.xmlpositions import ElementPositions

    xsd = f"""<xs:schema xmlns:xs="{XS}"><xs:element name="a"><xs:complexType><xs:sequence>
      <xs:element name="b" type="xs:int" maxOccurs="9" /></xs:sequence>
      <xs:attribute name="n" type="xs:int" /></xs:complexType></xs:element></xs:schema>"""
    schema = compile_schemas({"s": SchemaSource(xsd)})["s"]
    text = (b"<!-- <b>0</b> --><a title='x > y'\n   n='many'><![CDATA[<b>]]><b>1</b><b>zz</b>\n"
            b"<b\n  >q</b><?pi <b>?><c/></a>")
    root = etree.fromstring(text)
    found = [(p.line, p.column, p.message.split(":")[0]) for p in schema.xml_problems(root, ElementPositions(root, text))]
    # `n` not an int, `title` undeclared, CDATA text in `a`, `zz` and `q` not ints, `c` unexpected: comments,
    # CDATA, processing instructions and a `>` in a quoted value are not start tags
    assert found == [(2, 4, "Element 'a', attribute 'n'"), (1, 21, "Element 'a', attribute 'title'"),
                     (1, 19, "Element 'a'"), (2, 37, "Element 'b'"), (3, 2, "Element 'b'"), (4, 20, "Element 'c'")]
