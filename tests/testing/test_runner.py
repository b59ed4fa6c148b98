"""`policygate test`: located failures with diffs, JUnit XML, exit codes, bad files, every expectation kind."""

from __future__ import annotations

import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest

from engine.cli import main
from tests.testing.chain import write_chain

DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo" / "gateway.yaml"

CHAIN_TESTS = """
documents: { global: global.xml, api: api.xml, operation: operation.xml }
fragments: { stamp: stamp.xml }
named-values: { tenant: contoso }
cases:
  - name: everything a case can state
    clock: 2026-01-31T12:00:00Z
    variables: { who: bob }
    targets: { "https://profiles.test/": { json: { name: alice } } }
    steps:
      - request: GET /hi?x=1
        backend: { body: hello }
        expect:
          status: 200
          body: hello
          headers: { X-Day: "2026-01-31", Date: "Sat, 31 Jan 2026 12:00:00 GMT" }
          backend: { url: "http://backend.test/hi?x=1", headers: { X-Tenant: contoso, X-Profile-Status: "200" } }
          targets: { "https://profiles.test/users/": { calls: 1, method: GET } }
          variables: { day: "2026-01-31", profile: { status: 200, body: { contains: alice } } }
          cache: { greeting-bob: hello, greeting-eve: null }
          metrics: { 'policygate_custom_greetings_total{who="bob",namespace="tests"}': 1 }
          traces: ["day 2026-01-31", { source: chain, severity: information }]
          last-error: null
      - request: GET /hi
        expect: { body: hello, backend: false }
  - name: a seeded cache entry answers, an unscripted target is a connection failure
    cache: { greeting-ann: from the cache }
    variables: { who: ann }
    request: GET /hi
    expect: { body: from the cache, backend: false }
  - name: a profile service that fails is ignored
    variables: { who: cid }
    targets: { "https://profiles.test/": { fail: connection } }
    request: GET /hi
    expect: { backend: { headers: { X-Profile-Status: none } } }
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_expectation_kind_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_chain(tmp_path)
    write(tmp_path, "chain.policytest.yaml", CHAIN_TESTS)
    assert main(["test", str(tmp_path)]) == 0, capsys.readouterr().out
    assert "3 passed in 1 file" in capsys.readouterr().out
    assert main(["test", str(tmp_path), "-k", "SEEDED", "-v"]) == 0
    out = capsys.readouterr().out
    assert "ok    a seeded cache entry answers" in out and "1 passed in 1 file" in out
    assert main(["test", str(tmp_path), "-k", "nothing like this"]) == 2


def test_failures_are_located_with_diffs_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tests = write(tmp_path, "demo.policytest.yaml", f"""config: {DEMO}
cases:
  - name: passes
    request: GET /petstore/toys
    expect: {{ status: 200 }}
  - name: wrong
    request: GET /petstore/pets/2
    backend: {{ json: {{ id: 2, name: Tom, owner: {{ name: A, email: a@b }} }} }}
    expect:
      status: 201
      json: {{ id: 3, owner: {{ name: A }} }}
      backend: {{ path: /pets/3, called: true, requests: [{{ path: /pets/2 }}, {{ method: GET }}] }}
      last-error: {{ reason: Timeout }}
      headers: {{ X-Powered-By: [policygate, again] }}
""")
    junit = tmp_path / "out" / "junit.xml"
    junit.parent.mkdir()
    assert main(["test", str(tests), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  wrong  ({tests}:6:5)" in out
    assert f"{tests}:10:7: response status\n      expected: 201\n      actual:   200" in out
    assert f"{tests}:11:7: response JSON (fragment)" in out
    assert '-  "id": 3,\n      +  "id": 2,' in out  # the diff shows only the keys the fragment names
    assert "servedBy" not in out
    assert f"{tests}:12:18: backend request path" in out
    assert f"{tests}:12:79: backend request 2\n      expected: a request\n      actual:   backend was called 1 time" in out
    assert "backend request 1 path" not in out  # the first call did go to /pets/2
    assert f"{tests}:13:7: context.LastError" in out
    assert f'{tests}:14:7: response header X-Powered-By values\n      expected: ["policygate", "again"]\n      actual:   ["policygate"]' in out
    assert "1 passed, 1 failed in 1 file" in out
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [(case.get("name"), case.get("line")) for case in failed] == [("wrong", "6")]
    assert failed[0].find("failure").get("message") == "response status: expected 201, got 200"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("cases: [\n  {name: a", "2:11", "invalid YAML"),
        ("cases:\n  - name: a\n    request: GET /\n", "2:5", "name a config or documents"),
        ("config: nowhere.yaml\ncases: []\n", "1:1", "config: "),
        (f"config: {DEMO}\ncases:\n  - name: a\n    request: {{ url: /, methd: GET }}\n", "4:24", "unknown key 'methd'"),
        (f"config: {DEMO}\ncases:\n  - name: a\n    request: GET /\n    backend: {{ status: 700 }}\n", "5:16", "expected 100-599"),
        (f"config: {DEMO}\ncases:\n  - name: a\n    clock: yesterday\n    request: GET /\n", "4:5", "ISO 8601"),
        (f"config: {DEMO}\ncases:\n  - name: a\n    request: GET /\n  - name: a\n    request: GET /\n", "5:5", "used twice"),
    ],
)
def test_bad_test_files_are_located_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, location: str, message: str
) -> None:
    path = write(tmp_path, "bad.policytest.yaml", text)
    assert main(["test", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:{location}: error[" in out and message in out, out
    assert "Traceback" not in out


def test_documents_that_do_not_load_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "op.xml", "<policies><inbound><set-header /></inbound></policies>")
    path = write(tmp_path, "op.policytest.yaml", "documents: { operation: op.xml }\ncases:\n  - name: a\n    request: GET /\n")
    assert main(["test", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"ERROR  a  ({path}:3:5)" in out
    assert f"{tmp_path / 'op.xml'}:1:" in out and "error[" in out


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(tmp_path / "missing")]) == 2
    assert main(["test", str(tmp_path)]) == 2  # no test files
    assert "no *.policytest.yaml files" in capsys.readouterr().err


async def test_cases_can_run_on_redis(tmp_path: Path, redis_url: str) -> None:
    from engine.testing.runner import Runner

    path = write(tmp_path, "redis.policytest.yaml", f"""config: {DEMO}
