"""validate-client-certificate and context.Request.Certificate: real mutual TLS on the native server
with a test CA and client certificates made here, a real client with and without a certificate."""

from __future__ import annotations

import datetime
import http.client
import ssl
import time
from pathlib import Path
from typing import Any

import pytest

from engine.clientcert import request_certificate
from engine.context import Context, Request
from engine.errors import PolicyLoadError, PolicyRuntimeError
from tests.policies.support import build, codes, lint, run
from tests.support.certificates import Issued, TestPki
from tests.support.gateway import Backend, http_request, run_gateway, simple_config, use_server

ON_ERROR = """<on-error><return-response><set-status code="401" />
  <set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
  <set-body>@(context.LastError.Message)</set-body></return-response></on-error>"""


def _policies(inbound: str, on_error: str = "") -> str:
    return f"<policies><inbound>{inbound}</inbound><backend><forward-request /></backend><outbound />{on_error}</policies>"


def _mtls_config(pki: TestPki, server: Issued, **tls: Any) -> dict[str, Any]:
    config = simple_config(api_policy="api.xml")
    config["server"] = {"http-server": "auto", "tls": {"certfile": str(server.cert_file), "keyfile": str(server.key_file),
                                                       "client-ca-file": str(pki.ca_file), **tls}}
    return config


