"""Backend calls: failures (502/504) with on-error, hop-by-hop headers, forwarding headers, streaming."""

from __future__ import annotations

import hashlib
import socket
import time

import pytest

from tests.gateway.conftest import document
from tests.support.gateway import Backend, held_exchange, simple_config

pytestmark = pytest.mark.every_server  # TLS, HTTP/2, reload, admin, errors, streaming: on every server

ON_ERROR = '<set-header name="X-On-Error" exists-action="override"><value>ran</value></set-header>'


def test_connection_failure_is_502_and_runs_on_error(gateway) -> None:
    config = simple_config(api_policy="api.xml")
    config["apis"]["echo"]["service-url"] = Backend.unused_url()
    with gateway(config, {"api.xml": document(on_error=ON_ERROR)}) as gw:
        answer = gw.get("/echo/x")
        assert answer.status == 502
        assert answer.headers.get("X-On-Error") == "ran"
        assert answer.json()["statusCode"] == 502
        assert 'reason="BackendConnectionFailure"' in gw.metrics()


def test_timeout_is_504(gateway, backend) -> None:
    policy = document(backend='<forward-request timeout="1" />', on_error=ON_ERROR)
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": policy}) as gw:
        answer = gw.get("/echo/slow", headers={"X-Test-Delay": "3"})
        assert answer.status == 504
        assert answer.headers.get("X-On-Error") == "ran"
        assert "timed out" in answer.json()["message"]


def test_backend_dropping_the_connection_is_502(gateway) -> None:
    with gateway(simple_config()) as gw:
        assert gw.get("/echo/x", headers={"X-Test-Close": "1"}).status == 502


def test_fail_on_error_status_code_keeps_backend_response(gateway) -> None:
    policy = document(backend='<forward-request fail-on-error-status-code="true" />', on_error=ON_ERROR)
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": policy}) as gw:
        failed = gw.get("/echo/x", headers={"X-Test-Status": "503"})
        assert failed.status == 503
        assert failed.headers.get("X-On-Error") == "ran"
        assert failed.json()["path"] == "/x"  # the backend's own body
        fine = gw.get("/echo/x", headers={"X-Test-Status": "200"})
        assert fine.status == 200 and "X-On-Error" not in fine.headers


def test_without_fail_on_error_status_codes_pass_through(gateway) -> None:
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": document(on_error=ON_ERROR)}) as gw:
        answer = gw.get("/echo/x", headers={"X-Test-Status": "500"})
        assert answer.status == 500 and "X-On-Error" not in answer.headers


def test_redirects_pass_through_or_are_followed(gateway) -> None:
    redirect = {"X-Test-Redirect": "/landed"}
    with gateway(simple_config()) as gw:
        answer = gw.get("/echo/x", headers=redirect)
        assert (answer.status, answer.headers.get("Location")) == (302, "/landed")
    follow = document(backend='<forward-request follow-redirects="true" />')
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": follow}) as gw:
        answer = gw.get("/echo/x", headers=redirect)
        assert answer.status == 200 and answer.json()["path"] == "/landed"


def test_hop_by_hop_headers_are_dropped_both_ways(gateway, backend) -> None:
    headers = [
        ("Connection", "X-Private, keep-alive"), ("X-Private", "secret"), ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"), ("Proxy-Authorization", "Basic eA=="), ("X-Kept", "yes"),
        ("X-Test-Response-Header", "Keep-Alive: timeout=9"), ("X-Test-Response-Header", "Proxy-Authenticate: Basic"),
        ("X-Test-Response-Header", "X-Answer: 42"),
    ]
    with gateway(simple_config()) as gw:
        answer = gw.get("/echo/x", headers=headers)
        seen = answer.json()["headers"]
        for name in ("x-private", "keep-alive", "te", "proxy-authorization"):
            assert name not in seen
        assert seen["x-kept"] == "yes"
        assert seen["x-forwarded-for"] == "127.0.0.1"
        assert seen["x-forwarded-proto"] == "http"
        assert seen["x-forwarded-host"] == gw.url.split("://")[1]
        assert seen["host"] == backend.url.split("://")[1]
        assert "Proxy-Authenticate" not in answer.headers and "Keep-Alive" not in answer.headers
        assert answer.headers.get("X-Answer") == "42"


