"""An API answers only the URL schemes it lists (`protocols`), on a real gateway over plain HTTP and TLS."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest

from engine.context import Headers
from engine.gateway.clientip import TrustedProxies, parse_networks
from engine.gateway.routing import Router
from tests.gateway.test_tls import self_signed
from tests.support.gateway import http_request

NOT_FOUND = {"statusCode": 404, "message": "Resource not found"}


def config(**server: Any) -> dict[str, Any]:
    def api(path: str, *protocols: str) -> dict[str, Any]:
        return {"path": path, "service-url": "{{backend-url}}", "subscription-required": False,
                "protocols": list(protocols)}

    return {"apis": {"secure": api("secure", "HTTPS"), "both": api("both", "http", "https"),
                     "plain": api("plain", "http"), "root": api("", "http", "https")},
            "server": server}


def test_an_https_only_api_is_not_routed_over_plain_http(gateway, backend) -> None:
    with gateway(config()) as gw:
        refused = gw.get("/secure/x")
        assert (refused.status, refused.json()) == (404, NOT_FOUND)  # not even the root API's catch-all
        assert backend.calls == 0
        assert gw.get("/both/x").status == 200
        assert gw.get("/plain/x").status == 200
        # without a trusted proxy, the caller cannot claim https
        assert gw.get("/secure/x", headers={"X-Forwarded-Proto": "https"}).status == 404
        assert gw.get("/secure/x", headers={"Forwarded": "proto=https"}).status == 404
        assert backend.calls == 2


def test_the_same_api_answers_over_tls(gateway, backend, tmp_path: Path) -> None:
    self_signed(tmp_path)
    with gateway(config(tls={"certfile": "cert.pem", "keyfile": "key.pem"})) as gw:
        trust = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        answer = http_request(gw.url, "GET", "/secure/x", context=trust)
        assert answer.status == 200
        assert answer.json()["path"] == "/x"
        assert http_request(gw.url, "GET", "/both/x", context=trust).status == 200
        plain_only = http_request(gw.url, "GET", "/plain/x", context=trust)
        assert (plain_only.status, plain_only.json()) == (404, NOT_FOUND)


def test_a_trusted_tls_terminating_proxy_tells_the_scheme(gateway, backend) -> None:
    with gateway(config(**{"trusted-proxies": ["127.0.0.1"]})) as gw:
        answer = gw.get("/secure/x", headers={"X-Forwarded-Proto": "https"})
        assert answer.status == 200
        assert answer.json()["headers"]["x-forwarded-proto"] == "https"  # OriginalUrl.Scheme, passed on
        assert gw.get("/secure/x").status == 404  # the proxy said nothing: the connection's scheme
        assert gw.get("/plain/x", headers={"X-Forwarded-Proto": "https"}).status == 404
        # the proxy nearest to the gateway appended its own scheme: that one counts
        assert gw.get("/secure/x", headers={"X-Forwarded-Proto": "https, http"}).status == 404


def test_the_forwarded_header_tells_the_scheme_when_configured(gateway, backend) -> None:
    server = {"trusted-proxies": ["127.0.0.1"], "client-ip-header": "forwarded"}
    with gateway(config(**server)) as gw:
        assert gw.get("/secure/x", headers={"Forwarded": "for=192.0.2.1;proto=https"}).status == 200
        assert gw.get("/secure/x", headers={"X-Forwarded-Proto": "https"}).status == 404  # not the configured header


@pytest.mark.parametrize(("peer", "headers", "expected"), [
    ("10.0.0.1", [("X-Forwarded-Proto", "HTTPS")], "https"),
    ("192.0.2.1", [("X-Forwarded-Proto", "https")], None),  # untrusted peer
    ("10.0.0.1", [("X-Forwarded-Proto", "gopher")], None),  # not a scheme the gateway routes
    ("10.0.0.1", [("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "http")], "http"),  # the nearest hop
    ("10.0.0.1", [], None),
])
def test_forwarded_scheme(peer: str, headers: list[tuple[str, str]], expected: str | None) -> None:
    assert TrustedProxies(parse_networks(["10.0.0.0/8"])).forwarded_scheme(peer, Headers(headers)) == expected


def test_revisions_keep_their_own_protocols() -> None:
    router: Router[str] = Router()
    router.add_api("a", "current", [("GET", "/x", "op")], revision="1", protocols=("https",))
    router.add_api("a", "old", [("GET", "/x", "op")], revision="2", current=False, protocols=("http",))
    assert router.route("http", "GET", "/a/x", {}) is None
    assert router.route("https", "GET", "/a/x", {}) is not None
    assert router.route("https", "GET", "/a;rev=2/x", {}) is None
    found = router.route("http", "GET", "/a;rev=2/x", {})
    assert found is not None and found.api == "old"


def test_an_unknown_protocol_is_a_located_config_error() -> None:
    from engine.errors import ConfigError
    from engine.gateway.config import parse_settings

    text = "apis:\n  a: {path: p, service-url: 'http://x', protocols: [https, htps]}\n"
    with pytest.raises(ConfigError, match=r"gateway.yaml:2:\d+: apis.a.protocols: 'htps' is not one of: http, https, ws, wss"):
        parse_settings(text, file="gateway.yaml")
