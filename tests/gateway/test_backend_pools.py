"""Backend entities through the real gateway: pools (round-robin, weights, priority groups), circuit
breakers (trip, 503, recovery, Retry-After), retries moving to another member, credentials.

Members are real loopback servers: the echo `Backend` of tests/support/gateway.py and, for 429s with
Retry-After, the OpenAI-compatible server of tests/support/openai_server.py in its own process.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.conftest import document
from tests.support.gateway import Backend, RunningGateway, run_gateway
from tests.support.openai_server import run_openai_server

POOL_POLICY = document(inbound='<base /><set-backend-service backend-id="pool" />',
                       on_error='<base /><set-header name="X-Error-Reason" exists-action="override">'
                                '<value>@(context.LastError.Reason)</value></set-header>')
RETRY_ON_429 = document(
    inbound='<base /><set-backend-service backend-id="pool" />',
    backend='<retry condition="@(context.Response.StatusCode == 429)" count="2" interval="0" first-fast-retry="true">'
            '<forward-request buffer-request-body="true" /></retry>')
CHAT = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello there"}]})


def breaker(count: int, low: int, high: int, trip: str, *, accept_retry_after: bool = False) -> dict[str, Any]:
    return {"rules": [{"name": "r", "failureCondition": {"count": count, "interval": "PT1M",
                                                          "statusCodeRanges": [{"min": low, "max": high}]},
                       "tripDuration": trip, "acceptRetryAfter": accept_retry_after}]}


def pool_config(members: dict[str, str], services: list[dict[str, Any]], *, breakers: dict[str, dict[str, Any]] | None = None,
                policy: str = "api.xml") -> dict[str, Any]:
    backends: dict[str, Any] = {}
    for name, url in members.items():
        entry: dict[str, Any] = {"url": url, "protocol": "http"}
        if breakers and name in breakers:
            entry["circuitBreaker"] = breakers[name]
        backends[name] = entry
    backends["pool"] = {"type": "Pool", "pool": {"services": services}}
    return {"apis": {"api": {"path": "api", "service-url": "http://127.0.0.1:9", "subscription-required": False,
                             "policy": policy}},
            "backends": backends}


@contextmanager
def echo_backends(n: int) -> Iterator[list[Backend]]:
    with ExitStack() as stack:
        yield [stack.enter_context(Backend()) for _ in range(n)]


def metric(gw: RunningGateway, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", gw.metrics(), re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_round_robin_then_weights_share_requests_exactly(tmp_path: Path) -> None:
    with echo_backends(3) as (a, b, c):
        urls = {"a": a.url, "b": b.url, "c": c.url}
        services = [{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/backends/a"},
                    {"id": "/backends/b"}, {"id": "c"}]
        with run_gateway(tmp_path, pool_config(urls, services), {"api.xml": POOL_POLICY}) as gw:
            assert [gw.get("/api/x").status for _ in range(30)] == [200] * 30
            assert (a.calls, b.calls, c.calls) == (10, 10, 10)
            assert metric(gw, "policygate_backend_pool_requests_total", pool="pool", backend="b") == 10
            weighted = [{"id": "a", "weight": 3}, {"id": "b", "weight": 1}, {"id": "c", "weight": 0}]
            gw.write("gateway.yaml", json.dumps(pool_config(urls, weighted)))
            assert gw.reload()
            for backend in (a, b, c):
                backend.reset()
            assert [gw.get("/api/x").status for _ in range(40)] == [200] * 40
            assert (a.calls, b.calls, c.calls) == (30, 10, 0)  # weight 0: only when no weighted member is left
            assert [r.path for r in a.requests[:1]] == ["/x"]  # the operation path follows the member's URL


def test_priority_group_fails_over_while_the_breaker_is_open_and_recovers(tmp_path: Path) -> None:
    with echo_backends(2) as (first, second):
        config = pool_config({"first": first.url, "second": second.url},
                             [{"id": "first", "priority": 1}, {"id": "second", "priority": 2}],
                             breakers={"first": breaker(2, 500, 599, "PT3S")})
        with run_gateway(tmp_path, config, {"api.xml": POOL_POLICY}) as gw:
            assert gw.get("/api/x").status == 200 and (first.calls, second.calls) == (1, 0)
            first.respond(status=500, body="down")
            assert [gw.get("/api/x").status for _ in range(2)] == [500, 500]  # the second failure trips it
            tripped = time.monotonic()
            assert metric(gw, "policygate_backend_circuit_open", backend="first") == 1
            assert metric(gw, "policygate_backend_circuit_trips_total", backend="first") == 1
            first.reset()
            while time.monotonic() - tripped < 1.0:  # well inside the 3 s trip: the next group answers
                assert gw.get("/api/x").status == 200
            assert first.calls == 0 and second.calls >= 1
            deadline = time.monotonic() + 20
            while first.calls == 0 and time.monotonic() < deadline:
                assert gw.get("/api/x").status == 200
                time.sleep(0.1)
            assert first.calls == 1, "the circuit never closed again"
            assert time.monotonic() - tripped >= 2.9
            assert metric(gw, "policygate_backend_circuit_open", backend="first") == 0


@pytest.mark.every_server
def test_every_member_open_is_503_with_retry_after(tmp_path: Path) -> None:
    with echo_backends(2) as (a, b):
        trip = breaker(1, 500, 503, "PT1H")
        config = pool_config({"a": a.url, "b": b.url}, [{"id": "a"}, {"id": "b"}], breakers={"a": trip, "b": trip})
        with run_gateway(tmp_path, config, {"api.xml": POOL_POLICY}) as gw:
            a.respond(status=503)
            b.respond(status=502)
            assert [gw.get("/api/x").status for _ in range(2)] == [503, 502]
            answer = gw.get("/api/x")
            assert (answer.status, a.calls, b.calls) == (503, 1, 1)
            assert answer.json() == {"statusCode": 503, "message": "The backend service is unavailable; try again later."}
            assert 3500 < int(answer.headers.get("Retry-After") or 0) <= 3600
            assert answer.headers.get("X-Error-Reason") == "BackendUnavailable"
            assert metric(gw, "policygate_backend_unavailable_total", backend="pool") == 1


def test_a_single_backend_with_an_open_breaker_is_503_and_connection_failures_count(tmp_path: Path) -> None:
    config = {"apis": {"api": {"path": "api", "service-url": "http://127.0.0.1:9", "subscription-required": False,
                               "policy": "api.xml"}},
              "backends": {"gone": {"url": Backend.unused_url(), "circuitBreaker": {"rules": [{
                  "failureCondition": {"count": 2, "interval": "PT10S", "errorReasons": ["timeout", "BackendConnectionFailure"]},
                  "tripDuration": "PT1M"}]}}}}
    policy = POOL_POLICY.replace('backend-id="pool"', 'backend-id="gone"')
    with run_gateway(tmp_path, config, {"api.xml": policy}) as gw:
        assert [gw.get("/api/x").status for _ in range(2)] == [502, 502]
        answer = gw.get("/api/x")
        assert answer.status == 503 and answer.headers.get("X-Error-Reason") == "BackendUnavailable"


def test_retry_on_429_moves_to_another_member_and_retry_after_sets_the_trip(tmp_path: Path) -> None:
    with run_openai_server("east") as east, run_openai_server("west") as west:
        rule = breaker(1, 429, 429, "PT1H", accept_retry_after=True)
        config = pool_config({"east": east.url, "west": west.url}, [{"id": "east"}, {"id": "west"}],
                             breakers={"east": rule, "west": rule})
        with run_gateway(tmp_path, config, {"api.xml": RETRY_ON_429}) as gw:
            east.control(throttle=-1, retry_after=3)
            for _ in range(3):
                answer = gw.request("POST", "/api/v1/chat/completions", body=CHAT.encode(),
                                    headers={"Content-Type": "application/json"})
                assert answer.status == 200 and answer.headers.get("x-test-server") == "west"
            assert east.calls()["calls"] == 1  # tripped by its 429, for its Retry-After (3 s), not PT1H
            east.control(throttle=0)
            deadline = time.monotonic() + 20
            while east.calls()["calls"] < 2 and time.monotonic() < deadline:
                gw.request("POST", "/api/v1/chat/completions", body=CHAT.encode(), headers={"Content-Type": "application/json"})
                time.sleep(0.2)
            assert east.calls()["calls"] >= 2, "east stayed tripped past its Retry-After"


def test_retry_without_breaker_tries_another_member_first(tmp_path: Path) -> None:
    with echo_backends(2) as (busy, free):
        busy.respond(status=429, headers={"Retry-After": "5"})
        config = pool_config({"busy": busy.url, "free": free.url}, [{"id": "busy"}, {"id": "free"}])
        with run_gateway(tmp_path, config, {"api.xml": RETRY_ON_429}) as gw:
            assert [gw.get("/api/x").status for _ in range(4)] == [200] * 4
            assert free.calls == 4 and busy.calls == 2  # round-robin still offers busy every other time


@pytest.mark.every_server
def test_credentials_go_only_to_their_member(tmp_path: Path) -> None:
    with echo_backends(2) as (busy, free):
        busy.respond(status=429)
        config = pool_config({"busy": busy.url, "free": free.url}, [{"id": "busy"}, {"id": "free"}])
        config["named-values"] = {"free-key": {"value": "k2", "secret": True}}
        config["backends"]["busy"]["credentials"] = {"header": {"api-key": ["k1"]}, "query": {"code": ["c1"]}}
        config["backends"]["free"]["credentials"] = {"header": {"x-other": "{{free-key}}"},
                                                     "authorization": {"scheme": "Bearer", "parameter": "t2"}}
        outbound = ('<base /><set-header name="X-Saw-Key" exists-action="override">'
                    '<value>@(context.Request.Headers.GetValueOrDefault("api-key", "none"))</value></set-header>')
        policy = RETRY_ON_429.replace("<outbound><base /></outbound>", f"<outbound>{outbound}</outbound>")
        with run_gateway(tmp_path, config, {"api.xml": policy}) as gw:
            answer = gw.get("/api/x?q=1", headers={"api-key": "client's"})
            assert answer.status == 200 and answer.headers.get("X-Saw-Key") == "client's"  # restored after forwarding
            sent_to_busy = dict((k.lower(), v) for k, v in busy.requests[0].headers)
            assert sent_to_busy["api-key"] == "k1" and "code=c1" in busy.requests[0].query
            echoed = answer.json()
            assert echoed["headers"]["api-key"] == "client's" and "code=" not in echoed["query"]
            assert (echoed["headers"]["x-other"], echoed["headers"]["authorization"]) == ("k2", "Bearer t2")


def test_a_backend_with_a_proxy_is_reached_through_it(tmp_path: Path) -> None:
    from tests.policies.test_proxy import ProxyProcess

    proxy = ProxyProcess("gw:s3cret")
    try:
        with echo_backends(2) as (far, near):
            config = pool_config({"far": far.url, "near": near.url, "refused": far.url, "dead": far.url},
                                 [{"id": "near"}])
            config["named-values"] = {"proxy-password": {"value": "s3cret", "secret": True}}
            config["backends"]["far"]["proxy"] = {"url": proxy.url, "username": "gw", "password": "{{proxy-password}}"}
            config["backends"]["refused"]["proxy"] = {"url": proxy.url, "username": "gw", "password": "wrong"}
            config["backends"]["dead"]["proxy"] = {"url": Backend.unused_url()}
            chosen = document(inbound='<base /><set-backend-service backend-id="@(context.Request.Headers'
                                      '.GetValueOrDefault(&quot;b&quot;, &quot;far&quot;))" />')
            with_policy = chosen.replace("<inbound><base />", f'<inbound><base /><proxy url="{proxy.url}" '
                                                            'username="gw" password="s3cret" />')
            config["apis"]["own"] = {**config["apis"]["api"], "path": "own", "policy": "own.xml"}
            with run_gateway(tmp_path, config, {"api.xml": chosen, "own.xml": with_policy}) as gw:
                answer = gw.request("POST", "/api/items?x=1", body=b"hello")
                assert answer.status == 200 and answer.json()["body"] == "hello"
                assert not any(name.lower().startswith("proxy-") for name in answer.json()["headers"])
                assert proxy.calls() == [{"method": "POST", "target": f"{far.url}/items?x=1", "authorized": True}]
                assert gw.get("/api/x", headers={"b": "near"}).status == 200  # no proxy declared: direct
                assert near.calls == 1 and len(proxy.calls()) == 1
                assert gw.get("/api/x", headers={"b": "refused"}).status == 407  # the proxy's answer, as APIM relays it
                assert proxy.calls()[-1]["authorized"] is False and far.calls == 1
                assert gw.get("/api/x", headers={"b": "dead"}).status == 502  # an unreachable proxy: like an unreachable backend
                # A <proxy> policy in the request's pipeline wins over the entity's proxy.
                assert gw.get("/own/y", headers={"b": "dead"}).status == 200
                assert proxy.calls()[-1] == {"method": "GET", "target": f"{far.url}/y", "authorized": True}
    finally:
        proxy.stop()


def test_session_affinity_keeps_a_session_on_its_member(tmp_path: Path) -> None:
    with echo_backends(3) as backends:
        config = pool_config({f"m{i}": b.url for i, b in enumerate(backends)}, [{"id": f"m{i}"} for i in range(3)],
                             breakers={"m0": breaker(1, 500, 599, "PT1H"), "m1": breaker(1, 500, 599, "PT1H"),
                                       "m2": breaker(1, 500, 599, "PT1H")})
        config["backends"]["pool"]["pool"]["sessionAffinity"] = {"sessionId": {"source": "Cookie", "name": "SessionId"}}
        with run_gateway(tmp_path, config, {"api.xml": POOL_POLICY}) as gw:
            sessions = []
            for _ in range(12):  # new clients: each answer starts a session
                first = gw.get("/api/x")
                cookie = first.headers.get("Set-Cookie") or ""
                assert first.status == 200 and re.fullmatch(r"SessionId=[A-Za-z0-9_-]{24}; Path=/; HttpOnly", cookie)
                sessions.append(cookie.split(";")[0])
            counts = [b.calls for b in backends]
            assert sum(counts) == 12 and sum(1 for c in counts if c) >= 2  # sessions spread over members
            session = sessions[0]
            for b in backends:
                b.reset()
            answers = [gw.get("/api/x", headers={"Cookie": f"theme=dark; {session}"}) for _ in range(6)]
            assert all(a.status == 200 and a.headers.get("Set-Cookie") is None for a in answers)  # known session
            home = next(b for b in backends if b.calls)
            assert home.calls == 6  # all six on the session's member
            home.respond(status=500, body="down")
            assert gw.get("/api/x", headers={"Cookie": session}).status == 500  # trips its breaker
            home.reset()
            for b in backends:
                b.reset()
            assert [gw.get("/api/x", headers={"Cookie": session}).status for _ in range(4)] == [200] * 4
            moved = [b for b in backends if b.calls]
            assert len(moved) == 1 and moved[0] is not home and moved[0].calls == 4  # its next choice, steadily


@pytest.mark.every_server
def test_tls_settings_per_backend(tmp_path: Path) -> None:
    """A backend whose certificate the gateway cannot verify (a private CA it does not trust): refused by
    default and with only the name check off; reached with `validateCertificateChain: false`."""
    import subprocess
    import sys

    from tests.support.certificates import TestPki

    pki = TestPki(tmp_path)
    server = pki.issue("localhost", server=True)
    process = subprocess.Popen([sys.executable, "-m", "tests.support.tls_backend", str(server.cert_file),
                                str(server.key_file), "-"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = f"https://127.0.0.1:{process.stdout.readline().strip()}"
        backends = {"strict": {"url": url}, "nameless": {"url": url, "tls": {"validateCertificateName": False}},
                    "trusting": {"url": url, "tls": {"validateCertificateChain": False}}}
        policies = {f"{b}.xml": document(inbound=f'<base /><set-backend-service backend-id="{b}" />') for b in backends}
        config = {"backends": backends,
                  "apis": {b: {"path": b, "service-url": "http://127.0.0.1:9", "subscription-required": False,
                               "policy": f"{b}.xml"} for b in backends}}
        with run_gateway(tmp_path / "gw", config, policies) as gw:
            assert gw.get("/strict/x").status == 502
            assert gw.get("/nameless/x").status == 502  # the chain is still checked
            reached = gw.get("/trusting/orders")
            assert reached.status == 200 and reached.json() == {"method": "GET", "path": "/orders", "client": None}
            assert gw.get("/strict/x").status == 502  # the relaxed context is that backend's alone
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(("backends", "where", "message"), [
    ({"pool": {"type": "Pool", "pool": {"services": [{"id": "/backends/ghost"}]}}},
     "backends.pool.pool.services[0].id", "no backend 'ghost' is defined"),
    ({"a": "http://a", "p": {"type": "Pool", "pool": {"services": [{"id": "a"}]}},
      "pool": {"type": "Pool", "pool": {"services": [{"id": "p"}]}}},
     "backends.pool.pool.services[0].id", "pools cannot contain pools"),
    ({"a": {"url": "http://a", "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "interval": "1 minute",
                                                                                   "errorReasons": ["timeout"]},
                                                             "tripDuration": "PT1M"}]}}},
     "backends.a.circuitBreaker.rules[0].failureCondition.interval", "not an ISO-8601 duration"),
    ({"a": {"url": "http://a", "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "percentage": 5,
                                                                                   "interval": "PT1M", "errorReasons": ["x"]},
                                                             "tripDuration": "PT1M"}]}}},
     "backends.a.circuitBreaker.rules[0].failureCondition", "exactly one of count or percentage"),
    ({"a": {"url": "http://a", "tls": {"validateCertificateChain": "no"}}}, "backends.a.tls.validateCertificateChain",
     "expected true or false"),
    ({"a": {"url": "http://a", "proxy": {"url": "https://p:443"}}}, "backends.a.proxy.url", "not an http:// proxy URL"),
    ({"a": {"url": "http://a", "proxy": {"username": "u"}}}, "backends.a.proxy.url", "is required"),
    ({"a": "http://a", "p": {"type": "Pool", "pool": {"services": [{"id": "a"}]}, "proxy": {"url": "http://p:3128"}}},
     "backends.p", "a pool has no circuit breaker, credentials, tls or proxy of its own"),
    ({"a": {"url": "http://a", "weight": 3}}, "backends.a.weight", "unknown key"),
    ({"a": "http://a", "p": {"type": "Pool", "pool": {"services": [{"id": "a"}], "sessionAffinity": {
        "sessionId": {"source": "Header", "name": "X-Session"}}}}},
     "backends.p.pool.sessionAffinity.sessionId.source", "only Cookie"),
])
def test_configuration_mistakes_are_located(tmp_path: Path, backends: dict[str, Any], where: str, message: str) -> None:
    import yaml

    from engine.errors import ConfigError
    from engine.gateway.config import parse_settings

    text = yaml.safe_dump({"backends": backends})
    with pytest.raises(ConfigError, match=rf"gateway.yaml:\d+:\d+: {re.escape(where)}: .*{re.escape(message)}"):
        parse_settings(text, file=tmp_path / "gateway.yaml", environ={})


def test_a_constant_backend_id_must_name_a_declared_backend(tmp_path: Path) -> None:
    from engine.errors import PolicyLoadError

    config = pool_config({"a": "http://127.0.0.1:9"}, [{"id": "a"}])
    with pytest.raises(PolicyLoadError) as error, \
            run_gateway(tmp_path, config, {"api.xml": POOL_POLICY.replace('"pool"', '"poool"')}):
        pass
    (problem,) = error.value.diagnostics
    assert (problem.code, Path(problem.span.file).name) == ("gateway-settings-missing", "api.xml")
    assert problem.message == ("<set-backend-service> backend-id 'poool' is not declared under `backends:` "
                               "in the gateway configuration")
    computed = POOL_POLICY.replace('backend-id="pool"', 'backend-id="@(context.Request.Headers.GetValueOrDefault(&quot;b&quot;, &quot;pool&quot;))"')
    with run_gateway(tmp_path / "2", config, {"api.xml": computed}) as gw:  # checked per request instead
        answer = gw.get("/api/x", headers={"b": "poool"})
        assert (answer.status, answer.headers.get("X-Error-Reason")) == (500, "BackendNotFound")
