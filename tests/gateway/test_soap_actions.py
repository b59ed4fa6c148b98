"""SOAP APIs: each WSDL operation reached by its SOAP action (SOAP 1.1 `SOAPAction` header, SOAP 1.2
Content-Type `action`), with its own policy document, through the real gateway in front of the echo
backend; schemas the WSDL imports from files beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.gateway.apiops import load_apiops, read_apiops
from tests.gateway.conftest import document
from tests.support.gateway import Backend, HttpAnswer, RunningGateway, run_gateway

XS = "http://www.w3.org/2001/XMLSchema"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NOWHERE = "http://127.0.0.1:9"
# WCF shape: one portType, a SOAP 1.1 and a SOAP 1.2 binding naming the same actions; Ping has no action;
# the types import urn:types from a file beside the WSDL (the file includes another one)
WSDL = f"""<?xml version="1.0"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xs="{XS}" xmlns:tns="urn:orders"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:t="urn:types" targetNamespace="urn:orders">
  <wsdl:types>
    <xs:schema targetNamespace="urn:orders" elementFormDefault="qualified">
      <xs:import namespace="urn:types" schemaLocation="xsd/types.xsd" />
      <xs:element name="GetOrder"><xs:complexType><xs:sequence>
        <xs:element name="Id" type="t:OrderId" /></xs:sequence></xs:complexType></xs:element>
      <xs:element name="PlaceOrder"><xs:complexType><xs:sequence>
        <xs:element name="Sku" type="t:Sku" /></xs:sequence></xs:complexType></xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:portType name="Orders"><wsdl:operation name="GetOrder" /><wsdl:operation name="PlaceOrder" />
    <wsdl:operation name="Ping" /></wsdl:portType>
  <wsdl:binding name="OrdersSoap" type="tns:Orders">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="GetOrder"><soap:operation soapAction="urn:orders/GetOrder" /></wsdl:operation>
    <wsdl:operation name="PlaceOrder"><soap:operation soapAction="urn:orders/PlaceOrder" /></wsdl:operation>
    <wsdl:operation name="Ping"><soap:operation soapAction="" /></wsdl:operation>
  </wsdl:binding>
  <wsdl:binding name="OrdersSoap12" type="tns:Orders">
    <soap12:binding transport="http://schemas.xmlsoap.org/soap/http" />
    <wsdl:operation name="GetOrder"><soap12:operation soapAction="urn:orders/GetOrder12" /></wsdl:operation>
    <wsdl:operation name="PlaceOrder"><soap12:operation soapAction="urn:orders/PlaceOrder" /></wsdl:operation>
  </wsdl:binding>
