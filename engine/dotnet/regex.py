"""``System.Text.RegularExpressions``: ``Regex``, ``Match``, ``Group``, ``Capture``, collections.

.NET patterns are translated (``(?<name>…)``, ``(?'name'…)``, ``\\k<name>``, ``\\z``/``\\Z``,
``RegexOptions``, ``$1``/``${name}`` replacements) and run on RE2 (google-re2) whenever RE2 supports
the pattern, which makes matching linear-time: no catastrophic backtracking on hostile input.
Patterns RE2 rejects (lookarounds, backreferences, atomic groups, ``IgnorePatternWhitespace``) run on
Python's ``re``; for those, nested quantifiers over attacker-controlled input can backtrack badly,
as they can in .NET without a timeout. Known differences: a repeated group's ``Captures`` holds
only its last capture; ``\\p{..}`` classes and character-class subtraction are not supported;
unnamed groups are numbered in pattern order even when named groups come first.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Generic, TypeVar

from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    NotSupportedException,
)
from .limits import bounded_list, check_length

try:  # pragma: no cover - exercised when the optional fast engine is installed
    import re2 as _re2

    _RE2_OPTIONS = _re2.Options()
    _RE2_OPTIONS.log_errors = False
except ImportError:  # pragma: no cover
    _re2 = None


class RegexOptions(enum.IntFlag):
    """``System.Text.RegularExpressions.RegexOptions``."""

    None_ = 0
    IgnoreCase = 1
    Multiline = 2
    ExplicitCapture = 4
    Compiled = 8
    Singleline = 16
    IgnorePatternWhitespace = 32
    RightToLeft = 64
    ECMAScript = 256
    CultureInvariant = 512
    NonBacktracking = 1024


def _translate(pattern: str, explicit_capture: bool, for_re2: bool) -> str | None:
    """.NET pattern -> Python/RE2 syntax; ``None`` if the target engine cannot run it."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if not in_class and nxt == "k" and i + 2 < n and pattern[i + 2] in "<'":
                close = ">" if pattern[i + 2] == "<" else "'"
                end = pattern.find(close, i + 3)
                if end < 0:
                    raise ArgumentException(
                        f"Invalid pattern '{pattern}'. Malformed \\k<...> named back reference."
                    )
                if for_re2:
                    return None
                out.append(f"(?P={pattern[i + 3 : end]})")
                i = end + 1
                continue
            if not in_class and nxt == "z":
                out.append("\\z" if for_re2 else "\\Z")
            elif not in_class and nxt == "Z":
                if for_re2:
                    return None
                out.append("(?=\\n?\\Z)")
            elif nxt == "p" or nxt == "P":
                raise NotSupportedException(
                    "Unicode category classes (\\p{...}) are not supported in policy expressions."
                )
            elif for_re2 and nxt.isdigit() and nxt != "0" and not in_class:
                return None
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            elif ch == "[" and not for_re2:
                out.append("\\[")
                i += 1
                continue
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("\\]")
                i += 1
            continue
        if ch == "(":
            rest = pattern[i + 1 : i + 3]
            named = rest.startswith("?<") and pattern[i + 3 : i + 4] not in ("=", "!")
            if named or rest == "?'":  # (?<name>...) or (?'name'...)
                end = pattern.find(">" if named else "'", i + 3)
                if end < 0:
                    raise ArgumentException(f"Invalid pattern '{pattern}'. Invalid group name.")
                out.append(f"(?P<{pattern[i + 3 : end]}>")
                i = end + 1
                continue
            if for_re2 and (
                rest.startswith("?=")
                or rest.startswith("?!")
                or rest.startswith("?<")
                or rest.startswith("?>")
            ):
                return None
            if explicit_capture and not rest.startswith("?"):
                out.append("(?:")
                i += 1
                continue
        if for_re2 and ch in "*+?}" and i + 1 < n and pattern[i + 1] == "+":
            return None
        out.append(ch)
        i += 1
    return "".join(out)


