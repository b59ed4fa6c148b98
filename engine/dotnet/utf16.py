"""C# strings are UTF-16: `Length`, indexes and `char`s count UTF-16 code units.

Python `str` holds code points, so a character outside the Basic Multilingual Plane (an emoji)
is one Python character but two C# `char`s (a surrogate pair). Strings are stored as code points
(what every parser, encoder and header API gives and wants); members whose results depend on
positions convert to *unit form* (one Python character per UTF-16 code unit, non-BMP characters
as two surrogate characters) with `units`, work there, and convert results back with `text`,
which joins surrogate pairs again. All helpers return their argument unchanged for BMP-only
strings, so ASCII text costs one `isascii()` check.
"""

from __future__ import annotations


def has_astral(s: str) -> bool:
    """True when `s` holds a character outside the BMP (two UTF-16 code units)."""
    return not s.isascii() and max(s) > "\uffff"


def units(s: str) -> str:
    """`s` with every non-BMP character split into its surrogate pair."""
    if not has_astral(s):
        return s
    data = s.encode("utf-16-le", "surrogatepass")
    return "".join(chr(data[i] | data[i + 1] << 8) for i in range(0, len(data), 2))


def text(u: str) -> str:
    """Inverse of `units`: join surrogate pairs into code points (lone surrogates stay)."""
    if u.isascii() or not any("\ud800" <= c <= "\udbff" for c in u):
        return u
    out: list[str] = []
    i, n = 0, len(u)
    while i < n:
        c = u[i]
        if "\ud800" <= c <= "\udbff" and i + 1 < n and "\udc00" <= u[i + 1] <= "\udfff":
            out.append(chr(0x10000 + ((ord(c) - 0xD800) << 10) + ord(u[i + 1]) - 0xDC00))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def length(s: str) -> int:
    """C# `string.Length`."""
    if s.isascii():
        return len(s)
    return len(s) + sum(1 for c in s if c > "\uffff")


def unit_index(s: str, index: int) -> int:
    """The UTF-16 index of code-point index `index` of `s`."""
    if s.isascii():
        return index
    return index + sum(1 for c in s[:index] if c > "\uffff")


__all__ = ["has_astral", "length", "text", "unit_index", "units"]
