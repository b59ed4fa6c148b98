"""Which characters can start a match of a regular expression: the lexer's first-character index.

Computed on Python's own parse of the pattern (the `re` module's parser, so classes such as `\\s`
mean exactly what they mean when the pattern runs). The answer may only be too large, never too
small: zero-width assertions are skipped (they only narrow what matches), case-insensitive parts
and anything not understood count as "may start with anything".
"""

from __future__ import annotations

import re
from re import _constants as sre
from re import _parser as sre_parse
from typing import Any

ASCII = tuple(chr(c) for c in range(128))

_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W",
}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_ZERO_WIDTH = {sre.ASSERT, sre.ASSERT_NOT, sre.AT}


class _Unknown(Exception):
    """A construct this analysis does not model."""


class FirstChars:
    """The ASCII characters a match may start with, and whether it may start with any other one."""

    def __init__(self) -> None:
        self.ascii: set[str] = set()
        self.other = False

    @classmethod
    def anything(cls) -> FirstChars:
        found = cls()
        found.ascii = set(ASCII)
        found.other = True
        return found


def first_chars(pattern: str, flags: int = 0) -> FirstChars:
    """A superset of the characters a non-empty match of `pattern` can start with."""
    found = FirstChars()
    try:
        _sequence(sre_parse.parse(pattern, flags), bool(flags & re.IGNORECASE), found)
    except _Unknown:
        return FirstChars.anything()
    return found


def _sequence(items: Any, nocase: bool, found: FirstChars) -> bool:
    """Add the first characters of a sequence; True when the sequence can match the empty string."""
    for op, av in items:
        if not _item(op, av, nocase, found):
            return False
    return True


def _item(op: Any, av: Any, nocase: bool, found: FirstChars) -> bool:
    """Add the first characters of one item; True when it can match the empty string."""
    if op in _ZERO_WIDTH:
        return True
    if op is sre.SUBPATTERN:
        _, add_flags, del_flags, items = av
        nocase = bool((nocase or add_flags & re.IGNORECASE) and not del_flags & re.IGNORECASE)
        return _sequence(items, nocase, found)
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(av, nocase, found)
    if op is sre.BRANCH:
        return any([_sequence(branch, nocase, found) for branch in av[1]])
    if op in _REPEATS:
        low, _, items = av
        return _sequence(items, nocase, found) or low == 0
    _character(op, av, nocase, found)
    return False


def _character(op: Any, av: Any, nocase: bool, found: FirstChars) -> None:
    if op is sre.LITERAL:
        members = {chr(av)} if av < 128 else set()
        found.other |= av >= 128
    elif op is sre.NOT_LITERAL or op is sre.ANY:
        members = {c for c in ASCII if c != chr(av)} if op is sre.NOT_LITERAL else set(ASCII) - {"\n"}
        found.other = True
    elif op is sre.IN:
        members = _in_set(av, found)
    else:
        raise _Unknown(op)
    if nocase:  # case folding reaches non-ASCII letters too (K, the Kelvin sign, folds to k)
        members |= {c.swapcase() for c in members}
        found.other = True
    found.ascii |= members


def _in_set(items: Any, found: FirstChars) -> set[str]:
    negate = bool(items) and items[0][0] is sre.NEGATE
    members: set[str] = set()
    for op, av in items[1:] if negate else items:
        if op is sre.LITERAL:
            members |= {chr(av)} if av < 128 else set()
            found.other |= av >= 128
        elif op is sre.RANGE:
            low, high = av
            members |= {chr(c) for c in range(low, min(high, 127) + 1)}
            found.other |= high >= 128
        elif op is sre.CATEGORY and av in _CATEGORIES:
            members |= {c for c in ASCII if re.match(_CATEGORIES[av], c)}
            found.other = True
        else:
            raise _Unknown(op)
    if negate:
        found.other = True
        return set(ASCII) - members
    return members
