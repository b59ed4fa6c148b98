"""Pass-through GraphQL APIs: the real gateway forwards GraphQL requests to a real GraphQL server
(tests/support/graphql_server.py, its own process) with the API's policies around them, and
validate-graphql-request checks them against the API's schema (specification.graphql)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from engine.gateway.apiops import read_apiops
from tests.apiops.helpers import serve_settings, write_json, write_text
from tests.support.control import ControlledServer
from tests.support.gateway import RunningGateway, run_gateway
from tests.support.graphql_server import SCHEMA

API_POLICY = """<policies>
    <inbound>
        <base />
        <set-header name="X-From-Gateway" exists-action="override"><value>@(context.Api.Id)</value></set-header>
        <validate-graphql-request error-variable-name="gql" max-size="4096" max-depth="4">
            <authorize>
                <rule path="/__*" action="@(context.Request.Headers.GetValueOrDefault(&quot;X-Debug&quot;, &quot;&quot;) == &quot;1&quot; ? &quot;allow&quot; : &quot;reject&quot;)" />
                <rule path="/User/email" action="remove" />
                <rule path="/Query/user/email" action="allow" />
                <rule path="/Mutation/deleteUser" action="@(context.Request.Headers.GetValueOrDefault(&quot;X-Role&quot;, &quot;&quot;) == &quot;admin&quot; ? &quot;allow&quot; : &quot;deny&quot;)" />
                <rule path="/Query/headers" action="ignore" />
                <rule path="/headers" action="reject" />
                <rule path="/echo" action="remove" />
            </authorize>
        </validate-graphql-request>
    </inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <set-header name="X-Backend-Status" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>
        <set-header name="X-Errors" exists-action="override">
            <value>@(context.Variables.ContainsKey("GraphQLErrors") ? string.Join("|", (IEnumerable<string>)context.Variables["GraphQLErrors"]) : "")</value>
        </set-header>
    </outbound>
    <on-error><base /></on-error>
