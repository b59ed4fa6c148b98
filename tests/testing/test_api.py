"""The Python API as docs/testing.md shows it (a pytest fixture), plus time and failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policygate.testing import Answer, Harness

DEMO = Path(__file__).resolve().parents[2] / "samples" / "demo" / "gateway.yaml"


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    async with Harness.from_config(DEMO) as harness:
        yield harness


async def test_get_pet_hides_the_email(gateway: Harness) -> None:
    gateway.answer_backend(Answer.json({"id": 2, "owner": {"name": "A", "email": "a@example.com"}}))
    result = await gateway.request("GET", "/petstore/pets/2", subscription_key="demo-key")
    assert result.status == 200
    assert result.json()["owner"] == {"name": "A"}
    assert result.backend_request is not None and result.backend_request.headers.get("X-Pet-Id") == "2"


async def test_rate_limit(gateway: Harness) -> None:
    gateway.answer_backend(Answer.json({"id": 1}))
    statuses = [(await gateway.request("GET", "/petstore/pets/1", subscription_key="demo-key")).status
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert await gateway.rate_limit_remaining("demo-subscription", 3, 30) == 0
    gateway.advance(30)
    assert (await gateway.request("GET", "/petstore/pets/1", subscription_key="demo-key")).status == 200


async def test_clock_timeouts_and_last_error(gateway: Harness) -> None:
    gateway.set_clock(datetime(2030, 5, 1, 8, 30, tzinfo=UTC))
    gateway.answer_backend(Answer(delay=5))
    result = await gateway.request("GET", "/petstore/slow")
    assert result.status == 504 and result.headers.get("Date") == "Wed, 01 May 2030 08:30:01 GMT"  # waited 1 s
    assert result.last_error is not None and (result.last_error.reason, result.last_error.section) == ("Timeout", "backend")
    assert result.context.timestamp == datetime(2030, 5, 1, 8, 30, tzinfo=UTC)


async def test_concurrent_requests_keep_their_own_calls_and_variables(gateway: Harness) -> None:
    import asyncio

    gateway.answer_backend(Answer.json([{"id": 1}]))
    results = await asyncio.gather(*(gateway.request("GET", "/petstore/pets", variables={"n": n}) for n in range(3)))
    assert [r.variables["n"] for r in results] == [0, 1, 2]
    assert sorted(len(r.backend_calls) for r in results) == [0, 0, 1]  # one miss reached the backend
    assert all(r.json() == [{"id": 1}] for r in results)
    assert len(gateway.upstream.calls.backend) == 1


async def test_validate_jwt_fetches_its_openid_configuration_through_the_scripted_client(tmp_path: Path) -> None:
    from tests.policies.test_validate_jwt import claims, jwks, sign_rsa

    (tmp_path / "api.xml").write_text("""<policies>
    <inbound>
        <validate-jwt header-name="Authorization" require-scheme="Bearer">
            <openid-config url="https://login.test/.well-known/openid-configuration" />
        </validate-jwt>
    </inbound>
    <backend><forward-request /></backend>
    <outbound /><on-error />
</policies>""", encoding="utf-8")
    harness = Harness.from_documents(api=tmp_path / "api.xml")
    harness.answer_target("https://login.test/.well-known/", Answer.json({"issuer": "https://login.test",
                                                                         "jwks_uri": "https://login.test/keys"}))
    harness.answer_target("https://login.test/keys", Answer.json(jwks()))
    async with harness:
        token = sign_rsa(claims(iss="https://login.test"))
        ok = await harness.request("GET", "/", headers={"Authorization": f"Bearer {token}"})
        assert ok.status == 200, ok.text
        assert [call.url for call in ok.target_calls] == ["https://login.test/.well-known/openid-configuration",
                                                          "https://login.test/keys"]
        refused = await harness.request("GET", "/", headers={"Authorization": "Bearer x.y.z"})
        assert refused.status == 401 and refused.target_calls == []  # the configuration is cached
