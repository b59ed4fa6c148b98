"""The request pipeline: inbound -> backend -> outbound, with on-error and early exits.

`Pipeline.run(ctx)` is plain async code that knows nothing about ASGI. Steps come from the
builder already wrapped in `LocatedStep`, so a failure anywhere (however deeply nested in
choose/retry) is stamped with the failing element's section, scope, path and id before it becomes
`context.LastError` and the on-error section runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from engine.context import Context, LastError
from engine.dotnet.errors import from_python
from engine.errors import PolicyRuntimeError
from engine.model import PolicyElement
from engine.policy import (
    REPLACES_RESPONSE,
    Flow,
    Policy,
    Step,
    at_end_of_pipeline,
    empty_response,
    error_response,
    locate_error,
    release_response_stream,
    run_steps,
)
from engine.registry import default_registry

log = logging.getLogger("policygate.pipeline")


class LocatedStep:
    """A built step plus the element (and policy) it came from; annotates errors with their location."""

    __slots__ = ("step", "element", "policy")

    def __init__(self, step: Step, element: PolicyElement, policy: Policy | None = None) -> None:
        self.step = step
        self.element = element
        self.policy = policy if policy is not None else default_registry().get(element.tag)

    async def __call__(self, ctx: Context) -> Flow | None:
        observer = ctx.exchange.observer
        if observer is not None:
            observer.step_started(self.element, ctx)
        try:
            flow = await self.step(ctx)
            if observer is not None:
                observer.step_finished(self.element, ctx)
            return flow
        except PolicyRuntimeError as error:
            if not error.section:
                locate_error(error, self.element)
            raise
        except Exception as exc:  # a bug in a policy: still an APIM-style 500, never a traceback to the caller
            log.exception("policy <%s> at %s failed", self.element.tag, self.element.span)
            dotnet = from_python(exc)  # the caller and LastError.Message get .NET text, the log the Python detail
            failure = PolicyRuntimeError(
                f"{dotnet.dotnet_name.rsplit('.', 1)[-1]}: {dotnet.Message}", source=self.element.tag,
                reason="InternalError", status=500,
            )
            locate_error(failure, self.element)
            raise failure from exc

    def declares(self, flag: str) -> bool:
        """True when this step's policy sets the boolean class attribute `flag` (e.g. answers_preflight)."""
        return self.policy is not None and bool(getattr(type(self.policy), flag))

    def __repr__(self) -> str:
        return f"<{self.element.tag} at {self.element.span}>"


