"""The gateway's own cost per request, without the HTTP server: Gateway.handle called in a loop.

    python -m tests.perf.inprocess [--scenario b|s|m|g|p|q|x|o|c|d|c-redis|d-redis] [--requests 20000] [--rounds 5]
                                   [--concurrency 1] [--profile] [--tracing RATIO]

Builds the gateway of a tests/perf/run.py scenario in this process (b pass-through to the raw
backend, s the same with one `send-request` to that backend in inbound before it, m the same with one
`send-service-bus-message` (two properties, a static token) sent to that backend, g a synthetic GraphQL
API (APIOps folder) answering a 2-field query with 2 `http-data-source` resolvers calling that backend, p the same
query POSTed to a pass-through GraphQL API (a schema, no resolvers) forwarding it to that backend, q p with
`validate-graphql-request` (schema validation, depth and 3 authorize rules) in inbound, x a SOAP 1.1
request POSTed to a plain API, o the same request to a SOAP API (WSDL with 3 operations) routed by its
SOAPAction, c in-process cache
hit, d full pipeline with in-process cache and counters), then calls
its ASGI handler directly with a prepared HTTP scope and a `send` that drops the messages. The
best of `--rounds` rounds is reported in microseconds of this thread's CPU time per request:
routing, subscription, context, policies, response headers, metrics - and, for b, the backend
client's share of the round trip to the backend (not the time spent waiting for it). CPU time
rather than wall time keeps it precise (a few percent) on a busy machine, enough to measure a
hot-path change that a wrk run cannot see. The -redis scenarios use a redis-server started for the
run; their Redis work happens in the dispatcher threads, so they also report the CPU time of the
whole process (all its threads) per request; `--concurrency N` runs N requests at a time, so Redis
round trips carry N requests' commands as they do under load. `--profile` adds a cProfile listing (tottime, in thread CPU time) of one more round. `--tracing RATIO`
turns OpenTelemetry tracing on (`sample-ratio: RATIO`), exporting to the test suite's OTLP
receiver started as a separate process, to measure what tracing costs per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tests.perf.run import CACHE_POLICY, FULL_POLICY, SUBSCRIPTION_KEY
from tests.perf.servers import start_backend

SEND_POLICY = """<policies><inbound><base />
  <send-request mode="new" response-variable-name="lookup" timeout="10"><set-url>{backend}/lookup</set-url></send-request>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""

BUS_NAMESPACE = "bench.servicebus.windows.net"
BUS_POLICY = f"""<policies><inbound><base />
  <send-service-bus-message queue-name="orders" namespace="{BUS_NAMESPACE}">
    <message-properties>
      <message-property name="MessageId">@(context.RequestId.ToString())</message-property>
      <message-property name="Source">gateway</message-property>
    </message-properties>
    <payload>{{"order": 7}}</payload>
  </send-service-bus-message>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""

GRAPHQL_SCHEMA = "type Query { item(id: ID!): Item other(id: ID!): Item }\ntype Item { id: ID name: String tags: [String] }\n"
GRAPHQL_RESOLVER = """<http-data-source><http-request><set-method>GET</set-method>
  <set-url>@($"{backend}/items/{context.GraphQL.Arguments["id"]}")</set-url></http-request></http-data-source>"""
GRAPHQL_QUERY = b'{"query": "{ a: item(id: \\"1\\") { id name } b: other(id: \\"2\\") { name tags } }"}'
GRAPHQL_VALIDATE_POLICY = """<policies><inbound><base />
  <validate-graphql-request max-size="10240" max-depth="4"><authorize>
    <rule path="/__*" action="reject" /><rule path="/Item/tags" action="@(context.Request.Headers.ContainsKey("X-Admin") ? "allow" : "ignore")" />
    <rule path="/Query/other/id" action="reject" />
  </authorize></validate-graphql-request>
</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""

SOAP_WSDL = """<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:tns="urn:items" targetNamespace="urn:items"><portType name="Items" />
  <binding name="ItemsSoap" type="tns:Items"><soap:binding transport="http://schemas.xmlsoap.org/soap/http" />
  <operation name="GetItem"><soap:operation soapAction="urn:items/GetItem" /></operation>
  <operation name="PutItem"><soap:operation soapAction="urn:items/PutItem" /></operation>
  <operation name="DeleteItem"><soap:operation soapAction="urn:items/DeleteItem" /></operation></binding></definitions>"""
