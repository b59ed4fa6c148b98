"""Mutual TLS at the gateway's listener (`server.tls.client-ca-file`) on every HTTP server
(validate-client-certificate and context.Request.Certificate: tests/policies/test_validate_client_certificate.py)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from engine.errors import ConfigError
from tests.support.certificates import TestPki
from tests.support.gateway import Backend, http_request, run_gateway, simple_config, use_server


@pytest.mark.every_server
def test_listener_requires_a_client_certificate_from_the_configured_ca(tmp_path: Path) -> None:
    pki = TestPki(tmp_path)
    server, client = pki.issue("localhost", server=True), pki.issue("caller")
    (tmp_path / "other").mkdir()
    stranger = TestPki(tmp_path / "other").issue("stranger")  # issued by a CA the gateway does not trust
    config = simple_config()
    config["server"] = {"tls": {"certfile": str(server.cert_file), "keyfile": str(server.key_file),
                                "client-ca-file": str(pki.ca_file)}}
    with Backend() as backend, run_gateway(tmp_path, config, backend=backend) as gateway:
        trusted = ssl.create_default_context(cafile=str(pki.ca_file))
        trusted.load_cert_chain(client.cert_file, client.key_file)
        answer = http_request(gateway.url, "GET", "/echo/x", context=trusted)
        assert answer.status == 200 and answer.json()["path"] == "/x"
        anonymous = ssl.create_default_context(cafile=str(pki.ca_file))
        foreign = ssl.create_default_context(cafile=str(pki.ca_file))
        foreign.load_cert_chain(stranger.cert_file, stranger.key_file)
        for context in (anonymous, foreign):
            with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
                http_request(gateway.url, "GET", "/echo/x", context=context)
        assert backend.calls == 1


def test_bad_client_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    pki = TestPki(tmp_path)
    server = pki.issue("localhost", server=True)
    (tmp_path / "junk.pem").write_text("junk")
    config = simple_config()
    config["named-values"] = {"backend-url": Backend.unused_url()}
    config["server"] = {"tls": {"certfile": str(server.cert_file), "keyfile": str(server.key_file),
                                "client-ca-file": "junk.pem"}}
    with pytest.raises(ConfigError, match="server.tls.client-ca-file"), run_gateway(tmp_path, config):
        pass


@pytest.mark.parametrize("http_server", ["native", "hypercorn"])
def test_optional_client_certificates_let_anonymous_callers_in(tmp_path: Path, http_server: str) -> None:
    pki = TestPki(tmp_path)
    server, client = pki.issue("localhost", server=True), pki.issue("caller")
    (tmp_path / "other").mkdir()
    stranger = TestPki(tmp_path / "other").issue("stranger")
    config = simple_config()
    config["server"] = {"tls": {"certfile": str(server.cert_file), "keyfile": str(server.key_file),
                                "client-ca-file": str(pki.ca_file), "client-certificate": "optional"}}
    with use_server(http_server), Backend() as backend, run_gateway(tmp_path, config, backend=backend) as gateway:
        for issued in (client, None):
            context = ssl.create_default_context(cafile=str(pki.ca_file))
            if issued is not None:
                context.load_cert_chain(issued.cert_file, issued.key_file)
            assert http_request(gateway.url, "GET", "/echo/x", context=context).status == 200
        foreign = ssl.create_default_context(cafile=str(pki.ca_file))
        foreign.load_cert_chain(stranger.cert_file, stranger.key_file)
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):  # a certificate sent must still be trusted
            http_request(gateway.url, "GET", "/echo/x", context=foreign)
        assert backend.calls == 2


def test_optional_client_certificates_are_refused_on_granian(tmp_path: Path) -> None:
    pki = TestPki(tmp_path)
    server = pki.issue("localhost", server=True)
    config = simple_config()
    config["named-values"] = {"backend-url": Backend.unused_url()}
    config["server"] = {"tls": {"certfile": str(server.cert_file), "keyfile": str(server.key_file),
                                "client-ca-file": str(pki.ca_file), "client-certificate": "optional"}}
    with use_server("granian"), pytest.raises(ConfigError, match="client-certificate"), run_gateway(tmp_path, config):
        pass
