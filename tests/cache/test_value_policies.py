"""cache-store-value / cache-lookup-value / cache-remove-value, built from XML, against real stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from engine.cache.service import CacheService
from engine.context import Context
from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.gateway.builder import build_steps
from engine.registry import default_registry


def steps(xml: str) -> list:
    diagnostics = Diagnostics()
    document = load_document("test.xml", text=f"<policies><inbound>{xml}</inbound></policies>",
                             registry=default_registry(), diagnostics=diagnostics)
    assert document is not None and not diagnostics.has_errors, diagnostics.sorted()
    built, _ = build_steps(default_registry(), document.policies("inbound"))
    return built


async def run(xml: str, service: CacheService | None, ctx: Context | None = None) -> Context:
    ctx = ctx or Context(services=SimpleNamespace(cache=service))
    for step in steps(xml):
        assert await step(ctx) is None
    return ctx


@pytest.fixture(params=["internal", "external"])
async def service(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[CacheService]:
    config = {"prefix": f"t{uuid.uuid4().hex[:8]}:"}
    if request.param == "external":
        config.update({"external": redis_url, "timeout-ms": 1000})
    cache = CacheService.from_config(config, where="test: cache")
    await cache.start()
    yield cache
    await cache.close()


async def test_store_lookup_remove(service: CacheService) -> None:
    await run('<cache-store-value key="profile" value="hello" duration="60"/>', service)
    ctx = await run('<cache-lookup-value key="profile" variable-name="p"/>', service)
    assert ctx.variables["p"] == "hello"
    await run('<cache-remove-value key="profile"/>', service)
    ctx = await run('<cache-lookup-value key="profile" variable-name="p"/>', service)
    assert "p" not in ctx.variables


async def test_miss_assigns_default_value_only_when_given(service: CacheService) -> None:
    ctx = await run('<cache-lookup-value key="absent" variable-name="v" default-value="fallback"/>'
                    '<cache-lookup-value key="absent" variable-name="w"/>', service)
    assert ctx.variables == {"v": "fallback"}


async def test_caching_types_select_the_store(redis_url: str) -> None:
    service = CacheService.from_config({"external": redis_url, "prefix": f"t{uuid.uuid4().hex[:8]}:"}, where="t")
    await service.start()
    try:
        await run('<cache-store-value key="k" value="in" duration="60" caching-type="internal"/>', service)
        await run('<cache-store-value key="k" value="ex" duration="60"/>', service)  # prefer-external
        ctx = await run('<cache-lookup-value key="k" variable-name="a" caching-type="internal"/>'
                        '<cache-lookup-value key="k" variable-name="b" caching-type="external"/>'
                        '<cache-lookup-value key="k" variable-name="c"/>', service)
        assert ctx.variables == {"a": "in", "b": "ex", "c": "ex"}
    finally:
        await service.close()


async def test_external_without_external_cache_is_a_miss() -> None:
    service = CacheService.from_config(None, where="t")
    await run('<cache-store-value key="k" value="v" duration="60" caching-type="external"/>', service)
    ctx = await run('<cache-lookup-value key="k" variable-name="v" caching-type="external" default-value="d"/>', service)
    assert ctx.variables == {"v": "d"}


async def test_values_keep_their_type_through_the_store(service: CacheService) -> None:
    from engine.cache.entry import encode_value
    from engine.cache.keys import value_key

    store = service.store("prefer-external")
    assert store is not None
    await store.set(value_key(service.prefix, "n"), encode_value(42), 60)
    ctx = await run('<cache-lookup-value key="n" variable-name="n"/>', service)
    assert ctx.variables["n"] == 42


async def test_unreachable_redis_is_a_miss_and_a_no_op() -> None:
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    service = CacheService.from_config({"external": server.url}, where="t")
    await service.start()
    server.stop()
    try:
        await run('<cache-store-value key="k" value="v" duration="60"/><cache-remove-value key="k"/>', service)
        ctx = await run('<cache-lookup-value key="k" variable-name="v" default-value="fallback"/>', service)
        assert ctx.variables == {"v": "fallback"}
    finally:
        await service.close()


@pytest.mark.parametrize(
    "text",
    [
        "<fragment><cache-lookup/></fragment>",
        "<policies><outbound><cache-lookup/></outbound></policies>",
        "<policies><inbound><cache-lookup/><cache-lookup/></inbound></policies>",
        '<policies><outbound><cache-store duration="soon"/></outbound></policies>',
        '<policies><inbound><cache-lookup caching-type="@(\"internal\")"/></inbound></policies>',
        "<policies><inbound><cache-lookup-value key=\"k\"/></inbound></policies>",
    ],
)
def test_schema_refuses_misuse(text: str) -> None:
    from engine.validate import validate_document

    diagnostics = Diagnostics()
    document = load_document("x.xml", text=text, registry=default_registry(), diagnostics=diagnostics)
    assert document is not None
    validate_document(document, diagnostics=diagnostics, registry=default_registry())
    assert diagnostics.has_errors


def test_private_caching_without_varying_by_authorization_is_warned() -> None:
    from engine.validate import validate_document

    diagnostics = Diagnostics()
    text = '<policies><inbound><cache-lookup allow-private-response-caching="true"/></inbound></policies>'
    document = load_document("x.xml", text=text, registry=default_registry(), diagnostics=diagnostics)
    assert document is not None
    validate_document(document, diagnostics=diagnostics, registry=default_registry())
    assert [d.code for d in diagnostics.sorted()] == ["cache-private-not-varied"]
