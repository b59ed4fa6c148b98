"""`Harness`: a real gateway compiled from a configuration or a chain of documents, run in-process.

Requests go through the gateway's own request handler (routing, subscriptions, the composed
pipeline, the cache and rate-limit services) without a server or a port; the backend and
send-request targets are answered by `ScriptedUpstream`, and time is a `TestClock`.

    async with Harness.from_config("samples/demo/gateway.yaml") as gateway:
        gateway.answer_backend(Answer.json({"id": 1}))
        result = await gateway.request("GET", "/petstore/pets/1")
        assert result.status == 200
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import os
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from engine import clock as engine_clock
from engine.context import Context, Headers, LastError
from engine.credentials import credential_service
from engine.gateway.app import Gateway
from engine.gateway.services import GatewayMetrics, Services, build_store_services, certificate_store
from engine.gateway.settings import (
    ApiSettings,
    GatewaySettings,
    OperationSettings,
    ProductSettings,
    SubscriptionSettings,
)
from engine.gateway.state import GatewayState
from engine.identity import token_service
from engine.metrics import Metrics
from engine.policy import PipelineObserver
from engine.registry import PolicyRegistry
from engine.testing.identity import Identity
from engine.testing.upstream import Answer, Call, ScriptedUpstream, TestClock, recording

DEFAULT_SERVICE_URL = "http://backend.test"
BACKGROUND_TURNS = 5  # event-loop turns after a response, for fire-and-forget sends to finish


@dataclass
class Result:
    """What one request produced: the response the caller got and what happened on the way."""

    status: int
    reason: str
    headers: Headers
    body: bytes
    context: Context = field(repr=False)
    backend_calls: list[Call] = field(default_factory=list)
    target_calls: list[Call] = field(default_factory=list)
    unscripted: list[str] = field(default_factory=list)  # send-request URLs that had no scripted answer

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def variables(self) -> dict[str, Any]:
        return self.context.variables

    @property
    def last_error(self) -> LastError | None:
        return self.context.last_error

    @property
    def traces(self) -> list[tuple[str, str, str]]:
        """(source, severity, message) of each `trace` the request wrote."""
        return list(self.context.traces)

    @property
    def backend_request(self) -> Call | None:
        """The first request the backend received, or None when it was not called."""
        return self.backend_calls[0] if self.backend_calls else None


class Harness:
    """One gateway with its services, a scripted network and a test clock."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        clock: TestClock | None = None,
        redis_url: str | None = None,
        registry: PolicyRegistry | None = None,
        observer: PipelineObserver | None = None,
        state: GatewayState | None = None,
        default_key: str | None = None,
    ) -> None:
        settings = _with_redis(settings, redis_url) if redis_url is not None else _in_process(settings)
        self.settings = settings
        self.clock = clock or TestClock()
        self.upstream = ScriptedUpstream(self.clock, forwarded_headers=settings.backend.forwarded_headers)
        self.metrics = Metrics()
        self.registry = registry
        self.observer = observer  # a PipelineObserver for every request (policy coverage)
        self.state = state  # compiled documents, shared by harnesses of the same configuration
        self.default_key = default_key  # subscription key sent when a request names none
        self.services: Services | None = None
        self.gateway: Gateway | None = None

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def from_config(
        cls,
        path: str | Path,
        *,
        named_values: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Harness:
        """A gateway.yaml or an APIOps folder; `named_values` override the configuration's, `env`
        adds environment variables for secrets (raises ConfigError / PolicyLoadError when started)."""
        from engine.gateway.apiops import load_any_settings

        settings = load_any_settings(path, {**os.environ, **(env or {})})
        if named_values:
            settings = replace(settings, named_values={**settings.named_values, **named_values})
        return cls(settings, **options)

    @classmethod
    def from_documents(
        cls,
        *,
        global_policy: str | Path | None = None,
        product: str | Path | None = None,
        api: str | Path | None = None,
        operation: str | Path | None = None,
        fragments: Mapping[str, str | Path] | None = None,
        named_values: Mapping[str, str] | None = None,
        service_url: str = DEFAULT_SERVICE_URL,
        identity: Identity | None = None,
        **options: Any,
    ) -> Harness:
        """A chain of scope documents (each optional) composed with `<base/>` as APIM does.

        Every method and path reaches the one operation (API `api`, operation `operation`). With
        a `product` document or an `identity`, requests carry the identity's subscription key
        unless they give their own (`subscription_key=""` sends none).
        """

        def path(value: str | Path | None) -> Path | None:
            return Path(value).resolve() if value is not None else None

        who = identity or Identity()
        products = {}
        subscriptions: tuple[SubscriptionSettings, ...] = ()
        if product is not None or identity is not None:
            products[who.product_id] = ProductSettings(
                id=who.product_id, name=who.product_name, policy=path(product), subscription_required=True,
                groups=who.product_groups,
            )
            subscriptions = (SubscriptionSettings(
                id=who.subscription_id, key=who.key, name=who.subscription_name, product=who.product_id, user=who.user,
            ),)
        operation_settings = OperationSettings(id="operation", method="*", url_template="/*", name="operation",
                                               policy=path(operation))
        api_settings = ApiSettings(
            id="api", path="", service_url=service_url, name="api", products=tuple(products),
            subscription_required=False, policy=path(api), operations=(operation_settings,),
        )
        anchor = next((p for p in (operation, api, product, global_policy) if p is not None), "documents")
        settings = GatewaySettings(
            file=Path(anchor).resolve(),
            named_values=dict(named_values or {}),
            policy=path(global_policy),
            fragments={name: Path(p).resolve() for name, p in (fragments or {}).items()},
            products=products,
            subscriptions=subscriptions,
            apis={"api": api_settings},
            cache={},
        )
        return cls(settings, default_key=who.key if subscriptions else None, **options)

    # -- lifetime -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Compile the documents and open the services (raises PolicyLoadError / ConfigError)."""
        if self.gateway is not None:
            return
        cache, limits = build_store_services(self.settings, self.metrics)
        services = Services(
            settings=self.settings, metrics=self.metrics, http=self.upstream,
            cache=cache, limits=limits, named_values=dict(self.settings.named_values),
            identity=token_service(self.settings.identity),
            credentials=credential_service(self.settings.credentials),
            certificates=certificate_store(self.settings),
        )
        services.gateway_metrics = GatewayMetrics(self.metrics)
        state = self.state or GatewayState.build(self.settings, services, self.registry)
        self.state = state
        register = getattr(self.observer, "register", None)
        if register is not None:  # policy coverage learns every point of the compiled documents
            register(state)
        services.fragments = state.fragments
        await services.start()
        self.services = services
        self.gateway = Gateway(state, services)
        self.gateway.on_request = self._on_request

    async def close(self) -> None:
        if self.services is not None:
            services, self.services, self.gateway = self.services, None, None
            await services.close()

    async def __aenter__(self) -> Harness:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- scripting --------------------------------------------------------------------------------------
    def answer_backend(self, *answers: Answer) -> None:
        """The backend's answers to its next calls, in order; the last one repeats (default: 200, empty)."""
        self.upstream.answer_backend(*answers)

    def answer_target(self, url: str, *answers: Answer) -> None:
        """Answers for send-request calls to URLs starting with `url`; unscripted URLs fail to connect."""
        self.upstream.answer_target(url, *answers)

    def set_clock(self, moment: datetime) -> None:
        self.clock.set(moment)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass on the test clock (cache entries expire, rate-limit windows move)."""
        self.clock.advance(seconds)

    # -- requests ---------------------------------------------------------------------------------------
    async def request(
        self,
        method: str = "GET",
        url: str = "/",
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        json: Any = None,
        client_ip: str = "127.0.0.1",
        subscription_key: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Result:
        """Send one request through the gateway; `variables` are set before the pipeline runs."""
        await self.start()
        assert self.gateway is not None
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers or [])
        if json is not None:
            body = jsonlib.dumps(json)
            if not any(name.lower() == "content-type" for name, _ in pairs):
                pairs.append(("Content-Type", "application/json"))
        payload = body.encode() if isinstance(body, str) else body or b""
        key = subscription_key if subscription_key is not None else self.default_key  # "" sends none
        if key:
            pairs.append(("Ocp-Apim-Subscription-Key", key))
        scope = _asgi_scope(method, url, pairs, payload, client_ip)
        seeded = _Seed(dict(variables or {}))
        sent: dict[str, Any] = {"headers": [], "body": []}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
                sent["headers"] = message.get("headers", [])
            else:
                sent["body"].append(message.get("body", b""))

        token = _seed.set(seeded)
        try:
            with engine_clock.using(self.clock), recording() as calls:
                await self.gateway.handle(scope, receive, send)
                for _ in range(BACKGROUND_TURNS):  # let send-one-way-request's background sends run
                    await asyncio.sleep(0)
        finally:
            _seed.reset(token)
        ctx = seeded.context
        assert ctx is not None
        return Result(
            status=sent["status"],
            reason=ctx.response.status_reason,
            headers=Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in sent["headers"]),
            body=b"".join(sent["body"]),
            context=ctx,
            backend_calls=calls.backend,
            target_calls=calls.targets,
            unscripted=calls.unscripted,
        )

    def _on_request(self, ctx: Context) -> None:
        seeded = _seed.get()
        if seeded is not None:  # requests sent by this harness (each in its own task context)
            ctx.variables.update(seeded.variables)
            seeded.context = ctx
        ctx.exchange.observer = self.observer

    # -- state of the services --------------------------------------------------------------------------
    async def cache_value(self, key: str, caching_type: str = "prefer-external") -> tuple[bool, Any]:
        """(found, value) of a `cache-store-value` entry."""
        from engine.cache.entry import decode_value
        from engine.cache.keys import value_key

        store, prefix = self._cache_store(caching_type)
        if store is None:
            return False, None
        with engine_clock.using(self.clock):
            data = await store.get(value_key(prefix, key))
        return (data is not None), (decode_value(data) if data is not None else None)

    async def store_cache_value(self, key: str, value: Any, ttl: float = 3600, caching_type: str = "prefer-external") -> None:
        """Put an entry where `cache-lookup-value` finds it (as `cache-store-value` would)."""
        from engine.cache.entry import encode_value
        from engine.cache.keys import value_key

        store, prefix = self._cache_store(caching_type)
        if store is None:
            raise RuntimeError("the configuration has no cache")
        with engine_clock.using(self.clock):
            await store.set(value_key(prefix, key), encode_value(value), ttl)

    def _cache_store(self, caching_type: str) -> tuple[Any, str]:
        cache = self.services.cache if self.services is not None else None
        if cache is None:
            return None, ""
        return cache.store(caching_type), cache.prefix

    def metric_values(self) -> dict[str, float]:
        """Every metric series (Prometheus text without HELP/TYPE) -> its value."""
        values = {}
        for line in self.metrics.render().splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                values[series] = float(value)
        return values

    async def rate_limit_remaining(self, counter_key: str, calls: int, renewal_period: int) -> int:
        """Calls left for a `rate-limit-by-key` counter, without counting one."""
        from engine.ratelimit.decisions import Mode
        from policies.rate_limit_by_key import counter_window

        limits = self.services.limits if self.services is not None else None
        if limits is None:
            raise RuntimeError("the configuration has no rate-limit service")
        with engine_clock.using(self.clock):
            decision = await limits.window([counter_window(counter_key, calls, renewal_period)], 0, Mode.CHECK)
        return int(decision.remaining)


@dataclass
class _Seed:
    """What one `request()` call gives its context, and the context it gets back."""

    variables: dict[str, Any]
    context: Context | None = None


_seed: ContextVar[_Seed | None] = ContextVar("policygate.testing.seed", default=None)


def _in_process(settings: GatewaySettings) -> GatewaySettings:
    """Cache and counters in the test process: the configuration's own Redis (`cache.external`,
    `rate-limits.external`, often a production one) is never touched by a test, and the test clock
    governs every window."""
    limits = _without_redis(settings.rate_limits)
    if limits.get("store") == "external":
        limits["store"] = "internal"
    return replace(settings, cache=_without_redis(settings.cache), rate_limits=limits)


def _with_redis(settings: GatewaySettings, url: str) -> GatewaySettings:
    """Cache and counters in the Redis at `url` only, under a prefix of their own (cases never share keys)."""
    prefix = f"policygate-test:{uuid.uuid4().hex[:12]}:"
    cache = {**_without_redis(settings.cache), "external": url, "prefix": prefix}
    limits = {**_without_redis(settings.rate_limits), "prefix": prefix}
    return replace(settings, cache=cache, rate_limits=limits)


def _without_redis(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A `cache:` or `rate-limits:` mapping without the Redis it names (the limiter then uses the cache's)."""
    return {key: value for key, value in (config or {}).items() if key not in ("external", "cluster")}


def _asgi_scope(method: str, url: str, headers: list[tuple[str, str]], body: bytes, client_ip: str) -> dict[str, Any]:
    scheme, host = "http", "gateway.test"
    if "://" in url:
        scheme, rest = url.split("://", 1)
        host, slash, path = rest.partition("/")
        url = slash + path
    path, _, query = url.partition("?")
    names = {name.lower() for name, _ in headers}
    if "host" not in names:
        headers = [("Host", host), *headers]
    if body and "content-length" not in names:
        headers.append(("Content-Length", str(len(body))))
    port = 443 if scheme == "https" else 80
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
        "scheme": scheme, "path": path or "/", "raw_path": (path or "/").encode("latin-1"),
        "query_string": query.encode("latin-1"), "root_path": "",
        "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        "client": (client_ip, 50000), "server": (host, port),
    }
