"""set-status: set the HTTP status code (and reason) of the response."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Step, reason_phrase
from engine.schema import Attr, Int, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


class SetStatus(Policy):
    """Set the status code and reason phrase of the response (commonly inside `return-response`).
    Without `reason` the standard phrase of the code is used."""

    tag = "set-status"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("code", Int(min=100, max=599), required=True, doc="HTTP status code."),
        Attr("reason", Str(), doc="Reason phrase (default: the standard phrase of the code)."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        code = builder.value(element, "code")
        reason = builder.value(element, "reason")

        async def set_status(ctx: Context) -> Flow | None:
            status = code.get(ctx)
            if isinstance(status, int):
                ctx.response.status_code = status
                text = reason.get(ctx)
                ctx.response.status_reason = str(text) if text is not None else reason_phrase(status)
            return None

        return set_status
