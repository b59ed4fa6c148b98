"""validate-odata-request through the real gateway in front of the echo backend, and an APIOps OData API."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.gateway.conftest import document
from tests.policies.support import codes
from tests.support.gateway import Backend, HttpAnswer, RunningGateway, run_gateway

LAST_ERROR = ('<set-header name="X-Last-Error" exists-action="override"><value>@(context.LastError.Source + "|" + '
              'context.LastError.Reason)</value></set-header>'
              '<set-header name="X-Errors" exists-action="override"><value>@(JsonConvert.SerializeObject('
              'context.Variables.ContainsKey("odata") ? context.Variables["odata"] : null))</value></set-header>')
POLICIES = {
    "v40.xml": document(
        inbound='<base /><validate-odata-request error-variable-name="odata" min-odata-version="4.0" '
                'max-odata-version="4.0" max-size="64" />',
        on_error=f"<base />{LAST_ERROR}",
    ),
    "v401.xml": document(inbound='<base /><validate-odata-request default-odata-version="4.01" />'),
}


@pytest.fixture(scope="module")
def odata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Backend]]:
    apis = {name.removesuffix(".xml"): {"path": name.removesuffix(".xml"), "service-url": "{{backend-url}}",
                                        "subscription-required": False, "policy": name} for name in POLICIES}
    with Backend() as backend, run_gateway(tmp_path_factory.mktemp("odata"), {"apis": apis}, POLICIES,
                                           backend=backend) as gateway:
        yield gateway, backend


@pytest.fixture
def gw(odata: tuple[RunningGateway, Backend]) -> RunningGateway:
    odata[1].reset()
    return odata[0]


@pytest.fixture
def backend(odata: tuple[RunningGateway, Backend]) -> Backend:
    return odata[1]


def get(gw: RunningGateway, api: str, query: str = "", **headers: str) -> HttpAnswer:
    return gw.request("GET", f"/{api}/Products{query}", headers={k.replace("_", "-"): v for k, v in headers.items()})


def refused(answer: HttpAnswer) -> str:
    assert answer.status == 400, answer.body
    message: str = answer.json()["message"]
    return message


def q(**options: str) -> str:
    return "?" + "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in options.items())


class TestVersions:
    def test_accepted_version_and_no_header_reach_the_backend(self, gw: RunningGateway, backend: Backend) -> None:
        assert get(gw, "v40", OData_Version="4.0", OData_MaxVersion="4.01").status == 200
        assert get(gw, "v40").status == 200
        assert backend.calls == 2

    def test_version_outside_the_range_is_refused(self, gw: RunningGateway, backend: Backend) -> None:
        answer = get(gw, "v40", OData_Version="4.01")
        assert refused(answer) == "OData version 4.01 is not supported; the API accepts versions 4.0 to 4.0."
        assert answer.headers.get("X-Last-Error") == "validate-odata-request|Bad request"
        (record,) = _records(answer)
        assert record == {"Name": "OData-Version", "Type": "RequestHeader", "ValidationRule": "IncorrectMessage",
                          "Details": "OData version 4.01 is not supported; the API accepts versions 4.0 to 4.0.",
                          "Action": "prevent"}
        assert backend.calls == 0

    def test_malformed_versions_and_a_max_version_below_the_minimum(self, gw: RunningGateway) -> None:
        assert "'four' is not a version" in refused(get(gw, "v40", OData_Version="four"))
        assert "'4' is not a version" in refused(get(gw, "v40", OData_MaxVersion="4"))
        assert refused(get(gw, "v40", OData_MaxVersion="3.0")) == (
            "OData-MaxVersion 3.0 is below the lowest version the API accepts (4.0).")


class TestSize:
    def test_odata_2_and_3_version_headers_count_without_odata_version(self, gw: RunningGateway,
                                                                        backend: Backend) -> None:
        answer = get(gw, "v40", DataServiceVersion="2.0;NetFx")
        assert refused(answer) == "OData version 2.0 is not supported; the API accepts versions 4.0 to 4.0."
        assert [r["Name"] for r in _records(answer)] == ["DataServiceVersion"]
        # a version 2 request is checked with version 2's options: $inlinecount, no $count
        assert get(gw, "v401", "?$inlinecount=allpages&$filter=" + quote("substringof('a',Name)"),
                   DataServiceVersion="2.0;NetFx", MaxDataServiceVersion="3.0;NetFx").status == 200
        assert "Unknown system query option $count" in refused(get(gw, "v401", "?$count=true", DataServiceVersion="3.0"))
        assert "header MaxDataServiceVersion does not conform" in refused(
            get(gw, "v401", DataServiceVersion="2.0", MaxDataServiceVersion="x"))
        # OData-Version decides when both are sent
        assert get(gw, "v40", OData_Version="4.0", DataServiceVersion="2.0").status == 200
        assert backend.calls == 2

    def test_body_within_and_over_max_size(self, gw: RunningGateway, backend: Backend) -> None:
        ok = gw.request("POST", "/v40/Products", headers={"Content-Type": "application/json"}, body=b'{"Name": "x"}')
        assert ok.status == 200
        big = gw.request("POST", "/v40/Products", headers={"Content-Type": "application/json"}, body=b"x" * 65)
        assert refused(big) == "Request's body is 65 bytes long and it exceeds the limit of 64 bytes."
        (record,) = _records(big)
        assert (record["Type"], record["ValidationRule"]) == ("RequestBody", "SizeLimit")
        assert backend.calls == 1

    def test_chunked_body_is_counted(self, gw: RunningGateway, backend: Backend) -> None:
        host, port = gw.url.split("://", 1)[1].split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.request("POST", "/v40/Products", body=iter([b"x" * 40, b"y" * 40]),
                               headers={"Content-Type": "text/plain"}, encode_chunked=True)
            response = connection.getresponse()
            status, body = response.status, json.loads(response.read())
        finally:
            connection.close()
        assert status == 400
        assert body["message"] == "Request's body is 80 bytes long and it exceeds the limit of 64 bytes."
        assert backend.calls == 0


class TestQueryOptions:
    def test_well_formed_options_pass(self, gw: RunningGateway, backend: Backend) -> None:
        query = q(**{"$filter": "Name eq 'O''Neil (x' and (Price gt 5)", "$select": "Name,Price",
                     "$expand": "Category($select=Name;$expand=Parent)", "$orderby": "Price desc, Name",
                     "$top": "10", "$skip": "0", "$count": "true", "$search": '"blue (sky"', "$format": "json",
                     "@p": "1", "custom": "x"})
        assert get(gw, "v40", query).status == 200
        grammar = q(**{"$filter": "Items/any(d:d/Quantity gt 100) and Id in ('a', 'b') and Changed ge "
                                  "2012-12-03T07:16:23+01:00 and not contains(Name,'x') or Style has NS.Color'Red'",
                       "$expand": "Orders($filter=Amount gt 1;$select=Id,Amount;$orderby=Amount desc;$levels=max),"
                                  "Customer/$ref",
                       "$orderby": "length(Name) desc", "$select": "NS.*,Address/City"})
        assert get(gw, "v40", grammar).status == 200
        assert backend.calls == 2

    @pytest.mark.parametrize(("query", "message"), [
        ("?$top=-1", "The value of the system query option $top does not conform to the OData specification: "
                     "'-1' is not a non-negative integer."),
        ("?$skip=ten", "'ten' is not a non-negative integer"),
        ("?$count=yes", "'yes' is not true or false"),
        ("?$format=pdf", "'pdf' is not json, xml, atom or a media type"),
        ("?$filter=", "$filter does not conform to the OData specification: the value is empty."),
        ("?" + "$filter=" + quote("(Price gt 5"), "the value ends early: ')' expected"),
        ("?" + "$filter=" + quote("Name eq 'x"), "the quoted string at position 9 is not closed"),
        ("?" + "$filter=" + quote("Price eq"), "$filter does not conform to the OData specification: the value ends early: "
                                                "a value expected."),
        ("?" + "$filter=" + quote("Price eq5"), "unexpected 'eq5' at position 7: the end of the value expected"),
        ("?" + "$filter=" + quote("Items/any(d:)"), "unexpected ')' at position 13: a value expected"),
        ("?" + "$filter=" + quote("Price # 2"), "unexpected character '#' at position 7"),
        ("?" + "$expand=" + quote("Orders($top=x)"), "unexpected 'x' at position 13: a non-negative integer expected"),
        ("?" + "$expand=" + quote("Orders($foo=1)"), "unexpected '$foo' at position 8: an option ($filter"),
        ("?" + "$orderby=" + quote("Name desc desc"), "unexpected 'desc' at position 11"),
        ("?" + "$search=" + quote("blue OR"), "$search does not conform to the OData specification: the value ends early"),
        ("?" + "$orderby=" + quote("Price)"), "unexpected ')' at position 6: the end of the value expected"),
        ("?$select=Name,,Price", "unexpected ',' at position 6: a property expected"),
        ("?$top=1&$top=2", "Request cannot contain multiple values for the system query option $top."),
        ("?$foo=1", "Unknown system query option $foo is not allowed (OData 4.0)."),
        ("?$Top=1", "Unknown system query option $Top is not allowed (OData 4.0)."),  # 4.0 names are case-sensitive
        ("?$compute=" + quote("Price mul 2 as Double"), "Unknown system query option $compute is not allowed (OData 4.0)."),
    ])
    def test_bad_options_are_refused(self, gw: RunningGateway, backend: Backend, query: str, message: str) -> None:
        assert message in refused(get(gw, "v40", query))
        assert backend.calls == 0

    def test_every_problem_is_recorded(self, gw: RunningGateway) -> None:
        answer = get(gw, "v40", "?$top=x&$skip=y&$bar=1", OData_Version="5.0")
        records = _records(answer)
        assert [(r["Name"], r["Type"]) for r in records] == [
            ("OData-Version", "RequestHeader"), ("$top", "QueryParameter"), ("$skip", "QueryParameter"),
            ("$bar", "QueryParameter")]
        assert records[3]["ValidationRule"] == "Unspecified"
        assert refused(answer).startswith("OData version 5.0 is not supported")

    def test_401_names_are_case_insensitive_and_the_dollar_optional(self, gw: RunningGateway) -> None:
        assert get(gw, "v401", "?$Top=1&skip=2&$compute=" + quote("Price mul 2 as D")).status == 200
        assert "'x' is not a non-negative integer" in refused(get(gw, "v401", "?top=x"))
        assert "multiple values for the system query option $top" in refused(get(gw, "v401", "?$top=1&TOP=2"))
        # an OData-Version header decides over the default: 4.0 rules
        assert "Unknown system query option $compute" in refused(
            get(gw, "v401", "?$compute=" + quote("Price mul 2 as D"), OData_Version="4.0"))


def _records(answer: HttpAnswer) -> list[dict[str, Any]]:
    text = answer.headers.get("X-Errors")
    assert text is not None
    records: list[dict[str, Any]] = json.loads(text)
    return records


@pytest.mark.parametrize(("xml", "code"), [
    ('<validate-odata-request min-odata-version="4.01" max-odata-version="4.0" />', "policy-bad-value"),
    ('<validate-odata-request default-odata-version="four" />', "policy-bad-value"),
    ('<validate-odata-request max-size="-1" />', "policy-bad-value"),
    ('<validate-odata-request /><validate-odata-request />', "policy-repeated"),
])
def test_lint_reports_bad_attributes(xml: str, code: str) -> None:
    assert code in codes(xml)


def test_lint_refuses_operation_scope() -> None:
    assert codes("<validate-odata-request />", scope="operation")
    assert not codes("<validate-odata-request />", scope="api")


def test_apiops_odata_api_is_served_on_every_path(tmp_path: Path) -> None:
    from engine.gateway.apiops import load_apiops
    from tests.apiops.helpers import api_folder, serve_settings, write_text

    with Backend() as backend:
        folder = api_folder(tmp_path, "northwind", "northwind", apiType="odata", serviceUrl=backend.url,
                            subscriptionRequired=False)
        write_text(folder / "specification.xml", "<edmx:Edmx xmlns:edmx='http://docs.oasis-open.org/odata/ns/edmx' "
                                                  "Version='4.0' />")
        write_text(folder / "policy.xml", POLICIES["v401.xml"])
        loaded = load_apiops(tmp_path)
        (operation,) = loaded.apis["northwind"].operations
        assert (operation.method, operation.url_template) == ("*", "/*")
        with serve_settings(loaded, tmp_path) as gw:
            assert gw.request("GET", "/northwind/$metadata").status == 200
            assert gw.request("PATCH", "/northwind/Products(1)", headers={"Content-Type": "application/json"},
                              body=b"{}").status == 200
            assert refused(gw.request("GET", "/northwind/Products?$top=x")).endswith("non-negative integer.")
        assert [r.path for r in backend.requests] == ["/$metadata", "/Products(1)"]
