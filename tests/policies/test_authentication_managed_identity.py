"""authentication-managed-identity through the real gateway, against a real token server process
(tests/support/token_server.py: IMDS and OAuth 2.0 token endpoint) and a real echo backend."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConfigError, PolicyLoadError
from engine.gateway.config import parse_settings
from tests.policies.conftest import TOKEN_ASSERTION as ASSERTION
from tests.policies.conftest import TOKEN_SECRET as SECRET
from tests.policies.conftest import TokenServer
from tests.policies.support import codes, lint
from tests.support.gateway import Backend, run_gateway, simple_config

RESOURCE = "https://orders.example.com"

POLICY = f"""<policies>
    <inbound>
        <authentication-managed-identity resource="{RESOURCE}" />
    </inbound>
    <on-error>
        <return-response>
            <set-status code="502" reason="No token" />
            <set-body>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</set-body>
        </return-response>
    </on-error>
</policies>"""


def imds(server: TokenServer, **extra: Any) -> dict[str, Any]:
    return server.imds(**extra)


def test_imds_token_is_fetched_once_for_many_requests(tokens: TokenServer, tmp_path: Path) -> None:
    tokens.control(delay=0.5)  # concurrent first requests all wait for the one token request
    with Backend() as backend, run_gateway(tmp_path, simple_config(api_policy="api.xml", identity=imds(tokens)),
                                           {"api.xml": POLICY}, backend=backend) as gateway:
        def call(_: int) -> str:
            answer = gateway.request("GET", "/echo/orders", headers={"Authorization": "Bearer caller"})
            assert answer.status == 200, answer.text
            return str(answer.json()["headers"]["authorization"])

        with ThreadPoolExecutor(8) as pool:
            seen = set(pool.map(call, range(16)))
        seen.add(call(0))
    assert seen == {f"Bearer imds|{RESOURCE}||1"}
    calls = tokens.calls()
    assert calls["calls"] == 1
    (request,) = calls["requests"]
    assert request["headers"]["metadata"] == "true"
    assert request["query"] == {"api-version": "2018-02-01", "resource": RESOURCE}


def test_token_is_refreshed_ahead_of_expiry(tokens: TokenServer, tmp_path: Path) -> None:
    tokens.control(expires_in=6)  # refresh from 3 s before expiry; served until 0.6 s before it
    config = simple_config(api_policy="api.xml", identity=imds(tokens, **{"refresh-ahead": 3}))
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": POLICY}, backend=backend) as gateway:
        def token() -> str:
            answer = gateway.request("GET", "/echo/x")
            assert answer.status == 200, answer.text
            return str(answer.json()["headers"]["authorization"]).rsplit("|", 1)[1]

        assert token() == "1"
        time.sleep(3.3)
        assert token() == "1"  # still valid: served at once while one background request refreshes it
        tokens.wait_for_calls(2)
        # The token server has answered; the gateway stores the answer a moment later. Until then the old
        # token is still served (never an error, never a third fetch); the new one arrives well before the
        # old one stops being served (0.6 s before its expiry, 2.1 s from now).
        seen = [token()]
        deadline = time.monotonic() + 1.5
        while seen[-1] == "1" and time.monotonic() < deadline:
            time.sleep(0.02)
            seen.append(token())
        assert set(seen[:-1]) <= {"1"} and seen[-1] == "2", seen
        assert token() == "2"
    assert tokens.calls()["calls"] == 2


def test_failure_runs_on_error_and_is_not_cached(tokens: TokenServer, tmp_path: Path) -> None:
    tokens.control(fail=500)
    with Backend() as backend, run_gateway(tmp_path, simple_config(api_policy="api.xml", identity=imds(tokens)),
                                           {"api.xml": POLICY}, backend=backend) as gateway:
        answer = gateway.request("GET", "/echo/x")
        assert answer.status == 502
        source, reason, message = answer.text.split("|", 2)
        assert (source, reason) == ("authentication-managed-identity", "ManagedIdentityTokenFailure")
        assert message == (f"Failed to obtain a managed identity token for resource '{RESOURCE}': "
                           "the token endpoint answered 500: unknown: the identity is not available")
        assert backend.calls == 0
        tokens.control(fail=0)  # a failure is not cached: the next request asks again
        answer = gateway.request("GET", "/echo/x")
        assert answer.status == 200 and answer.json()["headers"]["authorization"].startswith("Bearer imds|")


def test_failure_without_on_error_is_a_500_that_leaks_nothing(tmp_path: Path) -> None:
    policy = f'<policies><inbound><authentication-managed-identity resource="{RESOURCE}" /></inbound></policies>'
    config = simple_config(api_policy="api.xml", identity={"provider": "imds", "endpoint": Backend.unused_url() + "/t",
                                                            "timeout": 2})
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": policy}, backend=backend) as gateway:
        answer = gateway.request("GET", "/echo/x")
        assert answer.status == 500
        assert answer.json() == {"statusCode": 500, "message": "Internal server error"}
        assert backend.calls == 0


def test_ignore_error_carries_on_with_an_empty_token(tokens: TokenServer, tmp_path: Path) -> None:
    tokens.control(fail=503)
    policy = POLICY.replace('" />', '" ignore-error="true" />', 1)
    with Backend() as backend, run_gateway(tmp_path, simple_config(api_policy="api.xml", identity=imds(tokens)),
                                           {"api.xml": policy}, backend=backend) as gateway:
        answer = gateway.request("GET", "/echo/x")
        assert answer.status == 200
        assert answer.json()["headers"]["authorization"].strip() == "Bearer"


CLIENT_POLICY = f"""<policies>
    <inbound>
        <authentication-managed-identity resource="{RESOURCE}/" output-token-variable-name="msi" />
        <set-header name="X-Token" exists-action="override"><value>@((string)context.Variables["msi"])</value></set-header>
        <send-request mode="new" response-variable-name="side" timeout="10">
            <set-url>{{{{backend-url}}}}/side</set-url>
            <authentication-managed-identity resource="api://inventory" />
        </send-request>
        <set-header name="X-Side-Authorization" exists-action="override">
            <value>@(((IResponse)context.Variables["side"]).Body.As&lt;JObject&gt;()["headers"]["authorization"].ToString())</value>
        </set-header>
    </inbound>
