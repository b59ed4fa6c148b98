"""Client certificates from `certificates:` through the real gateway: authentication-certificate against
a real HTTPS backend process that requires one (tests/support/tls_backend.py), validate-jwt
`certificate-id` keys. Certificates are generated at test time (tests/support/certificates.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from engine.errors import ConfigError, PolicyLoadError
from policies.validate_jwt.tokens import b64url_encode
from tests.policies.support import codes
from tests.support.certificates import PFX_PASSWORD, TestPki
from tests.support.gateway import RunningGateway, run_gateway

ROOT = Path(__file__).resolve().parents[2]


def api(path: str, policy: str, service_url: str = "{{tls-backend}}") -> dict[str, Any]:
    return {"path": path, "service-url": service_url, "subscription-required": False, "policy": policy}


def inbound(xml: str, outbound: str = "") -> str:
    return f"<policies><inbound>{xml}</inbound><outbound>{outbound}</outbound></policies>"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, TestPki, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("certs")
    pki = TestPki(folder)
    server, client, other = pki.issue("localhost", server=True), pki.issue("orders-client"), pki.issue("pfx-client")
    backend = subprocess.Popen([sys.executable, "-m", "tests.support.tls_backend", str(server.cert_file),
                                str(server.key_file), str(pki.ca_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(pki.ca_file)  # the gateway trusts the test CA for the backend's certificate
    os.environ["TEST_PFX_PASSWORD"] = PFX_PASSWORD
    try:
        assert backend.stdout is not None
        url = f"https://127.0.0.1:{backend.stdout.readline().strip()}"
        send = f"""<send-request mode="new" response-variable-name="r" timeout="10">
            <set-url>{url}/via-send</set-url><authentication-certificate certificate-id="pfx" /></send-request>
            <return-response><set-body>@(((IResponse)context.Variables["r"]).Body.As&lt;string&gt;())</set-body></return-response>"""
        jwt = """<validate-jwt header-name="Authorization">
            <issuer-signing-keys><key certificate-id="client" /></issuer-signing-keys></validate-jwt>
            <return-response><set-status code="200" reason="OK" /></return-response>"""
        config = {
            "named-values": {"tls-backend": url},
            "certificates": {"client": {"file": str(client.pem)},
                             "pfx": {"file": str(other.pfx), "password": {"env": "TEST_PFX_PASSWORD"}},
                             "split": {"file": str(client.cert_file), "key-file": str(client.key_file)}},
            "apis": {"byid": api("byid", "byid.xml"), "thumb": api("thumb", "thumb.xml"), "none": api("none", "none.xml"),
                     "body": api("body", "body.xml"), "send": api("send", "send.xml"), "jwt": api("jwt", "jwt.xml"),
                     "missing": api("missing", "missing.xml")},
        }
        policies = {
            "byid.xml": inbound('<authentication-certificate certificate-id="split" />'),
            "thumb.xml": inbound(f'<authentication-certificate thumbprint="{other.thumbprint.lower()}" />'),
            "none.xml": inbound(""),
            "body.xml": inbound('<authentication-certificate body="@(Convert.FromBase64String(context.Request.Headers'
                                '.GetValueOrDefault(&quot;X-Pfx&quot;, &quot;&quot;)))" password="{{pfx-password}}" />'),
            "send.xml": inbound(send),
            "jwt.xml": inbound(jwt),
            "missing.xml": inbound('<authentication-certificate certificate-id="@(&quot;no&quot; + &quot;pe&quot;)" />'),
        }
        config["named-values"]["pfx-password"] = PFX_PASSWORD
        with run_gateway(folder, config, policies) as gateway:
            yield gateway, pki, {"client": client, "other": other}
    finally:
        backend.terminate()
        backend.wait(10)
        os.environ.pop("TEST_PFX_PASSWORD", None)
        if previous is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous


def common_name(answer: Any) -> str:
    subject = dict(map(tuple, answer.json()["client"]["subject"]))
    return str(subject["commonName"])


def test_backend_sees_the_configured_client_certificate(setup: tuple[RunningGateway, TestPki, dict[str, Any]]) -> None:
    gateway, _, issued = setup
    by_id = gateway.request("GET", "/byid/orders")
    assert by_id.status == 200 and common_name(by_id) == "orders-client"
    assert by_id.json()["path"] == "/orders"
    by_thumbprint = gateway.request("GET", "/thumb/x")
    assert by_thumbprint.status == 200 and common_name(by_thumbprint) == "pfx-client"
    pfx = base64.b64encode(issued["other"].pfx.read_bytes()).decode()
    inline = gateway.request("GET", "/body/x", headers={"X-Pfx": pfx})
    assert inline.status == 200 and common_name(inline) == "pfx-client"
    refused = gateway.request("GET", "/none/x")  # the backend requires a client certificate
    assert refused.status == 502


def test_send_request_presents_its_own_certificate(setup: tuple[RunningGateway, TestPki, dict[str, Any]]) -> None:
    gateway, _, _ = setup
    answer = gateway.request("GET", "/send/x")
    assert answer.status == 200 and json.loads(answer.text)["path"] == "/via-send"
    assert dict(map(tuple, json.loads(answer.text)["client"]["subject"]))["commonName"] == "pfx-client"


def test_unknown_certificate_id_from_an_expression_fails_with_500(setup: tuple[RunningGateway, TestPki, dict[str, Any]]) -> None:
    gateway, _, _ = setup
    answer = gateway.request("GET", "/missing/x")
    assert answer.status == 500 and answer.json()["message"] == "Internal server error"


def test_validate_jwt_certificate_id_key(setup: tuple[RunningGateway, TestPki, dict[str, Any]]) -> None:
    gateway, _, issued = setup
    header = b64url_encode(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64url_encode(json.dumps({"sub": "x", "exp": int(time.time()) + 60}).encode())
    signing_input = f"{header}.{payload}".encode()
    signed = issued["client"].key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    token = f"{header}.{payload}.{b64url_encode(signed)}"
    assert gateway.request("GET", "/jwt/x", headers={"Authorization": f"Bearer {token}"}).status == 200
    forged = issued["other"].key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    answer = gateway.request("GET", "/jwt/x", headers={"Authorization": f"Bearer {header}.{payload}.{b64url_encode(forged)}"})
    assert answer.status == 401


def test_schema_and_configuration(tmp_path: Path) -> None:
    assert codes("<authentication-certificate />") == ["policy-missing-attribute"]
    (tmp_path / "bad.pem").write_text("not a certificate")
    config = {"certificates": {"bad": {"file": "bad.pem"}}, "named-values": {"u": "http://127.0.0.1:9"},
              "apis": {"a": api("a", "a.xml", "{{u}}")}}
    with pytest.raises(ConfigError, match="certificates.bad: .*bad.pem"), run_gateway(tmp_path, config, {"a.xml": inbound("")}):
        pass


def test_unknown_constant_certificate_id_refused_at_load(tmp_path: Path) -> None:
    config = {"certificates": {}, "named-values": {"u": "http://127.0.0.1:9"}, "apis": {"a": api("a", "a.xml", "{{u}}")}}
    policy = inbound('<authentication-certificate certificate-id="nope" />')
    with pytest.raises(PolicyLoadError) as caught, run_gateway(tmp_path, config, {"a.xml": policy}):
        pass
    problem = caught.value.diagnostics[0]
    assert problem.code == "gateway-settings-missing"
    assert "certificate-id 'nope' is not declared under `certificates:`" in problem.message


def test_unknown_validate_jwt_key_certificate_refused_at_load(tmp_path: Path) -> None:
    config = {"certificates": {}, "named-values": {"u": "http://127.0.0.1:9"}, "apis": {"a": api("a", "a.xml", "{{u}}")}}
    policy = inbound('<validate-jwt header-name="Authorization"><issuer-signing-keys><key certificate-id="gone" />'
                     '</issuer-signing-keys></validate-jwt>')
    with pytest.raises(PolicyLoadError) as caught, run_gateway(tmp_path, config, {"a.xml": policy}):
        pass
    problem = caught.value.diagnostics[0]
    assert problem.code == "gateway-settings-missing"
    assert problem.message == ("<validate-jwt> certificate-id 'gone' is not declared under `certificates:` "
                               "in the gateway configuration")