class _Compiled:
    """A compiled pattern on RE2 or Python ``re`` with a common search API."""

    def __init__(self, pattern: str, options: RegexOptions) -> None:
        if options & RegexOptions.RightToLeft:
            raise NotSupportedException("RegexOptions.RightToLeft is not supported in policy expressions.")
        explicit = bool(options & RegexOptions.ExplicitCapture)
        self.engine: Any = None
        if _re2 is not None and not options & RegexOptions.IgnorePatternWhitespace:
            translated = _translate(pattern, explicit, for_re2=True)
            if translated is not None:
                prefix = "".join(
                    flag
                    for opt, flag in (
                        (RegexOptions.IgnoreCase, "i"),
                        (RegexOptions.Multiline, "m"),
                        (RegexOptions.Singleline, "s"),
                    )
                    if options & opt
                )
                try:
                    self.engine = _re2.compile(
                        f"(?{prefix}){translated}" if prefix else translated, _RE2_OPTIONS
                    )
                except Exception:  # noqa: BLE001 - fall back to Python's engine
                    self.engine = None
        # RE2's `$` (without Multiline) does not match before a final "\n" like .NET's: inputs ending
        # in "\n" use the Python engine for such patterns.
        self._dollar = self.engine is not None and "$" in pattern and not options & RegexOptions.Multiline
        self._pattern = pattern
        self._options = options
        self._explicit = explicit
        self._fallback: Any = None
        if self.engine is None:
            self.engine = self._python_engine()
        self.group_count = self.engine.groups
        self.group_index: dict[str, int] = dict(self.engine.groupindex)

    def _python_engine(self) -> Any:
        flags = 0
        for opt, flag in (
            (RegexOptions.IgnoreCase, re.IGNORECASE),
            (RegexOptions.Multiline, re.MULTILINE),
            (RegexOptions.Singleline, re.DOTALL),
            (RegexOptions.IgnorePatternWhitespace, re.VERBOSE),
            (RegexOptions.ECMAScript, re.ASCII),
        ):
            if self._options & opt:
                flags |= flag
        try:
            return re.compile(_translate(self._pattern, self._explicit, for_re2=False) or "", flags)
        except re.error as exc:
            raise ArgumentException(
                f"Invalid pattern '{self._pattern}' at offset {exc.pos}. {exc.msg}."
            ) from exc

    def _engine_for(self, text: str) -> Any:
        if self._dollar and text.endswith("\n"):
            if self._fallback is None:
                self._fallback = self._python_engine()
            return self._fallback
        return self.engine

    def search(self, text: str, pos: int = 0) -> Any:
        return self._engine_for(text).search(text, pos)

    def finditer(self, text: str, pos: int = 0) -> Iterator[Any]:
        return self._engine_for(text).finditer(text, pos)


@lru_cache(maxsize=512)
def _compile(pattern: str, options: int) -> _Compiled:
    return _Compiled(pattern, RegexOptions(options))


# ---------------------------------------------------------------------------------------------
# Capture / Group / Match
# ---------------------------------------------------------------------------------------------


class Capture:
    """``Capture``: ``Index``, ``Length``, ``Value``."""

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
        return self._text[self._start : self._end] if self._start >= 0 else ""

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

    def __iter__(self) -> Iterator[_Item]:
        return iter(list(self._items))


class CaptureCollection(_ReadOnlyCollection[Capture]):
    """``CaptureCollection``."""

    dotnet_name = "System.Text.RegularExpressions.CaptureCollection"


class Group(Capture):
    """``Group``: a capture plus ``Success``, ``Name`` and ``Captures``."""

    dotnet_name = "System.Text.RegularExpressions.Group"

    def __init__(self, text: str, start: int, end: int, name: str) -> None:
        super().__init__(text, start, end)
        self._name = name

    @property
    def Success(self) -> bool:
        return self._start >= 0

    @property
    def Name(self) -> str:
        return self._name

    @property
    def Captures(self) -> CaptureCollection:
        return CaptureCollection([Capture(self._text, self._start, self._end)] if self.Success else [])


