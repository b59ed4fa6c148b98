from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from engine.dotnet.jwt import Jwt
from engine.errors import PolicyRuntimeError
from policies.validate_jwt.checks import check_claims, check_lifetime
from policies.validate_jwt.keys import OpenIdCache, keys_from_jwks
from policies.validate_jwt.tokens import b64url_encode, decode, sign_hmac
from tests.policies.support import FakeServices, HttpClient, build, codes, context, run

SECRET = b"0123456789abcdef0123456789abcdef"
SECRET_B64 = base64.b64encode(SECRET).decode()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def claims(**extra: Any) -> dict[str, Any]:
    base = {"iss": "https://issuer.test", "aud": "api://orders", "sub": "user-1", "exp": int(time.time()) + 600}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def sign_rsa(payload: dict[str, Any], alg: str = "RS256", kid: str | None = "rsa-1", key: Any = RSA_KEY) -> str:
    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(payload).encode())}".encode()
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    if alg.startswith("PS"):
        signature = key.sign(signing_input, padding.PSS(padding.MGF1(digest), digest.digest_size), digest)
    else:
        signature = key.sign(signing_input, padding.PKCS1v15(), digest)
    return f"{signing_input.decode()}.{b64url_encode(signature)}"


def sign_ec(payload: dict[str, Any], kid: str = "ec-1") -> str:
    header = {"alg": "ES256", "kid": kid}
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(payload).encode())}".encode()
    r, s = decode_dss_signature(EC_KEY.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return f"{signing_input.decode()}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def rsa_numbers(key: Any = RSA_KEY) -> tuple[str, str]:
    numbers = key.public_key().public_numbers()
    return (b64url_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            b64url_encode(numbers.e.to_bytes(3, "big")))


HS_POLICY = f"""<validate-jwt header-name="Authorization" require-scheme="Bearer" output-token-variable-name="jwt">
    <issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys>
    <audiences><audience>api://orders</audience></audiences>
    <issuers><issuer>https://issuer.test</issuer></issuers>
</validate-jwt>"""


def bearer(token: str):
    return context(headers={"Authorization": f"Bearer {token}"})


async def failure(xml: str, ctx) -> PolicyRuntimeError:
    with pytest.raises(PolicyRuntimeError) as caught:
        await run(build(xml), ctx)
    assert caught.value.source == "validate-jwt"
    return caught.value


class TestSchema:
    def test_needs_exactly_one_token_source(self) -> None:
        assert codes("<validate-jwt />") == ["policy-missing-attribute"]
        assert codes('<validate-jwt header-name="a" query-parameter-name="b" />') == ["policy-conflicting-attributes"]

    def test_bad_keys_are_reported(self) -> None:
        xml = '<validate-jwt header-name="a"><issuer-signing-keys><key>not base64!</key><key n="abc" /></issuer-signing-keys></validate-jwt>'
        assert codes(xml) == ["policy-bad-value", "policy-bad-value"]

    def test_keys_from_named_values_are_checked_later(self) -> None:
        assert codes('<validate-jwt header-name="a"><issuer-signing-keys><key>{{signing-key}}</key></issuer-signing-keys></validate-jwt>') == []

    def test_claim_match_and_scope(self) -> None:
        xml = '<validate-jwt header-name="a"><required-claims><claim name="c" match="some" /></required-claims></validate-jwt>'
        assert codes(xml) == ["policy-bad-value"]
        assert "policy-not-allowed-in-section" in codes('<validate-jwt header-name="a" />', "outbound")


class TestHmac:
    @pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
    async def test_valid_token_and_output_variable(self, alg: str) -> None:
        ctx = bearer(sign_hmac(claims(roles=["a", "b"]), SECRET, alg))
        assert await run(build(HS_POLICY), ctx) is None
        jwt = ctx.variables["jwt"]
        assert isinstance(jwt, Jwt)
        assert (jwt.Algorithm, jwt.Subject, jwt.Audiences, list(jwt.Claims["roles"])) == (alg, "user-1", ["api://orders"], ["a", "b"])

    async def test_output_variable_in_expressions(self) -> None:
        xml = HS_POLICY + """<set-header name="X-Sub" exists-action="override">
            <value>@(((Jwt)context.Variables["jwt"]).Subject + "/" + ((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("tier", "none"))</value>
        </set-header>"""
        ctx = bearer(sign_hmac(claims(tier="gold"), SECRET))
        await run(build(xml), ctx)
        assert ctx.request.headers.get("X-Sub") == "user-1/gold"

    async def test_missing_token(self) -> None:
        error = await failure(HS_POLICY, context())
        assert (error.status, error.reason, error.message) == (401, "TokenNotPresent", "JWT not present.")

    async def test_wrong_scheme_is_not_present(self) -> None:
        ctx = context(headers={"Authorization": "Basic " + sign_hmac(claims(), SECRET)})
        assert (await failure(HS_POLICY, ctx)).reason == "TokenNotPresent"

    async def test_garbage_is_invalid(self) -> None:
        assert (await failure(HS_POLICY, bearer("abc.def"))).reason == "JwtInvalid"

    async def test_wrong_secret(self) -> None:
        error = await failure(HS_POLICY, bearer(sign_hmac(claims(), b"another secret of some length!!")))
        assert (error.reason, error.message) == ("TokenSignatureInvalid", "Signature validation failed.")

    async def test_expired_and_clock_skew(self) -> None:
        token = sign_hmac(claims(exp=int(time.time()) - 30), SECRET)
        assert (await failure(HS_POLICY, bearer(token))).reason == "TokenExpired"
        skewed = HS_POLICY.replace('output-token-variable-name="jwt"', 'clock-skew="120"')
        assert await run(build(skewed), bearer(token)) is None

    async def test_expiration_required_by_default(self) -> None:
        token = sign_hmac(claims(exp=None), SECRET)
        assert (await failure(HS_POLICY, bearer(token))).reason == "JwtInvalid"
        relaxed = HS_POLICY.replace("<validate-jwt ", '<validate-jwt require-expiration-time="false" ')
        assert await run(build(relaxed), bearer(token)) is None

    async def test_not_yet_valid(self) -> None:
        token = sign_hmac(claims(nbf=int(time.time()) + 600), SECRET)
        assert "not yet valid" in (await failure(HS_POLICY, bearer(token))).message

    async def test_audience_and_issuer(self) -> None:
        assert (await failure(HS_POLICY, bearer(sign_hmac(claims(aud="api://other"), SECRET)))).reason == "TokenAudienceNotAllowed"
        assert (await run(build(HS_POLICY), bearer(sign_hmac(claims(aud=["x", "api://orders"]), SECRET)))) is None
        assert (await failure(HS_POLICY, bearer(sign_hmac(claims(iss="https://evil"), SECRET)))).reason == "TokenIssuerNotAllowed"

    async def test_unsigned_tokens(self) -> None:
        header = b64url_encode(json.dumps({"alg": "none"}).encode())
        token = f"{header}.{b64url_encode(json.dumps(claims()).encode())}."
        assert (await failure(HS_POLICY, bearer(token))).reason == "TokenSignatureInvalid"
        relaxed = HS_POLICY.replace("<validate-jwt ", '<validate-jwt require-signed-tokens="false" ')
        assert await run(build(relaxed), bearer(token)) is None
        stripped = sign_hmac(claims(), SECRET).rsplit(".", 1)[0] + "."  # claims HS256, signature removed
        assert (await failure(relaxed, bearer(stripped))).reason == "TokenSignatureInvalid"

    async def test_custom_status_and_message(self) -> None:
        xml = HS_POLICY.replace("<validate-jwt ", '<validate-jwt failed-validation-httpcode="403" failed-validation-error-message="Nope" ')
        error = await failure(xml, context())
        assert (error.status, error.message, error.reason) == (403, "Nope", "TokenNotPresent")

    async def test_key_from_an_expression(self) -> None:
        xml = f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key>@("{SECRET_B64}")</key></issuer-signing-keys></validate-jwt>'
        assert await run(build(xml), bearer(sign_hmac(claims(), SECRET))) is None
        assert (await failure(xml, bearer(sign_hmac(claims(), b"x" * 32)))).reason == "TokenSignatureInvalid"

    async def test_query_parameter_and_token_value(self) -> None:
        token = sign_hmac(claims(), SECRET)
        by_query = f'<validate-jwt query-parameter-name="access_token"><issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys></validate-jwt>'
        assert await run(build(by_query), context(url=f"http://b.test/x?access_token={token}")) is None
        by_value = f'<validate-jwt token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Token&quot;, &quot;&quot;))"><issuer-signing-keys><key>{SECRET_B64}</key></issuer-signing-keys></validate-jwt>'
        assert await run(build(by_value), context(headers={"X-Token": token})) is None


class TestRequiredClaims:
    RULES = """<required-claims>
        <claim name="roles" match="any"><value>admin</value><value>writer</value></claim>
        <claim name="scp" match="all" separator=" "><value>read</value><value>write</value></claim>
        <claim name="tid" />
    </required-claims>"""

    def policy(self) -> str:
        return HS_POLICY.replace("</validate-jwt>", self.RULES + "</validate-jwt>")

    async def test_all_satisfied(self) -> None:
        token = sign_hmac(claims(roles=["reader", "writer"], scp="read write admin", tid="t"), SECRET)
        assert await run(build(self.policy()), bearer(token)) is None

    async def test_missing_claims_are_listed(self) -> None:
        error = await failure(self.policy(), bearer(sign_hmac(claims(roles=["admin"]), SECRET)))
        assert error.reason == "TokenClaimNotFound"
        assert error.message == "JWT token is missing the following claims: scp, tid. Access denied."

    async def test_value_not_allowed(self) -> None:
        token = sign_hmac(claims(roles=["admin"], scp="read", tid="t"), SECRET)
        assert (await failure(self.policy(), bearer(token))).reason == "TokenClaimValueNotAllowed"

    def test_pure_helpers(self) -> None:
        check_lifetime({"exp": 100}, now=150, skew=60, require_expiration=True)
        with pytest.raises(Exception, match="expired"):
            check_lifetime({"exp": 100}, now=200, skew=60, require_expiration=True)
        check_claims({"a": True}, [])


class TestAsymmetric:
    @pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS512"])
    async def test_rsa_with_modulus_and_exponent(self, alg: str) -> None:
        n, e = rsa_numbers()
        xml = f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key id="rsa-1" n="{n}" e="{e}" /></issuer-signing-keys></validate-jwt>'
        assert await run(build(xml), bearer(sign_rsa(claims(), alg))) is None
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert (await failure(xml, bearer(sign_rsa(claims(), alg, key=other)))).reason == "TokenSignatureInvalid"

    async def test_unknown_kid(self) -> None:
        n, e = rsa_numbers()
        xml = f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key id="other" n="{n}" e="{e}" /></issuer-signing-keys></validate-jwt>'
        assert (await failure(xml, bearer(sign_rsa(claims())))).reason == "TokenSignatureKeyNotFound"

    async def test_pem_public_key(self) -> None:
        pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        xml = f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{pem.decode()}</key></issuer-signing-keys></validate-jwt>'
        assert await run(build(xml), bearer(sign_rsa(claims()))) is None

    async def test_der_certificate_key_and_no_algorithm_confusion(self) -> None:
        import datetime

        from cryptography import x509
        from cryptography.x509.oid import NameOID

        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.test")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(RSA_KEY.public_key())
                .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                .sign(RSA_KEY, hashes.SHA256()))
        der = cert.public_bytes(serialization.Encoding.DER)
        xml = f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{base64.b64encode(der).decode()}</key></issuer-signing-keys></validate-jwt>'
        assert await run(build(xml), bearer(sign_rsa(claims(), kid=None))) is None
        forged = sign_hmac(claims(), der)  # HS256 "signed" with the public certificate bytes
        assert (await failure(xml, bearer(forged))).reason == "TokenSignatureKeyNotFound"

    def test_decode_refuses_encrypted_tokens(self) -> None:
        with pytest.raises(ValueError, match="JWE"):
            decode("a.b.c.d.e")


