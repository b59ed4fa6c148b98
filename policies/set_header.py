"""set-header: add, replace, append to or delete an HTTP header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Constant, Flow, Policy, Step, Value
from engine.schema import Attr, Child, Enum, Scope, Section, Str, Text
from engine.wire import header_problem

if TYPE_CHECKING:
    from engine.context import Context, Headers
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

EXISTS_ACTIONS = ("override", "skip", "append", "delete")
# APIM: these "can't be modified or deleted" by set-header; the gateway owns message framing.
PROTECTED = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})
RESPONSE_SECTIONS = frozenset({"outbound", "on-error"})


class SetHeader(Policy):
    """Add, replace, append to or delete a header. In inbound and backend it changes the request
    sent to the backend; in outbound and on-error (and inside `return-response`) the response.

    `exists-action`: `override` (default) replaces the header with the listed values, `skip`
    leaves an existing header alone, `append` adds the values, `delete` removes the header.
    Several `<value>` elements give several values: sent comma-joined on one line, except for
    the fields HTTP sends one per line (Set-Cookie, Cookie, WWW-Authenticate, Date, Expires,
    Retry-After, ...). A value whose expression returns null is left out. Connection,
    Content-Length, Keep-Alive and Transfer-Encoding cannot be changed.
    """

    tag = "set-header"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("name", Str(non_empty=True), required=True, doc="Header name."),
        Attr("exists-action", Enum(*EXISTS_ACTIONS), default="override", doc="What to do when the header exists."),
    )
    children = (Child("value", text=Text(Str(), doc="A header value."), doc="Header value (repeatable)."),)

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        action = element.get("exists-action")
        deleting = action is not None and (action.is_expression or action.text.strip().lower() == "delete")
        if not deleting and not element.children_named("value"):
            diagnostics.warning(
                "policy-missing-child",
                "<set-header> without <value> sets an empty header; use exists-action=\"delete\" to remove it",
                element.span,
            )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        name = builder.value(element, "name")
        action = builder.value(element, "exists-action")
        values = tuple(_value(builder, child) for child in element.children_named("value"))
        on_response = element.section in RESPONSE_SECTIONS
        return SetHeaderStep(name, action, values, on_response)


def _value(builder: Builder, element: PolicyElement) -> Value:
    if element.text is None:
        return Constant("")
    return builder.text_value(element)


class SetHeaderStep:
    __slots__ = ("name", "action", "values", "on_response")

    def __init__(self, name: Value, action: Value, values: tuple[Value, ...], on_response: bool) -> None:
        self.name, self.action, self.values, self.on_response = name, action, values, on_response

    async def __call__(self, ctx: Context) -> Flow | None:
        name = self.name.get(ctx)
        if not name:
            return None
        name = str(name).strip()
        if name.lower() in PROTECTED:
            return None
        headers: Headers = ctx.response.headers if self.on_response else ctx.request.headers
        apply(headers, name, str(self.action.get(ctx) or "override"), [v.get(ctx) for v in self.values])
        return None


def apply(headers: Headers, name: str, action: str, raw_values: list[object]) -> None:
    """Apply one set-header rule to `headers`."""
    action = action.lower()
    if action == "delete":
        headers.remove(name)
        return
    if action == "skip" and name in headers:
        return
    values = [str(v) for v in raw_values if v is not None]
    problem = header_problem(name, values)
    if problem is not None:  # sent, it would split into two headers (or be refused by the HTTP client as a 502)
        raise PolicyRuntimeError(problem, source="set-header", reason="InvalidHeaderValue", status=500)
    if action == "append" and name in headers:
        for value in values:
            headers.add(name, value)
    elif values or not raw_values:
        headers.set(name, values or [""])
    else:
        headers.remove(name)  # every value was null: nothing left to send
