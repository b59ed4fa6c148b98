"""``System.Enum`` statics: ``Parse``, ``TryParse``, ``GetName(s)``, ``GetValues``, ``IsDefined``.

The enum type is the first argument (``typeof(T)`` or the generic ``T``), as a C# type name or a
runtime enum class (``StringComparison``, ``JTokenType``...).
"""

from __future__ import annotations

import enum
from typing import Any

from .errors import ArgumentException, ArgumentNullException


def _enum_class(type_arg: Any) -> type[enum.Enum]:
    if isinstance(type_arg, type) and issubclass(type_arg, enum.Enum):
        return type_arg
    from .registry import runtime_class

    cls = runtime_class(str(type_arg)) if isinstance(type_arg, str) else None
    if cls is None or not issubclass(cls, enum.Enum):
        raise ArgumentException("Type provided must be an Enum.", "enumType")
    return cls


def _members(cls: type[enum.Enum]) -> dict[str, enum.Enum]:
    return {(name[:-1] if name.endswith("_") else name): member for name, member in cls.__members__.items()}


class Enum:
    """Statics of ``System.Enum``."""

    dotnet_name = "System.Enum"

    @staticmethod
    def Parse(type_arg: Any, value: str | None, ignore_case: bool = False) -> enum.Enum:
        cls = _enum_class(type_arg)
        if value is None:
            raise ArgumentNullException("value")
        members = _members(cls)
        result = 0
        for part in value.split(","):
            text = part.strip()
            if text.lstrip("-").isdigit():
                result |= int(text)
                continue
            match = next(
                (m for n, m in members.items() if n == text or (ignore_case and n.lower() == text.lower())),
                None,
            )
            if match is None:
                raise ArgumentException(f"Requested value '{value}' was not found.")
            result |= int(match.value)
        return cls(result)

    @staticmethod
    def TryParse(type_arg: Any, value: str | None, ignore_case: bool = False) -> tuple[bool, Any]:
        try:
            return True, Enum.Parse(type_arg, value, ignore_case)
        except (ArgumentException, ValueError):
            return False, None

    @staticmethod
    def GetName(type_arg: Any, value: Any) -> str | None:
        cls = _enum_class(type_arg)
        for name, member in _members(cls).items():
            if int(member.value) == int(value):
                return name
        return None

    @staticmethod
    def GetNames(type_arg: Any) -> list[str]:
        return list(_members(_enum_class(type_arg)))

    @staticmethod
    def GetValues(type_arg: Any) -> list[enum.Enum]:
        return list(_members(_enum_class(type_arg)).values())

    @staticmethod
    def IsDefined(type_arg: Any, value: Any) -> bool:
        members = _members(_enum_class(type_arg))
        if isinstance(value, str):
            return value in members
        return any(int(m.value) == int(value) for m in members.values())

    @staticmethod
    def ToString(value: enum.Enum) -> str:
        from .primitives import enum_to_string

        return enum_to_string(value)


__all__ = ["Enum", "EnumMembers"]


class EnumMembers:
    """Instance members of enum values (``value.ToString("D")``, ``flags.HasFlag(x)``), value first."""

    @staticmethod
    def ToString(value: enum.Enum, fmt: Any = None) -> str:
        if fmt in ("D", "d"):
            return str(int(value.value))
        if fmt in ("X", "x"):
            return format(int(value.value) & 0xFFFFFFFF, "08X" if fmt == "X" else "08x")
        from .primitives import enum_to_string

        return enum_to_string(value)

    @staticmethod
    def HasFlag(value: enum.Enum, flag: Any) -> bool:
        wanted = int(flag.value if isinstance(flag, enum.Enum) else flag)
        return int(value.value) & wanted == wanted

    @staticmethod
    def CompareTo(value: enum.Enum, other: Any) -> int:
        a, b = int(value.value), int(other.value if isinstance(other, enum.Enum) else other)
        return (a > b) - (a < b)

    @staticmethod
    def Equals(value: enum.Enum, other: Any) -> bool:
        return isinstance(other, type(value)) and other.value == value.value

    @staticmethod
    def GetHashCode(value: enum.Enum) -> int:
        return int(value.value)

