"""<http-data-source> resolvers of a synthetic GraphQL API: the real gateway serving an APIOps folder, with the
echo backend (tests/support) as the resolvers' HTTP data source."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.diagnostics import Severity
from engine.errors import ConfigError
from engine.gateway.apiops import lint_apiops, read_apiops
from tests.apiops.helpers import serve_settings, write_json, write_text
from tests.support.gateway import Backend, RunningGateway, run_gateway

SCHEMA = """
type Query {
  user(id: ID!): Echo
  search(term: String!, limit: Int = 2): Echo
  slow(n: Int!): Echo
  broken: Echo
  gone: Echo
  rebased: Echo
  motto: String
}

type Echo {
  method: String
  path: String
  query: String
  body: String
  next: Echo
}
"""

USER = """<http-data-source>
    <http-request>
        <set-method>GET</set-method>
        <set-url>@($"{BACKEND}/users/{context.GraphQL.Arguments["id"]}")</set-url>
    </http-request>
    <http-response>
        <set-body>@{
            var answer = context.Response.Body.As<JObject>();
            answer["path"] = answer["path"].ToString().ToUpper();
            return answer.ToString();
        }</set-body>
    </http-response>
</http-data-source>
"""

SEARCH = """<http-data-source>
    <http-request>
        <set-method>POST</set-method>
        <set-url>{BACKEND}/search</set-url>
        <set-header name="X-Caller" exists-action="override">
            <value>@(context.Request.Headers.GetValueOrDefault("X-Caller", "anonymous"))</value>
        </set-header>
        <set-body>@(new JObject(new JProperty("term", context.GraphQL.Arguments["term"]),
                                new JProperty("limit", context.GraphQL.Arguments["limit"])).ToString())</set-body>
    </http-request>
</http-data-source>
"""

NEXT = """<http-data-source>
    <http-request>
        <set-url>@("{BACKEND}" + (string)context.GraphQL.Parent["path"] + "/next")</set-url>
    </http-request>
</http-data-source>
"""

SLOW = """<http-data-source>
    <http-request>
        <set-url>@($"{BACKEND}/slow/{context.GraphQL.Arguments["n"]}")</set-url>
        <set-header name="X-Test-Delay" exists-action="override"><value>0.6</value></set-header>
    </http-request>
    <backend>
        <forward-request timeout="10" />
    </backend>
</http-data-source>
"""

BROKEN = """<http-data-source>
    <http-request>
        <set-url>{BACKEND}/broken</set-url>
        <set-header name="X-Test-Status" exists-action="override"><value>503</value></set-header>
    </http-request>
</http-data-source>
"""

REBASED = """<http-data-source>
    <http-request>
        <set-backend-service base-url="{BACKEND}/v2" />
        <set-url>http://placeholder.invalid/rebased?page=2</set-url>
    </http-request>
</http-data-source>
"""

GONE = """<http-data-source>
    <http-request><set-url>{UNUSED}/gone</set-url></http-request>
</http-data-source>
"""

API_POLICY = """<policies>
    <inbound>
        <base />
        <validate-graphql-request error-variable-name="problems" max-size="10240" max-depth="4" />
    </inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <set-header name="X-Api-Outbound" exists-action="override"><value>graphql</value></set-header>
    </outbound>
    <on-error><base /></on-error>
