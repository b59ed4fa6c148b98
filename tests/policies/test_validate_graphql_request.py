"""validate-graphql-request through the real gateway in front of a real echo backend (standing in for a GraphQL server)."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.policies.support import codes

POLICY = """<policies><inbound><base />
  <validate-graphql-request error-variable-name="gql-errors" max-size="2000" max-depth="3">
    <authorize>
      <rule path="/__*" action="reject" />
      <rule path="/Mutation/deleteUser" action="@(context.Request.Headers.GetValueOrDefault(&quot;X-Role&quot;, &quot;&quot;) == &quot;admin&quot; ? &quot;allow&quot; : &quot;reject&quot;)" />
      <rule path="/secrets" action="remove" />
      <rule path="/Query/users" action="ignore" />
    </authorize>
  </validate-graphql-request>
  <set-header name="X-Errors" exists-action="override"><value>@(context.Variables.ContainsKey("gql-errors") ? string.Join("|", (IEnumerable&lt;string&gt;)context.Variables["gql-errors"]) : "")</value></set-header>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""


def post(gw, query: str, headers: dict[str, str] | None = None):  # noqa: ANN001, ANN201
    return gw.request("POST", "/echo/graphql", body=json.dumps({"query": query, "variables": {"a": 1}}).encode(),
                      headers={"Content-Type": "application/json", **(headers or {})})


class TestSchema:
    def test_rules(self) -> None:
        assert codes('<validate-graphql-request max-size="100" />') == []
        assert codes('<validate-graphql-request max-size="200000" />') == ["policy-bad-value"]
        rule = '<validate-graphql-request max-size="100"><authorize><rule path="{}" action="reject" /></authorize></validate-graphql-request>'
        for path in ("/User/email", "/Query/users/email", "/users", "/__*"):
            assert codes(rule.format(path)) == [], path
        for path in ("User.email", "/User/", "/__schema*", "Query/users"):
            assert codes(rule.format(path)) == ["policy-bad-value"], path


def test_valid_queries_pass(api_gateway, backend) -> None:
    with api_gateway(POLICY) as gw:
        answer = post(gw, "query { users { name friends { name } } }")
        fetched = gw.get("/echo/graphql?query=" + quote("{ users { name } }"))
        deletion = post(gw, "mutation { deleteUser(id: 1) }", {"X-Role": "admin"})
    sent = json.loads(answer.json()["body"])
    assert answer.status == 200 and sent == {"query": "query { users { name friends { name } } }", "variables": {"a": 1}}
    assert fetched.status == 200 and deletion.status == 200 and len(backend.requests) == 3


def test_request_errors_never_reach_the_backend(api_gateway, backend) -> None:
    with api_gateway(POLICY) as gw:
        deep = post(gw, "{ users { friends { friends { name } } } }")
        broken = post(gw, "{ users { name }")
        introspection = post(gw, "{ users { name __typename } }")
        denied = post(gw, "mutation { deleteUser(id: 1) }")
        large = post(gw, "{ users { " + "name " * 500 + "} }")
        cyclic = post(gw, "{ ...A } fragment A on Query { ...A }")
    assert [a.status for a in (deep, broken, introspection, denied, large, cyclic)] == [200] * 6
    assert deep.json() == {"errors": [{"message": "The query depth 4 exceeds the maximum depth 3."}]}
    assert broken.json() == {"errors": [{"message": "Syntax Error: Expected Name, found <EOF>.",
                                         "locations": [{"line": 1, "column": 17}]}]}
    assert introspection.json()["errors"][0]["message"] == "Access to '/Query/users/__typename' is not allowed."
    assert denied.json()["errors"][0]["message"] == "Access to '/Mutation/deleteUser' is not allowed."
    assert large.json()["errors"][0]["message"] == "The request is larger than 2000 bytes."
    assert "spreads itself" in cyclic.json()["errors"][0]["message"]
    assert "data" not in deep.json() and not backend.requests


def test_remove_takes_the_field_out(api_gateway, backend) -> None:
    with api_gateway(POLICY) as gw:
        answer = post(gw, "{ users { name } secrets { key } }")
    sent = json.loads(answer.json()["body"])
    assert sent["query"] == "{\n  users {\n    name\n  }\n}" and sent["variables"] == {"a": 1}
    assert answer.json()["headers"]["x-errors"] == "The field '/Query/secrets' was removed: access is not allowed."
