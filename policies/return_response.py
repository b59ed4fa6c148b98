"""return-response: end the pipeline with a response built here."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Step
from engine.schema import Attr, Child, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context, Response
    from engine.model import PolicyElement


class ReturnResponse(Policy):
    """Stop processing and send a response: by default 200 OK with no body; or a copy of the
    response stored in the variable `response-variable-name` (e.g. by `send-request`); then
    changed by the child `set-status`, `set-header` and `set-body` elements, in order (they act
    on this response whatever the section)."""

    tag = "return-response"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    ends_pipeline = True
    attributes = (
        Attr("response-variable-name", Str(non_empty=True), expr=False, doc="Variable holding a response to return."),
    )
    children = (
        Child("set-status", ref="set-status", max=1, doc="Status of the response."),
        Child("set-header", ref="set-header", doc="A header of the response (repeatable)."),
        Child("set-body", ref="set-body", max=1, doc="Body of the response."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        raw = element.get("response-variable-name")
        variable = raw.text if raw is not None else None
        # The children act on the response being built, so they are built as outbound policies.
        parts = [replace(child, section="outbound") for child in element.children
                 if child.tag in ("set-status", "set-header", "set-body")]
        steps = builder.steps(parts)

        async def return_response(ctx: Context) -> Flow | None:
            ctx.response = _initial(ctx, variable)
            for step in steps:
                await step(ctx)
            return Flow.END

        return return_response


def _initial(ctx: Context, variable: str | None) -> Response:
    from engine.context import MessageBody, Response

    if variable is None:
        return Response(200, "OK")
    stored = ctx.variables.get(variable)
    if not isinstance(stored, Response):
        raise PolicyRuntimeError(
            f"Variable '{variable}' does not hold a response.", source="return-response",
            reason="ResponseVariableInvalid", status=500,
        )
    body = MessageBody(stored.body.content) if stored.body is not None else None
    return Response(stored.status_code, stored.status_reason, stored.headers.copy(), body)