</policies>
"""


def graphql_folder(root: Path, backend_url: str) -> Path:
    """API `people` (with an API policy) and API `plain` (none), both synthetic GraphQL APIs of SCHEMA."""
    for api_id, policy in (("people", API_POLICY), ("plain", None)):
        api = root / "apis" / api_id
        write_json(api / "apiInformation.json", {"properties": {
            "displayName": api_id, "path": api_id, "type": "graphql", "subscriptionRequired": False}})
        write_text(api / "specification.graphql", SCHEMA)
        if policy:
            write_text(api / "policy.xml", policy)
        for name, path, xml in (("user", "Query/user", USER), ("search", "Query/search", SEARCH),
                                ("next", "Echo/next", NEXT), ("slow", "Query/slow", SLOW),
                                ("broken", "Query/broken", BROKEN), ("gone", "Query/gone", GONE),
                                ("rebased", "Query/rebased", REBASED)):
            write_json(api / "resolvers" / name / "resolverInformation.json",
                       {"properties": {"displayName": name, "path": path}})
            write_text(api / "resolvers" / name / "policy.xml",
                       xml.replace("{BACKEND}", backend_url).replace("{UNUSED}", Backend.unused_url()))
    # a pass-through GraphQL API: a schema and a serviceUrl, no resolvers
    write_json(root / "apis/relay/apiInformation.json", {"properties": {
        "path": "relay", "type": "graphql", "serviceUrl": f"{backend_url}/graphql", "subscriptionRequired": False}})
    write_text(root / "apis/relay/specification.graphql", SCHEMA)
    return root


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Backend]]:
    root = tmp_path_factory.mktemp("graphql")
    with Backend() as backend:
        folder = graphql_folder(root, backend.url)
        with serve_settings(read_apiops(folder, {}).settings, folder) as gateway:
            yield gateway, backend


def post(gateway: RunningGateway, query: str, variables: dict[str, Any] | None = None,
         headers: dict[str, str] | None = None, api: str = "people") -> tuple[int, dict[str, Any], Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    answer = gateway.request("POST", f"/{api}", headers={"Content-Type": "application/json", **(headers or {})},
                             body=body)
    return answer.status, answer.json(), answer.headers


def test_arguments_build_the_request_and_http_response_rewrites_the_answer(running: Any) -> None:
    gateway, _ = running
    status, result, headers = post(gateway, 'query($id: ID!) { user(id: $id) { method path } }', {"id": "42"})
    assert status == 200
    assert result == {"data": {"user": {"method": "GET", "path": "/USERS/42"}}}
    assert headers.get("X-Api-Outbound") == "graphql"  # the API's outbound ran around the execution


def test_body_headers_and_default_argument_values(running: Any) -> None:
    gateway, _ = running
    status, result, _ = post(gateway, '{ search(term: "ada") { method path body } }', headers={"X-Caller": "t1"})
    assert status == 200
    found = result["data"]["search"]
    assert (found["method"], found["path"]) == ("POST", "/search")
    assert json.loads(found["body"]) == {"term": "ada", "limit": 2}


def test_nested_resolver_reads_its_parent(running: Any) -> None:
    gateway, backend = running
    query = '{ user(id: "7") { path next { path next { path } } } }'
    status, result, _ = post(gateway, query)
    assert status == 200
    # the user resolver upper-cases its own path; `next` reads the parent's (rewritten) value
    assert result["data"]["user"] == {"path": "/USERS/7", "next": {"path": "/USERS/7/next",
                                                                     "next": {"path": "/USERS/7/next/next"}}}


def test_get_with_query_parameter(running: Any) -> None:
    gateway, _ = running
    answer = gateway.request("GET", '/people?query={user(id:"1"){method}}')
    assert answer.status == 200
    assert answer.json() == {"data": {"user": {"method": "GET"}}}


def test_sibling_resolvers_run_concurrently(running: Any) -> None:
    gateway, backend = running
    started = time.monotonic()
    status, result, _ = post(gateway, "{ a: slow(n: 1) { path } b: slow(n: 2) { path } c: slow(n: 3) { path } }")
    elapsed = time.monotonic() - started
    assert status == 200
    assert result["data"] == {"a": {"path": "/slow/1"}, "b": {"path": "/slow/2"}, "c": {"path": "/slow/3"}}
    assert elapsed < 1.5, f"3 resolvers of 0.6 s each took {elapsed:.2f} s: they did not run concurrently"


def test_a_failing_resolver_is_an_error_entry_with_its_path(running: Any) -> None:
    gateway, _ = running
    status, result, _ = post(gateway, '{ broken { path } user(id: "2") { method } motto }')
    assert status == 200
    assert result["data"] == {"broken": None, "user": {"method": "GET"}, "motto": None}
    [error] = result["errors"]
    assert error["path"] == ["broken"]
    assert "503" in error["message"]
    assert error["extensions"] == {"code": "DataSourceError"}
    status, result, _ = post(gateway, '{ gone { path } user(id: "3") { method } }')
    assert (status, result["data"]) == (200, {"gone": None, "user": {"method": "GET"}})
    assert result["errors"] == [{"message": "The data source could not be reached.", "path": ["gone"],
                                 "locations": [{"line": 1, "column": 3}],
                                 "extensions": {"code": "BackendConnectionFailure"}}]  # no host or port


def test_invalid_query_is_answered_with_graphql_errors(running: Any) -> None:
    gateway, backend = running
    calls = backend.calls
    strict = {"Accept": "application/graphql-response+json"}
    for api in ("people", "plain"):  # validate-graphql-request answers on `people`, the executor on `plain`
        status, result, headers = post(gateway, "{ user { nope } }", headers=strict, api=api)
        assert status == 400 and (headers.get("Content-Type") or "").startswith("application/graphql-response+json")
        messages = [e["message"] for e in result["errors"]]
        assert any("nope" in m for m in messages) and any("'id'" in m for m in messages)
        assert all("locations" in e for e in result["errors"])
        assert "data" not in result
    # a client accepting only application/json gets 200 (GraphQL over HTTP)
    status, result, headers = post(gateway, "{ user(id: 1 ", api="plain")
    assert status == 200 and "Syntax Error" in result["errors"][0]["message"]
    assert (headers.get("Content-Type") or "").startswith("application/json")
    assert result["errors"][0]["locations"] == [{"line": 1, "column": 14}]
    answer = gateway.request("POST", "/plain", headers={"Content-Type": "application/json"}, body=b"[1]")
    assert answer.status == 400 and answer.json() == {"errors": [{"message": "The request body is not a JSON object."}]}
    answer = gateway.request("GET", "/plain")
    assert answer.status == 400 and answer.json() == {"errors": [{"message": "The request has no 'query'."}]}
    assert backend.calls == calls  # nothing was resolved


def test_api_inbound_policies_run_before_execution(running: Any) -> None:
    gateway, backend = running
    calls = backend.calls
    status, result, _ = post(gateway, '{ user(id: "1") { next { next { next { next { path } } } } } }')
    assert status == 200  # validate-graphql-request answers a request error itself (APIM: 200 with errors)
    assert "depth" in result["errors"][0]["message"].lower()
    assert "data" not in result
    assert backend.calls == calls


def test_graphql_api_without_resolvers_is_forwarded(running: Any) -> None:
    gateway, backend = running
    calls = backend.calls
    answer = gateway.request("POST", "/relay", headers={"Content-Type": "application/json"}, body=b'{"query": "{ motto }"}')
    assert answer.status == 200 and backend.calls == calls + 1  # a pass-through API: to its serviceUrl, unchanged
    assert answer.json()["path"] == "/graphql" and answer.json()["body"] == '{"query": "{ motto }"}'


def test_only_post_and_get_are_operations(running: Any) -> None:
    gateway, _ = running
    answer = gateway.request("DELETE", "/people")
    assert answer.status == 404


def test_resolver_for_an_unknown_field_names_the_file(tmp_path: Path) -> None:
    folder = graphql_folder(tmp_path, "http://127.0.0.1:9")
    write_json(folder / "apis/people/resolvers/user/resolverInformation.json", {"properties": {"path": "Query/usr"}})
    with pytest.raises(ConfigError, match=r"resolverInformation.json.*properties.path.*'Query/usr'.*no field 'usr'"):
        read_apiops(folder, {})


def test_invalid_schema_is_located(tmp_path: Path) -> None:
    folder = graphql_folder(tmp_path, "http://127.0.0.1:9")
    write_text(folder / "apis/people/specification.graphql", "type Query {\n  user(: Int\n}\n")
    with pytest.raises(ConfigError, match=r"specification.graphql:2:8: invalid GraphQL schema"):
        read_apiops(folder, {})


def test_lint_checks_resolver_documents(tmp_path: Path) -> None:
    folder = graphql_folder(tmp_path, "http://127.0.0.1:9")
    write_text(folder / "apis/people/resolvers/broken/policy.xml", """<http-data-source>
    <http-request>
        <set-url>@((string)context.GraphQL.Argument["id"])</set-url>
        <set-variable name="x" value="1" />
    </http-request>