def test_existing_forwarded_for_is_extended(gateway) -> None:
    with gateway(simple_config()) as gw:
        seen = gw.get("/echo/x", headers={"X-Forwarded-For": "10.0.0.1"}).json()["headers"]
        assert seen["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"


def test_large_bodies_stream_both_ways(gateway, backend) -> None:
    upload = bytes(range(256)) * (8 * 4096)  # 8 MiB
    with gateway(simple_config()) as gw:
        answer = gw.request("POST", "/echo/upload", body=upload, headers={"Content-Type": "application/octet-stream"})
        assert answer.status == 200
        echoed = answer.json()
        assert echoed["body_length"] == len(upload)
        assert echoed["body_sha256"] == hashlib.sha256(upload).hexdigest()
        download = gw.get("/echo/download", headers={"X-Test-Size": str(16 * 1024 * 1024)})
        assert download.status == 200
        assert len(download.body) == 16 * 1024 * 1024
        assert download.headers.get("Content-Length") == str(16 * 1024 * 1024)


def test_head_and_204_have_no_body(gateway) -> None:
    with gateway(simple_config()) as gw:
        head = gw.request("HEAD", "/echo/x")
        assert head.status == 200 and head.body == b""
        assert gw.get("/echo/x", headers={"X-Test-Status": "204"}).body == b""


def test_response_streams_before_the_backend_finishes(gateway, backend) -> None:
    with gateway(simple_config()) as gw:
        received = held_exchange(gw.url, b"GET /echo/stream HTTP/1.1\r\nHost: x\r\nX-Test-Hold: 1\r\n"
                                         b"Connection: close\r\n\r\n", backend)
        assert received.startswith(b"HTTP/1.1 200")
        assert b"the rest" in received


def test_buffering_when_a_policy_reads_the_body(gateway, backend) -> None:
    policy = document(outbound='<base /><set-header name="X-Length" exists-action="override">'
                               '<value>@(context.Response.Body.As&lt;string&gt;(preserveContent: true).Length.ToString())</value>'
                               '</set-header>')
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": policy}) as gw:
        answer = gw.get("/echo/x", headers={"X-Test-Size": "200000"})
        assert answer.headers.get("X-Length") == "200000"
        assert len(answer.body) == 200000


def test_path_and_query_are_forwarded_as_sent(gateway, backend) -> None:
    with gateway(simple_config()) as gw:
        echoed = gw.get("/echo/a%20b/c%2Fd?x=a%2Bb&y=1+2&z=%E2%82%AC&flag").json()
        assert echoed["path"] == "/a%20b/c%2Fd"
        assert echoed["query"] == "x=a%2Bb&y=1+2&z=%E2%82%AC&flag"


def test_client_leaving_mid_upload_is_a_client_connection_failure(gateway, backend, capsys) -> None:
    with gateway(simple_config(), access_log=True) as gw:
        host, port = gw.url.split("://")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"a" * 10)
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while "ClientConnectionFailure" not in (err := capsys.readouterr().err):
            assert time.monotonic() < deadline, err
            time.sleep(0.05)
        assert gw.get("/echo/ok").status == 200  # the gateway carries on


def test_buffered_body_over_the_limit_is_413(gateway, backend) -> None:
    policy = document(inbound='<base /><set-variable name="b" value="@(context.Request.Body.As&lt;string&gt;(preserveContent: true))" />')
    config = simple_config(api_policy="api.xml", server={"max-body-size": 1000})
    with gateway(config, {"api.xml": policy}) as gw:
        assert gw.request("POST", "/echo/x", body="a" * 1000).status == 200
        too_big = gw.request("POST", "/echo/x", body="a" * 1001)
        assert too_big.status == 413
        assert too_big.json()["statusCode"] == 413
        assert backend.calls == 1
