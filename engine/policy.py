"""The Policy base class (schema + runtime in one place) and the runtime Step protocol."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, ClassVar, Protocol

from engine.schema import Attr, Child, Scope, Section, Text

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement


class Flow(enum.Enum):
    """What a step asks the pipeline to do instead of continuing with the next step."""

    END = "end"  # return-response / mock-response / a policy that answered: send ctx.response now
    SKIP_TO_OUTBOUND = "skip-to-outbound"  # cache-lookup hit: skip rest of inbound and backend


class Step(Protocol):
    """A compiled policy: awaited once per request; a non-None Flow short-circuits."""

    async def __call__(self, ctx: Context) -> Flow | None: ...


class Policy:
    """One APIM policy element. Subclasses declare the schema as class attributes.

    The class docstring is the user-facing description rendered in the docs.
    """

    tag: ClassVar[str]
    sections: ClassVar[Section] = Section.ALL
    scopes: ClassVar[Scope] = Scope.ALL
    attributes: ClassVar[tuple[Attr, ...]] = ()
    children: ClassVar[tuple[Child, ...]] = ()
    text: ClassVar[Text | None] = None
    contains_policies: ClassVar[bool] = False  # retry: its children are policies
    allowed_in_fragment: ClassVar[bool] = True
    once_per_section: ClassVar[bool] = False
    implemented: ClassVar[bool] = False  # the gateway refuses documents using unimplemented ones

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        """Cross-field rules the declarative schema cannot express (default: none)."""

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        """Return the runtime step for a validated element."""
        raise NotImplementedError(f"<{self.tag}> is not implemented by the gateway")


class Builder(Protocol):
    """What `Policy.build` may use; implemented by the gateway's pipeline builder."""

    def value(self, element: PolicyElement, name: str) -> Value:
        """The attribute `name` as a runtime value (constant or compiled expression, typed by schema)."""
        ...

    def text_value(self, element: PolicyElement) -> Value:
        """The element's text content as a runtime value."""
        ...

    def steps(self, elements: list[PolicyElement]) -> list[Step]:
        """Build nested policies (choose/when, retry, return-response children)."""
        ...


class Value(Protocol):
    """A typed attribute value: a constant, or an expression evaluated per request."""

    is_constant: bool

    def get(self, ctx: Context) -> object: ...
