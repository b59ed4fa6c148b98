"""validate-content, validate-parameters, validate-headers, validate-status-code through the real gateway.

One gateway serves the same OpenAPI description as several APIs, each with its own policy, in
front of the real echo backend; `backend.respond(...)` makes the backend answer what a response
check needs.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConfigError
from tests.gateway.conftest import document
from tests.policies.support import lint
from tests.support.gateway import Backend, RunningGateway, run_gateway

SPEC = """
openapi: 3.0.3
info: {title: shop, version: "1"}
paths:
  /orders:
    post:
      operationId: createOrder
      parameters:
        - {name: dryRun, in: query, schema: {type: boolean}}
        - {name: X-Request-Id, in: header, required: true, schema: {type: string, pattern: "^[a-z0-9-]+$"}}
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: "#/components/schemas/Order"}}
      responses:
        "201":
          description: created
          headers:
            X-Order-Id: {required: true, schema: {type: integer}}
          content:
            application/json: {schema: {$ref: "#/components/schemas/Order"}}
        "4XX": {description: client error}
  /orders/{id}:
    get:
      operationId: getOrder
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1}}
        - name: fields
          in: query
          style: form
          explode: false
          schema: {type: array, items: {type: string, enum: [id, sku, quantity]}}
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: "#/components/schemas/Order"}}
components:
  schemas:
    Order:
      type: object
      required: [id, sku, quantity]
      additionalProperties: false
      properties:
        id: {type: integer, readOnly: true}
        sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{4}$"}
        quantity: {type: integer, minimum: 1}
        note: {type: string, nullable: true}
    Loose:
      type: object
      required: [sku]
      properties:
        sku: {type: string}
