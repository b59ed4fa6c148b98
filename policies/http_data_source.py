"""`<http-data-source>`: a synthetic GraphQL API's resolver that reads a field's data from an HTTP endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Constant, Flow, Policy, Step, Value, run_steps
from engine.schema import Attr, Child, Int, Scope, Section
from policies.send_request import RequestTemplate, request_children, send

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

TAG = "http-data-source"
DEFAULT_TIMEOUT = 60


@dataclass(frozen=True)
class HttpDataSourceStep:
    template: RequestTemplate
    timeout: Value
    response_steps: tuple[Step, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        request = await self.template.build(ctx)
        timeout = self.timeout.get(ctx)
        response = await send(ctx, request, float(timeout if timeout is not None else DEFAULT_TIMEOUT), TAG,
                              self.template.proxy(ctx), self.template.certificate(ctx))
        if response.status_code >= 400:
            raise PolicyRuntimeError(
                f"The data source answered {response.status_code} {response.status_reason}".rstrip(),
                source=TAG, reason="DataSourceError", status=502,
            )
        ctx.response = response
        if self.response_steps:
            await run_steps(self.response_steps, ctx)
        return None


class HttpDataSource(Policy):
    """Resolve a field of a synthetic GraphQL API with an HTTP call (the resolver's whole document).

    `<http-request>` builds a new request (a GET until `set-method` says otherwise) from its `set-url`,
    `set-method`, `set-header`, `set-body` and `authentication-*` children, in order; their expressions
    read the field's arguments (`context.GraphQL.Arguments["id"]`), the parent object's value
    (`context.GraphQL.Parent["id"]`), and the caller's request (`context.Request`). `<backend>` may hold a
    `<forward-request timeout="seconds">` (default 60). The answer becomes `context.Response`;
    `<http-response>` policies (`set-body`, `xml-to-json`, `json-to-xml`, `find-and-replace`, `set-header`,
    `choose`...) may rewrite it, and its final body, read as JSON (or as text when it is not JSON), is the
    field's value. A timeout, a connection failure, a failing expression or an answer of status 400 or more
    (reason `DataSourceError`) makes the field null and adds an entry with the field's `path` to the
    response's `errors`; the other fields keep their values.
    """

    tag = TAG
    sections = Section.ALL
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    children = (
        Child("http-request", children=request_children("URL of the data source (required)."), min=1, max=1,
              doc="The request sent to the data source."),
        Child("backend", max=1, doc="How the request is sent.", children=(
            Child("forward-request", max=1, doc="Only `timeout` (seconds) is honoured.", attributes=(
                Attr("timeout", Int(min=0), default=DEFAULT_TIMEOUT, doc="Seconds for the whole exchange."),
            )),
        )),
        Child("http-response", policies=True, max=1,
              doc="Policies rewriting the data source's answer (`context.Response`) before it becomes the value."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> HttpDataSourceStep:
        request = element.child("http-request")
        assert request is not None  # min=1: validation reported its absence
        forward = element.child("backend")
        forward = forward.child("forward-request") if forward is not None else None
        timeout = builder.value(forward, "timeout") if forward is not None else None
        response = element.child("http-response")
        if response is not None:
            _act_on_response(response)
        return HttpDataSourceStep(
            RequestTemplate.from_element(request, builder, TAG),
            timeout if timeout is not None else Constant(DEFAULT_TIMEOUT),
            tuple(builder.steps(response.children)) if response is not None else (),
        )


def _act_on_response(element: PolicyElement) -> None:
    """Body and header policies under `<http-response>` act on the data source's response, as in outbound."""
    for child in element.children:
        child.section = "outbound"
        _act_on_response(child)
