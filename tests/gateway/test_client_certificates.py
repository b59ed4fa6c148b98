"""Mutual TLS at the gateway's listener (`server.tls.client-ca-file`) on every HTTP server
(validate-client-certificate and context.Request.Certificate: tests/policies/test_validate_client_certificate.py)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from engine.errors import ConfigError
from tests.support.certificates import TestPki
from tests.support.gateway import Backend, http_request, run_gateway, simple_config


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