</policies>
"""


class GraphQLServer(ControlledServer):
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def requests(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.calls()["requests"]
        return found


@pytest.fixture(scope="module")
def graphql_server() -> Iterator[GraphQLServer]:
    process = subprocess.Popen([sys.executable, "-m", "tests.support.graphql_server"],
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield GraphQLServer(int(process.stdout.readline()))
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def server(graphql_server: GraphQLServer) -> GraphQLServer:
    graphql_server.control()  # forget earlier calls
    return graphql_server


def api_folder(root: Path, service_url: str, policy: str | None = API_POLICY, schema: str | None = SCHEMA,
               api: str = "people") -> Path:
    folder = root / "apis" / api
    write_json(folder / "apiInformation.json", {"properties": {
        "displayName": api, "path": api, "type": "graphql", "serviceUrl": service_url, "subscriptionRequired": False}})
    if schema is not None:
        write_text(folder / "specification.graphql", schema)
    if policy is not None:
        write_text(folder / "policy.xml", policy)
    return root


@pytest.fixture(scope="module")
def gateway(graphql_server: GraphQLServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    root = tmp_path_factory.mktemp("passthrough")
    api_folder(root, f"{graphql_server.url}/graphql")
    api_folder(root, f"{graphql_server.url}/graphql", policy=None, schema=None, api="bare")
    api_folder(root, f"{graphql_server.url}/graphql", schema=None, api="noschema")
    with serve_settings(read_apiops(root, {}).settings, root) as running:
        yield running


def post(gateway: RunningGateway, query: str, api: str = "people", headers: dict[str, str] | None = None,
         **extra: Any) -> Any:
    body = json.dumps({"query": query, "variables": {}, **extra}).encode()
    return gateway.request("POST", f"/{api}", headers={"Content-Type": "application/json", **(headers or {})}, body=body)


def sent_queries(server: GraphQLServer) -> list[str]:
    return [json.loads(r["body"])["query"] for r in server.requests()]


def test_post_is_forwarded_unchanged_to_the_service_url(gateway: RunningGateway, server: GraphQLServer) -> None:
    body = json.dumps({"query": "query Who($id: ID!) { user(id: $id) { name } }", "variables": {"id": "1"},
                       "operationName": "Who"}).encode()
    answer = gateway.request("POST", "/people", headers={"Content-Type": "application/json"}, body=body)
    assert answer.status == 200 and answer.json() == {"data": {"user": {"name": "Ada"}}}
    assert answer.headers.get("X-Backend-Status") == "200"  # the API's outbound ran on the backend's answer
    [sent] = server.requests()
    assert (sent["method"], sent["path"]) == ("POST", "/graphql")  # the service URL itself: no trailing "/"
    assert sent["body"] == body.decode() and sent["headers"]["x-from-gateway"] == "people"


def test_get_with_query_is_forwarded(gateway: RunningGateway, server: GraphQLServer) -> None:
    answer = gateway.get("/people?query=" + quote('{ user(id: "2") { name } }'))
    assert answer.status == 200 and answer.json() == {"data": {"user": {"name": "Alan"}}}
    [sent] = server.requests()
    assert (sent["method"], sent["path"], sent["query"]) == ("GET", "/graphql", "query=" + quote('{ user(id: "2") { name } }'))


def test_without_schema_or_policy_the_backend_judges_the_query(gateway: RunningGateway, server: GraphQLServer) -> None:
    answer = post(gateway, "{ nope }", api="bare")
    assert answer.status == 400 and "Cannot query field 'nope'" in answer.json()["errors"][0]["message"]
    assert post(gateway, "{ users { name } }", api="bare").json() == {"data": {"users": [{"name": "Ada"}, {"name": "Alan"}]}}
    assert [r["path"] for r in server.requests()] == ["/graphql", "/graphql"]


def test_other_methods_match_no_operation(gateway: RunningGateway, server: GraphQLServer) -> None:
    assert gateway.request("DELETE", "/people").status == 404
    assert server.requests() == []


def test_gateway_yaml_pass_through_api(tmp_path: Path, server: GraphQLServer) -> None:
    write_text(tmp_path / "people.graphql", SCHEMA)
    config = {"apis": {"people": {"path": "people", "service-url": f"{server.url}/graphql", "subscription-required": False,
                                  "graphql": {"schema": "people.graphql"}},
                       "bare": {"path": "bare", "service-url": f"{server.url}/graphql", "subscription-required": False,
                                "graphql": {}}}}
    with run_gateway(tmp_path, config) as gw:
        answers = [post(gw, "{ users { email } }", api=api) for api in ("people", "bare")]
    assert [a.status for a in answers] == [200, 200]
    assert answers[0].json()["data"]["users"][0] == {"email": "ada@example.org"}
    assert [r["path"] for r in server.requests()] == ["/graphql", "/graphql"]


# validate-graphql-request against the API's schema (specification.graphql)


def test_a_valid_query_is_forwarded_unchanged(gateway: RunningGateway, server: GraphQLServer) -> None:
    answer = post(gateway, "{ users { name friends { name } } }")
    assert answer.status == 200 and answer.json()["data"]["users"][0] == {"name": "Ada", "friends": [{"name": "Alan"}]}
    assert sent_queries(server) == ["{ users { name friends { name } } }"] and answer.headers.get("X-Errors") == ""


def test_queries_invalid_against_the_schema_are_request_errors(gateway: RunningGateway, server: GraphQLServer) -> None:
    field = post(gateway, "{ users { nickname } }")
    argument = post(gateway, '{ user(id: "1", x: 2) { name } }')
    fragment = post(gateway, "{ users { ...F } } fragment F on Nobody { name }")
    strict = post(gateway, "{ users { nickname } }", headers={"Accept": "application/graphql-response+json"})
    assert [a.status for a in (field, argument, fragment, strict)] == [200, 200, 200, 400]
    assert field.json() == {"errors": [{"message": "Cannot query field 'nickname' on type 'User'. Did you mean 'name'?",
                                        "locations": [{"line": 1, "column": 11}]}]}
    assert argument.json()["errors"][0]["message"] == "Unknown argument 'x' on field 'Query.user'."
    assert "Unknown type 'Nobody'." in [e["message"] for e in fragment.json()["errors"]]
    assert strict.json() == field.json() and "data" not in strict.json()
    assert server.requests() == []  # none reached the backend


def test_remove_takes_fields_of_a_type_out_wherever_they_are(gateway: RunningGateway, server: GraphQLServer) -> None:
    answer = post(gateway, '{ users { name email friends { email } } user(id: "1") { email } }')
    assert answer.status == 200
    assert answer.json()["data"] == {"users": [{"name": "Ada"}, {"name": "Alan"}],  # `friends` was left empty: gone too
                                     "user": {"email": "ada@example.org"}}  # the more specific path rule allows it
    assert answer.json()["errors"] == [  # the backend's answer gets a field error per removed field
        {"message": "The field '/Query/users/email' was removed: access is not allowed.", "path": ["users", "email"]},
        {"message": "The field '/Query/users/friends/email' was removed: access is not allowed.",
         "path": ["users", "friends", "email"]}]
    assert sent_queries(server) == ['{\n  users {\n    name\n  }\n  user(id: "1") {\n    email\n  }\n}']
    assert answer.headers.get("X-Errors") == ("The field '/Query/users/email' was removed: access is not allowed.|"
                                             "The field '/Query/users/friends/email' was removed: access is not allowed.")


def test_remove_drops_emptied_selections_and_unused_variables(gateway: RunningGateway, server: GraphQLServer) -> None:
    answer = post(gateway, "query Q($t: String!) { echo(text: $t) users { name } }", variables={"t": "x"})
    assert answer.status == 200 and answer.json() == {"data": {"users": [{"name": "Ada"}, {"name": "Alan"}]}, "errors": [
        {"message": "The field '/Query/echo' was removed: access is not allowed.", "path": ["echo"]}]}
    assert sent_queries(server) == ["query Q {\n  users {\n    name\n  }\n}"]  # the backend would refuse an unused $t
    fetched = gateway.get("/people?query=" + quote("{ users { email } echo(text: \"y\") }"))
    assert fetched.json() == {"errors": [{"message": "No field of the query is allowed."}]}
    assert len(server.requests()) == 1


def test_reject_rules_expressions_and_ignore(gateway: RunningGateway, server: GraphQLServer) -> None:
    denied = post(gateway, 'mutation { deleteUser(id: "1") }')
    allowed = post(gateway, 'mutation { deleteUser(id: "1") }', headers={"X-Role": "admin"})
    introspection = post(gateway, "{ users { __typename } }")
    debugging = post(gateway, "{ __schema { queryType { name } } }", headers={"X-Debug": "1"})
    ignored = post(gateway, "{ headers }")  # /Query/headers says ignore: the next rule, /headers, rejects
    deep = post(gateway, "{ users { friends { friends { friends { name } } } } }")
    assert denied.json() == {"errors": [{"message": "Access to '/Mutation/deleteUser' is not allowed."}]}
    assert allowed.json() == {"data": {"deleteUser": True}}
    assert introspection.json() == {"errors": [{"message": "Access to '/Query/users/__typename' is not allowed."}]}
    assert debugging.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert ignored.json() == {"errors": [{"message": "Access to '/Query/headers' is not allowed."}]}
    assert deep.json() == {"errors": [{"message": "The query depth 5 exceeds the maximum depth 4."}]}
    assert [json.loads(r["body"])["query"] for r in server.requests()] == [
        'mutation { deleteUser(id: "1") }', "{ __schema { queryType { name } } }"]


def test_without_a_schema_type_rules_fail_closed(gateway: RunningGateway, server: GraphQLServer) -> None:
    unknown_type = post(gateway, "{ users { email } }", api="noschema")
    root_only = post(gateway, "{ users { name } }", api="noschema")
    assert unknown_type.json() == {"errors": [{"message": "Access to '/Query/users/email' cannot be checked against "
                                               "the rule '/User/email': the API has no GraphQL schema."}]}
    assert root_only.status == 200 and root_only.json()["data"]["users"][0] == {"name": "Ada"}
    assert sent_queries(server) == ["{ users { name } }"]


def test_rules_naming_nothing_in_the_schema_stop_the_load(tmp_path: Path) -> None:
    from engine.errors import PolicyLoadError

    policy = API_POLICY.replace('path="/User/email"', 'path="/User/emial"').replace(
        'path="/Query/user/email"', 'path="/Query/users/friends/mail"').replace('path="/echo"', 'path="/ecko"')
    api_folder(tmp_path, "http://127.0.0.1:9/graphql", policy=policy)
    with pytest.raises(PolicyLoadError) as failure:
        with serve_settings(read_apiops(tmp_path, {}).settings, tmp_path):
            pass
    messages = [d.message for d in failure.value.diagnostics]
    assert any("'/User/emial'" in m and "type 'User' has no field 'emial'" in m for m in messages), messages
    assert any("'/Query/users/friends/mail'" in m and "type 'User' has no field 'mail'" in m for m in messages)
    assert any("'/ecko'" in m and "no root type has a field 'ecko'" in m for m in messages)
    assert len(messages) == 3  # /__*, /Mutation/deleteUser, /Query/headers, /headers name something


def test_global_and_product_rules_must_name_something_in_a_schema_they_apply_to(tmp_path: Path) -> None:
    from engine.errors import PolicyLoadError

    def rules(*paths: str) -> str:
        return ('<policies><inbound><validate-graphql-request max-size="4096"><authorize>'
                + "".join(f'<rule path="{path}" action="reject" />' for path in paths)
                + "</authorize></validate-graphql-request></inbound><backend><forward-request /></backend>"
                "<outbound /><on-error /></policies>")

    api_folder(tmp_path, "http://127.0.0.1:9/graphql", policy=None)
    api_folder(tmp_path, "http://127.0.0.1:9/graphql", policy=None, api="other",
               schema="type Query { orders: [String] }")
    write_text(tmp_path / "policy.xml", rules("/User/email", "/orders", "/User/emial"))  # global: both APIs
    write_json(tmp_path / "products" / "gold" / "productInformation.json", {"properties": {"state": "published"}})
    write_json(tmp_path / "products" / "gold" / "apis.json", ["other"])
    write_text(tmp_path / "products" / "gold" / "policy.xml", rules("/orders", "/users"))  # product: `other` only
    with pytest.raises(PolicyLoadError) as failure:
        with serve_settings(read_apiops(tmp_path, {}).settings, tmp_path):
            pass
    found = sorted((d.span.line, d.message) for d in failure.value.diagnostics)  # type: ignore[union-attr]
    assert [message for _, message in found] == [
        "rule path '/User/emial' names nothing in the GraphQL schema of any API it applies to: other: the schema "
        "has no object type 'User' (object types: Query); people: type 'User' has no field 'emial' (fields: id, "
        "name, email, friends)",
        "rule path '/users' names nothing in the API's GraphQL schema: no root type has a field 'users'"], found