SOAP_BODY = (b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body>"
             b"<GetItem xmlns='urn:items'><Id>42</Id></GetItem></s:Body></s:Envelope>")

SCENARIOS: dict[str, dict[str, Any]] = {
    "b": {},
    "s": {"policy": SEND_POLICY},
    "m": {"policy": BUS_POLICY, "service-bus": True},
    "g": {"graphql": True},
    "p": {"graphql-pass": True},  # a pass-through GraphQL API (schema, no resolvers) in front of the raw backend
    "q": {"graphql-pass": True, "policy": GRAPHQL_VALIDATE_POLICY},  # p + validate-graphql-request with 3 rules
    "x": {"soap": False},  # a SOAP 1.1 request POSTed to a plain API (one operation) in front of the raw backend
    "o": {"soap": True},  # the same request to a SOAP API (WSDL, 3 operations) routed by its SOAPAction
    "c": {"policy": CACHE_POLICY.format(store="internal")},
    "d": {"policy": FULL_POLICY.format(store="internal"), "subscription": True},
    "c-redis": {"policy": CACHE_POLICY.format(store="external"), "redis": True},
    "d-redis": {"policy": FULL_POLICY.format(store="external"), "subscription": True, "redis": True},
}


def build(directory: Path, backend_port: int, scenario: str, tracing: str | None = None, redis_url: str | None = None) -> Any:
    from engine.gateway.config import load_settings
    from engine.gateway.runner import GatewayServer

    options = SCENARIOS[scenario]
    if options.get("graphql"):
        return _graphql_server(directory, f"http://127.0.0.1:{backend_port}")
    api: dict[str, Any] = {"path": "items", "service-url": f"http://127.0.0.1:{backend_port}",
                           "subscription-required": bool(options.get("subscription"))}
    config: dict[str, Any] = {"server": {"host": "127.0.0.1", "port": 0, "admin-port": False}, "apis": {"items": api}}
    if "policy" in options:
        (directory / "api.xml").write_text(options["policy"].replace("{backend}", api["service-url"]))
        api["policy"] = "api.xml"
    if options.get("graphql-pass"):
        (directory / "items.graphql").write_text(GRAPHQL_SCHEMA)
        api["graphql"] = {"schema": "items.graphql"}
    if options.get("soap"):
        (directory / "items.wsdl").write_text(SOAP_WSDL)
        api["wsdl"] = "items.wsdl"
    if options.get("service-bus"):  # the raw backend stands in for Service Bus (it answers 200)
        config["identity"] = {"provider": "static", "token": "bench"}
        config["service-bus"] = {"endpoints": {BUS_NAMESPACE: api["service-url"]}}
    if options.get("subscription"):
        config["subscriptions"] = [{"id": "bench", "key": SUBSCRIPTION_KEY}]
    if redis_url is not None:
        config["cache"] = {"external": redis_url, "timeout-ms": 1000}
    if tracing is not None:
        endpoint, ratio = tracing.rsplit(" ", 1)
        config["tracing"] = {"otlp-endpoint": endpoint, "sample-ratio": float(ratio)}
    (directory / "gateway.yaml").write_text(yaml.safe_dump(config))
    server = GatewayServer(load_settings(directory / "gateway.yaml"), admin_port=False)
    server.prepare()
    return server


def _graphql_server(directory: Path, backend: str) -> Any:
    """Scenario g: an APIOps folder with the synthetic GraphQL API `items` and its two resolvers."""
    import json

    from engine.gateway.apiops import load_apiops
    from engine.gateway.runner import GatewayServer

    api = directory / "apis" / "items"
    for name in ("item", "other"):
        (api / "resolvers" / name).mkdir(parents=True)
        (api / "resolvers" / name / "resolverInformation.json").write_text(json.dumps({"properties": {"path": f"Query/{name}"}}))
        (api / "resolvers" / name / "policy.xml").write_text(GRAPHQL_RESOLVER.replace("{backend}", backend))
    (api / "apiInformation.json").write_text(json.dumps({"properties": {
        "path": "items", "type": "graphql", "subscriptionRequired": False}}))
    (api / "specification.graphql").write_text(GRAPHQL_SCHEMA)
    server = GatewayServer(load_apiops(directory), admin_port=False)
    server.prepare()
    return server


