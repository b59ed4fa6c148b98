"""Declarations that describe a policy element: attributes, text, children, sections, scopes.

Policies declare their schema with these classes; `engine.validate` checks documents against
them (lint and gateway alike), and the gateway's builder turns values into typed runtime values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Section(enum.Flag):
    INBOUND = enum.auto()
    BACKEND = enum.auto()
    OUTBOUND = enum.auto()
    ON_ERROR = enum.auto()
    ALL = INBOUND | BACKEND | OUTBOUND | ON_ERROR

    @classmethod
    def from_name(cls, name: str) -> Section:
        return cls[name.upper().replace("-", "_")]

    def names(self) -> list[str]:
        return [(s.name or "").lower().replace("_", "-") for s in Section if s in self and s.name != "ALL"]


class Scope(enum.Flag):
    GLOBAL = enum.auto()
    WORKSPACE = enum.auto()
    PRODUCT = enum.auto()
    API = enum.auto()
    OPERATION = enum.auto()
    ALL = GLOBAL | WORKSPACE | PRODUCT | API | OPERATION

    @classmethod
    def from_name(cls, name: str) -> Scope:
        return cls[name.upper()]


class AttrType:
    """How a literal attribute value (or the result of an expression) becomes a Python value."""

    label = "string"

    def parse(self, text: str) -> object:
        """Convert literal text; raise ValueError with a user-facing message when it is invalid."""
        return text

    def coerce(self, value: object) -> object:
        """Convert an expression's result; strings go through `parse`."""
        if value is None:
            return None
        if isinstance(value, str):
            return self.parse(value)
        return value


class Str(AttrType):
    label = "string"

    def __init__(self, non_empty: bool = False) -> None:
        self.non_empty = non_empty

    def parse(self, text: str) -> object:
        if self.non_empty and not text.strip():
            raise ValueError("must not be empty")
        return text

    def coerce(self, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, bool):
            return "True" if value else "False"  # C# bool.ToString()
        return str(value)


class Int(AttrType):
    label = "integer"

    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min = min
        self.max = max

    def parse(self, text: str) -> object:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"'{text}' is not an integer") from None
        return self.check_range(value)

    def check_range(self, value: int) -> int:
        if self.min is not None and value < self.min:
            raise ValueError(f"{value} is below the minimum {self.min}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{value} is above the maximum {self.max}")
        return value

    def coerce(self, value: object) -> object:
        if isinstance(value, bool) or value is None:
            raise ValueError(f"expected an integer, got {value!r}")
        if isinstance(value, int):
            return self.check_range(value)
        if isinstance(value, float) and value.is_integer():
            return self.check_range(int(value))
        if isinstance(value, str):
            return self.parse(value)
        raise ValueError(f"expected an integer, got {type(value).__name__}")


class Float(AttrType):
    label = "number"

    def parse(self, text: str) -> object:
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None

    def coerce(self, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return super().coerce(value)


class Bool(AttrType):
    label = "boolean"

    def parse(self, text: str) -> object:
        lowered = text.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise ValueError(f"'{text}' is not a boolean (true or false)")

    def coerce(self, value: object) -> object:
        if isinstance(value, bool):
            return value
        return super().coerce(value)


class Enum(AttrType):
    label = "one of"

    def __init__(self, *choices: str, ignore_case: bool = True) -> None:
        self.choices = choices
        self.ignore_case = ignore_case

    def parse(self, text: str) -> object:
        value = text.strip()
        for choice in self.choices:
            if value == choice or (self.ignore_case and value.lower() == choice.lower()):
                return choice
        raise ValueError(f"'{text}' is not one of: {', '.join(self.choices)}")


REQUIRED = object()  # marker: no default


@dataclass(frozen=True)
class Attr:
    """An attribute: its type, whether required, default, and whether `@(...)` is allowed."""

    name: str
    type: AttrType = field(default_factory=Str)
    required: bool = False
    default: object = None
    expr: bool = True
    doc: str = ""
    unsupported: str = ""  # why the gateway ignores this attribute: lint warns `policy-unsupported` when used


@dataclass(frozen=True)
class Text:
    """Text content of an element (e.g. `<value>`, `<set-body>`, `<set-method>`)."""

    type: AttrType = field(default_factory=Str)
    required: bool = False
    expr: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Child:
    """A child element that is not a policy itself (e.g. `<value>`, `<when>`, `<vary-by-header>`).

    `policies=True` means the child's own children are policies (choose/when, choose/otherwise).
    `ref` names a policy tag whose schema validates this child (return-response/set-header).
    """

    tag: str
    attributes: tuple[Attr, ...] = ()
    children: tuple[Child, ...] = ()
    text: Text | None = None
    min: int = 0
    max: int | None = None  # None = unbounded
    policies: bool = False
    ref: str | None = None
    doc: str = ""
