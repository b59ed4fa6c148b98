"""``System.Text.RegularExpressions``: ``Regex``, ``Match``, ``Group``, ``Capture``, collections.

.NET patterns are translated (``(?<name>…)``, ``(?'name'…)``, ``\\k<name>``, ``\\z``/``\\Z``,
``RegexOptions``, ``$1``/``${name}`` replacements) and run on RE2 (google-re2) whenever RE2 supports
the pattern: matching is then linear-time, so hostile input cannot make it backtrack. ``\\w``,
``\\d``, ``\\s`` are Unicode classes like .NET's (ASCII under ``RegexOptions.ECMAScript``).
Patterns RE2 rejects (lookarounds, backreferences, atomic groups, ``\\b``, ``RightToLeft``,
``IgnorePatternWhitespace``) run on the ``regex`` package, a backtracking engine like .NET's whose
matches take a timeout: every such match stops at the ``Regex``'s match timeout
(``RegexMatchTimeoutException``) or at the expression's time limit, whichever comes first
(`set_time_limit`). Groups are numbered like .NET (unnamed groups first, then named ones) and a
repeated group's ``Captures`` holds every capture. Indexes and lengths count UTF-16 code units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from . import utf16
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    NotSupportedException,
)
from .limits import check_length
from .primitives import static_property
from .regexengine import RegexOptions, compile_pattern

if TYPE_CHECKING:
    from .timespan import TimeSpan

# The `regex` package measures its timeout in CPU time, so on a busy machine a match may take
# longer in wall time; tests/dotnet/test_regex_limits.py checks both under load.
_MAX_TIMEOUT_MS = 2**31 - 2  # .NET: Regex.MaximumMatchTimeout


class Capture:
    """``Capture``: ``Index``, ``Length``, ``Value`` (`text` is the input in UTF-16 unit form)."""

    dotnet_name = "System.Text.RegularExpressions.Capture"

    def __init__(self, text: str, start: int, end: int) -> None:
        self._text = text
        self._start = start
        self._end = end

    @property
    def Index(self) -> int:
        return max(self._start, 0)

    @property
    def Length(self) -> int:
        return max(self._end - self._start, 0)

    @property
    def Value(self) -> str:
        return utf16.text(self._text[self._start : self._end]) if self._start >= 0 else ""

    def ToString(self) -> str:
        return self.Value


_Item = TypeVar("_Item")


class _ReadOnlyCollection(Generic[_Item]):
    """What ``CaptureCollection`` and ``MatchCollection`` share: ``Count``, ``[i]`` and ``foreach``."""

    def __init__(self, items: list[_Item]) -> None:
        self._items = items

    @property
    def Count(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> _Item:
        if not 0 <= i < len(self._items):
            raise ArgumentOutOfRangeException("i", "Specified argument was out of the range of valid values.")
        return self._items[i]

    def Item(self, i: int) -> _Item:
        return self[i]

    def __iter__(self) -> Iterator[_Item]:
        return iter(list(self._items))


class CaptureCollection(_ReadOnlyCollection[Capture]):
    """``CaptureCollection``."""

    dotnet_name = "System.Text.RegularExpressions.CaptureCollection"


class Group(Capture):
    """``Group``: a capture plus ``Success``, ``Name`` and ``Captures``."""

    dotnet_name = "System.Text.RegularExpressions.Group"

    def __init__(self, text: str, start: int, end: int, name: str,
                 captures: Callable[[], list[tuple[int, int]]] | None = None) -> None:
        super().__init__(text, start, end)
        self._name = name
        self._captures = captures

    @property
    def Success(self) -> bool:
        return self._start >= 0

    @property
    def Name(self) -> str:
        return self._name

    @property
    def Captures(self) -> CaptureCollection:
        if not self.Success:
            return CaptureCollection([])
        spans = self._captures() if self._captures is not None else [(self._start, self._end)]
        return CaptureCollection([Capture(self._text, a, b) for a, b in spans])


class GroupCollection:
    """``GroupCollection``: index by number or name; unknown groups give a failed ``Group``."""

    dotnet_name = "System.Text.RegularExpressions.GroupCollection"

    def __init__(self, groups: list[Group], text: str) -> None:
        self._groups = groups
        self._names = {g.Name: i for i, g in enumerate(groups)}
        self._text = text

    @property
    def Count(self) -> int:
        return len(self._groups)

    def __getitem__(self, key: int | str) -> Group:
        if isinstance(key, str):
            if key in self._names:
                return self._groups[self._names[key]]
            return Group(self._text, -1, -1, key)
        if 0 <= key < len(self._groups):
            return self._groups[key]
        return Group(self._text, -1, -1, str(key))

    def Item(self, key: int | str) -> Group:
        return self[key]

    def ContainsKey(self, key: str) -> bool:
        return key in self._names

    def TryGetValue(self, key: str) -> tuple[bool, Group | None]:
        return (True, self[key]) if self.ContainsKey(key) else (False, None)

    @property
    def Keys(self) -> list[str]:
        return [g.Name for g in self._groups]

    @property
    def Values(self) -> list[Group]:
        return list(self._groups)

    def __iter__(self) -> Iterator[Group]:
        return iter(list(self._groups))


class Match(Group):
    """``Match``: the whole match (group 0) plus ``Groups``, ``NextMatch()`` and ``Result()``."""

    dotnet_name = "System.Text.RegularExpressions.Match"
    Empty: ClassVar[Match]  # set below the class

    def __init__(self, regex: Regex | None, text: str, m: Any) -> None:
        self._regex = regex
        if m is None:
            super().__init__(text, -1, -1, "0")
            self._groups_list: list[Group] = [self]
            return
        super().__init__(text, m.start(), m.end(), "0")
        groups: list[Group] = [self]
        if regex is not None:
            compiled = regex._compiled
            for index, name in compiled.groups[1:]:
                start, end = m.span(index)
                repeated = ((lambda i=index: list(m.spans(i))) if hasattr(m, "spans")
                            else (lambda i=index: compiled.captures(text, m.start(), i)))
                groups.append(Group(text, start, end, name, repeated))
        self._groups_list = groups

    @property
    def Groups(self) -> GroupCollection:
        return GroupCollection(self._groups_list, self._text)

    def NextMatch(self) -> Match:
        if not self.Success or self._regex is None:
            return Match(None, self._text, None)
        start = self._end if self._end > self._start else self._end + 1
        if start > len(self._text):
            return Match(self._regex, self._text, None)
        return self._regex._first(self._text, start)

    def Result(self, replacement: str) -> str:
        if not self.Success:
            raise NotSupportedException("Result cannot be called on a failed Match.")
        return _expand(replacement, self)

    @staticmethod
    def _empty() -> Match:
        return Match(None, "", None)


Match.Empty = Match._empty()


class MatchCollection(_ReadOnlyCollection[Match]):
    """``MatchCollection``."""

    dotnet_name = "System.Text.RegularExpressions.MatchCollection"


_SUBST = re.compile(r"\$(?:\$|&|`|'|_|\+|\{([^}]*)\}|(\d+))")


def _expand(replacement: str, match: Match) -> str:
    """Apply .NET substitutions (``$1``, ``${name}``, ``$&``, ``$$``...) for one match."""

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "$$":
            return "$"
        if token == "$&":
            return match.Value
        if token == "$`":
            return utf16.text(match._text[: match.Index])
        if token == "$'":
            return utf16.text(match._text[match.Index + match.Length :])
        if token == "$_":
            return utf16.text(match._text)
        groups = match.Groups
        if token == "$+":  # the last group in .NET's numbering (the whole match when there is none)
            return groups[groups.Count - 1].Value
        key = m.group(1) if m.group(1) is not None else m.group(2)
        if key.isdigit():
            if m.group(2) is not None and match._regex is not None and match._regex.Options & RegexOptions.ECMAScript:
                # ECMAScript: the longest leading digit run that names a group, the rest literal
                for cut in range(len(key), 0, -1):
                    if int(key[:cut]) < groups.Count:
                        return groups[int(key[:cut])].Value + key[cut:]
                return token
            # .NET (RegexParser.ScanDollar): all the digits name the group, or the `$` is literal
            return groups[int(key)].Value if int(key) < groups.Count else token
        return groups[key].Value if groups.ContainsKey(key) else token

    return _SUBST.sub(sub, replacement)


# ---------------------------------------------------------------------------------------------
# Regex
# ---------------------------------------------------------------------------------------------


class Regex:
    """``System.Text.RegularExpressions.Regex``.

    ``IsMatch``, ``Match``, ``Matches``, ``Replace`` and ``Split`` serve both the instance form
    (``regex.IsMatch(input)``) and the static form (``Regex.IsMatch(input, pattern)``).
    """

    dotnet_name = "System.Text.RegularExpressions.Regex"
    InfiniteMatchTimeout: ClassVar[static_property[TimeSpan]]  # set below the class

    def __init__(self, pattern: str, options: Any = RegexOptions.None_, matchTimeout: Any = None) -> None:
        if pattern is None:
            raise ArgumentNullException("pattern")
        self._pattern = pattern
        self._options = RegexOptions(int(options or 0))
        self._timeout = _timeout_seconds(matchTimeout)
        self._timeout_value = matchTimeout
        self._compiled = compile_pattern(pattern, int(self._options))

    @property
    def Options(self) -> RegexOptions:
        return self._options

    @property
    def MatchTimeout(self) -> Any:
        return self._timeout_value if self._timeout_value is not None else _infinite()

    @property
    def RightToLeft(self) -> bool:
        return bool(self._options & RegexOptions.RightToLeft)

    def ToString(self) -> str:
        return self._pattern

    def GetGroupNames(self) -> list[str]:
        return [name for _, name in self._compiled.groups]

    def GetGroupNumbers(self) -> list[int]:
        return list(range(len(self._compiled.groups)))

    def GroupNameFromNumber(self, i: int) -> str:
        groups = self._compiled.groups
        return groups[i][1] if 0 <= i < len(groups) else ""

    def GroupNumberFromName(self, name: str) -> int:
        return next((i for i, (_, n) in enumerate(self._compiled.groups) if n == name), -1)

    # -- matching ------------------------------------------------------------------------------------
    def _subject(self, text: Any) -> tuple[str, bool]:
        if text is None:
            raise ArgumentNullException("input")
        subject = utf16.units(str(text))
        return subject, subject is not text and subject != text

    def _matches(self, text: Any, start: int, every: bool) -> tuple[str, list[Any]]:
        subject, units = self._subject(text)
        if not 0 <= start <= len(subject):
            raise ArgumentOutOfRangeException(
                "startat", "Start index cannot be less than 0 or greater than input length.")
        return subject, self._compiled.run(subject, start, self._timeout, every, units)

    def _first(self, text: Any, start: int = 0) -> Match:
        subject, found = self._matches(text, start, every=False)
        return Match(self, subject, found[0] if found else None)

    def _is_match(self, text: Any, start: int = 0) -> bool:
        return bool(self._matches(text, start, every=False)[1])

    def _all(self, text: Any, start: int = 0) -> MatchCollection:
        subject, found = self._matches(text, start, every=True)
        return MatchCollection([Match(self, subject, m) for m in found])

    def _replace(self, text: Any, replacement: Any, count: int = -1, start: int = 0) -> str:
        if replacement is None:
            raise ArgumentNullException("replacement" if not callable(replacement) else "evaluator")
        subject, found = self._matches(text, start, every=True)
        out: list[str] = [subject[:start]]
        last = size = start
        for done, m in enumerate(sorted(found, key=lambda m: m.start())):
            if 0 <= count <= done:
                break
            match = Match(self, subject, m)
            piece = utf16.units(str(replacement(match)) if callable(replacement) else _expand(replacement, match))
            size += m.start() - last + len(piece)
            check_length(size + len(subject) - m.end(), "the result of Regex.Replace")  # before it is built
            out.append(subject[last : m.start()])
            out.append(piece)
            last = m.end()
        out.append(subject[last:])
        return utf16.text("".join(out))

    def _split(self, text: Any, count: int = 0, start: int = 0) -> list[str]:
        subject, found = self._matches(text, start, every=True)
        pieces: list[str] = []
        last = 0
        for m in found:
            if count > 0 and len(pieces) >= count - 1:
                break
            if m.end() == 0 and m.start() == 0:
                pieces.append("")
                continue
            pieces.append(subject[last : m.start()])
            for index, _ in self._compiled.groups[1:]:
                g = m.group(index)
                if g is not None:
                    pieces.append(g)
            last = m.end()
        pieces.append(subject[last:])
        return [utf16.text(p) for p in pieces]

    # -- instance and static forms -------------------------------------------------------------------
    def IsMatch(first: Any, *args: Any) -> bool:  # noqa: N805 - instance or static call
        if isinstance(first, Regex):
            return first._is_match(*args)
        text, pattern, *rest = (first, *args)
        return _static(pattern, *rest[:2])._is_match(text)

    def Match(first: Any, *args: Any) -> Match:  # noqa: N805
        if isinstance(first, Regex):
            if len(args) == 3:  # Match(input, beginning, length)
                text, begin, length = args
                subject, _ = first._subject(text)
                return first._first(subject[: begin + length], begin)
            return first._first(*args)
        text, pattern, *rest = (first, *args)
        return _static(pattern, *rest[:2])._first(text)

    def Matches(first: Any, *args: Any) -> MatchCollection:  # noqa: N805
        if isinstance(first, Regex):
            return first._all(*args)
        text, pattern, *rest = (first, *args)
        return _static(pattern, *rest[:2])._all(text)

    def Replace(first: Any, *args: Any) -> str:  # noqa: N805
        if isinstance(first, Regex):
            return first._replace(*args)
        text, pattern, replacement, *rest = (first, *args)
        return _static(pattern, *rest[:2])._replace(text, replacement)

    def Split(first: Any, *args: Any) -> list[str]:  # noqa: N805
        if isinstance(first, Regex):
            return first._split(*args)
        text, pattern, *rest = (first, *args)
        return _static(pattern, *rest[:2])._split(text)

    @staticmethod
    def Escape(text: str) -> str:
        if text is None:
            raise ArgumentNullException("str")
        out = []
        for ch in text:
            if ch in "\\*+?|{[()^$.# ":
                out.append("\\" + ch)
            elif ch == "\t":
                out.append("\\t")
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\f":
                out.append("\\f")
            else:
                out.append(ch)
        return "".join(out)

    @staticmethod
    def Unescape(text: str) -> str:
        if text is None:
            raise ArgumentNullException("str")
        simple = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "e": "\x1b"}

        def sub(m: re.Match[str]) -> str:
            s = m.group(1)
            if s[0] in simple:
                return simple[s[0]]
            if s[0] == "x":
                return chr(int(s[1:], 16))
            if s[0] == "u":
                return chr(int(s[1:], 16))
            return s

        return re.sub(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|.)", sub, text)


def _infinite() -> Any:
    from .timespan import TimeSpan

    return TimeSpan(-10_000)


Regex.InfiniteMatchTimeout = static_property(_infinite)


def _timeout_seconds(timeout: Any) -> float | None:
    """A ``TimeSpan`` match timeout in seconds (``None``: infinite); .NET's range checks."""
    if timeout is None:
        return None
    ticks = getattr(timeout, "Ticks", None)
    if ticks is None:
        raise ArgumentException("matchTimeout must be a TimeSpan.")
    if ticks == -10_000:
        return None
    if ticks <= 0 or ticks > _MAX_TIMEOUT_MS * 10_000:
        raise ArgumentOutOfRangeException(
            "matchTimeout", "Specified argument was out of the range of valid values.")
    return float(ticks) / 10_000_000


def _static(pattern: str, options: Any = None, timeout: Any = None) -> Regex:
    if pattern is None:
        raise ArgumentNullException("pattern")
    return Regex(pattern, options or RegexOptions.None_, timeout)


__all__ = [
    "Capture",
    "CaptureCollection",
    "Group",
    "GroupCollection",
    "Match",
    "MatchCollection",
    "Regex",
    "RegexOptions",
]