@dataclass
class Pipeline:
    """The four compiled sections of one effective policy (global > product > API > operation)."""

    inbound: Sequence[Step]
    backend: Sequence[Step]
    outbound: Sequence[Step]
    on_error: Sequence[Step]
    needs_request_body: bool = True
    needs_response_body: bool = True

    def __post_init__(self) -> None:
        # On a cache hit, outbound resumes after the top-level cache-store (apim-spec §3.1).
        self._outbound_after_hit: Sequence[Step] = self.outbound
        for i, step in enumerate(self.outbound):
            if isinstance(step, LocatedStep) and step.declares("cache_hit_resumes_after"):
                self._outbound_after_hit = self.outbound[i + 1 :]
                break
        self.preflight = preflight_steps(self.inbound)
        # Nothing reads ctx.response before the backend's answer replaces it: the gateway makes no default.
        self.backend_first = not self.inbound and len(self.backend) == 1 and isinstance(self.backend[0], LocatedStep) \
            and getattr(self.backend[0].step, REPLACES_RESPONSE, False)
        self.unmatched = tuple(s for s in self.inbound if isinstance(s, LocatedStep) and s.declares("answers_unmatched"))

    async def run(self, ctx: Context) -> None:
        """Run the request through the pipeline; ctx.response is what the caller gets."""
        try:
            await self._run_sections(ctx)
        except PolicyRuntimeError as error:
            await self.fail(ctx, error)
        if ctx.exchange.end_of_pipeline:
            await run_end_of_pipeline(ctx)

    async def answer_unmatched(self, ctx: Context) -> bool:
        """Let the top-level inbound policies that answer requests matching no API (cross-domain) answer
        one; True when one did."""
        try:
            for step in self.unmatched:
                if await step(ctx) is Flow.END:
                    return True
        except PolicyRuntimeError as error:
            await self.fail(ctx, error)
            return True
        return False

    async def run_preflight(self, ctx: Context) -> None:
        """Answer a CORS preflight with only the top-level inbound policies that answer preflights."""
        try:
            await run_preflight(self.preflight, ctx)
        except PolicyRuntimeError as error:
            await self.fail(ctx, error)

    async def _run_sections(self, ctx: Context) -> None:
        flow = await run_steps(self.inbound, ctx) if self.inbound else None
        if flow is None and self.backend:
            flow = await run_steps(self.backend, ctx)
        if flow is Flow.END:
            return
        if ctx.exchange.start_of_outbound:
            hooks, ctx.exchange.start_of_outbound = ctx.exchange.start_of_outbound, ()
            await run_hooks(hooks, ctx)
        if ctx.exchange.outbound_checks:
            checks, ctx.exchange.outbound_checks = ctx.exchange.outbound_checks, ()
            for check in checks:
                await check(ctx)
        if flow is Flow.SKIP_TO_OUTBOUND:
            ctx.exchange.skipped_to_outbound = True
            outbound = self._outbound_after_hit
        else:
            outbound = self.outbound
        if outbound:
            await run_steps(outbound, ctx)

    async def fail(self, ctx: Context, error: PolicyRuntimeError) -> None:
        """Fill context.LastError, set the default error response, run on-error once."""
        if ctx.exchange.observer is not None:
            ctx.exchange.observer.failed(error, ctx)
        ctx.last_error = LastError(
            source=error.source,
            reason=error.reason,
            message=error.message,
            scope=error.scope,
            section=error.section,
            path=error.path,
            policy_id=error.policy_id,
        )
        if not error.keep_response:
            release_response_stream(ctx)
            ctx.response = error_response(error.status, public_message(error), error.headers)
        if not self.on_error:
            return
        try:
            await run_steps(self.on_error, ctx)
        except PolicyRuntimeError as second:
            log.warning("on-error failed: %s (after %s)", second.message, error.message)
            ctx.response = error_response(500, "Internal server error")


def preflight_steps(inbound: Sequence[Step]) -> tuple[Step, ...]:
    """The steps of an inbound section whose policy declares `answers_preflight` (e.g. <cors>)."""
    return tuple(step for step in inbound if isinstance(step, LocatedStep) and step.declares("answers_preflight"))


async def run_preflight(inbound: Sequence[Step], ctx: Context) -> None:
    """Answer a preflight with only the preflight-answering policies; no answer gives an empty 200."""
    for step in preflight_steps(inbound):
        if await step(ctx) is Flow.END:
            return
    ctx.response = empty_response(200)


async def run_end_of_pipeline(ctx: Context) -> None:
    """Run (once) the callbacks registered with `at_end_of_pipeline`, in registration order."""
    callbacks, ctx.exchange.end_of_pipeline = ctx.exchange.end_of_pipeline, ()
    await run_hooks(callbacks, ctx)


async def run_hooks(callbacks: Sequence[Callable[[Context], Awaitable[None]]], ctx: Context) -> None:
    """Run per-request callbacks in registration order; a failing one is logged (they cannot change
    the outcome: for end-of-pipeline ones the response is final)."""
    for callback in callbacks:
        try:
            await callback(ctx)
        except Exception as exc:
            log.warning("per-request callback %r failed: %s", callback, exc)


def public_message(error: PolicyRuntimeError) -> str:
    """What the caller sees: the APIM message for client errors; nothing internal for 500s."""
    if error.public_message:
        return error.public_message
    if error.status == 500:
        return "Internal server error"
    return error.message


__all__ = [
    "LocatedStep", "Pipeline", "at_end_of_pipeline", "error_response", "public_message",
    "run_end_of_pipeline",
]
