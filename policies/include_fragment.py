"""`<include-fragment fragment-id="..."/>`: insert a policy fragment's policies here."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Scope, Section, Str


class IncludeFragment(Policy):
    """Insert the policies of the named policy fragment at this position, as they are written.

    The fragment's policies must be allowed in the section and scope where it is included.
    Composition (`engine.compose`) expands it, so it never becomes a runtime step.
    """

    tag = "include-fragment"
    sections = Section.ALL
    scopes = Scope.ALL
    attributes = (
        Attr(
            "fragment-id", Str(non_empty=True), required=True, expr=False, doc="Name of the policy fragment."
        ),
    )
    allowed_in_fragment = False  # fragments cannot include fragments (APIM: "currently")
    implemented = True
