"""choose: run the policies of the first `when` whose condition is true, else `otherwise`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Step, Value, locate_error, run_steps
from engine.schema import Attr, Bool, Child, Scope, Section

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


class Choose(Policy):
    """Conditional policies: the `when` conditions are evaluated in order, the policies of the first
    true one run and no further condition is evaluated; `otherwise` runs when none is true."""

    tag = "choose"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    branch_condition = ("when", "condition")
    children = (
        Child(
            "when",
            attributes=(Attr("condition", Bool(), required=True, doc="Boolean expression or constant."),),
            policies=True,
            min=1,
            doc="A branch: its policies run when `condition` is true.",
        ),
        Child("otherwise", policies=True, max=1, doc="Policies run when no `when` matched."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        branches = tuple(
            (when, builder.value(when, "condition"), tuple(builder.steps(when.children)))
            for when in element.children_named("when")
        )
        otherwise_element = element.child("otherwise")
        otherwise = tuple(builder.steps(otherwise_element.children)) if otherwise_element is not None else ()
        return ChooseStep(branches, otherwise)


class ChooseStep:
    __slots__ = ("branches", "otherwise")

    def __init__(self, branches: tuple[tuple[PolicyElement, Value, tuple[Step, ...]], ...], otherwise: tuple[Step, ...]) -> None:
        self.branches = branches
        self.otherwise = otherwise

    async def __call__(self, ctx: Context) -> Flow | None:
        for when, condition, steps in self.branches:
            try:
                matched = condition.get(ctx)
            except PolicyRuntimeError as error:  # locate the failure at the `when`, not the `choose`
                locate_error(error, when)
                raise
            if matched:
                return await run_steps(steps, ctx)
        return await run_steps(self.otherwise, ctx)
