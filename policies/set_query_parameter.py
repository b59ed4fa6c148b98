"""`<set-query-parameter>`: add, replace, append to or delete a request query parameter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Child, Enum, Scope, Section, Str, Text
from policies._values import is_literal, text_or_empty

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

EXISTS_ACTIONS = ("override", "skip", "append", "delete")


@dataclass(frozen=True)
class SetQueryParameterStep:
    name: Value
    action: Value
    values: tuple[Value, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        name = str(self.name.get(ctx) or "")
        if not name:
            return None
        query = ctx.request.url.query
        action = self.action.get(ctx) or "override"
        if action == "delete":
            query.pop(name, None)
            return None
        if action == "skip" and name in query:
            return None
        values = [str(v) for v in (value.get(ctx) for value in self.values) if v is not None]
        if action == "append" and name in query:
            query[name].extend(values)
        elif values:
            query[name] = values
        else:
            query.pop(name, None)  # override with no value left: the parameter is removed
        return None


class SetQueryParameter(Policy):
    """Add, replace, append to or delete a query parameter of the request sent to the backend.

    `exists-action`: `override` (default) replaces every value with the listed ones, `skip`
    leaves an existing parameter alone, `append` adds the values, `delete` removes it.
    """

    tag = "set-query-parameter"
    sections = Section.INBOUND | Section.BACKEND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("name", Str(non_empty=True), required=True, doc="Name of the query parameter."),
        Attr(
            "exists-action",
            Enum(*EXISTS_ACTIONS),
            default="override",
            doc="What to do when the parameter is already present.",
        ),
    )
    children = (
        Child("value", text=Text(Str(), doc="A value; several elements give several values."), doc="Parameter value."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        action = element.get("exists-action")
        maybe_delete = action is not None and (action.is_expression or is_literal(element, "exists-action", "delete"))
        if not maybe_delete and not element.children_named("value"):
            diagnostics.error(
                "policy-missing-child",
                "<set-query-parameter> needs at least one <value> unless exists-action is 'delete'",
                element.span,
            )

    def build(self, element: PolicyElement, builder: Builder) -> SetQueryParameterStep:
        values = tuple(text_or_empty(builder, child) for child in element.children_named("value"))
        return SetQueryParameterStep(builder.value(element, "name"), builder.value(element, "exists-action"), values)