def jwks() -> dict[str, Any]:
    n, e = rsa_numbers()
    numbers = EC_KEY.public_key().public_numbers()
    return {"keys": [
        {"kty": "RSA", "kid": "rsa-1", "use": "sig", "n": n, "e": e},
        {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64url_encode(numbers.x.to_bytes(32, "big")),
         "y": b64url_encode(numbers.y.to_bytes(32, "big"))},
        {"kty": "RSA", "kid": "enc", "use": "enc", "n": n, "e": e},
    ]}


@pytest.fixture
async def identity_provider() -> AsyncIterator[dict[str, Any]]:
    """A loopback OpenID provider: metadata + JWKS; counts fetches."""
    state: dict[str, Any] = {"metadata": 0, "jwks": 0}

    async def metadata(request: web.Request) -> web.Response:
        state["metadata"] += 1
        return web.json_response({"issuer": "https://issuer.test", "jwks_uri": f"{state['base']}/keys"})

    async def keys(request: web.Request) -> web.Response:
        state["jwks"] += 1
        return web.json_response(jwks())

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", metadata)
    app.router.add_get("/keys", keys)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state["base"] = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


class TestOpenIdConfig:
    async def test_keys_and_issuer_from_discovery(self, identity_provider: dict[str, Any]) -> None:
        url = f"{identity_provider['base']}/.well-known/openid-configuration"
        xml = f'<validate-jwt header-name="Authorization"><openid-config url="{url}" /></validate-jwt>'
        http = HttpClient()
        try:
            for token in (sign_rsa(claims()), sign_ec(claims())):
                ctx = context(headers={"Authorization": f"Bearer {token}"}, services=FakeServices(http))
                assert await run(build(xml), ctx) is None
            ctx = context(headers={"Authorization": f"Bearer {sign_rsa(claims(iss='https://evil'))}"}, services=FakeServices(http))
            assert (await failure(xml, ctx)).reason == "TokenIssuerNotAllowed"
        finally:
            await http.close()
        assert identity_provider["metadata"] == 1  # cached

    async def test_unknown_kid_refetch_is_rate_limited(self, identity_provider: dict[str, Any]) -> None:
        now = [1000.0]
        cache = OpenIdCache(clock=lambda: now[0])
        url = f"{identity_provider['base']}/.well-known/openid-configuration"
        http = HttpClient()
        try:
            first = await cache.get(url, http)
            assert first is not None and [k.kid for k in first.keys] == ["rsa-1", "ec-1"]
            await cache.get(url, http, refresh=True)  # too soon: served from cache
            assert identity_provider["jwks"] == 1
            now[0] += 301
            await cache.get(url, http, refresh=True)
            assert identity_provider["jwks"] == 2
            now[0] += 3601
            await cache.get(url, http)
            assert identity_provider["jwks"] == 3
        finally:
            await http.close()

    def test_jwks_parsing_skips_encryption_keys(self) -> None:
        assert [k.kid for k in keys_from_jwks(jwks())] == ["rsa-1", "ec-1"]
        assert keys_from_jwks({"keys": [{"kty": "weird"}]}) == []


