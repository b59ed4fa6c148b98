"""mock-response: answer without calling the backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Step, reason_phrase
from engine.schema import Attr, Int, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


class MockResponse(Policy):
    """End the pipeline with a mocked response: `status-code` (default 200) and, when the
    operation has an example for that status (configuration `operations.<id>.examples`), that
    example as the body, chosen by `content-type` (or the first example of the status).
    Otherwise the body is empty."""

    tag = "mock-response"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    ends_pipeline = True
    attributes = (
        Attr("status-code", Int(min=100, max=599), default=200, doc="Status code of the mocked response."),
        Attr("content-type", Str(), doc="Media type of the example to return (and the Content-Type header)."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        from engine.context import Headers, MessageBody, Response
        status_value = builder.value(element, "status-code")
        content_type_value = builder.value(element, "content-type")

        async def mock(ctx: Context) -> Flow | None:
            status = status_value.get(ctx)
            status = status if isinstance(status, int) else 200
            content_type = content_type_value.get(ctx)
            headers = Headers()
            body = b""
            examples = _examples(ctx).get(status, {})
            if examples:
                chosen = str(content_type) if content_type and str(content_type) in examples else next(iter(examples))
                if not content_type or chosen == content_type:
                    body = examples[chosen].encode()
                    content_type = chosen
            if content_type:
                headers.set("Content-Type", str(content_type))
            ctx.response = Response(status, reason_phrase(status), headers, MessageBody(body))
            return Flow.END

        return mock


def _examples(ctx: Context) -> dict[int, dict[str, str]]:
    if ctx.services is None or ctx.api is None or ctx.operation is None:
        return {}
    return ctx.services.operation_examples(ctx.api.id, ctx.operation.id)
