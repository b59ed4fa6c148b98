"""Policies run through a compiled pipeline with a controllable clock (no HTTP): quota renewal,
sliding-window recovery, and the end-of-pipeline hook that deferred counting relies on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from engine.context import Context, Request, Url
from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.gateway.builder import PipelineBuilder
from engine.gateway.pipeline import Pipeline, at_end_of_pipeline, run_end_of_pipeline
from engine.ratelimit import LimitService
from engine.registry import default_registry

START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def pipeline(inbound: str) -> Pipeline:
    registry = default_registry()
    diagnostics = Diagnostics()
    text = f"<policies><inbound>{inbound}</inbound><backend/><outbound/><on-error/></policies>"
    document = load_document("test.xml", text=text, registry=registry, diagnostics=diagnostics)
    assert document is not None and not diagnostics.has_errors, diagnostics.sorted()
    builder = PipelineBuilder(registry)
    built = builder.pipeline({s: document.policies(s) for s in ("inbound", "backend", "outbound", "on-error")})
    builder.finish()
    return built


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def run(p: Pipeline, limits: LimitService) -> Context:
    url = Url.parse("http://gateway.local/x")
    ctx = Context(request=Request("GET", url, url.copy(), ip_address="10.0.0.1"), services=SimpleNamespace(limits=limits))
    await p.run(ctx)
    return ctx


def body(ctx: Context) -> Any:
    assert ctx.response.body is not None
    return json.loads(ctx.response.body.content)


async def test_quota_renews_at_the_period_boundary() -> None:
    clock = Clock(START + 3600 * 10 + 1800)  # half-way through an hour-long period
    limits = LimitService(clock=clock, wall_clock=clock)
    p = pipeline('<quota-by-key calls="2" renewal-period="3600" counter-key="tenant" first-period-start="2024-01-01T00:00:00Z" />')
    assert [(await run(p, limits)).response.status_code for _ in range(2)] == [200, 200]
    refused = await run(p, limits)
    assert refused.response.status_code == 403
    assert refused.response.headers.get("Retry-After") == "1800"
    assert body(refused)["message"] == "Out of call volume quota. Quota will be replenished in 00:30:00."
    assert refused.last_error is not None and refused.last_error.reason == "QuotaExceeded"
    clock.now = START + 3600 * 11 - 0.5
    assert (await run(p, limits)).response.status_code == 403
    clock.now = START + 3600 * 11  # the next period: a new counter
    assert (await run(p, limits)).response.status_code == 200


async def test_multi_day_quota_message_uses_dotnet_timespan_text() -> None:
    clock = Clock(START + 86400 * 2 + 60)
    limits = LimitService(clock=clock, wall_clock=clock)
    p = pipeline('<quota-by-key calls="1" renewal-period="604800" counter-key="week" first-period-start="2024-01-01T00:00:00Z" />')
    await run(p, limits)
    refused = await run(p, limits)
    assert body(refused)["message"] == "Out of call volume quota. Quota will be replenished in 4.23:59:00."


async def test_sliding_window_recovers_exactly_when_the_oldest_call_leaves() -> None:
    clock = Clock(1000.0)
    limits = LimitService(clock=clock)
    p = pipeline('<rate-limit-by-key calls="2" renewal-period="10" counter-key="k" retry-after-variable-name="wait" />')
    await run(p, limits)
    clock.now = 1004.0
    await run(p, limits)
    clock.now = 1006.5
    refused = await run(p, limits)
    assert refused.response.status_code == 429
    assert refused.response.headers.get("Retry-After") == "4"  # 3.5 s, rounded up
    assert refused.variables["wait"] == 4
    clock.now = 1010.0
    assert (await run(p, limits)).response.status_code == 200
    clock.now = 1013.9
    assert (await run(p, limits)).response.status_code == 429
    clock.now = 1014.0
    assert (await run(p, limits)).response.status_code == 200


@pytest.mark.parametrize("mode", ["open", "closed"])
async def test_failure_modes_without_a_reachable_redis(mode: str) -> None:
    limits = LimitService.from_config(
        {"external": "redis://127.0.0.1:1/0", "failure-mode": mode, "timeout-ms": 100}, where="gateway.yaml: rate-limits"
    )
    await limits.start()
    try:
        p = pipeline('<rate-limit-by-key calls="1" renewal-period="60" counter-key="k" />')
        first = await run(p, limits)
        if mode == "open":
            assert first.response.status_code == 200
            assert (await run(p, limits)).response.status_code == 429  # still limited, in-process
        else:
            assert first.response.status_code == 503
            assert first.last_error is not None and first.last_error.reason == "RateLimitStoreUnavailable"
    finally:
        await limits.close()


async def test_end_of_pipeline_callbacks_run_in_order_and_a_failure_is_contained() -> None:
    ctx = Context()
    seen: list[str] = []

    async def first(c: Context) -> None:
        seen.append("first")
        raise RuntimeError("boom")

    async def second(c: Context) -> None:
        seen.append(f"second:{c.response.status_code}")

    at_end_of_pipeline(ctx, first)
    at_end_of_pipeline(ctx, second)
    await run_end_of_pipeline(ctx)
    await run_end_of_pipeline(ctx)  # callbacks run once
    assert seen == ["first", "second:200"]