"""

ERRORS_AS_BODY = ('<set-body>@(JsonConvert.SerializeObject(context.Variables.ContainsKey("errors") ? '
                  'context.Variables["errors"] : null))</set-body>')
LAST_ERROR = ('<set-header name="X-Last-Error" exists-action="override"><value>@(context.LastError.Source + "|" + '
              'context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>')

POLICIES = {
    "content.xml": document(
        inbound='<base /><validate-content unspecified-content-type-action="prevent" max-size="300" '
                'size-exceeded-action="prevent" errors-variable-name="errors">'
                '<content type="application/json" validate-as="json" action="prevent" /></validate-content>',
        on_error=f"<base />{LAST_ERROR}",
    ),
    "detect.xml": document(
        inbound='<base /><validate-content unspecified-content-type-action="detect" max-size="102400" '
                'size-exceeded-action="detect" errors-variable-name="errors">'
                '<content validate-as="json" action="detect" /></validate-content>'
                '<validate-parameters specified-parameter-action="detect" unspecified-parameter-action="detect" '
                'errors-variable-name="errors" />',
        outbound=f"<base />{ERRORS_AS_BODY}",
    ),
    "schema-ref.xml": document(
        inbound='<base /><validate-content unspecified-content-type-action="ignore" max-size="102400" '
                'size-exceeded-action="prevent"><content type="application/json" validate-as="json" action="prevent" '
                'schema-ref="#/components/schemas/Loose" allow-additional-properties="false" /></validate-content>',
    ),
    "parameters.xml": document(
        inbound='<base /><validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="prevent">'
                '<headers specified-parameter-action="prevent" unspecified-parameter-action="ignore" />'
                '<query unspecified-parameter-action="prevent"><parameter name="debug" action="ignore" /></query>'
                '</validate-parameters>',
    ),
    "expression.xml": document(
        inbound='<base /><validate-parameters specified-parameter-action="ignore" unspecified-parameter-action='
                '"@(context.Request.Headers.GetValueOrDefault(&quot;X-Strict&quot;, &quot;&quot;) == &quot;1&quot; ? '
                '&quot;prevent&quot; : &quot;detect&quot;)" />',
    ),
    "response.xml": document(
        outbound='<base /><validate-status-code unspecified-status-code-action="prevent">'
                 '<status-code code="503" action="ignore" /></validate-status-code>'
                 '<validate-headers specified-header-action="prevent" unspecified-header-action="ignore" />'
                 '<validate-content unspecified-content-type-action="prevent" max-size="102400" '
                 'size-exceeded-action="prevent"><content validate-as="json" action="prevent" /></validate-content>',
        on_error=f"<base />{LAST_ERROR}",
    ),
    "xmlsoap.xml": document(
        inbound='<base /><validate-content unspecified-content-type-action="prevent" max-size="400" '
                'size-exceeded-action="prevent" errors-variable-name="errors">'
                '<content type="application/xml" validate-as="xml" action="prevent" />'
                '<content type="text/xml" validate-as="soap" action="prevent" />'
                '<content type="application/soap+xml" validate-as="soap" action="detect" /></validate-content>',
        outbound=f"<base />{ERRORS_AS_BODY}",
        on_error=f"<base />{LAST_ERROR}",
    ),
    "response-detect.xml": document(
        outbound='<base /><validate-status-code unspecified-status-code-action="detect" error-variable-name="errors" />'
                 '<validate-headers specified-header-action="detect" unspecified-header-action="detect" '
                 'errors-variable-name="errors"><header name="X-Debug" action="ignore" /></validate-headers>'
                 f"{ERRORS_AS_BODY}",
    ),
}


def _config(service_url: str = "{{backend-url}}") -> dict[str, Any]:
    apis = {}
    for name in POLICIES:
        api = name.removesuffix(".xml")
        apis[api] = {"path": api, "service-url": service_url, "subscription-required": False,
                     "openapi": "shop.yaml", "policy": name}
    return {"apis": apis}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Backend]]:
    folder = tmp_path_factory.mktemp("validation")
    (folder / "shop.yaml").write_text(SPEC)
    with Backend() as backend, run_gateway(folder, _config(), POLICIES, backend=backend) as gateway:
        yield gateway, backend


@pytest.fixture
def gw(shop: tuple[RunningGateway, Backend]) -> RunningGateway:
    shop[1].reset()
    return shop[0]


@pytest.fixture
def backend(shop: tuple[RunningGateway, Backend]) -> Backend:
    return shop[1]


def _post(gw: RunningGateway, api: str, body: object, content_type: str = "application/json",
          path: str = "/orders", headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": content_type, "X-Request-Id": "abc-1", **(headers or {})}
    return gw.request("POST", f"/{api}{path}", headers=sent, body=raw)


GOOD = {"sku": "ABC-1234", "quantity": 2, "note": None}


class TestContentPrevent:
    def test_valid_body_reaches_the_backend(self, gw: RunningGateway, backend: Backend) -> None:
        answer = _post(gw, "content", GOOD)  # `id` is readOnly: not required in a request; `note` is nullable
        assert answer.status == 200
        assert backend.calls == 1

    def test_invalid_body_is_refused_with_apims_message(self, gw: RunningGateway, backend: Backend) -> None:
        answer = _post(gw, "content", {"sku": "abc", "quantity": 0})
        assert answer.status == 400
        message = answer.json()["message"]
        assert message.startswith("Body of the request does not conform to the definition Order, which is "
                                  "associated with the content type application/json.")
        assert "Path: 'sku'" in message or "Path: 'quantity'" in message
        assert backend.calls == 0
        source, reason, details = answer.headers.get("X-Last-Error").split("|", 2)
        assert (source, reason) == ("validate-content", "Bad request")
        assert details == message

    def test_additional_property_is_refused(self, gw: RunningGateway) -> None:
        answer = _post(gw, "content", {**GOOD, "extra": 1})
        assert answer.status == 400
        assert "Additional properties are not allowed" in answer.json()["message"]

    def test_malformed_json_names_line_and_position(self, gw: RunningGateway) -> None:
        answer = _post(gw, "content", b'{"sku": "ABC-1234",\n "quantity": }')
        assert answer.status == 400
        assert answer.json()["message"].endswith(  # Newtonsoft's words (APIM's parser), never Python's
            "Unexpected character encountered while parsing value: }. Path 'quantity', line 2, position 14.")

    def test_body_over_max_size(self, gw: RunningGateway, backend: Backend) -> None:
        body = json.dumps({**GOOD, "note": "x" * 400}).encode()
        answer = _post(gw, "content", body)
        assert answer.status == 400
        assert answer.json()["message"] == (f"Request's body is {len(body)} bytes long and it exceeds the limit of "
                                            "300 bytes.")
        assert backend.calls == 0

    def test_unspecified_content_type(self, gw: RunningGateway) -> None:
        answer = _post(gw, "content", b"sku=ABC-1234", content_type="text/plain; charset=utf-8")
        assert answer.status == 400
        assert answer.json()["message"] == "Unspecified content type text/plain is not allowed."

    def test_gzip_body_is_validated_decompressed(self, gw: RunningGateway, backend: Backend) -> None:
        gzipped = {"Content-Encoding": "gzip"}
        assert _post(gw, "content", gzip.compress(json.dumps(GOOD).encode()), headers=gzipped).status == 200
        invalid = _post(gw, "content", gzip.compress(json.dumps({**GOOD, "quantity": 0}).encode()), headers=gzipped)
        assert invalid.status == 400 and "Path: 'quantity'" in invalid.json()["message"]
        bomb = gzip.compress(json.dumps({**GOOD, "note": " " * 100_000}).encode())  # ~300 bytes that inflate to 100 KB
        answer = _post(gw, "content", bomb, headers=gzipped)
        assert answer.json()["message"] == "Request's body is more than 300 bytes long and it exceeds the limit of 300 bytes."
        assert backend.calls == 1

    def test_content_type_is_case_insensitive(self, gw: RunningGateway) -> None:
        assert _post(gw, "content", GOOD, content_type="Application/JSON").status == 200


class TestContentSchemaRef:
    def test_schema_ref_with_additional_properties_override(self, gw: RunningGateway) -> None:
        assert _post(gw, "schema-ref", {"sku": "anything"}).status == 200
        refused = _post(gw, "schema-ref", {"sku": "anything", "more": True})  # Loose allows them; the policy doesn't
        assert refused.status == 400
        assert "definition Loose" in refused.json()["message"]


class TestDetect:
    def test_invalid_request_passes_and_errors_are_recorded(self, gw: RunningGateway, backend: Backend) -> None:
        answer = _post(gw, "detect", {"sku": "abc", "quantity": 2}, path="/orders?dryRun=maybe&extra=1",
                       headers={"X-Request-Id": "NOT VALID"})
        assert answer.status == 200
        assert backend.calls == 1
        errors = answer.json()
        by_type = {(e["Type"], e["ValidationRule"], e["Name"]): e for e in errors}
        assert set(errors[0]) == {"Name", "Type", "ValidationRule", "Details", "Action"}
        assert all(e["Action"] == "detect" for e in errors)
        assert ("RequestBody", "IncorrectMessage", "application/json") in by_type
        assert by_type[("QueryParameter", "IncorrectMessage", "dryRun")]["Details"].startswith(
            "Value of the query parameter dryRun couldn't be parsed according to the definition.")
        assert by_type[("QueryParameter", "Unspecified", "extra")]["Details"] == \
            "Unspecified query parameter extra is not allowed."
        assert by_type[("RequestHeader", "IncorrectMessage", "X-Request-Id")]["Details"].startswith(
            "The value of the header X-Request-Id does not conform to the definition.")

    def test_valid_request_records_nothing(self, gw: RunningGateway) -> None:
        answer = _post(gw, "detect", GOOD, path="/orders?dryRun=true")
        assert answer.status == 200
        assert answer.json() is None


class TestParameters:
    def test_path_parameter_against_its_schema(self, gw: RunningGateway, backend: Backend) -> None:
        assert gw.request("GET", "/parameters/orders/7").status == 200
        answer = gw.request("GET", "/parameters/orders/0")
        assert answer.status == 400
        assert answer.json()["message"].startswith("The value of the path parameter id does not conform to the definition.")
        parsed = gw.request("GET", "/parameters/orders/seven")
        assert parsed.json()["message"].startswith("Value of the path parameter id couldn't be parsed")
        assert backend.calls == 1

    def test_array_query_parameter(self, gw: RunningGateway) -> None:
        assert gw.request("GET", "/parameters/orders/7?fields=id,sku").status == 200
        answer = gw.request("GET", "/parameters/orders/7?fields=id,price")
        assert answer.status == 400
        assert "query parameter fields does not conform" in answer.json()["message"]

    def test_unspecified_and_repeated_query_parameters(self, gw: RunningGateway) -> None:
        answer = gw.request("GET", "/parameters/orders/7?page=2")
        assert (answer.status, answer.json()["message"]) == (400, "Unspecified query parameter page is not allowed.")
        assert gw.request("GET", "/parameters/orders/7?debug=1").status == 200  # per-parameter override: ignore
        repeated = gw.request("GET", "/parameters/orders/7?fields=id&fields=sku")
        assert repeated.json()["message"] == "Request cannot contain multiple values for the query parameter fields."

    def test_required_header(self, gw: RunningGateway) -> None:
        answer = gw.request("POST", "/parameters/orders", headers={"Content-Type": "application/json"}, body=b"{}")
        assert answer.status == 400
        assert answer.json()["message"] == "The header X-Request-Id is required by the definition but missing."
        assert _post(gw, "parameters", GOOD, headers={"X-Anything": "1"}).status == 200  # headers: unspecified ignored


def test_action_from_an_expression(gw: RunningGateway) -> None:
    assert gw.request("GET", "/expression/orders/7?page=2").status == 200
    strict = gw.request("GET", "/expression/orders/7?page=2", headers={"X-Strict": "1"})
    assert (strict.status, strict.json()["message"]) == (400, "Unspecified query parameter page is not allowed.")


class TestResponses:
    def test_undeclared_status_code_is_a_502_without_details(self, gw: RunningGateway, backend: Backend) -> None:
        backend.respond(status=500, body=b'{"error": "boom"}')
        answer = gw.request("GET", "/response/orders/7")
        assert answer.status == 502
        assert answer.json()["message"] == ("The request could not be processed due to an internal error. "
                                            "Contact the API owner.")
        source, reason, details = answer.headers.get("X-Last-Error").split("|", 2)
        assert (source, reason, details) == ("validate-status-code", "Response not allowed",
                                             "Response status code 500 is not allowed.")

    def test_status_code_override_and_ranges(self, gw: RunningGateway, backend: Backend) -> None:
        backend.respond(status=503, body=b"")
        assert gw.request("GET", "/response/orders/7").status == 503  # <status-code code="503" action="ignore">
        backend.respond(status=404, body=b"")  # 4XX is declared for createOrder, not for getOrder
        assert gw.request("GET", "/response/orders/7").status == 502
        assert _post(gw, "response", GOOD).status == 404

    def test_response_body_against_schema(self, gw: RunningGateway, backend: Backend) -> None:
        backend.respond(status=200, body=json.dumps({"id": 7, "sku": "ABC-1234", "quantity": 1}))
        assert gw.request("GET", "/response/orders/7").status == 200
        backend.respond(status=200, body=json.dumps({"sku": "ABC-1234", "quantity": 1}))  # id is required in a response
        answer = gw.request("GET", "/response/orders/7")
        assert answer.status == 502
        details = answer.headers.get("X-Last-Error").split("|", 2)[2]
        assert details.startswith("Body of the response does not conform to the definition Order")

    def test_response_header_against_schema(self, gw: RunningGateway, backend: Backend) -> None:
        order = json.dumps({"id": 7, "sku": "ABC-1234", "quantity": 1})
        backend.respond(status=201, body=order, headers={"Content-Type": "application/json", "X-Order-Id": "7"})
        assert _post(gw, "response", GOOD).status == 201
        backend.respond(status=201, body=order, headers={"Content-Type": "application/json", "X-Order-Id": "seven"})
        answer = _post(gw, "response", GOOD)
        assert answer.status == 502
        assert "Value of the header X-Order-Id couldn't be parsed" in answer.headers.get("X-Last-Error")

    def test_detect_records_response_errors(self, gw: RunningGateway, backend: Backend) -> None:
        backend.respond(status=201, body=b"{}", headers={"Content-Type": "application/json", "X-Debug": "1",
                                                         "X-Extra": "1"})
        errors = _post(gw, "response-detect", GOOD).json()
        rules = sorted((e["Type"], e["ValidationRule"], e["Name"]) for e in errors)
        assert rules == [("ResponseHeader", "IncorrectMessage", "X-Order-Id"), ("ResponseHeader", "Unspecified", "x-extra")]
        backend.respond(status=418, body=b"")
        errors = gw.request("GET", "/response-detect/orders/7").json()
        assert [e["Details"] for e in errors] == ["Response status code 418 is not allowed."]


SWAGGER = """
swagger: "2.0"
info: {title: legacy, version: "1"}
consumes: [application/json]
produces: [application/json]
paths:
  /items:
    post:
      operationId: addItem
      parameters:
        - {name: limit, in: query, type: integer, maximum: 10}
        - {name: item, in: body, required: true, schema: {$ref: "#/definitions/Item"}}
      responses:
        "200": {description: ok}
