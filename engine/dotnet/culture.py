"""``CultureInfo``, ``NumberStyles`` and ``DateTimeStyles``: accepted and mostly ignored.

The runtime is culture-invariant; culture arguments are accepted so that overloads taking an
``IFormatProvider`` work, and only the invariant culture (and ``en-US``-like names, treated as
invariant) is available.
"""

from __future__ import annotations

import enum

from .primitives import static_property


class CultureInfo:
    """A culture object; every culture formats like the invariant culture."""

    dotnet_name = "System.Globalization.CultureInfo"

    def __init__(self, name: str = "") -> None:
        self._name = name

    @property
    def Name(self) -> str:
        return self._name

    def ToString(self) -> str:
        return self._name

    @static_property
    def InvariantCulture() -> CultureInfo:  # noqa: N802
        return _INVARIANT

    @static_property
    def CurrentCulture() -> CultureInfo:  # noqa: N802
        return _INVARIANT

    @static_property
    def CurrentUICulture() -> CultureInfo:  # noqa: N802
        return _INVARIANT

    @staticmethod
    def GetCultureInfo(name: str) -> CultureInfo:
        return CultureInfo(name)


_INVARIANT = CultureInfo("")


class NumberStyles(enum.IntFlag):
    """``System.Globalization.NumberStyles``."""

    None_ = 0
    AllowLeadingWhite = 1
    AllowTrailingWhite = 2
    AllowLeadingSign = 4
    AllowTrailingSign = 8
    AllowParentheses = 16
    AllowDecimalPoint = 32
    AllowThousands = 64
    AllowExponent = 128
    AllowCurrencySymbol = 256
    AllowHexSpecifier = 512
    Integer = 7
    HexNumber = 515
    Number = 111
    Float = 167
    Currency = 383
    Any = 511


class DateTimeStyles(enum.IntFlag):
    """``System.Globalization.DateTimeStyles``."""

    None_ = 0
    AllowLeadingWhite = 1
    AllowTrailingWhite = 2
    AllowInnerWhite = 4
    AllowWhiteSpaces = 7
    NoCurrentDateDefault = 8
    AdjustToUniversal = 16
    AssumeLocal = 32
    AssumeUniversal = 64
    RoundtripKind = 128


def is_format_provider(value: object) -> bool:
    """True for an ``IFormatProvider`` argument (a culture)."""
    return isinstance(value, CultureInfo)


__all__ = ["CultureInfo", "DateTimeStyles", "NumberStyles", "is_format_provider"]
