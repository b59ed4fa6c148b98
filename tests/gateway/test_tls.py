"""HTTPS on the gateway port (server.tls), with a throwaway self-signed certificate."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from engine.errors import ConfigError
from tests.support.gateway import http_request, simple_config

pytestmark = pytest.mark.every_server  # TLS, HTTP/2, reload, admin, errors, streaming: on every server


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def test_https_listener(gateway, tmp_path: Path) -> None:
    self_signed(tmp_path)
    config = simple_config(server={"tls": {"certfile": "cert.pem", "keyfile": "key.pem"}})
    with gateway(config) as gw:
        assert gw.url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        answer = http_request(gw.url, "GET", "/echo/x?a=1", context=trust)
        assert answer.status == 200
        assert answer.json()["headers"]["x-forwarded-proto"] == "https"
        with pytest.raises(ssl.SSLError):
            http_request(gw.url, "GET", "/echo/x", context=ssl.create_default_context())  # untrusted


def test_bad_certificate_is_a_config_error(gateway, tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    config = simple_config(server={"tls": {"certfile": "cert.pem", "keyfile": "key.pem"}})
    with pytest.raises(ConfigError, match="server.tls: cannot load the certificate"):
        with gateway(config):
            pass


def h2_get(url: str, path: str, context: ssl.SSLContext) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/2 GET over TLS (ALPN "h2") with the h2 library: status, headers, body."""
    import socket

    import h2.connection
    import h2.events

    host, port = url.removeprefix("https://").split(":")
    context.set_alpn_protocols(["h2"])
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as sock:
        assert sock.selected_alpn_protocol() == "h2"
        connection = h2.connection.H2Connection()
        connection.initiate_connection()
        connection.send_headers(1, [(":method", "GET"), (":path", path), (":scheme", "https"), (":authority", host)],
                                end_stream=True)
        sock.sendall(connection.data_to_send())
        status, headers, body = 0, {}, b""
        while True:
            data = sock.recv(65536)
            assert data, "the connection closed before the stream ended"
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    headers = {k.decode(): v.decode() for k, v in event.headers}
                    status = int(headers[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    return status, headers, body
            sock.sendall(connection.data_to_send())


def alpn_choice(url: str, offered: list[str], trust: ssl.SSLContext) -> str | None:
    """The protocol the gateway's TLS handshake selects from `offered`."""
    import socket

    host, port = url.removeprefix("https://").split(":")
    trust.set_alpn_protocols(offered)
    with socket.create_connection((host, int(port)), timeout=10) as raw, trust.wrap_socket(raw, server_hostname=host) as sock:
        return sock.selected_alpn_protocol()


def test_http2_by_alpn(gateway, tmp_path: Path, http_server: str) -> None:
    self_signed(tmp_path)
    config = simple_config(server={"tls": {"certfile": "cert.pem", "keyfile": "key.pem"}})
    with gateway(config) as gw:
        trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        if http_server == "native":  # documented: HTTP/1.1 only, ALPN offers http/1.1 alone
            assert alpn_choice(gw.url, ["h2", "http/1.1"], trust) == "http/1.1"
            assert alpn_choice(gw.url, ["h2"], trust) is None
            assert http_request(gw.url, "GET", "/echo/x", context=trust).status == 200
            return
        status, headers, body = h2_get(gw.url, "/echo/h2?a=1", trust)
        assert status == 200
        echoed = json.loads(body)
        assert echoed["path"] == "/h2" and echoed["query"] == "a=1"
        assert echoed["headers"]["x-forwarded-proto"] == "https"
        assert headers["content-type"] == "application/json"