</policies>"""


def test_client_credentials_variable_and_send_request(tokens: TokenServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_CLIENT_SECRET", SECRET)
    identity = {"provider": "client-credentials", "token-endpoint": f"{tokens.url}/tenant-1/oauth2/v2.0/token",
                "client-id": "gateway-app", "client-secret": {"env": "TEST_CLIENT_SECRET"}}
    config = simple_config(api_policy="api.xml", identity=identity)
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": CLIENT_POLICY},
                                           backend=backend) as gateway:
        for _ in range(3):
            answer = gateway.request("GET", "/echo/x", headers={"Authorization": "Bearer caller"})
            assert answer.status == 200, answer.text
            headers = answer.json()["headers"]
            assert headers["authorization"] == "Bearer caller"  # output-token-variable-name: header untouched
            assert headers["x-token"] == f"oauth|{RESOURCE}/.default|gateway-app|1"
            assert headers["x-side-authorization"] == "Bearer oauth|api://inventory/.default|gateway-app|2"
    assert tokens.calls()["calls"] == 2


def test_workload_identity_exchanges_the_federated_token(tokens: TokenServer, tmp_path: Path) -> None:
    (tmp_path / "azure-identity-token").write_text(ASSERTION + "\n")
    identity = {"provider": "workload-identity", "authority": tokens.url + "/", "tenant-id": "tenant-1",
                "client-id": "wi-app", "token-file": "azure-identity-token"}
    with Backend() as backend, run_gateway(tmp_path, simple_config(api_policy="api.xml", identity=identity),
                                           {"api.xml": POLICY}, backend=backend) as gateway:
        answer = gateway.request("GET", "/echo/x")
        assert answer.json()["headers"]["authorization"] == f"Bearer oauth|{RESOURCE}/.default|wi-app|1"
    (request,) = tokens.calls()["requests"]
    assert request["path"] == "/tenant-1/oauth2/v2.0/token"
    assert request["form"]["client_assertion"] == ASSERTION


def test_static_token_and_missing_provider(tmp_path: Path) -> None:
    config = simple_config(api_policy="api.xml", identity={"provider": "static", "token": "local-dev"})
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": POLICY}, backend=backend) as gateway:
        assert gateway.request("GET", "/echo/x").json()["headers"]["authorization"] == "Bearer local-dev"
    with Backend() as backend, pytest.raises(PolicyLoadError) as error, \
            run_gateway(tmp_path / "none", simple_config(api_policy="api.xml"), {"api.xml": POLICY}, backend=backend):
        pass
    (problem,) = error.value.diagnostics
    assert (problem.code, Path(problem.span.file).name, problem.span.line) == ("gateway-settings-missing", "api.xml", 3)
    assert problem.message == "<authentication-managed-identity> needs `identity:` in the gateway configuration"


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("identity:\n  provider: vault\n", "gateway.yaml:2:13: identity.provider: 'vault' is not one of: imds, "),
    ("identity:\n  endpoint: http://x\n", "gateway.yaml:2:3: identity: needs provider: one of imds"),
    ("identity:\n  provider: imds\n  token: t\n", "gateway.yaml:3:3: identity.token: is not a setting of provider 'imds'"),
    ("identity:\n  provider: imds\n  endpoint: ftp://x\n", "gateway.yaml:3:13: identity.endpoint: 'ftp://x' is not an absolute"),
    ("identity:\n  provider: client-credentials\n  token-endpoint: http://t\n  client-id: a\n",
     "gateway.yaml:2:3: identity: provider 'client-credentials' needs client-secret"),
    ("identity:\n  provider: workload-identity\n  tenant-id: t\n  client-id: a\n  token-file: nope\n",
     "gateway.yaml:5:15: identity.token-file: file not found: nope"),
    ("identity:\n  provider: static\n  token: {env: NOT_SET_HERE}\n",
     "gateway.yaml:3:10: identity.token: environment variable NOT_SET_HERE is not set"),
])
def test_bad_configuration_is_located(tmp_path: Path, yaml_text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_settings(yaml_text, file=tmp_path / "gateway.yaml", environ={})
    assert str(error.value).removeprefix(str(tmp_path) + "/").startswith(message), str(error.value)


def test_lint_accepts_it_in_inbound_and_send_request() -> None:
    assert codes(f'<authentication-managed-identity resource="{RESOURCE}" client-id="abc" />') == []
    assert codes(f'<authentication-managed-identity resource="{RESOURCE}" />', section="outbound") == [
        "policy-not-allowed-in-section"]
    send = f'<send-request response-variable-name="r"><set-url>http://x</set-url>' \
           f'<authentication-managed-identity resource="{RESOURCE}" /></send-request>'
    assert [d.code for d in lint(send).sorted()] == []  # no policy-unsupported warning: the gateway runs it


def test_shared_tokens_serve_every_instance_from_one_request(tokens: TokenServer, tmp_path: Path,
                                                            redis_url: str) -> None:
    config = simple_config(api_policy="api.xml", cache={"external": redis_url},
                           identity=imds(tokens, shared=True))
    with Backend() as backend, \
            run_gateway(tmp_path / "a", config, {"api.xml": POLICY}, backend=backend) as first, \
            run_gateway(tmp_path / "b", config, {"api.xml": POLICY}, backend=backend) as second:
        for gateway in (first, second, first, second):
            answer = gateway.request("GET", "/echo/x")
            assert answer.json()["headers"]["authorization"] == f"Bearer imds|{RESOURCE}||1"
    assert tokens.calls()["calls"] == 1