class GroupCollection:
    """``GroupCollection``: index by number or name; unknown groups give a failed ``Group``."""

    dotnet_name = "System.Text.RegularExpressions.GroupCollection"

    def __init__(self, groups: list[Group], names: dict[str, int], text: str) -> None:
        self._groups = groups
        self._names = names
        self._text = text

    @property
    def Count(self) -> int:
        return len(self._groups)

    def __getitem__(self, key: int | str) -> Group:
        if isinstance(key, str):
            if key in self._names:
                return self._groups[self._names[key]]
            if key.isdigit() and int(key) < len(self._groups):
                return self._groups[int(key)]
            return Group(self._text, -1, -1, key)
        if 0 <= key < len(self._groups):
            return self._groups[key]
        return Group(self._text, -1, -1, str(key))

    def Item(self, key: int | str) -> Group:
        return self[key]

    def ContainsKey(self, key: str) -> bool:
        return key in self._names or (key.isdigit() and int(key) < len(self._groups))

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

    def __init__(self, regex: Regex | None, text: str, m: Any) -> None:
        if m is None:
            super().__init__(text, -1, -1, "0")
            self._groups_list: list[Group] = [self]
            self._regex = regex
            self._names: dict[str, int] = {}
            return
        super().__init__(text, m.start(), m.end(), "0")
        compiled = regex._compiled if regex is not None else None
        count = compiled.group_count if compiled else 0
        index_to_name = {v: k for k, v in (compiled.group_index if compiled else {}).items()}
        groups: list[Group] = [self]
        for i in range(1, count + 1):
            start, end = m.span(i)
            groups.append(
                Group(
                    text,
                    start if start is not None else -1,
                    end if end is not None else -1,
                    index_to_name.get(i, str(i)),
                )
            )
        self._groups_list = groups
        self._regex = regex
        self._names = {g.Name: i for i, g in enumerate(groups)}

    @property
    def Groups(self) -> GroupCollection:
        return GroupCollection(self._groups_list, self._names, self._text)

    def NextMatch(self) -> Match:
        if not self.Success or self._regex is None:
            return Match(None, self._text, None)
        start = self._end if self._end > self._start else self._end + 1
        if start > len(self._text):
            return Match(self._regex, self._text, None)
        return self._regex.Match(self._text, start)

    def Result(self, replacement: str) -> str:
        if not self.Success:
            raise NotSupportedException("Result cannot be called on a failed Match.")
        return _expand(replacement, self)

    @staticmethod
    def _empty() -> Match:
        return Match(None, "", None)


Match.Empty = Match._empty()  # type: ignore[attr-defined]


class MatchCollection(_ReadOnlyCollection[Match]):
    """``MatchCollection``."""

    dotnet_name = "System.Text.RegularExpressions.MatchCollection"


_SUBST = re.compile(r"\$(?:\$|&|`|'|_|\{([^}]*)\}|(\d+))")


def _expand(replacement: str, match: Match) -> str:
    """Apply .NET substitutions (``$1``, ``${name}``, ``$&``, ``$$``...) for one match."""

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "$$":
            return "$"
        if token == "$&":
            return match.Value
        if token == "$`":
            return match._text[: match.Index]
        if token == "$'":
            return match._text[match.Index + match.Length :]
        if token == "$_":
            return match._text
        key = m.group(1) if m.group(1) is not None else m.group(2)
        groups = match.Groups
        if key.isdigit():
            # .NET takes the longest digit run that names an existing group
            for cut in range(len(key), 0, -1):
                if int(key[:cut]) < groups.Count:
                    return groups[int(key[:cut])].Value + key[cut:]
            return token
        return groups[key].Value if groups.ContainsKey(key) else token

    return _SUBST.sub(sub, replacement)


# ---------------------------------------------------------------------------------------------
# Regex
# ---------------------------------------------------------------------------------------------


