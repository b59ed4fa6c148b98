"""validate-content without `schema-id` on an API with XML schemas of its own: a SOAP API's WSDL `types`
(`wsdl:` in gateway.yaml, `specification.wsdl` in APIOps) and an APIOps API's `schemas/` (XSD), through
the real gateway in front of the echo backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import ConfigError
from tests.gateway.conftest import document
from tests.support.gateway import Backend, HttpAnswer, RunningGateway, run_gateway

XS = "http://www.w3.org/2001/XMLSchema"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NOWHERE = "http://127.0.0.1:9"
# two schemas in the WSDL's types: urn:orders imports urn:types by namespace alone, as WSDL types do;
# `tns` is declared on <definitions> only and used in a type QName
WSDL = f"""<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="{XS}" xmlns:tns="urn:orders"
                  xmlns:t="urn:types" targetNamespace="urn:orders">
  <wsdl:types>
    <xs:schema targetNamespace="urn:orders" elementFormDefault="qualified">
      <xs:import namespace="urn:types" />
      <xs:element name="PlaceOrder">
        <xs:complexType><xs:sequence>
          <xs:element name="Sku" type="t:Sku" />
          <xs:element name="Quantity" type="tns:Quantity" />
        </xs:sequence></xs:complexType>
      </xs:element>
      <xs:simpleType name="Quantity"><xs:restriction base="xs:positiveInteger" /></xs:simpleType>
    </xs:schema>
    <xs:schema targetNamespace="urn:types">
      <xs:simpleType name="Sku"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{{3}}-[0-9]{{4}}" />
      </xs:restriction></xs:simpleType>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="PlaceOrderIn"><wsdl:part name="body" element="tns:PlaceOrder" /></wsdl:message>
