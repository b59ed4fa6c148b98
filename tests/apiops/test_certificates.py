"""The APIOps folder's `certificates/`: read into `certificates:`, used by authentication-certificate
against a real HTTPS backend process that requires a client certificate (tests/support/tls_backend.py)."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.certificates import CertificateError, CertificateStore
from engine.errors import ConfigError
from engine.gateway.apiops import read_apiops
from engine.gateway.check import check_configuration
from tests.apiops.helpers import SIMPLE_SPEC, api_folder, serve_settings, write_json, write_text
from tests.support.certificates import PFX_PASSWORD, TestPki

ROOT = Path(__file__).resolve().parents[2]


def test_certificates_folder_feeds_authentication_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pki = TestPki(tmp_path)
    server, inline, beside = pki.issue("localhost", server=True), pki.issue("inline-client"), pki.issue("file-client")
    folder = tmp_path / "apim"
    certs = folder / "certificates"
    write_json(certs / "inline" / "certificateInformation.json", {"properties": {
        "data": base64.b64encode(inline.pfx.read_bytes()).decode(), "thumbprint": inline.thumbprint,
        "subject": "CN=inline-client", "expirationDate": "2030-01-01T00:00:00Z"}})
    (certs / "beside").mkdir()
    (certs / "beside" / "certificate.pem").write_bytes(beside.pem.read_bytes())
    write_json(certs / "partner" / "certificateInformation.json", {"properties": {"password": "wrong"}})
    (certs / "partner" / "certificate.pfx").write_bytes(beside.pfx.read_bytes())
    monkeypatch.setenv("POLICYGATE_CERT_PARTNER_PASSWORD", PFX_PASSWORD)  # the environment wins over the file
    backend = subprocess.Popen([sys.executable, "-m", "tests.support.tls_backend", str(server.cert_file),
                                str(server.key_file), str(pki.ca_file)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert backend.stdout is not None
        url = f"https://127.0.0.1:{backend.stdout.readline().strip()}"
        api_folder(folder, "orders", "orders", spec=SIMPLE_SPEC, serviceUrl=url, subscriptionRequired=False)
        write_text(folder / "apis" / "orders" / "policy.xml",
                   '<policies><inbound><authentication-certificate certificate-id="@(context.Request.Headers'
                   '.GetValueOrDefault(&quot;X-Cert&quot;, &quot;inline&quot;))" /></inbound></policies>')
        loaded = read_apiops(folder, {"POLICYGATE_CERT_PARTNER_PASSWORD": PFX_PASSWORD})
        assert not loaded.warnings
        # no password for `inline` yet: its PFX is protected, so loading it fails, naming the file
        with pytest.raises(CertificateError, match="certificates.inline: .*certificateInformation.json"):
            CertificateStore(loaded.settings.certificates)
        write_json(certs / "inline" / "certificateInformation.json", {"properties": {
            "data": base64.b64encode(inline.pfx.read_bytes()).decode(), "password": PFX_PASSWORD,
            "thumbprint": inline.thumbprint.lower()}})
        settings = read_apiops(folder, {"POLICYGATE_CERT_PARTNER_PASSWORD": PFX_PASSWORD}).settings
        store = CertificateStore(settings.certificates)
        assert {name: c.thumbprint for name, c in store.by_id.items()} == {
            "beside": beside.thumbprint, "inline": inline.thumbprint, "partner": beside.thumbprint}
        monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))  # the gateway trusts the backend's test CA
        with serve_settings(settings, folder) as gateway:
            for certificate_id, common_name in (("inline", "inline-client"), ("beside", "file-client"),
                                                ("partner", "file-client")):
                answer = gateway.request("GET", "/orders/items", headers={"X-Cert": certificate_id})
                assert answer.status == 200, answer.text
                subject = dict(map(tuple, answer.json()["client"]["subject"]))
                assert subject["commonName"] == common_name
    finally:
        backend.terminate()
        backend.wait(10)


@pytest.mark.parametrize(("files", "properties", "where", "message"), [
    ((), {"keyVault": {"secretIdentifier": "https://kv/secrets/c"}}, "properties",
     "a Key Vault certificate cannot be fetched: put it in certificates/c/certificate.pfx"),
    ((), {}, "properties", "needs properties.data (base64 PKCS#12)"),
    ((), {"data": "not base64!"}, "properties.data", "is not base64"),
    ((), {"data": "", "secret": 1}, "properties.secret", "unknown key"),
    (("certificate.pfx", "certificate.pem"), {}, "", "more than one certificate file"),
])
def test_mistakes_name_the_file_and_key(tmp_path: Path, files: tuple[str, ...], properties: dict[str, object],
                                         where: str, message: str) -> None:
    folder = tmp_path / "certificates" / "c"
    write_json(folder / "certificateInformation.json", {"properties": properties})
    for name in files:
        (folder / name).write_bytes(b"x")
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        read_apiops(tmp_path, {})
    assert where in str(error.value)


def test_a_declared_thumbprint_must_match(tmp_path: Path) -> None:
    pki = TestPki(tmp_path)
    issued = pki.issue("client")
    folder = tmp_path / "apim" / "certificates" / "c"
    write_json(folder / "certificateInformation.json", {"properties": {"thumbprint": "AB" * 20}})
    (folder / "certificate.pem").write_bytes(issued.pem.read_bytes())
    settings = read_apiops(tmp_path / "apim", {}).settings
    with pytest.raises(CertificateError, match=f"thumbprint is {issued.thumbprint}, not {'AB' * 20} as declared"):
        CertificateStore(settings.certificates)


def test_lint_only_warns_about_a_key_vault_certificate(tmp_path: Path) -> None:
    """`policygate lint` checks the documents (the certificate id resolves); serve and check need the file."""
    api_folder(tmp_path, "orders", "orders", spec=SIMPLE_SPEC)
    write_text(tmp_path / "apis" / "orders" / "policy.xml",
               '<policies><inbound><authentication-certificate certificate-id="kv" /></inbound></policies>')
    write_json(tmp_path / "certificates" / "kv" / "certificateInformation.json",
               {"properties": {"keyVault": {"secretIdentifier": "https://kv/secrets/c"}}})
    linted = check_configuration(tmp_path, environ={}, placeholder_secrets=True)  # what `policygate lint` runs
    assert (linted.errors, linted.files) == (0, 1)
    assert [(d.code, d.message) for d in linted.diagnostics] == [(
        "config-ignored", "Key Vault certificates cannot be fetched; `policygate serve` stops until each is put in "
                          "the file (or .p12, .pem): certificates/kv/certificate.pfx")]
    checked = check_configuration(tmp_path, environ={})  # `policygate check`
    assert [d.message for d in checked.diagnostics if d.is_error] == [
        "properties: a Key Vault certificate cannot be fetched: put it in certificates/kv/certificate.pfx (or .p12, .pem)"]
