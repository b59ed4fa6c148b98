"""LimitService: configuration, Redis failure (fail open / fail closed), the breaker, leases."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from engine.errors import ConfigError
from engine.metrics import Metrics
from engine.ratelimit import LimitService, LimitStoreUnavailable, Window
from tests.ratelimit.conftest import unique_prefix
from tests.support.redis_server import RedisServer

WHERE = "gateway.yaml: rate-limits"


class TestConfiguration:
    def test_defaults_are_in_process(self) -> None:
        service = LimitService.from_config(None, where=WHERE)
        assert service.kind == "internal" and service.failure_mode == "open" and service.timeout == 0.5
        assert not service.standard_headers

    def test_auto_uses_the_cache_redis(self) -> None:
        service = LimitService.from_config({}, where=WHERE, cache={"external": "redis://10.0.0.1:6380/2"})
        assert service.kind == "external"
        assert service.redis_settings is not None and service.redis_settings.nodes == (("10.0.0.1", 6380),)
        assert service.redis_settings.timeout == 0.5

    def test_own_redis_and_options(self) -> None:
        service = LimitService.from_config(
            {"external": "cache.local:6379,password=x,ssl=True", "failure-mode": "closed", "timeout-ms": 20,
             "breaker": {"failures": 5, "reset-seconds": 2}, "standard-headers": True, "prefix": "gw1:"},
            where=WHERE,
        )
        assert service.redis_settings is not None and service.redis_settings.ssl
        assert service.failure_mode == "closed" and service.timeout == 0.02 and service.standard_headers
        assert (service.breaker_failures, service.breaker_reset) == (5, 2) and service.prefix == "gw1:"

    def test_internal_store_ignores_the_cache_redis(self) -> None:
        service = LimitService.from_config({"store": "internal"}, where=WHERE, cache={"external": "redis://h"})
        assert service.kind == "internal"

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            ({"store": "somewhere"}, "rate-limits.store: expected one of auto, internal, external"),
            ({"store": "external"}, "rate-limits.store: 'external' needs a Redis"),
            ({"failure-mode": "maybe"}, "rate-limits.failure-mode: expected one of open, closed"),
            ({"timeout-ms": 0}, "rate-limits.timeout-ms: must be at least 1"),
            ({"timeout-ms": "fast"}, "rate-limits.timeout-ms: expected a number"),
            ({"breaker": {"failures": 0}}, "rate-limits.breaker.failures: must be at least 1"),
            ({"breaker": {"tries": 1}}, "rate-limits.breaker.tries: unknown key"),
            ({"standard-headers": "yes"}, "rate-limits.standard-headers: expected true or false"),
            ({"prefix": "a{b}"}, "rate-limits.prefix: expected a string without braces"),
            ({"externa": "redis://h"}, "rate-limits.externa: unknown key"),
            ({"external": "mongodb://h"}, "rate-limits.external: unsupported Redis URL scheme"),
        ],
    )
    def test_bad_values_name_the_key(self, config: dict[str, object], message: str) -> None:
        with pytest.raises(ConfigError) as error:
            LimitService.from_config(config, where=WHERE)
        assert str(error.value).startswith("gateway.yaml: ")
        assert message in str(error.value)

    def test_bad_cache_redis_names_the_cache_key(self) -> None:
        with pytest.raises(ConfigError, match=r"^gateway.yaml: cache.external: "):
            LimitService.from_config({}, where=WHERE, cache={"external": "ftp://x"})


def service_for(server: RedisServer, mode: str, metrics: Metrics, **options: object) -> LimitService:
    config = {"external": server.url, "failure-mode": mode, "timeout-ms": 200, "prefix": unique_prefix(),
              "breaker": {"failures": 2, "reset-seconds": 0.3}, **options}
    return LimitService.from_config(config, where=WHERE, metrics=metrics)


async def test_fail_open_falls_back_to_in_process_counters_and_recovers(redis_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    service = service_for(redis_server, "open", metrics)
    await service.start()
    window = Window("k:a", "", 2, 60)
    try:
        first = await service.window([window])
        assert first.allowed and not first.degraded
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="policygate"):
            decisions = []
            for _ in range(4):
                started = time.monotonic()
                decisions.append(await service.window([window]))
                assert time.monotonic() - started < 2.0  # bounded: the timeout, never a hang
        assert all(d.degraded for d in decisions)
        # The in-process limiter enforces the same limit on its own (it never saw the Redis count).
        assert [d.allowed for d in decisions] == [True, True, False, False]
        assert service.breaker.state in ("open", "half-open")
        assert any("breaker open" in r.getMessage() for r in caplog.records)
        errors = metrics.counter("policygate_ratelimit_store_errors_total", "", ("error",))
        assert sum(errors._values.values()) == 2  # then the open breaker stops trying
        redis_server.restart()
        await asyncio.sleep(0.35)
        recovered = await service.window([Window("k:b", "", 2, 60)])
        assert recovered.allowed and not recovered.degraded
        assert service.breaker.state == "closed"
        assert "policygate_ratelimit_breaker_open 0" in metrics.render()
    finally:
        await service.close()


async def test_fail_closed_refuses_while_redis_is_down(redis_server: RedisServer) -> None:
    service = service_for(redis_server, "closed", Metrics())
    await service.start()
    try:
        assert (await service.window([Window("k:a", "", 5, 60)])).allowed
        redis_server.stop()
        for _ in range(3):
            with pytest.raises(LimitStoreUnavailable):
                await service.window([Window("k:a", "", 5, 60)])
        with pytest.raises(LimitStoreUnavailable):
            await service.enter("conn", 1)
    finally:
        await service.close()


async def test_start_with_redis_down_is_not_fatal(redis_server: RedisServer) -> None:
    redis_server.stop()
    service = service_for(redis_server, "open", Metrics())
    await service.start()
    try:
        assert (await service.window([Window("k:a", "", 1, 60)])).degraded
    finally:
        await service.close()


async def test_concurrency_leases_are_shared_and_released(redis_server: RedisServer) -> None:
    one = service_for(redis_server, "open", Metrics(), **{"lease-seconds": 1})
    two = LimitService.from_config({"external": redis_server.url, "prefix": one.prefix, "timeout-ms": 200}, where=WHERE)
    await one.start()
    await two.start()
    try:
        slot = await one.enter("backend", 1)
        assert slot is not None
        assert await two.enter("backend", 1) is None  # another gateway sees the held slot
        await slot.release()
        again = await two.enter("backend", 1)
        assert again is not None
        await asyncio.sleep(1.2)  # held longer than a lease: renewed, still exclusive
        assert await one.enter("backend", 1) is None
        await again.release()
    finally:
        await one.close()
        await two.close()


async def test_a_dead_gateways_lease_expires(redis_server: RedisServer) -> None:
    one = service_for(redis_server, "open", Metrics(), **{"lease-seconds": 1})
    await one.start()
    try:
        slot = await one.redis.enter("backend", 1, 0.3) if one.redis else None  # a lease nobody renews
        assert slot is not None
        assert await one.enter("backend", 1) is None
        await asyncio.sleep(0.4)
        assert await one.enter("backend", 1) is not None
    finally:
        await one.close()


class TestBusyProcessHealthyRedis:
    """Only a Redis that fails is a failure: a busy gateway process is not (issue 11)."""

    async def test_a_blocked_event_loop_does_not_turn_redis_answers_into_fallbacks(self, redis_server: RedisServer) -> None:
        metrics = Metrics()
        service = LimitService.from_config({"external": redis_server.url, "prefix": unique_prefix()},
                                           where=WHERE, metrics=metrics)  # the default settings
        await service.start()
        window = Window("k:busy", "", 5, 60)
        try:
            assert all([(await service.window([window])).allowed for _ in range(5)])  # Redis's counter is full

            async def busy_process() -> None:
                await asyncio.sleep(0)  # the decisions below are sent...
                time.sleep(0.3)  # ...and the loop is stuck in CPU work far beyond any budget while Redis answers

            *decisions, _ = await asyncio.gather(*(service.window([window]) for _ in range(20)), busy_process())
            # Redis decided every one of them (refused: full); an in-process fallback would have admitted 5.
            assert [(d.allowed, d.degraded) for d in decisions] == [(False, False)] * 20
            assert service.breaker.state == "closed"
            assert "policygate_ratelimit_fallback_decisions_total{" not in metrics.render()
        finally:
            await service.close()

    async def test_a_frozen_redis_is_detected_within_the_timeout(self, redis_server: RedisServer) -> None:
        import os
        import signal

        metrics = Metrics()
        service = LimitService.from_config({"external": redis_server.url, "prefix": unique_prefix()},
                                           where=WHERE, metrics=metrics)
        await service.start()
        assert redis_server.process is not None
        pid = redis_server.process.pid
        try:
            assert (await service.window([Window("k:f", "", 100, 60)])).allowed
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                decisions = await asyncio.gather(*(service.window([Window("k:f", "", 100, 60)]) for _ in range(50)))
                took = time.monotonic() - started
            finally:
                os.kill(pid, signal.SIGCONT)
            assert all(d.allowed and d.degraded for d in decisions)  # fail-open: in-process counters
            # One stalled round trip (timeout-ms, 500 ms, measured by the kernel) fails everything queued behind it.
            assert took < 1.5, took
            assert service.breaker.state in ("open", "half-open")
        finally:
            await service.close()


async def test_a_hashed_concurrency_key_cannot_be_named_by_another_caller(redis_server: RedisServer) -> None:
    """limit-concurrency keys over 200 characters are stored hashed; sending the stored digest as a
    key must not share the long key's slots (issue 11)."""
    import redis

    service = service_for(redis_server, "closed", Metrics())
    await service.start()
    admin = redis.Redis.from_url(redis_server.url)
    try:
        victim = await service.enter("tenant-" + "x" * 300, 1)
        assert victim is not None
        [stored] = [k.decode() for k in admin.scan_iter(match=service.prefix + "cc:*")]
        digest = stored[stored.index("{") + 1 : stored.rindex("}")]
        assert len(digest) < 100  # stored hashed
        for impostor in (digest, digest.removeprefix("%"), digest.replace("%", "%25")):
            slot = await service.enter(impostor, 1)
            assert slot is not None, impostor  # its own slot, not the victim's
            await slot.release()
        assert await service.enter("tenant-" + "x" * 300, 1) is None  # the long key is still held
        await victim.release()
    finally:
        admin.close()
        await service.close()


async def test_start_with_an_unreachable_cluster_is_not_fatal() -> None:
    from tests.support.gateway import unused_port

    service = LimitService.from_config({"external": f"redis+cluster://127.0.0.1:{unused_port()}"}, where=WHERE)
    await service.start()  # a Redis Cluster client connects when created: that happens lazily, in the dispatcher
    try:
        decision = await service.window([Window("k:a", "", 1, 60)])
        assert decision.allowed and decision.degraded  # fail-open until the cluster answers
    finally:
        await service.close()