redis: true
cases:
  - name: counters and cache entries live in Redis
    backend: {{ json: {{ id: 1 }} }}
    steps:
      - request: {{ url: /petstore/pets/1, subscription-key: demo-key }}
        expect: {{ status: 200, rate-limits: [{{ counter-key: demo-subscription, calls: 3, renewal-period: 30, remaining: 2 }}] }}
      - request: GET /petstore/pets
        expect: {{ status: 200 }}
      - request: GET /petstore/pets
        expect: {{ status: 200, backend: false, headers: {{ Age: {{ matches: "^[0-9]+$" }} }} }}
""")
    result = await Runner(redis_url=redis_url).run_paths([path])
    assert result.exit_code == 0, [f.render() for c in result.cases() for f in c.failures] or [c.error for c in result.cases()]



async def test_without_redis_true_the_configurations_redis_is_never_touched(tmp_path: Path, redis_url: str) -> None:
    """A gateway.yaml names its (production) Redis; a case that does not ask for Redis keeps its
    counters and cache entries in the test process, on the test clock."""
    import redis.asyncio as aioredis

    from engine.testing.runner import Runner

    marker = uuid.uuid4().hex
    write(tmp_path, "api.xml", f"""<policies>
    <inbound>
        <rate-limit-by-key calls="1" renewal-period="60" counter-key="{marker}" />
        <cache-store-value key="{marker}" value="seen" duration="600" />
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
</policies>""")
    write(tmp_path, "gateway.yaml", f"""cache: {{ external: "{redis_url}" }}
rate-limits: {{ external: "{redis_url}", store: external }}
apis: {{ a: {{ path: a, service-url: "http://backend.test", subscription-required: false, policy: api.xml }} }}
""")
    path = write(tmp_path, "local.policytest.yaml", f"""config: gateway.yaml
cases:
  - name: counters follow the test clock
    steps:
      - {{ request: GET /a/x, expect: {{ status: 200, cache: {{ {marker}: seen }} }} }}
      - {{ request: GET /a/x, expect: {{ status: 429 }} }}
      - {{ request: GET /a/x, advance: 61s, expect: {{ status: 200 }} }}
""")
    result = await Runner().run_paths([path])
    assert result.exit_code == 0, [f.render() for c in result.cases() for f in c.failures] or [c.error for c in result.cases()]
    client = aioredis.from_url(redis_url)
    try:
        assert [key async for key in client.scan_iter(match=f"*{marker}*")] == []
    finally:
        await client.aclose()

PRODUCT = """<policies>
    <inbound>
        <base />
        <set-header name="X-Caller" exists-action="override">
            <value>@(context.Subscription.Id + "/" + context.User.Email + "/" + context.Product.Name + "/" + context.User.Groups.First().Id)</value>
        </set-header>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""


def test_document_chains_have_an_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "product.xml", PRODUCT)
    path = write(tmp_path, "p.policytest.yaml", """documents: { product: product.xml }
identity:
  subscription: { id: alice-starter }
  user: { id: alice, email: alice@example.com, groups: [developers] }
  product: { id: starter, name: Starter }
cases:
  - name: the product's policy sees who calls
    request: GET /
    expect: { backend: { headers: { X-Caller: alice-starter/alice@example.com/Starter/developers } } }
  - name: without a key the product does not apply
    request: { url: /, subscription-key: "" }
    expect: { backend: { headers: { X-Caller: null } } }
""")
    assert main(["test", str(path)]) == 0, capsys.readouterr().out


def test_the_scripted_backend_refuses_what_the_real_client_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "op.xml", """<policies>
    <inbound><set-header name="X-Bad" exists-action="override"><value>@("a\\r\\nb")</value></set-header></inbound>
    <backend><forward-request /></backend><outbound /><on-error />
</policies>""")
    path = write(tmp_path, "op.policytest.yaml", """documents: { operation: op.xml }
cases:
  - name: a policy-made CR/LF header never reaches the backend
    request: GET /
    expect: { status: 500, backend: false, last-error: { reason: InvalidHeaderValue } }
""")
    assert main(["test", str(path)]) == 0, capsys.readouterr().out
