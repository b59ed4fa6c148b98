"""get-authorization-context through the real gateway, against a real OAuth 2.0 token endpoint process
(tests/support/oidc_server.py: client credentials and rotating refresh tokens)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConfigError, PolicyLoadError
from engine.gateway.config import parse_settings
from tests.support.gateway import Backend, RunningGateway, run_gateway, simple_config
from tests.support.oidc_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    INITIAL_REFRESH_TOKEN,
    TENANT_ID,
    OidcProvider,
    oidc_provider,
)

POLICY = """<policies><inbound>
    <get-authorization-context provider-id="oauth" context-variable-name="auth"
        authorization-id="@(context.Request.Headers.GetValueOrDefault(&quot;X-Connection&quot;, &quot;user&quot;))"
        ignore-error="@(context.Request.Headers.ContainsKey(&quot;X-Ignore&quot;))" />
    <set-header name="Authorization" exists-action="override">
        <value>@{ var auth = (Authorization)context.Variables["auth"]; return auth == null ? "none" : "Bearer " + auth.AccessToken; }</value>
    </set-header>
    <set-header name="X-Scope" exists-action="override">
        <value>@{ var auth = (Authorization)context.Variables["auth"]; return auth == null ? "none" : (string)auth.Claims.GetValueOrDefault("scope", "-"); }</value>
    </set-header>
</inbound>
<on-error>
    <return-response>
        <set-status code="500" reason="No token" />
        <set-body>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message)</set-body>
    </return-response>
