"""`<send-one-way-request>`: send a request without waiting for (or keeping) the response."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Enum, Int, Scope, Section
from policies._values import is_literal
from policies.send_request import RequestTemplate, check_url, request_children, send

if TYPE_CHECKING:
    from engine.certificates import Certificate
    from engine.context import Context, Request
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement
    from engine.policy import OutboundProxy

log = logging.getLogger("policygate.send_one_way_request")
_IN_FLIGHT: set[asyncio.Task[None]] = set()  # strong references until each send finishes


async def _deliver(ctx: Context, request: Request, timeout: float, proxy: OutboundProxy | None,
                   certificate: Certificate | None) -> None:
    try:
        response = await send(ctx, request, timeout, "send-one-way-request", proxy, certificate)
    except PolicyRuntimeError as error:
        log.warning("send-one-way-request to %s failed: %s", request.url, error.message)
    except Exception:  # never let a background send crash silently
        log.exception("send-one-way-request to %s failed", request.url)
    else:
        log.debug("send-one-way-request to %s answered %s", request.url, response.status_code)


def in_flight() -> int:
    """How many one-way requests are still being sent (for tests and shutdown)."""
    return len(_IN_FLIGHT)


async def drain(timeout: float = 5.0) -> None:
    """Wait (up to `timeout` seconds) for pending one-way requests."""
    if _IN_FLIGHT:
        await asyncio.wait(list(_IN_FLIGHT), timeout=timeout)


@dataclass(frozen=True)
class SendOneWayRequestStep:
    template: RequestTemplate
    timeout: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        try:
            request = await self.template.build(ctx)
            certificate = self.template.certificate(ctx)
        except PolicyRuntimeError as error:
            log.warning("send-one-way-request not sent: %s", error.message)
            return None
        timeout = self.timeout.get(ctx)
        task = asyncio.get_running_loop().create_task(
            _deliver(ctx, request, float(timeout) if timeout is not None else 60.0, self.template.proxy(ctx), certificate)
        )
        _IN_FLIGHT.add(task)
        task.add_done_callback(_IN_FLIGHT.discard)
        return None


class SendOneWayRequest(Policy):
    """Send a request and continue at once: fire and forget.

    Built like `send-request` (`mode`, `set-url`, `set-method`, `set-header`, `set-body`,
    `authentication-basic`), but the response is discarded and failures (including an
    expression failing while the request is built) are only logged — they never affect the
    caller's request.
    """

    tag = "send-one-way-request"
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("mode", Enum("new", "copy"), default="new", doc="Start from an empty request or a copy of the current one."),
        Attr("timeout", Int(min=0), default=60, doc="Seconds for the whole exchange."),
    )
    children = request_children("URL of the request (required unless mode is copy).")

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_url(element, diagnostics)

    def build(self, element: PolicyElement, builder: Builder) -> SendOneWayRequestStep:
        mode = element.get("mode")
        if mode is not None and (mode.is_expression or is_literal(element, "mode", "copy")):
            builder.require_body(request=True, response=False)
        return SendOneWayRequestStep(RequestTemplate.from_element(element, builder, self.tag),
                                     builder.value(element, "timeout"))