def _client(pki: TestPki, issued: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    if issued is not None:
        context.load_cert_chain(issued.cert_file, issued.key_file)
    return context


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    return TestPki(tmp_path)


def test_expressions_read_the_callers_certificate(tmp_path: Path, pki: TestPki) -> None:
    server, caller = pki.issue("localhost", server=True), pki.issue("orders-client", dns_names=("orders.contoso.com",))
    headers = {"X-Thumb": "Thumbprint", "X-Subject": "Subject", "X-Issuer": "Issuer", "X-Name": "SubjectName.Name",
               "X-Serial": "SerialNumber", "X-Verify": "Verify()", "X-After": "NotAfter.ToString(\"o\")",
               "X-Dns": "GetNameInfo(X509NameType.DnsName, false)"}
    inbound = "".join(f'<set-header name="{name}" exists-action="override"><value>@(context.Request.Certificate.'
                      f'{member}.ToString())</value></set-header>' for name, member in headers.items())
    with Backend() as backend, run_gateway(tmp_path, _mtls_config(pki, server), {"api.xml": _policies(inbound)},
                                           backend=backend) as gateway:
        assert gateway.server.http_server == "native"  # auto: the server that passes certificates on
        seen = http_request(gateway.url, "GET", "/echo/x", context=_client(pki, caller)).json()["headers"]
    assert seen["x-thumb"] == caller.thumbprint
    assert seen["x-subject"] == 'O="Contoso, Inc.", CN=orders-client'  # .NET: the last encoded first
    assert seen["x-issuer"] == "CN=policygate test CA"
    assert seen["x-name"] == seen["x-subject"]
    serial = caller.certificate.serial_number
    assert seen["x-serial"] == serial.to_bytes(serial.bit_length() // 8 + 1, "big").hex().upper()
    assert seen["x-verify"] == "True"
    assert seen["x-after"] == caller.certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00")
    assert seen["x-dns"] == "orders.contoso.com"


def test_identities_allow_and_refuse_callers(tmp_path: Path, pki: TestPki) -> None:
    server, allowed, other = pki.issue("localhost", server=True), pki.issue("orders"), pki.issue("billing")
    policy = (f"<validate-client-certificate validate-revocation='false'><identities>"
              f"<identity thumbprint='{allowed.thumbprint.lower()}' /><identity common-name='nobody' /></identities>"
              "</validate-client-certificate>")
    with Backend() as backend, run_gateway(tmp_path, _mtls_config(pki, server),
                                           {"api.xml": _policies(policy, ON_ERROR)}, backend=backend) as gateway:
        assert http_request(gateway.url, "GET", "/echo/x", context=_client(pki, allowed)).status == 200
        refused = http_request(gateway.url, "GET", "/echo/x", context=_client(pki, other))
        assert refused.status == 401 and refused.headers.get("X-Reason") == "ClientCertificateIdentityMismatch"
        assert other.thumbprint in refused.text and "CN=billing" in refused.text
        assert backend.calls == 1


def test_optional_client_certificate_reaches_the_policy(tmp_path: Path, pki: TestPki) -> None:
    server, caller = pki.issue("localhost", server=True), pki.issue("orders")
    policy = ("<validate-client-certificate validate-revocation='false' />"
              '<set-header name="X-Has" exists-action="override"><value>@((context.Request.Certificate != null).ToString())'
              "</value></set-header>")
    with Backend() as backend, run_gateway(tmp_path, _mtls_config(pki, server, **{"client-certificate": "optional"}),
                                           {"api.xml": _policies(policy)}, backend=backend) as gateway:
        anonymous = http_request(gateway.url, "GET", "/echo/x", context=_client(pki, None))
        assert anonymous.status == 401 and anonymous.json() == {"statusCode": 401, "message": "Invalid client certificate."}
        answer = http_request(gateway.url, "GET", "/echo/x", context=_client(pki, caller))
        assert answer.status == 200 and answer.json()["headers"]["x-has"] == "True"
        gateway.write("api.xml", _policies(policy.replace("'false'", "'false' ignore-error='true'")))
        assert gateway.reload()
        anonymous = http_request(gateway.url, "GET", "/echo/x", context=_client(pki, None))
        assert anonymous.status == 200 and anonymous.json()["headers"]["x-has"] == "False"


def test_untrusted_and_revoked_certificates_fail_at_the_handshake(tmp_path: Path, pki: TestPki) -> None:
    server, good, revoked = pki.issue("localhost", server=True), pki.issue("good"), pki.issue("revoked")
    (tmp_path / "other").mkdir()
    stranger = TestPki(tmp_path / "other").issue("stranger")
    config = _mtls_config(pki, server, **{"client-crl-file": str(pki.revocation_list(revoked))})
    policy = "<validate-client-certificate />"
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": _policies(policy)}, backend=backend) as gateway:
        assert http_request(gateway.url, "GET", "/echo/x", context=_client(pki, good)).status == 200
        for caller in (revoked, stranger):  # the TLS handshake refuses them: no HTTP answer at all
            with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                http_request(gateway.url, "GET", "/echo/x", context=_client(pki, caller))
        assert backend.calls == 1


def test_a_certificate_expiring_during_a_keep_alive_connection(tmp_path: Path, pki: TestPki) -> None:
    server = pki.issue("localhost", server=True)
    short = pki.issue("short-lived", valid_for=datetime.timedelta(seconds=3))
    policy = "<validate-client-certificate validate-revocation='false' />"
    with Backend() as backend, run_gateway(tmp_path, _mtls_config(pki, server),
                                           {"api.xml": _policies(policy, ON_ERROR)}, backend=backend) as gateway:
        host, port = gateway.url.split("://")[1].split(":")
        connection = http.client.HTTPSConnection(host, int(port), context=_client(pki, short), timeout=10)
        try:
            connection.request("GET", "/echo/x")
            assert connection.getresponse().read() and True
            time.sleep(max(0.0, short.certificate.not_valid_after_utc.timestamp() - time.time()) + 1.1)
            connection.request("GET", "/echo/x")  # the same connection: no new handshake
            answer = connection.getresponse()
            assert answer.status == 401 and answer.getheader("X-Reason") == "ClientCertificateExpired"
            answer.read()
        finally:
            connection.close()


def test_the_policy_needs_mutual_tls_on_the_native_server(tmp_path: Path, pki: TestPki) -> None:
    server = pki.issue("localhost", server=True)
    files = {"api.xml": _policies("<validate-client-certificate validate-revocation='false' />")}
    config = _mtls_config(pki, server)
    config["named-values"] = {"backend-url": Backend.unused_url()}
    with use_server("granian"), pytest.raises(PolicyLoadError) as refused, run_gateway(tmp_path, config, files):
        pass
    (problem,) = refused.value.diagnostics
    assert "validate-client-certificate" in problem.message and "server.http-server: native" in str(problem.hint)
    del config["server"]["tls"]["client-ca-file"]
    with pytest.raises(PolicyLoadError, match="TLS certificate"), run_gateway(tmp_path, config, files):
        pass


# -- each identity rule, on the certificate values the gateway builds ---------------------------------


def _context(pki: TestPki, issued: Issued) -> Context:
    from cryptography.hazmat.primitives import serialization

    chain = (issued.certificate.public_bytes(serialization.Encoding.PEM).decode(),
             pki.ca.public_bytes(serialization.Encoding.PEM).decode())
    return Context(request=Request(tls={"client_cert_chain": chain}))


async def _reason(xml: str, ctx: Context) -> str | None:
    """The LastError reason the policy fails with (None: it passes)."""
    try:
        await run(build(xml), ctx)
    except PolicyRuntimeError as exc:
        assert exc.status == 401 and exc.source == "validate-client-certificate"
        return exc.reason
    return None


@pytest.mark.parametrize("attributes, matches", [
    ("thumbprint='{thumb}'", True), ("thumbprint='00{thumb}'", True), ("thumbprint='AB'", False),
    ("serial-number='{serial}'", True), ("serial-number='01'", False),
    ("common-name='ORDERS'", True), ("common-name='order'", False),
    ("subject='CN=orders, O=\"Contoso, Inc.\"'", True), ("subject='O=\"Contoso, Inc.\", CN=orders'", True),
    ("subject='CN=orders'", False),
    ("dns-name='api.contoso.com'", True), ("dns-name='contoso.com'", False),
    ("issuer-subject='CN=policygate test CA'", True), ("issuer-subject='CN=other CA'", False),
    ("issuer-thumbprint='{ca}'", True), ("issuer-thumbprint='{thumb}'", False),
    ("common-name='orders' dns-name='api.contoso.com'", True), ("common-name='orders' dns-name='x.com'", False),
])
async def test_each_identity_rule(pki: TestPki, attributes: str, matches: bool) -> None:
    from cryptography.hazmat.primitives import hashes

    caller = pki.issue("orders", dns_names=("api.contoso.com",))
    values = {"thumb": caller.thumbprint, "serial": f"{caller.certificate.serial_number:X}",
              "ca": pki.ca.fingerprint(hashes.SHA1()).hex()}  # noqa: S303
    reason = await _reason(f"<validate-client-certificate><identities><identity {attributes.format(**values)} />"
                           "</identities></validate-client-certificate>", _context(pki, caller))
    assert reason == (None if matches else "ClientCertificateIdentityMismatch")


async def test_not_yet_valid_and_missing_certificates(pki: TestPki) -> None:
    future = pki.issue("future", starts_in=datetime.timedelta(hours=1))
    policy = "<validate-client-certificate />"
    assert await _reason(policy, _context(pki, future)) == "ClientCertificateNotYetValid"
    assert await _reason("<validate-client-certificate validate-not-before='false' />", _context(pki, future)) is None
    assert await _reason(policy, Context()) == "ClientCertificateMissing"
    assert request_certificate(None) is None and request_certificate({"client_cert_chain": ()}) is None


def test_lint_of_the_element() -> None:
    warnings = [d for d in lint("<validate-client-certificate />").sorted() if d.code == "policy-unsupported"]
    assert warnings and "client-crl-file" in warnings[0].message
    assert not [d for d in lint("<validate-client-certificate validate-revocation='false' />").sorted()
                if d.code == "policy-unsupported"]
    assert "policy-bad-value" in codes("<validate-client-certificate validate-revocation='false'><identities>"
                                       "<identity subject='not a name' /></identities></validate-client-certificate>")
    assert "policy-bad-value" in codes("<validate-client-certificate validate-revocation='false'><identities>"
                                       "<identity issuer-certificate-id='ca' issuer-thumbprint='AB' /></identities>"
                                       "</validate-client-certificate>")
    assert "policy-missing-attribute" in codes("<validate-client-certificate validate-revocation='false'><identities>"
                                               "<identity /></identities></validate-client-certificate>")
    assert "policy-expression-not-allowed" in codes("<validate-client-certificate validate-trust='@(true)' />")


def test_tls_configuration_of_client_certificates(tmp_path: Path) -> None:
    from engine.errors import ConfigError
    from engine.gateway.config import parse_settings
    from engine.gateway.listeners import resolve_server

    for name in ("s.pem", "s.key", "ca.pem", "crl.pem"):
        (tmp_path / name).write_text("")
    file = tmp_path / "g.yaml"
    base = "server:\n  tls:\n    certfile: s.pem\n    keyfile: s.key\n"
    settings = parse_settings(base + "    client-ca-file: ca.pem\n    client-certificate: optional\n"
                              "    client-crl-file: crl.pem\n  request-body-timeout: 5\n", file=file)
    tls = settings.server.tls
    assert tls is not None and tls.client_certificate == "optional" and tls.client_crl_file is not None
    assert settings.server.request_body_timeout == 5
    assert resolve_server("auto", tls) == "native" and resolve_server("auto", None) == "native"
    without_ca = parse_settings(base, file=file).server.tls
    assert resolve_server("auto", without_ca) == "granian"
    for bad, message in (("    client-ca-file: ca.pem\n    client-certificate: sometimes\n", "client-certificate"),
                         ("    client-crl-file: crl.pem\n", "need client-ca-file")):
        with pytest.raises(ConfigError, match=message):
            parse_settings(base + bad, file=file)


async def test_the_native_server_puts_the_asgi_tls_extension_in_the_scope(tmp_path: Path, pki: TestPki) -> None:
    import asyncio
    import socket

    from engine.gateway.h1server import serve_native
    from engine.gateway.settings import TlsSettings

    server, caller = pki.issue("localhost", server=True), pki.issue("orders")
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan")
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    stop = asyncio.Event()
    tls = TlsSettings(server.cert_file, server.key_file, pki.ca_file, "optional")
    serving = asyncio.create_task(serve_native(app, listening, stop, tls=tls))
    try:
        for issued in (caller, None):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client(pki, issued),
                                                           server_hostname="localhost")
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /again HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 204")
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 204")
            writer.close()
    finally:
        stop.set()
        await serving
    with_certificate, again, anonymous, _ = (s["extensions"]["tls"] for s in scopes)
    assert with_certificate is again  # one per connection, shared by its requests
    chain = with_certificate["client_cert_chain"]
    assert len(chain) == 2 and chain[0].startswith("-----BEGIN CERTIFICATE-----")  # the caller's, then the CA
    assert request_certificate(with_certificate).Thumbprint == caller.thumbprint  # type: ignore[union-attr]
    assert with_certificate["client_cert_name"] == "O=Contoso\\, Inc.,CN=orders"
    assert with_certificate["tls_version"] in (0x0303, 0x0304) and isinstance(with_certificate["cipher_suite"], int)
    assert with_certificate["server_cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert anonymous["client_cert_chain"] == () and anonymous["client_cert_name"] is None
    assert all(s["scheme"] == "https" for s in scopes)


def test_certificate_id_rules_use_the_configured_certificates(tmp_path: Path, pki: TestPki) -> None:
    server, caller, other = pki.issue("localhost", server=True), pki.issue("orders"), pki.issue("billing")
    config = _mtls_config(pki, server)
    config["certificates"] = {"ca": {"file": str(pki.ca_file)}, "orders": {"file": str(caller.cert_file)}}
    policy = ("<validate-client-certificate validate-revocation='false'><identities>"
              "<identity issuer-certificate-id='ca' certificate-id='orders' /></identities></validate-client-certificate>")
    with Backend() as backend, run_gateway(tmp_path, config, {"api.xml": _policies(policy, ON_ERROR)},
                                           backend=backend) as gateway:
        assert http_request(gateway.url, "GET", "/echo/x", context=_client(pki, caller)).status == 200
        assert http_request(gateway.url, "GET", "/echo/x", context=_client(pki, other)).status == 401
    unknown = policy.replace("certificate-id='orders'", "certificate-id='nope'")
    config["named-values"] = {"backend-url": Backend.unused_url()}
    with pytest.raises(PolicyLoadError, match="'nope' is not declared under `certificates:`"), \
            run_gateway(tmp_path, config, {"api.xml": _policies(unknown)}):
        pass
