"""forward-request: send the request to the backend service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.backends import forward_to_backend
from engine.policy import Builder, Flow, ForwardOptions, Policy, Step, constant_value, replaces_response
from engine.schema import Attr, Bool, Int, Scope, Section

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


class ForwardRequest(Policy):
    """Forward the current request to the backend (`context.Request.Url`) and make its answer the
    response. Without it in the effective backend section, no backend is called and outbound runs
    right after inbound. A timeout (no response headers within `timeout` seconds) fails with reason
    `Timeout` (504); a connection failure with `BackendConnectionFailure` (502); both run on-error."""

    tag = "forward-request"
    sections = Section.BACKEND
    scopes = Scope.GLOBAL | Scope.WORKSPACE | Scope.PRODUCT | Scope.API | Scope.OPERATION
    once_per_section = True
    implemented = True
    reads_body = False
    attributes = (
        Attr("timeout", Int(min=0), default=300, doc="Seconds to wait for the backend's response headers (0 = no limit)."),
        Attr("follow-redirects", Bool(), default=False, doc="Follow backend redirects instead of returning them."),
        Attr("buffer-request-body", Bool(), default=False, doc="Buffer the request body so a retry can resend it."),
        Attr("buffer-response", Bool(), default=True,
             doc="Either value streams: each chunk (e.g. a server-sent event) goes to the client as it arrives, "
                 "unless a policy reads the response body."),
        Attr("fail-on-error-status-code", Bool(), default=False, doc="Treat 400-599 backend answers as errors (runs on-error)."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        timeout = builder.value(element, "timeout")
        follow = builder.value(element, "follow-redirects")
        fail_on_error = builder.value(element, "fail-on-error-status-code")
        buffer_request = builder.value(element, "buffer-request-body")
        if not (buffer_request.is_constant and constant_value(buffer_request) is False):
            builder.require_body(request=True, response=False)
        constant = all(v.is_constant for v in (timeout, follow, fail_on_error))
        if constant:
            fixed = ForwardOptions(
                timeout=_seconds(constant_value(timeout)),
                follow_redirects=bool(constant_value(follow)),
                fail_on_error_status_code=bool(constant_value(fail_on_error)),
            )

            async def forward_fixed(ctx: Context) -> Flow | None:
                await forward_to_backend(ctx, fixed)
                return None

            return replaces_response(forward_fixed)  # it reads nothing of ctx.response before replacing it

        async def forward(ctx: Context) -> Flow | None:
            options = ForwardOptions(
                timeout=_seconds(timeout.get(ctx)),
                follow_redirects=bool(follow.get(ctx)),
                fail_on_error_status_code=bool(fail_on_error.get(ctx)),
            )
            await forward_to_backend(ctx, options)
            return None

        return forward


def _seconds(timeout: object) -> float:
    if isinstance(timeout, int) and timeout > 0:
        return float(timeout)
    return 1e9  # 0 = wait as long as it takes
