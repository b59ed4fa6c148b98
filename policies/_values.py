"""Small runtime-value helpers shared by policy modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.policy import Constant

if TYPE_CHECKING:
    from engine.model import PolicyElement
    from engine.policy import Builder, Value


def text_or_empty(builder: Builder, element: PolicyElement) -> Value:
    """The element's text as a value; an empty element gives ''."""
    if element.text is None:
        return Constant("")
    return builder.text_value(element)


def is_literal(element: PolicyElement, name: str, expected: str) -> bool:
    """True when attribute `name` is a literal equal (case-insensitively) to `expected`."""
    value = element.get(name)
    return value is not None and not value.is_expression and value.text.strip().lower() == expected
