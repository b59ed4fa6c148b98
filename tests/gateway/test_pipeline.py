"""Pipeline control flow in isolation: early exits, skip-to-outbound, LastError, on-error loops."""

from __future__ import annotations

from engine.context import Context
from engine.errors import PolicyRuntimeError
from engine.gateway.pipeline import LocatedStep, Pipeline
from engine.model import PolicyElement
from engine.policy import Flow
from engine.source import SourceFile, Span

SOURCE = SourceFile("doc.xml", "<policies/>")


def element(tag: str, section: str = "inbound", **attributes: str) -> PolicyElement:
    from engine.model import ValueText

    span = Span("doc.xml", 1, 1, 1, 2)
    values = {name: ValueText(value, span, SOURCE) for name, value in attributes.items()}
    return PolicyElement(tag, span, SOURCE, values, section=section, scope="api", path=f"{tag}[1]")


def recorder(log: list[str], name: str, flow: Flow | None = None, section: str = "inbound", error: Exception | None = None):
    async def step(ctx: Context) -> Flow | None:
        log.append(name)
        if error is not None:
            raise error
        return flow

    return LocatedStep(step, element(name, section, id=f"id-{name}"))


async def test_end_stops_everything() -> None:
    log: list[str] = []
    pipeline = Pipeline([recorder(log, "a", Flow.END), recorder(log, "b")], [recorder(log, "fwd")], [recorder(log, "out")], [])
    await pipeline.run(Context())
    assert log == ["a"]


async def test_skip_to_outbound_resumes_after_cache_store() -> None:
    log: list[str] = []
    outbound = [recorder(log, "before", section="outbound"), recorder(log, "cache-store", section="outbound"),
                recorder(log, "after", section="outbound")]
    pipeline = Pipeline([recorder(log, "lookup", Flow.SKIP_TO_OUTBOUND), recorder(log, "rest")], [recorder(log, "fwd")], outbound, [])
    ctx = Context()
    await pipeline.run(ctx)
    assert log == ["lookup", "after"]
    assert ctx.exchange.skipped_to_outbound is True


async def test_error_fills_last_error_and_runs_on_error_once() -> None:
    log: list[str] = []
    failure = PolicyRuntimeError("boom", source="thing", reason="Broken", status=503)
    on_error = [recorder(log, "handler", section="on-error")]
    pipeline = Pipeline([recorder(log, "bad", error=failure), recorder(log, "never")], [], [], on_error)
    ctx = Context()
    await pipeline.run(ctx)
    assert log == ["bad", "handler"]
    error = ctx.last_error
    assert error is not None
    assert (error.source, error.reason, error.message, error.section, error.scope, error.policy_id, error.path) == (
        "thing", "Broken", "boom", "inbound", "api", "id-bad", "bad[1]")
    assert ctx.response.status_code == 503


async def test_unexpected_exception_becomes_500_and_error_in_on_error_does_not_loop() -> None:
    log: list[str] = []
    on_error = [recorder(log, "handler", section="on-error", error=ValueError("again"))]
    pipeline = Pipeline([recorder(log, "bug", error=KeyError("x"))], [], [], on_error)
    ctx = Context()
    await pipeline.run(ctx)
    assert log == ["bug", "handler"]
    assert ctx.response.status_code == 500
    assert ctx.last_error is not None and ctx.last_error.source == "bug"
    assert ctx.response.body is not None and b"Internal server error" in ctx.response.body.content