def test_end_to_end(api_gateway, backend) -> None:
    policy = f"<policies><inbound><base />{HS_POLICY}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    with api_gateway(policy) as gw:
        missing = gw.request("GET", "/echo/x")
        expired = gw.request("GET", "/echo/x", headers={"Authorization": "Bearer " + sign_hmac(claims(exp=1), SECRET)})
        ok = gw.request("GET", "/echo/x", headers={"Authorization": "Bearer " + sign_hmac(claims(), SECRET)})
    assert missing.status == 401 and missing.json() == {"statusCode": 401, "message": "JWT not present."}
    assert expired.status == 401 and expired.json()["message"] == "Lifetime validation failed. The token is expired."
    assert ok.status == 200
    assert backend.calls == 1


async def test_end_to_end_with_openid_discovery(api_gateway, backend, identity_provider: dict[str, Any]) -> None:
    """The real gateway fetches the provider's keys with its own HTTP client (provider on loopback)."""
    import aiohttp

    url = f"{identity_provider['base']}/.well-known/openid-configuration"
    policy = (f'<policies><inbound><base /><validate-jwt header-name="Authorization"><openid-config url="{url}" />'
              "<audiences><audience>api://orders</audience></audiences></validate-jwt></inbound>"
              "<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>")
    with api_gateway(policy) as gw:
        async with aiohttp.ClientSession() as client:
            statuses = []
            for token in (sign_rsa(claims()), sign_ec(claims()), sign_rsa(claims(iss="https://evil")),
                          sign_rsa(claims(), kid="rotated-away")):
                async with client.get(f"{gw.url}/echo/x", headers={"Authorization": f"Bearer {token}"}) as answer:
                    statuses.append((answer.status, (await answer.json()).get("message")))
    assert statuses == [
        (200, None),
        (200, None),
        (401, "Issuer validation failed."),
        (401, "Signature validation failed. Unable to match key."),
    ]
    assert identity_provider["metadata"] == 1  # cached across requests