definitions:
  Item:
    type: object
    required: [name]
    properties:
      name: {type: string, x-nullable: true}
"""


def test_swagger_2_description(tmp_path: Path) -> None:
    (tmp_path / "legacy.yaml").write_text(SWAGGER)
    policy = document(inbound='<base /><validate-parameters specified-parameter-action="prevent" '
                              'unspecified-parameter-action="ignore" /><validate-content '
                              'unspecified-content-type-action="prevent" max-size="1000" size-exceeded-action="prevent">'
                              '<content validate-as="json" action="prevent" /></validate-content>')
    config = {"apis": {"legacy": {"path": "legacy", "service-url": "{{backend-url}}", "subscription-required": False,
                                  "openapi": "legacy.yaml", "policy": "api.xml"}}}
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": policy}, backend=backend) as gw:
        ok = gw.request("POST", "/legacy/items?limit=3", headers={"Content-Type": "application/json"},
                        body=b'{"name": null}')
        assert ok.status == 200
        too_many = gw.request("POST", "/legacy/items?limit=11", headers={"Content-Type": "application/json"},
                              body=b'{"name": "x"}')
        assert too_many.status == 400
        missing = gw.request("POST", "/legacy/items", headers={"Content-Type": "application/json"}, body=b"{}")
        assert "definition Item" in missing.json()["message"]


def test_apiops_specification_feeds_validation(tmp_path: Path) -> None:
    from engine.gateway.apiops import load_apiops
    from tests.apiops.helpers import api_folder, serve_settings, write_text

    with Backend() as backend:
        folder = api_folder(tmp_path, "shop", "shop", spec=SPEC, serviceUrl=backend.url, subscriptionRequired=False)
        write_text(folder / "policy.xml", POLICIES["content.xml"])
        with serve_settings(load_apiops(tmp_path), tmp_path) as gw:
            assert _post(gw, "shop", GOOD).status == 200
            refused = _post(gw, "shop", {"sku": "ABC-1234"})
            assert refused.status == 400
            assert "definition Order" in refused.json()["message"]
        assert backend.calls == 1


SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def envelope(namespace: str, body: str = "<GetOrder xmlns='urn:shop'><Id>7</Id></GetOrder>") -> bytes:
    return f"<s:Envelope xmlns:s='{namespace}'><s:Header /><s:Body>{body}</s:Body></s:Envelope>".encode()


class TestXmlAndSoap:
    def test_well_formed_xml_and_envelopes_pass(self, gw: RunningGateway, backend: Backend) -> None:
        assert _post(gw, "xmlsoap", b"<?xml version='1.0'?><order sku='ABC-1234'><q>2</q></order>",
                     "application/xml").status == 200
        assert _post(gw, "xmlsoap", envelope(SOAP11), "text/xml; charset=utf-8").status == 200
        assert _post(gw, "xmlsoap", envelope(SOAP12), "application/soap+xml").status == 200
        assert backend.calls == 3

    def test_malformed_xml_is_refused_with_line_and_position(self, gw: RunningGateway, backend: Backend) -> None:
        answer = _post(gw, "xmlsoap", b"<order>\n  <q>2</qty>\n</order>", "application/xml")
        assert answer.status == 400 and backend.calls == 0
        message = answer.json()["message"]
        assert message.startswith("Body of the request does not conform to the definition application/xml, which is "
                                  "associated with the content type application/xml. ")
        assert message.endswith(" Opening and ending tag mismatch: q line 2 and qty. Line: 2, Position: 13"), message
        assert answer.headers.get("X-Last-Error") == f"validate-content|Bad request|{message}"

    def test_a_dtd_is_refused_and_never_expanded(self, gw: RunningGateway, backend: Backend) -> None:
        bomb = (b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]>"
                b"<lolz>&lol2;</lolz>")
        answer = _post(gw, "xmlsoap", bomb, "application/xml")
        assert answer.status == 400 and backend.calls == 0
        assert "For security reasons DTD is prohibited in this XML document." in answer.json()["message"]
        secret = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY f SYSTEM 'file:///etc/passwd'>]><x>&f;</x>"
        assert _post(gw, "xmlsoap", secret, "application/xml").status == 400

    def test_soap_version_follows_the_content_type(self, gw: RunningGateway, backend: Backend) -> None:
        wrong = _post(gw, "xmlsoap", envelope(SOAP12), "text/xml")  # SOAP 1.1's content type, 1.2's envelope
        assert wrong.status == 400
        assert f"not a SOAP envelope ({{{SOAP11}}}Envelope)" in wrong.json()["message"]
        bare = _post(gw, "xmlsoap", b"<GetOrder xmlns='urn:shop' />", "text/xml")
        assert bare.status == 400 and "The root element is {urn:shop}GetOrder" in bare.json()["message"]
        no_body = _post(gw, "xmlsoap", f"<s:Envelope xmlns:s='{SOAP11}'><s:Header /></s:Envelope>".encode(), "text/xml")
        assert no_body.status == 400 and "exactly one Body element, found 0" in no_body.json()["message"]
        assert backend.calls == 0

    def test_detect_records_and_lets_the_request_through(self, gw: RunningGateway, backend: Backend) -> None:
        answer = _post(gw, "xmlsoap", envelope(SOAP11), "application/soap+xml")  # 1.1 where 1.2 is expected
        assert answer.status == 200 and backend.calls == 1
        (error,) = answer.json()
        assert (error["Name"], error["Type"], error["ValidationRule"], error["Action"]) == (
            "application/soap+xml", "RequestBody", "IncorrectMessage", "detect")
        assert f"({{{SOAP12}}}Envelope)" in error["Details"]

    def test_size_limit_and_undeclared_types_still_apply(self, gw: RunningGateway, backend: Backend) -> None:
        big = _post(gw, "xmlsoap", b"<a>" + b"x" * 500 + b"</a>", "application/xml")
        assert big.status == 400 and "exceeds the limit of 400 bytes" in big.json()["message"]
        other = _post(gw, "xmlsoap", b"<a />", "application/atom+xml")
        assert other.status == 400 and other.json()["message"] == "Unspecified content type application/atom+xml is not allowed."
        assert backend.calls == 0


class TestLoad:
    def test_broken_schema_stops_the_start(self, tmp_path: Path) -> None:
        (tmp_path / "shop.yaml").write_text(SPEC.replace('pattern: "^[A-Z]{3}-[0-9]{4}$"', 'pattern: "([A-Z"'))
        with pytest.raises(ConfigError, match=r"components\.schemas\.Order: schema #/components/schemas/Order cannot be compiled"):
            with run_gateway(tmp_path, _config("http://127.0.0.1:9"), POLICIES):
                pass


@pytest.mark.parametrize(("xml", "code"), [
    ('<validate-content unspecified-content-type-action="ignore" max-size="100" size-exceeded-action="block" />',
     "policy-bad-value"),
    ('<validate-content unspecified-content-type-action="ignore" max-size="5000000" size-exceeded-action="ignore" />',
     "policy-bad-value"),
    ('<validate-content unspecified-content-type-action="ignore" max-size="10" size-exceeded-action="ignore">'
     '<content validate-as="json" action="prevent" schema-ref="Address" /></validate-content>', "policy-bad-value"),
    ('<validate-content unspecified-content-type-action="ignore" max-size="10" size-exceeded-action="ignore">'
     '<content-type-map><type to="application/json" /></content-type-map></validate-content>', "policy-bad-value"),
    ('<validate-parameters specified-parameter-action="prevent" />', "policy-missing-attribute"),
    ('<validate-parameters specified-parameter-action="prevent" unspecified-parameter-action="ignore">'
     '<path unspecified-parameter-action="ignore" /></validate-parameters>', "policy-unknown-attribute"),
])
def test_lint_reports_bad_attributes(xml: str, code: str) -> None:
    assert code in [d.code for d in lint(xml).sorted()]


def test_lint_places_response_checks_in_outbound_only() -> None:
    codes = [d.code for d in lint('<validate-status-code unspecified-status-code-action="prevent" />').sorted()]
    assert "policy-not-allowed-in-section" in codes
    assert not lint('<validate-status-code unspecified-status-code-action="prevent" />', "outbound").has_errors
