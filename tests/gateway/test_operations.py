"""Operations settings (issue 11): a private admin listener with an optional token, trusted proxies."""

from __future__ import annotations

import json
import re

import pytest

from engine.context import Headers
from engine.gateway.clientip import TrustedProxies, parse_networks
from tests.gateway.conftest import document
from tests.support.gateway import http_request, simple_config

CALLER = document(inbound="""<base />
    <set-header name="X-Caller" exists-action="override"><value>@(context.Request.IpAddress)</value></set-header>
    <ip-filter action="forbid"><address>203.0.113.66</address></ip-filter>""")


# -- admin listener ------------------------------------------------------------------------------
def test_admin_listens_on_loopback_even_when_the_gateway_listens_everywhere(gateway) -> None:
    with gateway(simple_config(), host="0.0.0.0") as gw:
        assert gw.server.bound["gateway"][0] == "0.0.0.0"
        assert gw.server.bound["admin"][0] == "127.0.0.1"
        assert http_request(gw.admin_url, "GET", "/health").status == 200


def test_admin_host_is_configurable(gateway, caplog) -> None:
    with gateway(simple_config(server={"admin-host": "0.0.0.0", "admin-token": "t0ken"})) as gw:
        assert gw.server.bound["admin"][0] == "0.0.0.0"
    assert "without server.admin-token" not in caplog.text
    with gateway(simple_config(), admin_host="0.0.0.0") as gw:  # what `serve --admin-host 0.0.0.0` passes
        assert gw.server.bound["admin"][0] == "0.0.0.0"
    assert "admin port listens on 0.0.0.0 without server.admin-token" in caplog.text


