"""`policygate eval` with a context: options and a `--context` file reach every `context.*` member."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main

CONTEXT = """\
api: {Name: Orders, Id: orders, Path: orders, ServiceUrl: "https://backend.example/v1"}
operation: {name: GetOrder, method: GET, UrlTemplate: "/orders/{id}"}
product: {name: Starter, groups: [developers]}
subscription: {key: k-1, name: Primary, primary_key: k-1}
user: {email: bob@example.com, first_name: Bob, groups: [admins, {id: g2, name: Guests}]}
request:
  url: "https://api.example/orders/42?x=1"
  headers: {X-A: [1, 2]}
  body: {a: 1}
  matched_parameters: {id: "42"}
variables: {n: 5, s: hello}
response: {status_code: 404, headers: {Content-Type: application/json}, body: '{"err": true}'}
deployment: {region: West Europe, gateway: {id: gw1, is_managed: false}}
last_error: {source: rate-limit, reason: RateLimitExceeded}
"""


def _eval(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["eval", *argv])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


@pytest.fixture
def context_file(tmp_path: Path) -> str:
    path = tmp_path / "context.yaml"
    path.write_text(CONTEXT)
    return str(path)


@pytest.mark.parametrize(("expression", "printed"), [
    ("context.Api.Name + context.Api.Path + context.Api.ServiceUrl.Host", "Ordersordersbackend.example (System.String)"),
    ("context.Operation.Name + context.Operation.UrlTemplate", "GetOrder/orders/{id} (System.String)"),
    ("context.Product.Name + context.Product.Groups.First().Name", "Starterdevelopers (System.String)"),
    ("context.Subscription.Key + context.Subscription.Name", "k-1Primary (System.String)"),
    ('string.Join(",", context.User.Groups.Select(g => g.Name))', "admins,Guests (System.String)"),
    ('context.Request.MatchedParameters["id"] + context.Request.Url.Path', "42/orders/42 (System.String)"),
    ('context.Request.Headers.GetValueOrDefault("X-A")', "1,2 (System.String)"),
    ('(int)context.Request.Body.As<JObject>()["a"] + (int)context.Variables["n"]', "6 (System.Int32)"),
    ('context.Response.StatusCode + ":" + context.Response.Body.As<JObject>()["err"]', "404:True (System.String)"),
    ("context.Deployment.Gateway.Id + context.Deployment.Region", "gw1West Europe (System.String)"),
    ("context.LastError.Reason", "RateLimitExceeded (System.String)"),
])
def test_context_file(capsys: pytest.CaptureFixture[str], context_file: str, expression: str, printed: str) -> None:
    assert _eval(capsys, expression, "--context", context_file) == (0, printed, "")


def test_options_win_over_the_file(capsys: pytest.CaptureFixture[str], context_file: str) -> None:
    code, out, _ = _eval(capsys, "context.Product.Name + context.User.Email + context.Response.StatusCode",
                         "--context", context_file, "--product", "Gold", "--user", "eve@x", "--status", "201")
    assert (code, out) == (0, "Goldeve@x201 (System.String)")
    code, out, _ = _eval(capsys, 'context.User.Groups.Count() + context.Request.MatchedParameters["k"]',
                         "--group", "a", "--group", "b", "--param", "k=v")
    assert (code, out) == (0, "2v (System.String)")


def test_defaults_describe_the_synthetic_request(capsys: pytest.CaptureFixture[str]) -> None:
    assert _eval(capsys, "context.Api.Name + context.Operation.Method") == (0, "evalGET (System.String)", "")
    assert _eval(capsys, "context.Product == null && context.User == null") == (0, "True (System.Boolean)", "")


def test_enum_values_print_their_enum_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert _eval(capsys, "JTokenType.Object")[1] == "Object (Newtonsoft.Json.Linq.JTokenType)"
    assert _eval(capsys, "RegexOptions.IgnoreCase | RegexOptions.Multiline")[1] == (
        "IgnoreCase, Multiline (System.Text.RegularExpressions.RegexOptions)")


def test_bad_context_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("api: {Nmae: x}\n")
    code, _, err = _eval(capsys, "1", "--context", str(bad))
    assert code == 2 and "unknown member 'Nmae'" in err
    bad.write_text("colors: [1]\n")
    code, _, err = _eval(capsys, "1", "--context", str(bad))
    assert code == 2 and "unknown section(s) colors" in err
