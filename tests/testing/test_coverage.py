"""Policy coverage: the samples reach 100% with their own tests; misses are located; HTML marks lines."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from engine.cli import main
from engine.testing.coverage import Coverage
from engine.testing.runner import Runner

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

DOCUMENT = """<policies>
    <inbound>
        <choose>
            <when condition="@(context.Request.Method == &quot;POST&quot;)">
                <set-header name="X-Kind" exists-action="override"><value>post</value></set-header>
            </when>
            <when condition="@(context.Request.Headers.ContainsKey(&quot;X-Probe&quot;))">
                <choose>
                    <when condition="true"><set-variable name="probe" value="yes" /></when>
                </choose>
            </when>
            <otherwise>
                <set-header name="X-Kind" exists-action="override"><value>@(context.Request.Method)</value></set-header>
            </otherwise>
        </choose>
        <choose>
            <when condition="@(context.Request.Url.Path == &quot;/never&quot;)">
                <return-response><set-status code="418" /></return-response>
            </when>
        </choose>
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>
"""

TESTS = """documents: { operation: op.xml }
cases:
  - name: get
    request: GET /x
    expect: { status: 200 }
  - name: probe
    request: { url: /x, headers: { X-Probe: "1" } }
    expect: { status: 200, variables: { probe: "yes" } }
"""


async def test_the_samples_are_fully_covered_by_their_own_tests() -> None:
    coverage = Coverage()
    result = await Runner(observer=coverage).run_paths([SAMPLES / "demo", SAMPLES / "apiops"])
    assert result.exit_code == 0
    totals = coverage.totals()
    assert totals["policy"][1] > 30 and totals["branch"][1] >= 4 and totals["expression"][1] >= 15
    assert list(coverage.missed()) == [], coverage.render_text()
    documents = {Path(path).relative_to(SAMPLES).as_posix() for path in coverage.documents}
    assert {"demo/policies/get-pet.xml", "demo/policies/fragments/error-body.xml",
            "apiops/policy fragments/correlation-id/policy.xml"} <= documents


def test_misses_are_located_and_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "op.xml").write_text(DOCUMENT, encoding="utf-8")
    (tmp_path / "op.policytest.yaml").write_text(TESTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["test", ".", "--coverage", "--coverage-html", "html", "--coverage-xml", "cobertura.xml"]) == 0
    out = capsys.readouterr().out
    assert "op.xml  6/8 (75%)      4/7 (57%)      4/4 (100%)" in out, out
    assert out[out.index("Not covered:"):].splitlines()[1:-1] == [
        "  op.xml:4:14: branch never taken: <when> 1",  # no POST was sent
        "  op.xml:5:18: policy never ran: <set-header>",
        "  op.xml:8:18: branch never taken: no when matched",  # its only condition is constant true
        "  op.xml:17:14: branch never taken: <when> 1",
        "  op.xml:18:18: policy never ran: <return-response>",
    ]
    page = (tmp_path / "html" / "doc1.html").read_text()
    assert '<tr class="hit"><td class="n">13</td>' in page  # otherwise's set-header and its expression ran
    assert '<tr class="miss"><td class="n">18</td>' in page  # return-response never ran
    assert '<tr class="part"><td class="n">17</td>' in page  # the condition ran, its branch was never taken
    assert "op.xml" in (tmp_path / "html" / "index.html").read_text()
    cobertura = ElementTree.parse(tmp_path / "cobertura.xml").getroot()
    assert (cobertura.get("branches-covered"), cobertura.get("branches-valid")) == ("4", "7")
    lines = {line.get("number"): line.attrib for line in cobertura.iter("line")}
    assert lines["18"]["hits"] == "0" and lines["13"]["hits"] == "1"
    assert lines["17"]["condition-coverage"] == "0% (0/1)" and lines["12"]["condition-coverage"] == "100% (1/1)"


RESOLVER = """<http-data-source>
    <http-request>
        <set-method>GET</set-method>
        <set-url>@($"https://people.test/users/{context.GraphQL.Arguments["id"]}")</set-url>
    </http-request>
    <http-response>
        <choose>
            <when condition="@(context.Response.StatusCode == 204)"><set-body>{}</set-body></when>
        </choose>
    </http-response>
</http-data-source>
"""

GRAPHQL_TESTS = """config: ..
cases:
  - name: a field resolved by its data source
    request: { method: POST, url: /people, json: { query: '{ user(id: "7") { name } }' } }
    targets: { "https://people.test/users/": { status: 200, json: { name: Ada } } }
    expect: { status: 200, json: { data: { user: { name: Ada } } } }
"""


def test_resolver_documents_are_covered(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    api = tmp_path / "apis" / "people"
    (api / "resolvers" / "user").mkdir(parents=True)
    (api / "apiInformation.json").write_text('{"properties": {"path": "people", "type": "graphql", '
                                             '"subscriptionRequired": false}}')
    (api / "specification.graphql").write_text("type Query { user(id: ID!): User }\ntype User { name: String }\n")
    (api / "resolvers" / "user" / "resolverInformation.json").write_text('{"properties": {"path": "Query/user"}}')
    (api / "resolvers" / "user" / "policy.xml").write_text(RESOLVER)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "people.policytest.yaml").write_text(GRAPHQL_TESTS)
    monkeypatch.chdir(tmp_path)
    assert main(["test", "tests", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "apis/people/resolvers/user/policy.xml  2/3 (66%)" in out, out  # the resolver document is listed
    assert "user/policy.xml:8:70: policy never ran: <set-body>" in out, out
