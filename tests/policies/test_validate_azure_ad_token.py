"""validate-azure-ad-token through the real gateway, against a real OpenID Connect provider process
(tests/support/oidc_server.py: Entra's discovery document and JWKS paths)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConfigError
from engine.gateway.config import parse_settings
from tests.policies.support import codes
from tests.support.gateway import Backend, RunningGateway, run_gateway, simple_config
from tests.support.oidc_server import TENANT_DOMAIN, TENANT_ID, OidcProvider, oidc_provider

CLIENT = "11111111-aaaa-4000-8000-00000000c11e"
BACKEND_APP = "22222222-bbbb-4000-8000-0000000000be"
REFRESH_INTERVAL = 1  # seconds: key-refresh-interval of the gateway below

POLICY = f"""<policies><inbound>
    <validate-azure-ad-token tenant-id="{TENANT_ID}" output-token-variable-name="jwt">
        <client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>
        <backend-application-ids><application-id>{BACKEND_APP}</application-id></backend-application-ids>
        <required-claims><claim name="roles" match="any"><value>Orders.Read</value></claim></required-claims>
    </validate-azure-ad-token>
    <set-header name="X-Caller" exists-action="override">
        <value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("oid", "?"))</value>
    </set-header>
</inbound></policies>"""

BY_DOMAIN = f"""<policies><inbound>
    <validate-azure-ad-token tenant-id="{TENANT_DOMAIN}" header-name="X-Token"
            failed-validation-httpcode="403" failed-validation-error-message="Go away">
        <client-application-ids><application-id>{CLIENT}</application-id></client-application-ids>
        <audiences><audience>api://orders</audience></audiences>
    </validate-azure-ad-token>
</inbound></policies>"""


def claims(provider: OidcProvider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": f"{provider.url}/{TENANT_ID}/v2.0", "aud": BACKEND_APP, "azp": CLIENT, "tid": TENANT_ID,
            "oid": "user-7", "roles": ["Orders.Read"], "iat": now, "nbf": now - 5, "exp": now + 600}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with oidc_provider() as running:
        yield running


@pytest.fixture(scope="module")
def gateway(provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    config = simple_config(api_policy="api.xml")
    config["token-validation"] = {"entra-authority": provider.url, "key-refresh-interval": REFRESH_INTERVAL}
    config["apis"]["domain"] = {"path": "domain", "service-url": "{{backend-url}}", "subscription-required": False,
                                "policy": "domain.xml"}
    with Backend() as backend, run_gateway(tmp_path_factory.mktemp("aad"), config,
                                           {"api.xml": POLICY, "domain.xml": BY_DOMAIN}, backend=backend) as running:
        yield running


def call(gateway: RunningGateway, token: str | None, path: str = "/echo/orders", header: str = "Authorization",
         prefix: str = "Bearer ") -> tuple[int, Any]:
    answer = gateway.request("GET", path, headers={header: prefix + token} if token is not None else {})
    return answer.status, answer.json()


def test_valid_tokens_pass_and_reach_expressions(provider: OidcProvider, gateway: RunningGateway) -> None:
    status, body = call(gateway, provider.sign(claims(provider)))
    assert status == 200 and body["headers"]["x-caller"] == "user-7"
    v1 = claims(provider, iss=f"https://sts.windows.net/{TENANT_ID}/", azp=None, appid=CLIENT, aud=f"api://{BACKEND_APP}")
    assert call(gateway, provider.sign(v1))[0] == 200
    by_domain = claims(provider, aud="api://orders")
    assert call(gateway, provider.sign(by_domain), "/domain/x", "X-Token", prefix="")[0] == 200


@pytest.mark.parametrize(("changes", "message"), [
    ({"azp": "someone-else"}, "Client application validation failed."),
    ({"aud": "api://payments"}, "Audience validation failed."),
    ({"iss": "https://evil.example/v2.0"}, "Issuer validation failed."),
    ({"exp": 1000}, "Lifetime validation failed. The token is expired."),
    ({"roles": ["Orders.Write"]}, "JWT token claim 'roles' value is not allowed. Access denied."),
])
def test_failures_use_validate_jwt_messages(provider: OidcProvider, gateway: RunningGateway,
                                            changes: dict[str, Any], message: str) -> None:
    assert call(gateway, provider.sign(claims(provider, **changes))) == (401, {"statusCode": 401, "message": message})


def test_missing_malformed_and_custom_failures(provider: OidcProvider, gateway: RunningGateway) -> None:
    assert call(gateway, None) == (401, {"statusCode": 401, "message": "JWT not present."})
    assert call(gateway, "not-a-token")[1]["message"] == "Invalid JWT."
    wrong_audience = provider.sign(claims(provider))  # aud is the backend app, /domain wants api://orders
    assert call(gateway, wrong_audience, "/domain/x", "X-Token", prefix="") == (403, {"statusCode": 403, "message": "Go away"})


def test_unknown_kid_refetches_keys_at_most_once_per_interval(provider: OidcProvider, gateway: RunningGateway) -> None:
    assert call(gateway, provider.sign(claims(provider)))[0] == 200
    fetched = provider.calls()["keys"]
    provider.rotate()  # the provider signs with a key the gateway has not seen
    time.sleep(REFRESH_INTERVAL + 0.1)
    refetched = time.monotonic()  # no later than the refetch below
    assert call(gateway, provider.sign(claims(provider)))[0] == 200
    assert provider.calls()["keys"] == fetched + 1
    ghost = provider.sign(claims(provider), kid="ghost")  # never published: no refetch storm
    for _ in range(3):
        assert call(gateway, ghost) == (401, {"statusCode": 401,
                                              "message": "Signature validation failed. Unable to match key."})
    # At most once per interval: on a busy machine the three calls may outlast an interval, which allows one
    # more fetch each; a refetch per unknown kid adds three, told apart while the calls take under 3 intervals.
    elapsed = time.monotonic() - refetched
    assert elapsed < 3 * REFRESH_INTERVAL, f"the calls took {elapsed:.1f} s: too slow to tell a refetch storm"
    assert provider.calls()["keys"] <= fetched + 1 + int(elapsed / REFRESH_INTERVAL)


def test_schema() -> None:
    assert codes(f'<validate-azure-ad-token tenant-id="{TENANT_ID}" />') == ["policy-missing-child"]
    expression = ('<validate-azure-ad-token tenant-id="t"><client-application-ids>'
                  '<application-id>@("x")</application-id></client-application-ids></validate-azure-ad-token>')
    assert codes(expression) == ["policy-expression-not-allowed"]
    two_sources = ('<validate-azure-ad-token tenant-id="t" header-name="a" token-value="b"><client-application-ids>'
                   '<application-id>c</application-id></client-application-ids></validate-azure-ad-token>')
    assert codes(two_sources) == ["policy-conflicting-attributes"]


def test_token_validation_settings(tmp_path: Path) -> None:
    settings = parse_settings("token-validation: {entra-authority: 'http://127.0.0.1:9/', metadata-ttl: 60}\n",
                              file=tmp_path / "gateway.yaml")
    assert settings.token_validation.entra_authority == "http://127.0.0.1:9"
    assert settings.token_validation.metadata_ttl == 60
    with pytest.raises(ConfigError, match="token-validation.entra-authority"):
        parse_settings("token-validation: {entra-authority: nowhere}\n", file=tmp_path / "gateway.yaml")