def test_admin_token_guards_purge_but_not_reads(gateway, monkeypatch) -> None:
    monkeypatch.setenv("TEST_ADMIN_TOKEN", "s3cret-token")
    with gateway(simple_config(server={"admin-token": {"env": "TEST_ADMIN_TOKEN"}})) as gw:
        missing = http_request(gw.admin_url, "POST", "/cache/purge?api=echo")
        assert missing.status == 401 and missing.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert missing.json()["error"] == "unauthorized"
        wrong = http_request(gw.admin_url, "POST", "/cache/purge?api=echo", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        right = http_request(gw.admin_url, "POST", "/cache/purge?api=echo",
                             headers={"Authorization": "Bearer s3cret-token"})
        assert right.status == 200 and right.json()["removed"] == 0
        assert http_request(gw.admin_url, "GET", "/metrics").status == 200
        assert http_request(gw.admin_url, "GET", "/health").status == 200


def test_cache_purge_command_sends_the_token(gateway, tmp_path, capsys) -> None:
    from engine.cli import main

    with gateway(simple_config(server={"admin-token": "s3cret-token"})) as gw:
        config = str(tmp_path / "gateway.yaml")
        assert main(["cache", "purge", config, "--api", "echo", "--admin", gw.admin_url]) == 1
        assert "answered 401" in capsys.readouterr().err
        assert main(["cache", "purge", config, "--api", "echo", "--admin", gw.admin_url,
                     "--admin-token", "s3cret-token"]) == 0
        assert "removed 0 cached entries" in capsys.readouterr().out


# -- trusted proxies -----------------------------------------------------------------------------
def test_forwarding_headers_are_ignored_by_default(gateway, backend) -> None:
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": CALLER}) as gw:
        answer = gw.get("/echo/x", headers={"X-Forwarded-For": "203.0.113.66", "Forwarded": "for=203.0.113.66"})
        assert answer.status == 200  # the caller cannot pick an address the ip-filter forbids
        assert answer.json()["headers"]["x-caller"] == "127.0.0.1"
        assert answer.json()["headers"]["x-forwarded-for"] == "203.0.113.66, 127.0.0.1"


def test_a_trusted_peer_gives_the_callers_address(gateway, backend, capsys) -> None:
    config = simple_config(api_policy="api.xml", server={"trusted-proxies": ["127.0.0.0/8", "10.0.0.0/8"]})
    with gateway(config, {"api.xml": CALLER}, access_log=True) as gw:
        answer = gw.get("/echo/x", headers={"X-Forwarded-For": "198.51.100.1, 198.51.100.9, 10.1.2.3"})
        assert answer.json()["headers"]["x-caller"] == "198.51.100.9"  # the first untrusted hop from the right
        # proxies append the hop that reached them: the peer, not the caller again
        assert answer.json()["headers"]["x-forwarded-for"] == "198.51.100.1, 198.51.100.9, 10.1.2.3, 127.0.0.1"
        assert gw.get("/echo/x", headers={"X-Forwarded-For": "203.0.113.66"}).status == 403  # ip-filter sees it
        # a Forwarded header is not read while client-ip-header is x-forwarded-for
        spoofed = gw.get("/echo/x", headers={"Forwarded": "for=192.0.2.1"})
        assert spoofed.json()["headers"]["x-caller"] == "127.0.0.1"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert (lines[0]["client_ip"], lines[0]["proxy_ip"]) == ("198.51.100.9", "127.0.0.1")


def test_the_forwarded_header_when_configured(gateway, backend) -> None:
    config = simple_config(api_policy="api.xml",
                           server={"trusted-proxies": "127.0.0.1", "client-ip-header": "Forwarded"})
    with gateway(config, {"api.xml": CALLER}) as gw:
        answer = gw.get("/echo/x", headers={"Forwarded": 'for="[2001:db8::7]:4711";proto=https, for=127.0.0.1'})
        assert answer.json()["headers"]["x-caller"] == "2001:db8::7"
        assert gw.get("/echo/x", headers={"X-Forwarded-For": "192.0.2.1"}).json()["headers"]["x-caller"] == "127.0.0.1"


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("192.0.2.10", "198.51.100.1", "192.0.2.10"),  # untrusted peer: its header means nothing
    ("10.0.0.1", "", "10.0.0.1"),  # trusted peer without a header
    ("10.0.0.1", "198.51.100.1:5555", "198.51.100.1"),  # ports as some proxies write them
    ("10.0.0.1", "unknown, 10.0.0.2", "10.0.0.2"),  # garbage stops the walk at the last trusted hop
    ("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # every hop trusted: the farthest one
    ("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),  # IPv4-mapped peer
])
def test_client_address_walks_the_chain(peer: str, header: str, expected: str) -> None:
    proxies = TrustedProxies(parse_networks(["10.0.0.0/8"]))
    headers = Headers([("X-Forwarded-For", header)] if header else [])
    assert proxies.client_address(peer, headers) == expected


@pytest.mark.parametrize(("server", "message"), [
    ({"trusted-proxies": ["10.0.0.0/33"]}, "server.trusted-proxies: '10.0.0.0/33' is not an IP address or CIDR block"),
    ({"client-ip-header": "X-Real-IP"}, "server.client-ip-header: 'X-Real-IP' is not one of: x-forwarded-for, forwarded"),
    ({"admin-token": {"env": "POLICYGATE_TEST_UNSET_TOKEN"}},
     "server.admin-token: environment variable POLICYGATE_TEST_UNSET_TOKEN is not set"),
])
def test_bad_settings_are_located(tmp_path, server: dict[str, object], message: str) -> None:
    from engine.errors import ConfigError
    from engine.gateway.config import parse_settings

    with pytest.raises(ConfigError) as caught:
        parse_settings(json.dumps({"server": server}), file=tmp_path / "gateway.yaml", environ={})
    assert re.fullmatch(rf"{re.escape(str(tmp_path / 'gateway.yaml'))}:1:\d+: {re.escape(message)}", str(caught.value)), \
        str(caught.value)  # file:line:col: key: message


def test_rate_limits_by_ip_count_each_caller_behind_the_proxy(gateway, backend) -> None:
    policy = document(inbound='<base /><rate-limit-by-key calls="1" renewal-period="60" '
                              'counter-key="@(context.Request.IpAddress)" />')
    config = simple_config(api_policy="api.xml", server={"trusted-proxies": ["127.0.0.1/32"]})
    with gateway(config, {"api.xml": policy}) as gw:
        first = {"X-Forwarded-For": "198.51.100.1"}
        assert gw.get("/echo/x", headers=first).status == 200
        assert gw.get("/echo/x", headers={"X-Forwarded-For": "198.51.100.2"}).status == 200  # another caller
        assert gw.get("/echo/x", headers=first).status == 429