</wsdl:definitions>
"""
TYPES = (f"<xs:schema xmlns:xs='{XS}' targetNamespace='urn:types'><xs:include schemaLocation='ids.xsd' />"
         "<xs:simpleType name='Sku'><xs:restriction base='xs:string'><xs:pattern value='[A-Z]{3}-[0-9]{4}' />"
         "</xs:restriction></xs:simpleType></xs:schema>")
IDS = (f"<xs:schema xmlns:xs='{XS}' targetNamespace='urn:types'><xs:simpleType name='OrderId'>"
       "<xs:restriction base='xs:positiveInteger' /></xs:simpleType></xs:schema>")
CHECK = ('<validate-content unspecified-content-type-action="prevent" max-size="10000" size-exceeded-action="prevent">'
         '<content validate-as="soap" action="prevent" /></validate-content>')
API_POLICY = document(inbound=f'<base /><set-header name="X-Api" exists-action="override"><value>orders</value>'
                              f'</set-header>{CHECK}')
OPERATION_POLICY = document(inbound='<base /><set-header name="X-Operation" exists-action="override">'
                                    '<value>@(context.Operation.Name + " " + context.Operation.UrlTemplate)</value>'
                                    '</set-header>')
REFUSE = document(inbound='<base /><return-response><set-status code="403" /></return-response>')
ON_ERROR = document(backend="<forward-request />", on_error='<base /><set-header name="X-Reason" exists-action="override">'
                             '<value>@(context.LastError.Reason)</value></set-header>')
FILES = {"orders.wsdl": WSDL, "xsd/types.xsd": TYPES, "xsd/ids.xsd": IDS, "api.xml": API_POLICY,
         "get.xml": OPERATION_POLICY, "place.xml": REFUSE, "global.xml": ON_ERROR}
OPERATIONS = {"GetOrder": {"policy": "get.xml"}, "placeorder": {"policy": "place.xml"}}


def config(service_url: str = "{{backend-url}}", operations: object = OPERATIONS) -> dict[str, object]:
    return {"policy": "global.xml",
            "apis": {"orders": {"path": "orders", "service-url": service_url, "subscription-required": False,
                                "policy": "api.xml", "wsdl": "orders.wsdl", "operations": operations}}}


def envelope(element: str = "<GetOrder xmlns='urn:orders'><Id>7</Id></GetOrder>", soap: str = SOAP11) -> bytes:
    return f"<s:Envelope xmlns:s='{soap}'><s:Body>{element}</s:Body></s:Envelope>".encode()


def soap11(gw: RunningGateway, action: str | None, body: bytes | None = None, path: str = "/orders") -> HttpAnswer:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = action
    return gw.request("POST", path, headers=headers, body=body or envelope())


def soap12(gw: RunningGateway, content_type: str, body: bytes | None = None) -> HttpAnswer:
    return gw.request("POST", "/orders", headers={"Content-Type": content_type}, body=body or envelope(soap=SOAP12))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Backend]]:
    with Backend() as backend, run_gateway(tmp_path_factory.mktemp("soap"), config(), FILES, backend=backend) as gateway:
        yield gateway, backend


@pytest.fixture
def gw(running: tuple[RunningGateway, Backend]) -> RunningGateway:
    running[1].reset()
    return running[0]


@pytest.fixture
def backend(running: tuple[RunningGateway, Backend]) -> Backend:
    return running[1]


class TestRoutingBySoapAction:
    def test_soap11_header_picks_the_operation_and_its_document(self, gw: RunningGateway, backend: Backend) -> None:
        answer = soap11(gw, '"urn:orders/GetOrder"')
        assert answer.status == 200
        seen = answer.json()
        assert seen["headers"]["x-api"] == "orders"
        assert seen["headers"]["x-operation"] == "GetOrder /?soapAction=urn:orders/GetOrder"
        assert seen["headers"]["soapaction"] == '"urn:orders/GetOrder"'  # forwarded as sent
        assert seen["path"] == "/" and backend.calls == 1

    def test_soap12_content_type_action_picks_the_operation(self, gw: RunningGateway, backend: Backend) -> None:
        answer = soap12(gw, 'application/soap+xml; charset=utf-8; action="urn:orders/GetOrder"')
        assert answer.status == 200 and answer.json()["headers"]["x-operation"].startswith("GetOrder ")
        unquoted = soap12(gw, "application/soap+xml;action=urn:orders/GetOrder;charset=utf-8")
        assert unquoted.status == 200 and unquoted.json()["headers"]["x-operation"].startswith("GetOrder ")
        other = soap12(gw, 'application/soap+xml; action="urn:orders/GetOrder12"')  # the SOAP 1.2 binding's action
        assert other.status == 200 and other.json()["headers"]["x-operation"].startswith("GetOrder ")
        assert backend.calls == 3

    def test_each_operation_runs_its_own_document(self, gw: RunningGateway, backend: Backend) -> None:
        place = envelope("<PlaceOrder xmlns='urn:orders'><Sku>ABC-1234</Sku></PlaceOrder>")
        assert soap11(gw, "urn:orders/PlaceOrder", place).status == 403
        ping = soap11(gw, None, envelope("<GetOrder xmlns='urn:orders'><Id>1</Id></GetOrder>"))
        assert ping.status == 200 and "x-operation" not in ping.json()["headers"]  # Ping: no action, no document
        assert soap11(gw, '""').status == 200  # an empty action is no action
        assert backend.calls == 2

    def test_an_unknown_action_gets_404_from_the_global_on_error(self, gw: RunningGateway, backend: Backend) -> None:
        answer = soap11(gw, "urn:orders/CancelOrder")
        assert answer.status == 404 and answer.json()["message"] == "Resource not found"
        assert answer.headers.get("X-Reason") == "OperationNotFound"
        assert soap12(gw, 'application/soap+xml; action="urn:orders/getorder"').status == 404  # actions are exact
        assert backend.calls == 0

    def test_only_post_at_the_api_url_is_routed(self, gw: RunningGateway, backend: Backend) -> None:
        assert gw.request("GET", "/orders?wsdl").status == 404
        assert soap11(gw, "urn:orders/GetOrder", path="/orders/service.svc").status == 404
        assert backend.calls == 0

    def test_schemas_imported_from_files_validate_the_payload(self, gw: RunningGateway, backend: Backend) -> None:
        bad = soap11(gw, "urn:orders/GetOrder", envelope("<GetOrder xmlns='urn:orders'><Id>0</Id></GetOrder>"))
        assert bad.status == 400 and "'0' is not a valid value of the atomic type '{urn:types}OrderId'" in bad.json()["message"]
        assert backend.calls == 0

    def test_the_wsdl_and_its_schema_files_are_watched(self, gw: RunningGateway) -> None:
        names = {path.name for path in gw.server.settings.policy_files()}
        assert {"orders.wsdl", "types.xsd", "ids.xsd"} <= names


@pytest.mark.parametrize(("change", "message"), [
    ({"orders.wsdl": WSDL.replace('soapAction="urn:orders/PlaceOrder" />', 'soapAction="urn:orders/GetOrder" />', 1)},
     "operations 'GetOrder' and 'PlaceOrder' have the same SOAP action 'urn:orders/GetOrder'"),
    ({"orders.wsdl": WSDL.replace('schemaLocation="xsd/types.xsd"', 'schemaLocation="xsd/missing.xsd"')},
     "schemaLocation 'xsd/missing.xsd': no file "),
    ({"orders.wsdl": WSDL.replace('schemaLocation="xsd/types.xsd"', 'schemaLocation="http://host/svc?xsd=xsd0"')},
     "schemaLocation 'http://host/svc\\?xsd=xsd0' is not allowed: schemas at URLs are fetched only with "
     "`wsdl-imports: {fetch: true}`"),
])
def test_a_wsdl_that_cannot_be_used_stops_the_start_at_its_key(tmp_path: Path, change: dict[str, str],
                                                              message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        with run_gateway(tmp_path, config(NOWHERE), {**FILES, **change}):
            pass
    assert "apis.orders.wsdl: orders.wsdl:" in str(raised.value)


def test_an_operation_not_in_the_wsdl_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="apis.orders.operations.Cancel: no operation 'Cancel' in orders.wsdl "
                                          r"\(known: GetOrder, PlaceOrder, Ping\)"):
        with run_gateway(tmp_path, config(NOWHERE, {"Cancel": {"policy": "get.xml"}}), FILES):
            pass


def test_apiops_operation_folders_name_the_wsdl_operations(tmp_path: Path) -> None:
    from tests.apiops.helpers import api_folder, serve_settings, write_text

    with Backend() as backend:
        folder = api_folder(tmp_path, "orders", "orders", spec=WSDL, spec_name="specification.wsdl", apiType="soap",
                            serviceUrl=backend.url, subscriptionRequired=False)
        write_text(folder / "xsd/types.xsd", TYPES)
        write_text(folder / "xsd/ids.xsd", IDS)
        write_text(folder / "operations/getorder/policy.xml", OPERATION_POLICY)
        write_text(folder / "operations/62b35e88397726132ca74e60/policy.xml", REFUSE)  # an APIM-generated id
        loaded = read_apiops(tmp_path)
        assert any("62b35e88397726132ca74e60" in warning and "in specification.wsdl (name the folder after the WSDL "
                   "operation)" in warning for warning in loaded.warnings)
        with serve_settings(load_apiops(tmp_path), tmp_path) as gw:
            answer = soap11(gw, "urn:orders/GetOrder")
            assert answer.status == 200 and answer.json()["headers"]["x-operation"].startswith("GetOrder ")
            assert soap11(gw, "urn:orders/PlaceOrder",
                          envelope("<PlaceOrder xmlns='urn:orders'><Sku>ABC-1234</Sku></PlaceOrder>")).status == 200
            assert soap11(gw, "urn:orders/Nothing").status == 404
        assert backend.calls == 2


def test_schemas_at_urls_are_fetched_when_the_configuration_says_so(tmp_path: Path) -> None:
    """WCF's `Service.svc?xsd=xsd0`: served here by a real HTTP server (the echo backend, answering the schema)."""
    types = (f"<xs:schema xmlns:xs='{XS}' targetNamespace='urn:types'><xs:simpleType name='OrderId'>"
             "<xs:restriction base='xs:positiveInteger' /></xs:simpleType><xs:simpleType name='Sku'>"
             "<xs:restriction base='xs:string' /></xs:simpleType></xs:schema>")
    with Backend() as schemas, Backend() as backend:
        wsdl = WSDL.replace('schemaLocation="xsd/types.xsd"', f'schemaLocation="{schemas.url}/Service.svc?xsd=xsd0"')
        files = {**FILES, "orders.wsdl": wsdl}
        schemas.respond(body=types, headers={"Content-Type": "text/xml"})
        fetching = {**config(), "wsdl-imports": {"fetch": True, "timeout": 5}}
        with run_gateway(tmp_path / "fetch", fetching, files, backend=backend) as gw:
            bad = soap11(gw, "urn:orders/GetOrder", envelope("<GetOrder xmlns='urn:orders'><Id>0</Id></GetOrder>"))
            assert bad.status == 400 and "{urn:types}OrderId" in bad.json()["message"]
            assert soap11(gw, "urn:orders/GetOrder").status == 200
        assert schemas.requests[0].path == "/Service.svc" and schemas.requests[0].query == "xsd=xsd0"
        schemas.respond(body=types, delay=2.0)
        with pytest.raises(ConfigError, match=r"apis.orders.wsdl: orders.wsdl: schemaLocation "
                                              r"'http://127.0.0.1:\d+/Service.svc\?xsd=xsd0': cannot fetch it: "):
            with run_gateway(tmp_path / "slow", {**fetching, "wsdl-imports": {"fetch": True, "timeout": 0.3}}, files,
                             backend=backend):
                pass
        schemas.respond(status=404, body="no")
        with pytest.raises(ConfigError, match="the server answered 404"):
            with run_gateway(tmp_path / "missing", fetching, files, backend=backend):
                pass
