"""Cross-attribute rules shared by several policy declarations."""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.model import PolicyElement


def require_one_of(element: PolicyElement, names: tuple[str, ...], diagnostics: Diagnostics) -> None:
    """Report `policy-missing-attribute` unless at least one of `names` is present."""
    if not any(element.get(name) is not None for name in names):
        listed = " or ".join(f"'{name}'" for name in names)
        diagnostics.error("policy-missing-attribute", f"<{element.tag}> requires {listed}", element.span)
