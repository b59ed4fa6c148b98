"""set-variable: store a value in context.Variables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Step, constant_value
from engine.schema import Attr, AttrType, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


class AnyValue(AttrType):
    """A literal stays a string; an expression's result keeps its type (int, bool, JObject, ...)."""

    label = "any"


class SetVariable(Policy):
    """Declare or assign a context variable (`context.Variables["name"]`). A literal value is
    stored as a string; an expression's result is stored as it is (bool, int, string, JSON, ...)."""

    tag = "set-variable"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("name", Str(non_empty=True), required=True, expr=False, doc="Name of the variable."),
        Attr("value", AnyValue(), required=True, doc="Value: a literal string or a policy expression."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        raw = element.get("name")
        name = raw.text if raw is not None else ""
        value = builder.value(element, "value")
        if value.is_constant:
            constant = constant_value(value)

            async def set_constant(ctx: Context) -> Flow | None:
                ctx.variables[name] = constant
                return None

            return set_constant

        async def set_variable(ctx: Context) -> Flow | None:
            ctx.variables[name] = value.get(ctx)
            return None

        return set_variable
