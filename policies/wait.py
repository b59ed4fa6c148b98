"""wait: run the child policies concurrently and wait for all (or the first) of them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Step, Value
from engine.schema import Attr, Enum, Scope, Section

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

ALLOWED_CHILDREN = ("send-request", "cache-lookup-value", "choose")


class Wait(Policy):
    """Run the immediate child policies (`send-request`, `cache-lookup-value`, `choose`)
    concurrently. `for="all"` (default) waits for every child; `for="any"` waits for the first to
    finish and cancels the others. A child's error ends the wait and goes to on-error."""

    tag = "wait"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    contains_policies = True
    attributes = (Attr("for", Enum("all", "any"), default="all", doc="Wait for all children or the first one."),)

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        for child in element.children:
            if child.tag not in ALLOWED_CHILDREN:
                diagnostics.error(
                    "policy-not-allowed-here",
                    f"<{child.tag}> cannot be a child of <wait> (allowed: {', '.join(ALLOWED_CHILDREN)})",
                    child.span,
                )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        return WaitStep(builder.value(element, "for"), tuple(builder.steps(element.children)))


class WaitStep:
    __slots__ = ("mode", "steps")

    def __init__(self, mode: Value, steps: tuple[Step, ...]) -> None:
        self.mode = mode
        self.steps = steps

    async def __call__(self, ctx: Context) -> Flow | None:
        if not self.steps:
            return None
        tasks = [asyncio.ensure_future(step(ctx)) for step in self.steps]
        try:
            if self.mode.get(ctx) == "any":
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                first = next(iter(done))
                return first.result()
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in tasks:
                error = task.exception() if task.done() and not task.cancelled() else None
                if error is not None:
                    raise error
            flows = [task.result() for task in tasks]
            return next((flow for flow in flows if flow is not None), None)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