</http-data-source>
""")
    report, _ = lint_apiops(folder, environ={})
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    assert {(d.code, d.span.line) for d in errors} >= {("policy-unknown-child", 4)}
    assert any("Argument" in d.message for d in errors if d.span.line == 3)
    assert all(Path(d.span.file).parent.name == "broken" for d in errors)  # the other resolvers are clean
    assert report.files == 15  # the API policy and the 2 x 7 resolver documents


def test_gateway_yaml_declares_a_synthetic_graphql_api(tmp_path: Path) -> None:
    config = """
apis:
  people:
    path: people
    subscription-required: false
    graphql:
      schema: people.graphql
      resolvers:
        Query.user: user.xml
        Mutation/rename: rename.xml
"""
    files = {
        "people.graphql": SCHEMA + "type Mutation { rename(id: ID!, name: String!): Echo }\n",
        "user.xml": USER.replace("{BACKEND}", "{{backend-url}}"),
        "rename.xml": """<http-data-source><http-request><set-method>PATCH</set-method>
            <set-url>@("{{backend-url}}/users/" + (string)context.GraphQL.Arguments["id"])</set-url>
            <set-body>@((string)context.GraphQL.Arguments["name"])</set-body></http-request></http-data-source>""",
    }
    with Backend() as backend, run_gateway(tmp_path, config, files, backend=backend) as gateway:
        status, result, _ = post(gateway, '{ user(id: "5") { path } }')
        assert (status, result) == (200, {"data": {"user": {"path": "/USERS/5"}}})
        status, result, _ = post(gateway, 'mutation { rename(id: "5", name: "Ada") { method path body } }')
        assert (status, result) == (200, {"data": {"rename": {"method": "PATCH", "path": "/users/5", "body": "Ada"}}})
        answer = gateway.request("GET", '/people?query=mutation{rename(id:"5",name:"x"){path}}')
        assert answer.status == 405 and "POST" in answer.json()["errors"][0]["message"]
        # a changed resolver document takes effect on reload (and --reload watches it)
        assert gateway.server.settings.policy_files().count(tmp_path / "user.xml") == 1
        gateway.write("user.xml", NEXT.replace('(string)context.GraphQL.Parent["path"] + "/next"', '"/v2"')
                      .replace("{BACKEND}", "{{backend-url}}"))
        assert gateway.reload()
        assert post(gateway, '{ user(id: "5") { path } }')[1] == {"data": {"user": {"path": "/v2"}}}


def test_gateway_yaml_resolver_for_an_unknown_type_is_located(tmp_path: Path) -> None:
    config = {"apis": {"people": {"path": "people", "graphql": {"schema": "people.graphql",
                                                                 "resolvers": {"Person.name": "user.xml"}}}}}
    with pytest.raises(ConfigError, match=r"apis.people.graphql.resolvers.Person.name: 'Person.name': the schema has "
                                          r"no object type 'Person' \(object types: Echo, Query\)"):
        with run_gateway(tmp_path, config, {"people.graphql": SCHEMA, "user.xml": USER}):
            pass


def test_set_backend_service_redirects_the_data_source_request(running: Any) -> None:
    gateway, _ = running
    status, result, _ = post(gateway, "{ rebased { path query } }", api="plain")
    assert status == 200, result
    assert result["data"]["rebased"]["path"] == "/v2/rebased"  # the backend's base path, then set-url's path
    assert "page=2" in result["data"]["rebased"]["query"]


def test_set_backend_service_in_a_data_source_needs_one_target() -> None:
    from tests.policies.support import codes

    request = '<http-data-source><http-request>{}<set-url>http://a/b</set-url></http-request></http-data-source>'
    assert codes(request.format('<set-backend-service base-url="http://x/v2" />')) == []
    assert codes(request.format('<set-backend-service backend-id="people" />')) == []
    assert codes(request.format("<set-backend-service />")) == ["policy-missing-attribute"]


def test_fragments_authorization_context_and_forward_request_options(tmp_path: Path) -> None:
    from engine.errors import PolicyLoadError

    config = {
        "fragments": {"auth-header": "frag-request.xml", "shape": "frag-response.xml", "limited": "frag-limit.xml"},
        "credentials": {"providers": {"p": {"connections": {"c": {"grant": "static", "access-token": "fixed-token"}}}}},
        "apis": {"people": {"path": "people", "subscription-required": False, "graphql": {
            "schema": "people.graphql",
            "resolvers": {"Query.user": "user.xml", "Query.broken": "broken.xml", "Query.rebased": "redirect.xml"}}}},
    }
    files = {
        "people.graphql": SCHEMA,
        "frag-request.xml": '<fragment><set-header name="Authorization" exists-action="override">'
                            '<value>@("Bearer " + ((Authorization)context.Variables["auth"]).AccessToken)</value>'
                            "</set-header></fragment>",
        "frag-response.xml": "<fragment><set-body>@{ var a = context.Response.Body.As<JObject>(); "
                             'a["path"] = (string)a["headers"]["authorization"]; return a.ToString(); }</set-body></fragment>',
        "frag-limit.xml": '<fragment><rate-limit calls="5" renewal-period="60" /></fragment>',
        "user.xml": """<http-data-source><http-request>
            <get-authorization-context provider-id="p" authorization-id="c" context-variable-name="auth" />
            <set-url>@("{{backend-url}}/users/" + (string)context.GraphQL.Arguments["id"])</set-url>
            <include-fragment fragment-id="auth-header" />
          </http-request>
          <http-response><include-fragment fragment-id="shape" /></http-response></http-data-source>""",
        "broken.xml": """<http-data-source><http-request><set-url>{{backend-url}}/broken</set-url>
            <set-header name="X-Test-Status" exists-action="override"><value>404</value></set-header></http-request>
            <backend><forward-request fail-on-error-status-code="false" /></backend></http-data-source>""",
        "redirect.xml": """<http-data-source><http-request><set-url>{{backend-url}}/start</set-url>
            <set-header name="X-Test-Redirect" exists-action="override"><value>/final</value></set-header></http-request>
            <backend><forward-request timeout="5" follow-redirects="true" buffer-response="false" /></backend>
            </http-data-source>""",
    }
    with Backend() as backend, run_gateway(tmp_path / "ok", config, files, backend=backend) as gateway:
        status, result, _ = post(gateway, '{ user(id: "5") { path } broken { path } rebased { path } }')
        assert (status, result) == (200, {"data": {"user": {"path": "Bearer fixed-token"},  # fragment + token
                                                   "broken": {"path": "/broken"},  # a 404 answer is the value
                                                   "rebased": {"path": "/final"}}})  # the redirect was followed
    files["user.xml"] = files["user.xml"].replace('fragment-id="auth-header"', 'fragment-id="limited"')
    with pytest.raises(PolicyLoadError) as failure:
        with run_gateway(tmp_path / "bad", {**config, "named-values": {"backend-url": Backend.unused_url()}}, files):
            pass
    assert [(d.code, d.message, d.span.file.endswith("frag-limit.xml")) for d in failure.value.diagnostics] == [
        ("policy-unknown-child", "<rate-limit> (from a policy fragment) is not allowed inside <http-request>", True)]
