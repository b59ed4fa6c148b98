"""CacheService configuration, store selection and jitter."""

from __future__ import annotations

import pytest

from engine.cache.service import CacheService
from engine.errors import ConfigError
from engine.metrics import Metrics


def test_defaults_are_internal_only() -> None:
    service = CacheService.from_config(None, where="g.yaml: cache")
    assert service.settings is None and service.prefix == "policygate:"
    assert service.store("internal") is service.internal
    assert service.store("prefer-external") is service.internal
    assert service.store("external") is None


def test_full_configuration() -> None:
    service = CacheService.from_config(
        {
            "external": "h:1,password=x", "prefix": "shop-gw:", "connect-timeout-ms": 30, "timeout-ms": 40,
            "breaker": {"failures": 5, "reset-seconds": 2.5}, "internal": {"max-entries": 10, "max-bytes": 4096},
            "ttl-jitter": 0.1, "coalesce": False, "coalesce-timeout-ms": 100,
        },
        where="g.yaml: cache",
    )
    assert service.settings is not None and (service.settings.connect_timeout, service.settings.timeout) == (0.03, 0.04)
    assert (service.breaker_failures, service.breaker_reset) == (5, 2.5)
    assert (service.internal.max_entries, service.internal.max_bytes) == (10, 4096)
    assert service.flights is None and service.prefix == "shop-gw:"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"externel": "h"}, r"g.yaml: cache.externel: unknown key"),
        ({"prefix": "a{b}"}, r"g.yaml: cache.prefix: must not contain"),
        ({"internal": {"max-bytes": "lots"}}, r"g.yaml: cache.internal.max-bytes: expected an integer"),
        ({"internal": {"max-entries": 0}}, r"g.yaml: cache.internal.max-entries: must be at least 1"),
        ({"internal": {"size": 1}}, r"g.yaml: cache.internal.size: unknown key"),
        ({"breaker": {"failures": 0}}, r"g.yaml: cache.breaker.failures: must be at least 1"),
        ({"breaker": []}, r"g.yaml: cache.breaker: expected a mapping"),
        ({"ttl-jitter": 0.9}, r"g.yaml: cache.ttl-jitter: must be at most 0.5"),
        ({"coalesce": "yes"}, r"g.yaml: cache.coalesce: expected true or false"),
        ({"external": "h,ssl=maybe"}, r"g.yaml: cache.external: ssl must be true or false"),
    ],
)
def test_errors_name_the_key_path(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CacheService.from_config(config, where="g.yaml: cache")


def test_ttl_jitter_only_shortens() -> None:
    service = CacheService(ttl_jitter=0.2)
    ttls = [service.ttl(100) for _ in range(200)]
    assert all(80 <= t <= 100 for t in ttls) and len(set(ttls)) > 1
    assert CacheService().ttl(100) == 100.0


async def test_external_store_selection_and_metrics(redis_url: str, prefix: str) -> None:
    metrics = Metrics()
    service = CacheService.from_config({"external": redis_url, "prefix": prefix}, where="g.yaml: cache", metrics=metrics)
    await service.start()
    try:
        assert service.external is not None
        assert service.store("external") is service.external
        assert service.store("prefer-external") is service.external
        assert service.store("internal") is service.internal
        service.count(service.external, "hit")
        assert 'policygate_cache_requests_total{store="external",result="hit"} 1' in metrics.render()
        assert service.health()["external"] == {"redis": service.settings.describe(), "breaker": "closed"}
    finally:
        await service.close()


async def test_purge_covers_both_stores(redis_url: str, prefix: str) -> None:
    from engine.cache.keys import KeyGroup

    service = CacheService.from_config({"external": redis_url, "prefix": prefix}, where="g.yaml: cache")
    await service.start()
    try:
        group = KeyGroup(prefix, "api", "op")
        await service.internal.set(group.response_key("a"), b"x", 60, group)
        assert service.external is not None
        await service.external.set(group.response_key("b"), b"x", 60, group)
        assert await service.purge("api") == 2
    finally:
        await service.close()
