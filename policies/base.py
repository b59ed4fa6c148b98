"""`<base/>`: run the same section of the next broader scope at this position."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Scope, Section


class Base(Policy):
    """Inherit the policies of the same section at the parent scope, at this position.

    Without `<base/>` a section does not inherit; at global scope it does nothing. It appears
    at most once per section, directly inside the section, and never in a policy fragment.
    Composition (`engine.compose`) replaces it, so it never becomes a runtime step.
    """

    tag = "base"
    sections = Section.ALL
    scopes = Scope.ALL
    allowed_in_fragment = False
    once_per_section = True
    implemented = True
