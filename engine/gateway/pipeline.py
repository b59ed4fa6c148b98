"""The request pipeline: inbound -> backend -> outbound, with on-error and early exits.

`Pipeline.run(ctx)` is plain async code that knows nothing about ASGI. Steps come from the
builder already wrapped in `LocatedStep`, so a failure anywhere (however deeply nested in
choose/retry) is stamped with the failing element's section, scope, path and id before it becomes
`context.LastError` and the on-error section runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from engine.context import Context, Headers, LastError, MessageBody, Response
from engine.errors import PolicyRuntimeError
from engine.model import PolicyElement
from engine.policy import Flow, Step

log = logging.getLogger("policygate.pipeline")

SKIPPED_TO_OUTBOUND = "gateway.skipped_to_outbound"  # ctx.state flag: a cache hit answered the request
END_OF_PIPELINE = "gateway.end_of_pipeline"  # ctx.state: callbacks run once the response is final
REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
    304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 413: "Payload Too Large",
    415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class LocatedStep:
    """A built step plus the element it came from; annotates errors with their location."""

    __slots__ = ("step", "element")

    def __init__(self, step: Step, element: PolicyElement) -> None:
        self.step = step
        self.element = element

    async def __call__(self, ctx: Context) -> Flow | None:
        try:
            return await self.step(ctx)
        except PolicyRuntimeError as error:
            if not error.section:
                stamp(error, self.element)
            raise
        except Exception as exc:  # a bug in a policy: still an APIM-style 500, never a traceback to the caller
            log.exception("policy <%s> at %s failed", self.element.tag, self.element.span)
            error = PolicyRuntimeError(
                f"{type(exc).__name__}: {exc}", source=self.element.tag, reason="InternalError", status=500
            )
            stamp(error, self.element)
            raise error from exc

    def __repr__(self) -> str:
        return f"<{self.element.tag} at {self.element.span}>"


def stamp(error: PolicyRuntimeError, element: PolicyElement) -> None:
    error.section = element.section
    error.scope = element.scope
    error.path = element.path or element.tag
    error.policy_id = element.policy_id
    if error.source == "expression":
        error.source = element.tag


async def run_steps(steps: Sequence[Step], ctx: Context) -> Flow | None:
    """Run steps in order; the first non-None Flow stops the list and is returned."""
    for step in steps:
        flow = await step(ctx)
        if flow is not None:
            return flow
    return None


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
            if isinstance(step, LocatedStep) and step.element.tag == "cache-store":
                self._outbound_after_hit = self.outbound[i + 1 :]
                break

    async def run(self, ctx: Context) -> None:
        """Run the request through the pipeline; ctx.response is what the caller gets."""
        await self._run_sections(ctx)
        if END_OF_PIPELINE in ctx.state:
            await run_end_of_pipeline(ctx)

    async def _run_sections(self, ctx: Context) -> None:
        try:
            flow = await run_steps(self.inbound, ctx)
            if flow is None:
                flow = await run_steps(self.backend, ctx)
            if flow is Flow.END:
                return
            if flow is Flow.SKIP_TO_OUTBOUND:
                ctx.state[SKIPPED_TO_OUTBOUND] = True
                await run_steps(self._outbound_after_hit, ctx)
            else:
                await run_steps(self.outbound, ctx)
        except PolicyRuntimeError as error:
            await self.fail(ctx, error)

    async def fail(self, ctx: Context, error: PolicyRuntimeError) -> None:
        """Fill context.LastError, set the default error response, run on-error once."""
        ctx.last_error = LastError(
            source=error.source,
            reason=error.reason,
            message=error.message,
            scope=error.scope,
            section=error.section,
            path=error.path,
            policy_id=error.policy_id,
        )
        if not getattr(error, "keep_response", False):
            from engine.gateway.backend import release_stream

            release_stream(ctx)
            ctx.response = error_response(error.status, public_message(error), error.headers)
        if not self.on_error:
            return
        try:
            await run_steps(self.on_error, ctx)
        except PolicyRuntimeError as second:
            log.warning("on-error failed: %s (after %s)", second.message, error.message)
            ctx.response = error_response(500, "Internal server error")


def at_end_of_pipeline(ctx: Context, callback: Callable[[Context], Awaitable[None]]) -> None:
    """Run `callback(ctx)` once the response is final (after outbound or on-error), before it is sent.

    Used by rate-limit-by-key/quota-by-key deferred counting and by policies that add response
    headers computed in inbound. A failing callback is logged; it cannot change the outcome.
    """
    ctx.state.setdefault(END_OF_PIPELINE, []).append(callback)


async def run_end_of_pipeline(ctx: Context) -> None:
    """Run (once) the callbacks registered with `at_end_of_pipeline`, in registration order."""
    for callback in ctx.state.pop(END_OF_PIPELINE, None) or ():
        try:
            await callback(ctx)
        except Exception as exc:  # too late for on-error: the response is final
            log.warning("end-of-pipeline callback %r failed: %s", callback, exc)


def public_message(error: PolicyRuntimeError) -> str:
    """What the caller sees: the APIM message for client errors; nothing internal for 500s."""
    override = getattr(error, "public_message", None)
    if override:
        return str(override)
    if error.status == 500:
        return "Internal server error"
    return error.message


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """APIM's default error body: {"statusCode": N, "message": "..."}."""
    body = json.dumps({"statusCode": status, "message": message}).encode()
    response_headers = Headers([("Content-Type", "application/json; charset=utf-8")])
    for name, value in (headers or {}).items():
        response_headers.set(name, value)
    return Response(status, REASONS.get(status, ""), response_headers, MessageBody(body))