</wsdl:definitions>
"""
CHECK = ('<validate-content unspecified-content-type-action="prevent" max-size="10000" size-exceeded-action="prevent">'
         '<content validate-as="soap" action="prevent" /></validate-content>')
POLICY = document(inbound=f"<base />{CHECK}")
RESPONSE_POLICY = document(outbound=f"<base />{CHECK}")


def envelope(sku: str = "ABC-1234", quantity: str = "2", soap: str = SOAP11) -> str:
    return (f"<s:Envelope xmlns:s='{soap}'><s:Body>\n<PlaceOrder xmlns='urn:orders'>\n  <Sku>{sku}</Sku>\n"
            f"  <Quantity>{quantity}</Quantity>\n</PlaceOrder></s:Body></s:Envelope>")


def post(gw: RunningGateway, body: str, content_type: str = "text/xml; charset=utf-8", api: str = "orders") -> HttpAnswer:
    return gw.request("POST", f"/{api}/service.svc", headers={"Content-Type": content_type,
                                                            "SOAPAction": "urn:orders/PlaceOrder"}, body=body.encode())


def config(service_url: str = "{{backend-url}}") -> dict[str, object]:
    return {"apis": {name: {"path": name, "service-url": service_url, "subscription-required": False,
                            "policy": policy, "wsdl": "orders.wsdl"}
                     for name, policy in (("orders", "api.xml"), ("replies", "out.xml"))}}


@pytest.fixture(scope="module")
def soap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Backend]]:
    with Backend() as backend, run_gateway(tmp_path_factory.mktemp("wsdl"), config(), FILES,
                                           backend=backend) as gateway:
        yield gateway, backend


@pytest.fixture
def gw(soap: tuple[RunningGateway, Backend]) -> RunningGateway:
    soap[1].reset()
    return soap[0]


@pytest.fixture
def backend(soap: tuple[RunningGateway, Backend]) -> Backend:
    return soap[1]


FILES = {"api.xml": POLICY, "out.xml": RESPONSE_POLICY, "orders.wsdl": WSDL}


class TestWsdlTypes:
    def test_valid_messages_reach_the_backend(self, gw: RunningGateway, backend: Backend) -> None:
        assert post(gw, envelope()).status == 200
        assert post(gw, envelope(soap=SOAP12), "application/soap+xml; action=\"urn:orders/PlaceOrder\"").status == 200
        assert backend.calls == 2

    def test_payload_breaking_the_wsdl_types_is_refused_with_line_and_column(self, gw: RunningGateway,
                                                                            backend: Backend) -> None:
        answer = post(gw, envelope(sku="abc", quantity="0"))
        assert answer.status == 400 and backend.calls == 0
        assert answer.json()["message"] == (
            "Body of the request does not conform to the definition PlaceOrder, which is associated with the content "
            "type text/xml. Element '{urn:orders}Sku': [facet 'pattern'] The value 'abc' is not accepted by the "
            "pattern '[A-Z]{3}-[0-9]{4}'. Line: 3, Position: 4")
        undeclared = post(gw, envelope().replace("PlaceOrder", "CancelOrder")).json()["message"]
        assert "No matching global declaration available for the validation root. Line: 2, Position: 2" in undeclared

    def test_other_content_types_are_unspecified(self, gw: RunningGateway, backend: Backend) -> None:
        answer = post(gw, '{"sku": "ABC-1234"}', "application/json")
        assert answer.status == 400 and backend.calls == 0
        assert answer.json()["message"] == "Unspecified content type application/json is not allowed."

    def test_response_is_validated_too(self, gw: RunningGateway, backend: Backend) -> None:
        backend.respond(body=envelope(), headers={"Content-Type": "text/xml"})
        assert post(gw, envelope(), api="replies").status == 200
        backend.respond(body=envelope(quantity="many"), headers={"Content-Type": "text/xml"})
        assert post(gw, envelope(), api="replies").status == 502


@pytest.mark.parametrize(("wsdl", "message"), [
    (WSDL.replace('<xs:import namespace="urn:types" />',
                  '<xs:import namespace="urn:x" schemaLocation="http://example.com/x.xsd" />'),
     "schemaLocation 'http://example.com/x.xsd' is not allowed"),
    (WSDL.replace('type="t:Sku"', 'type="t:Skew"'), "not a valid XML schema"),
    ("<definitions />", "not a WSDL 1.1 <definitions> or 2.0 <description>"),
    (WSDL.replace("<xs:simpleType name=\"Quantity\">", "<xs:annotation><xs:documentation>" + "x" * 4 * 1024 * 1024
                  + "</xs:documentation></xs:annotation><xs:simpleType name=\"Quantity\">"), "larger than 4 MB"),
    ("<!DOCTYPE d [<!ENTITY e 'x'>]><wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/' />", "DTD"),
])
def test_a_broken_wsdl_stops_the_start_at_its_key(tmp_path: Path, wsdl: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        with run_gateway(tmp_path, config(service_url=NOWHERE), {**FILES, "orders.wsdl": wsdl}):
            pass
    assert "apis.orders.wsdl: orders.wsdl:" in str(raised.value)


def test_apiops_soap_api_with_its_wsdl_and_api_schemas(tmp_path: Path) -> None:
    from engine.gateway.apiops import load_apiops
    from tests.apiops.helpers import api_folder, serve_settings, write_json, write_text

    extra = (f"<xs:schema xmlns:xs='{XS}' targetNamespace='urn:extra' elementFormDefault='qualified'>"
             "<xs:element name='Ping'><xs:complexType><xs:attribute name='n' type='xs:int' /></xs:complexType>"
             "</xs:element></xs:schema>")
    with Backend() as backend:
        folder = api_folder(tmp_path, "orders", "orders", spec=WSDL, spec_name="specification.wsdl", apiType="soap",
                            serviceUrl=backend.url, subscriptionRequired=False)
        write_text(folder / "policy.xml", POLICY)
        write_text(folder / "schemas/extra/schema.xsd", extra)
        write_json(folder / "schemas/components/schemaInformation.json",
                   {"properties": {"contentType": "application/vnd.oai.openapi.components+json", "document": {}}})
        settings = load_apiops(tmp_path)
        with serve_settings(settings, tmp_path) as gw:
            assert post(gw, envelope()).status == 200
            assert post(gw, f"<s:Envelope xmlns:s='{SOAP11}'><s:Body><Ping xmlns='urn:extra' n='1' /></s:Body>"
                            "</s:Envelope>").status == 200
            bad = post(gw, f"<s:Envelope xmlns:s='{SOAP11}'><s:Body><Ping xmlns='urn:extra' n='x' /></s:Body>"
                           "</s:Envelope>")
            assert bad.status == 400
            assert bad.json()["message"].endswith("Element '{urn:extra}Ping', attribute 'n': 'x' is not a valid value "
                                                  "of the atomic type 'xs:int'. Line: 1, Position: 97")
            assert post(gw, envelope(quantity="0")).status == 400
        assert backend.calls == 2