def scope_for(scenario: str) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if SCENARIOS[scenario].get("subscription"):
        headers.append((b"ocp-apim-subscription-key", SUBSCRIPTION_KEY.encode()))
    graphql = SCENARIOS[scenario].get("graphql") or SCENARIOS[scenario].get("graphql-pass")
    soap = "soap" in SCENARIOS[scenario]
    method, path = ("POST", "/items") if graphql or soap else ("GET", "/items/42")
    if soap:
        headers += [(b"content-type", b"text/xml; charset=utf-8"), (b"soapaction", b'"urn:items/GetItem"'),
                    (b"content-length", str(len(SOAP_BODY)).encode())]
    elif method == "POST":
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(GRAPHQL_QUERY)).encode())]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
    }


async def measure(
    server: Any, scenario: str, requests: int, rounds: int, profile: bool, concurrency: int = 1,
) -> tuple[list[tuple[float, float]], str]:
    services, gateway = server.services, server.app.gateway
    await services.start()
    scope = scope_for(scenario)
    statuses: list[int] = []

    body = (SOAP_BODY if "soap" in SCENARIOS[scenario] else GRAPHQL_QUERY) if scope["method"] == "POST" else b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def requests_in_turn(count: int) -> None:
        for _ in range(count):
            await gateway.handle(scope, receive, send)

    async def run(count: int) -> tuple[float, float]:
        """(CPU µs per request of this thread, of the whole process): other processes do not count."""
        started, process_started = time.thread_time(), time.process_time()
        await asyncio.gather(*[requests_in_turn(count // concurrency) for _ in range(concurrency)])
        done = count // concurrency * concurrency
        return (time.thread_time() - started) / done * 1e6, (time.process_time() - process_started) / done * 1e6

    try:
        await run(min(2000, requests))  # warm up: fill the cache, open backend connections
        if set(statuses) != {200}:
            raise SystemExit(f"unexpected statuses {sorted(set(statuses))}")
        results = [await run(requests) for _ in range(rounds)]
        listing = ""
        if profile:
            profiler = cProfile.Profile(time.thread_time)  # CPU time: system calls count, waiting does not
            profiler.enable()
            await run(requests)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(45)
            listing = out.getvalue()
        return results, listing
    finally:
        await services.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="d")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1, help="requests at a time")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--tracing", type=float, metavar="RATIO", help="trace with this sample ratio (0..1)")
    args = parser.parse_args()
    backend = start_backend(None)
    receiver = redis = None
    try:
        with tempfile.TemporaryDirectory(prefix="policygate-inprocess-") as tmp:
            tracing = None
            if args.tracing is not None:
                receiver = subprocess.Popen([sys.executable, "-m", "tests.support.otlp_receiver", str(Path(tmp) / "spans")],
                                            stdout=subprocess.PIPE, text=True)
                assert receiver.stdout is not None
                tracing = f"http://127.0.0.1:{int(receiver.stdout.readline())}/v1/traces {args.tracing}"
            redis_url = None
            if SCENARIOS[args.scenario].get("redis"):
                from tests.support.redis_server import RedisServer

                redis = RedisServer()
                redis.start()
                redis_url = redis.url
            server = build(Path(tmp), backend.port, args.scenario, tracing, redis_url)
            try:
                import uvloop

                runner = uvloop.run
            except ImportError:
                runner = asyncio.run
            results, listing = runner(measure(server, args.scenario, args.requests, args.rounds, args.profile,
                                              args.concurrency))
    finally:
        backend.stop()
        if redis is not None:
            redis.stop()
        if receiver is not None:
            receiver.terminate()
            receiver.wait(10)
    traced = f", tracing {args.tracing:g}" if args.tracing is not None else ""
    threads = [r[0] for r in results]
    print(f"scenario {args.scenario}{traced}: best {min(threads):.1f} µs/request, median {sorted(threads)[len(threads) // 2]:.1f} "
          f"({args.rounds} rounds x {args.requests} requests, {args.concurrency} at a time: "
          f"{', '.join(f'{r:.1f}' for r in threads)})")
    if SCENARIOS[args.scenario].get("redis"):
        process = sorted(r[1] for r in results)
        print(f"  whole process (dispatcher threads included): best {process[0]:.1f} µs/request, "
              f"median {process[len(process) // 2]:.1f}")
    if listing:
        print(listing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