class Regex:
    """``System.Text.RegularExpressions.Regex``."""

    dotnet_name = "System.Text.RegularExpressions.Regex"
    InfiniteMatchTimeout = None

    def __init__(self, pattern: str, options: Any = RegexOptions.None_, timeout: Any = None) -> None:
        if pattern is None:
            raise ArgumentNullException("pattern")
        self._pattern = pattern
        self._options = RegexOptions(int(options or 0))
        self._compiled = _compile(pattern, int(self._options))

    @property
    def Options(self) -> RegexOptions:
        return self._options

    def ToString(self) -> str:
        return self._pattern

    def GetGroupNames(self) -> list[str]:
        names = {v: k for k, v in self._compiled.group_index.items()}
        return [names.get(i, str(i)) for i in range(self._compiled.group_count + 1)]

    @staticmethod
    def _need(text: Any) -> str:
        if text is None:
            raise ArgumentNullException("input")
        return str(text)

    def IsMatch(self, text: str, start: int = 0) -> bool:
        return self._compiled.search(self._need(text), start) is not None

    def Match(self, text: str, start: int = 0, length: int | None = None) -> Match:
        text = self._need(text)
        if not 0 <= start <= len(text):
            raise ArgumentOutOfRangeException(
                "startat", "Start index cannot be less than 0 or greater than input length."
            )
        if length is not None:
            sub = Match(self, text[: start + length], self._compiled.search(text[: start + length], start))
            return sub
        return Match(self, text, self._compiled.search(text, start))

    def Matches(self, text: str, start: int = 0) -> MatchCollection:
        text = self._need(text)
        return MatchCollection([Match(self, text, m) for m in bounded_list(self._compiled.finditer(text, start))])

    def Replace(self, text: str, replacement: Any, count: int = -1, start: int = 0) -> str:
        text = self._need(text)
        if replacement is None:
            raise ArgumentNullException("replacement")
        out: list[str] = [text[:start]]
        last = start
        done = 0
        size = start
        for m in self._compiled.finditer(text, start):
            if count >= 0 and done >= count:
                break
            match = Match(self, text, m)
            piece = str(replacement(match)) if callable(replacement) else _expand(replacement, match)
            size += m.start() - last + len(piece)
            check_length(size + len(text) - m.end(), "the result of Regex.Replace")  # before it is built
            out.append(text[last : m.start()])
            out.append(piece)
            last = m.end()
            done += 1
        out.append(text[last:])
        return "".join(out)

    def Split(self, text: str, count: int = 0, start: int = 0) -> list[str]:
        text = self._need(text)
        pieces: list[str] = []
        last = 0
        for m in self._compiled.finditer(text, start):
            if count > 0 and len(pieces) >= count - 1:
                break
            if m.end() == 0 and m.start() == 0 and m.end() == m.start():
                pieces.append("")
                continue
            pieces.append(text[last : m.start()])
            for i in range(1, self._compiled.group_count + 1):
                g = m.group(i)
                if g is not None:
                    pieces.append(g)
            last = m.end()
        pieces.append(text[last:])
        return pieces

    # -- statics (C# overloads with the pattern second) -------------------------------------------
    @staticmethod
    def _static(pattern: str, options: Any) -> Regex:
        return Regex(pattern, options or RegexOptions.None_)

    @staticmethod
    def IsMatch_(text: str, pattern: str, options: Any = None, timeout: Any = None) -> bool:
        return Regex._static(pattern, options).IsMatch(text)

    @staticmethod
    def Match_(text: str, pattern: str, options: Any = None, timeout: Any = None) -> Match:
        return Regex._static(pattern, options).Match(text)

    @staticmethod
    def Matches_(text: str, pattern: str, options: Any = None, timeout: Any = None) -> MatchCollection:
        return Regex._static(pattern, options).Matches(text)

    @staticmethod
    def Replace_(text: str, pattern: str, replacement: Any, options: Any = None, timeout: Any = None) -> str:
        return Regex._static(pattern, options).Replace(text, replacement)

    @staticmethod
    def Split_(text: str, pattern: str, options: Any = None, timeout: Any = None) -> list[str]:
        return Regex._static(pattern, options).Split(text)

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


def _dual(instance_name: str, static_name: str) -> Callable[..., Any]:
    instance = getattr(Regex, instance_name)
    static = getattr(Regex, static_name)

    class _Dispatch:
        def __get__(self, obj: Any, owner: Any = None) -> Callable[..., Any]:
            if obj is None:
                return static
            return instance.__get__(obj, owner)

    return _Dispatch()  # type: ignore[return-value]


for _name in ("IsMatch", "Match", "Matches", "Replace", "Split"):
    setattr(Regex, _name, _dual(_name, _name + "_"))


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