</on-error></policies>"""


def credentials(provider: OidcProvider) -> dict[str, Any]:
    return {"refresh-ahead": 300, "providers": {"oauth": {
        "token-endpoint": f"{provider.url}/token", "client-id": CLIENT_ID, "client-secret": {"env": "TEST_CONNECTOR_SECRET"},
        "scopes": ["repo", "user:email"],
        "connections": {"user": {"grant": "refresh-token", "refresh-token": INITIAL_REFRESH_TOKEN},
                        "app": {"grant": "client-credentials",
                                "access-policies": [{"tenant-id": TENANT_ID, "object-id": "caller-1"}]},
                        "local": {"grant": "static", "access-token": "fixed-token"}}}}}


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    with oidc_provider() as running:
        yield running


@pytest.fixture
def gateway(provider: OidcProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    monkeypatch.setenv("TEST_CONNECTOR_SECRET", CLIENT_SECRET)
    config = simple_config(api_policy="api.xml", credentials=credentials(provider))
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": POLICY}, backend=backend) as running:
        yield running


def sent(gateway: RunningGateway, **headers: str) -> tuple[str, str]:
    answer = gateway.request("GET", "/echo/repos", headers=headers)
    assert answer.status == 200, answer.text
    return answer.json()["headers"]["authorization"], answer.json()["headers"]["x-scope"]


def test_connections_give_cached_tokens_to_expressions(provider: OidcProvider, gateway: RunningGateway) -> None:
    first, scope = sent(gateway)
    assert first.startswith("Bearer ey") and scope == "repo user:email"
    assert sent(gateway) == (first, scope)  # cached: one token request for both
    grants = provider.calls()["grants"]
    assert [(g["grant_type"], g.get("refresh_token")) for g in grants] == [("refresh_token", INITIAL_REFRESH_TOKEN)]
    app, _ = sent(gateway, **{"X-Connection": "app"})
    assert app.startswith("Bearer ey") and app != first
    assert provider.calls()["grants"][-1]["grant_type"] == "client_credentials"
    assert sent(gateway, **{"X-Connection": "local"}) == ("Bearer fixed-token", "-")


def test_rotated_refresh_token_is_used_for_the_next_token(provider: OidcProvider, gateway: RunningGateway) -> None:
    provider.control(expires_in=2)  # stale 0.2 s before expiry
    first, _ = sent(gateway)
    time.sleep(2)
    second, _ = sent(gateway)  # the provider accepts only the refresh token its last answer rotated to
    assert second != first
    assert [g["refresh_token"] for g in provider.calls()["grants"]] == [INITIAL_REFRESH_TOKEN, "refresh-2"]


def test_failures_go_to_on_error_or_are_ignored(provider: OidcProvider, gateway: RunningGateway) -> None:
    answer = gateway.request("GET", "/echo/x", headers={"X-Connection": "nobody"})
    assert answer.status == 500
    assert answer.text == ("get-authorization-context|AuthorizationContextFailure|Failed to get the authorization "
                           "context of connection 'nobody' of provider 'oauth': credential provider 'oauth' has "
                           "no connection 'nobody'")
    provider.control(fail=503)
    assert "the token endpoint answered 503: temporarily_unavailable" in gateway.request("GET", "/echo/x").text
    assert sent(gateway, **{"X-Ignore": "1"}) == ("none", "none")


CALLER_POLICY = POLICY.replace('context-variable-name="auth"', 'context-variable-name="auth" identity-type="jwt" '
                               'identity="@(context.Request.Headers.GetValueOrDefault(&quot;X-Identity&quot;, &quot;&quot;))"')


def identity(provider: OidcProvider, kid: str | None = None, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": f"{provider.url}/{TENANT_ID}/v2.0", "aud": "https://azure-api.net/authorization-manager",
              "tid": TENANT_ID, "oid": "caller-1", "iat": now, "exp": now + 600, **changes}
    return provider.sign({k: v for k, v in claims.items() if v is not None}, kid)


def test_jwt_identity_is_checked_against_the_connection_access_policies(
        provider: OidcProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_CONNECTOR_SECRET", CLIENT_SECRET)
    config = simple_config(api_policy="api.xml", credentials=credentials(provider))
    config["token-validation"] = {"entra-authority": provider.url}
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": CALLER_POLICY}, backend=backend) as gateway:
        def refused(token: str, connection: str = "app") -> str:
            answer = gateway.request("GET", "/echo/x", headers={"X-Identity": token, "X-Connection": connection})
            assert answer.status == 500
            source, reason, message = answer.text.split("|", 2)
            assert (source, reason) == ("get-authorization-context", "AuthorizationContextFailure")
            prefix = f"Failed to get the authorization context of connection '{connection}' of provider 'oauth': "
            assert message.startswith(prefix), message
            return message[len(prefix):]

        allowed, scope = sent(gateway, **{"X-Identity": identity(provider), "X-Connection": "app"})
        assert allowed.startswith("Bearer ey") and scope == "repo user:email"
        assert provider.calls()["grants"][-1]["grant_type"] == "client_credentials"
        assert refused(identity(provider, oid="caller-2")) == (
            f"the identity (tenant '{TENANT_ID}', object 'caller-2') is not allowed by the access policies of connection 'app'")
        assert refused(identity(provider), "local") == (  # no access policy: no caller token is enough
            f"the identity (tenant '{TENANT_ID}', object 'caller-1') is not allowed by the access policies of connection 'local'")
        assert refused(identity(provider, aud="api://other")) == "the identity token is not valid: Audience validation failed."
        assert refused(identity(provider, exp=int(time.time()) - 60)) == (
            "the identity token is not valid: Lifetime validation failed. The token is expired.")
        assert refused(identity(provider, kid="not-published")) == (
            "the identity token is not valid: Signature validation failed. Unable to match key.")
        assert refused(identity(provider, iss="https://elsewhere.example/v2.0")) == (
            "the identity token is not valid: Issuer validation failed.")
        assert refused(identity(provider, oid=None)) == "the identity token has no tid and oid claims"
        assert refused(identity(provider, scp="user_impersonation")) == (  # a user's delegated token
            "the identity token is a delegated (user) token (it has an scp claim); only app-only tokens, requested "
            "with the scope https://azure-api.net/authorization-manager/.default, are accepted")
        assert refused("") == "the identity token is not valid: JWT not present."
        ignored = gateway.request("GET", "/echo/x", headers={"X-Identity": "", "X-Ignore": "1"})
        assert ignored.status == 200 and ignored.json()["headers"]["authorization"] == "none"


def test_jwt_identity_needs_the_identity_attribute() -> None:
    from tests.policies.support import codes

    element = '<get-authorization-context provider-id="p" authorization-id="a" context-variable-name="v" identity-type="jwt" />'
    assert codes(element) == ["policy-missing-attribute"]
    assert codes(element.replace('" />', '" identity="@(context.Request.Headers.GetValueOrDefault(&quot;T&quot;, &quot;&quot;))" />')) == []


def test_needs_credentials_configuration(tmp_path: Path) -> None:
    config = simple_config(api_policy="api.xml")
    config["named-values"] = {"backend-url": Backend.unused_url()}
    with pytest.raises(PolicyLoadError, match="gateway-settings-missing"), run_gateway(tmp_path, config, {"api.xml": POLICY}):
        pass


@pytest.mark.parametrize(("text", "problem"), [
    ("credentials: {providers: {p: {connections: {c: {}}}}}", "credentials.providers.p.connections.c: needs grant"),
    ("credentials: {providers: {p: {connections: {c: {grant: refresh-token}}}}}", "grant 'refresh-token' needs refresh-token"),
    ("credentials: {providers: {p: {connections: {c: {grant: static, access-token: t, refresh-token: r}}}}}",
     "refresh-token: is not a setting of grant 'static'"),
    ("credentials: {providers: {p: {client-id: a, client-secret: b, connections: {c: {grant: client-credentials}}}}}",
     "token-endpoint: is required"),
    ("credentials: {providers: {p: {connections: {c: {grant: static, access-token: t, access-policies: [{tenant-id: t}]}}}}}",
     r"access-policies\[0\]\.object-id: is required"),
])
def test_configuration_errors(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_settings(text + "\n", file=tmp_path / "gateway.yaml")
