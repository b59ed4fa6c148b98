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

import enum
import re
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Generic, TypeVar

import re2 as _re2  # type: ignore[import-untyped]
import regex as _backtracking  # type: ignore[import-untyped]

from . import utf16
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    NotSupportedException,
    RegexMatchTimeoutException,
)
from .limits import check_count, check_length
from .primitives import static_property

_RE2_OPTIONS = _re2.Options()
_RE2_OPTIONS.log_errors = False


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


# ---------------------------------------------------------------------------------------------
# time limits
# ---------------------------------------------------------------------------------------------


class _TimeLimit:
    """How long a backtracking match may run when its ``Regex`` sets no shorter timeout.

    ``remaining()`` gives the seconds left to the current expression evaluation and ``exceeded()``
    the error that ends it; ``engine.expr`` installs both with `set_time_limit`.
    """

    remaining: Callable[[], float] = staticmethod(lambda: 0.05)
    exceeded: Callable[[], BaseException] = staticmethod(
        lambda: RegexMatchTimeoutException("The regular expression ran past the expression time limit."))


def set_time_limit(remaining: Callable[[], float], exceeded: Callable[[], BaseException]) -> None:
    """Bound every backtracking match by `remaining()` seconds; past it raise `exceeded()`."""
    _TimeLimit.remaining = staticmethod(remaining)  # type: ignore[assignment]
    _TimeLimit.exceeded = staticmethod(exceeded)  # type: ignore[assignment]


# The `regex` package measures its timeout in CPU time, so on a busy machine a match may take
# longer in wall time; tests/dotnet/test_regex_limits.py checks both under load.
_MAX_TIMEOUT_MS = 2**31 - 2  # .NET: Regex.MaximumMatchTimeout


# ---------------------------------------------------------------------------------------------
# pattern translation
# ---------------------------------------------------------------------------------------------

# .NET's Unicode classes spelled for RE2 (whose own \w, \d, \s are ASCII): (outside a class,
# inside a class or None when RE2 cannot say it there)
_WORD = r"\p{L}\p{Mn}\p{Nd}\p{Pc}"
_SPACE = r"\f\n\r\t\v\x{85}\p{Z}"
_RE2_CLASSES: dict[str, tuple[str, str | None]] = {
    "w": (f"[{_WORD}]", _WORD), "W": (f"[^{_WORD}]", None),
    "d": (r"\p{Nd}", r"\p{Nd}"), "D": (r"\P{Nd}", r"\P{Nd}"),
    "s": (f"[{_SPACE}]", _SPACE), "S": (f"[^{_SPACE}]", None),
}
_CATEGORY = re.compile(r"\{(?:L[ultmo]?|M[nce]?|N[dlo]?|P[cdseifo]?|S[mcko]?|Z[slp]?|C[cfson]?)\}")


def _translate(pattern: str, explicit_capture: bool, for_re2: bool, unicode: bool = True) -> str | None:
    """.NET pattern -> RE2 / ``regex`` syntax; ``None`` if RE2 cannot run it."""
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
            elif for_re2 and nxt in "pP":
                m = _CATEGORY.match(pattern, i + 2)
                if m is None:
                    return None
                out.append(pattern[i : m.end()])
                i = m.end()
                continue
            elif for_re2 and nxt in "bB":
                return None  # RE2's word boundary is ASCII-only
            elif for_re2 and unicode and nxt in _RE2_CLASSES:
                spelled = _RE2_CLASSES[nxt][1 if in_class else 0]
                if spelled is None:
                    return None
                out.append(spelled)
            elif for_re2 and nxt.isdigit() and nxt != "0" and not in_class:
                return None
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            elif ch == "[":
                if for_re2:
                    return None  # character-class subtraction or a nested class
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


_FLAGS = ((RegexOptions.IgnoreCase, "i"), (RegexOptions.Multiline, "m"), (RegexOptions.Singleline, "s"))
_BACKTRACKING_FLAGS = (
    (RegexOptions.IgnoreCase, _backtracking.IGNORECASE),
    (RegexOptions.Multiline, _backtracking.MULTILINE),
    (RegexOptions.Singleline, _backtracking.DOTALL),
    (RegexOptions.IgnorePatternWhitespace, _backtracking.VERBOSE),
    (RegexOptions.ECMAScript, _backtracking.ASCII),
    (RegexOptions.RightToLeft, _backtracking.REVERSE),
)


class _Compiled:
    """A pattern compiled for RE2 and/or the backtracking engine, with .NET group numbering."""

    def __init__(self, pattern: str, options: RegexOptions) -> None:
        self._pattern = pattern
        self._options = options
        self._explicit = bool(options & RegexOptions.ExplicitCapture)
        self.re2: Any = None
        if not options & (RegexOptions.IgnorePatternWhitespace | RegexOptions.RightToLeft):
            translated = _translate(pattern, self._explicit, for_re2=True,
                                    unicode=not options & RegexOptions.ECMAScript)
            if translated is not None:
                prefix = "".join(flag for opt, flag in _FLAGS if options & opt)
                try:
                    self.re2 = _re2.compile(f"(?{prefix}){translated}" if prefix else translated, _RE2_OPTIONS)
                except Exception:  # noqa: BLE001 - RE2 refuses it: the backtracking engine runs it
                    self.re2 = None
        self._backtracking: Any = None
        # RE2's `$` (without Multiline) does not match before a final "\n" like .NET's: inputs ending
        # in "\n" go to the backtracking engine for such patterns.
        self._dollar = self.re2 is not None and "$" in pattern and not options & RegexOptions.Multiline
        groups = self.re2 if self.re2 is not None else self.backtracking()
        by_index = {index: name for name, index in groups.groupindex.items()}
        unnamed = [i for i in range(1, groups.groups + 1) if i not in by_index]
        named = sorted(by_index)
        # .NET numbering: unnamed groups first (1, 2, ...), then named groups in pattern order
        self.groups: list[tuple[int, str]] = [(0, "0")] + [(i, str(k + 1)) for k, i in enumerate(unnamed)] + [
            (i, by_index[i]) for i in named]

    def backtracking(self) -> Any:
        if self._backtracking is None:
            flags = 0
            for opt, flag in _BACKTRACKING_FLAGS:
                if self._options & opt:
                    flags |= flag
            try:
                self._backtracking = _backtracking.compile(
                    _translate(self._pattern, self._explicit, for_re2=False) or "", flags)
            except _backtracking.error as exc:
                raise ArgumentException(
                    f"Invalid pattern '{self._pattern}' at offset {exc.pos}. {exc.msg}."
                ) from exc
        return self._backtracking

    def run(self, text: str, pos: int, timeout: float | None, every: bool, units: bool = False) -> list[Any]:
        """The first match (``every=False``, a list of at most one) or all matches from `pos`.

        `units`: `text` is in UTF-16 unit form (it held non-BMP characters), which RE2 cannot read.
        """
        if self.re2 is not None and not units and not (self._dollar and text.endswith("\n")):
            if every:
                return _bounded_matches(self.re2.finditer(text, pos))
            m = self.re2.search(text, pos)
            return [m] if m is not None else []
        engine = self.backtracking()
        budget = _TimeLimit.remaining()
        own = timeout is not None and timeout <= budget
        limit = max(min(timeout, budget) if timeout is not None else budget, 0.0)
        started = time.perf_counter()
        try:
            if every:
                found = []
                for m in engine.finditer(text, pos, timeout=max(limit, 1e-4)):
                    found.append(m)
                    if time.perf_counter() - started > limit:
                        raise TimeoutError
                return found
            m = engine.search(text, pos, timeout=max(limit, 1e-4))
            return [m] if m is not None else []
        except TimeoutError:
            if own:
                raise RegexMatchTimeoutException(
                    "The RegEx engine has timed out while trying to match a pattern to an input string. "
                    "This can occur for many reasons, including very large inputs or excessive backtracking "
                    "caused by nested quantifiers, back-references and other factors.") from None
            raise _TimeLimit.exceeded() from None

    def captures(self, text: str, start: int, group: int) -> list[tuple[int, int]]:
        """Spans of every capture of `group` in the match starting at `start` (repeated groups)."""
        m = self.backtracking().match(text, start, timeout=max(_TimeLimit.remaining(), 1e-4))
        return list(m.spans(group)) if m is not None else []


def _bounded_matches(matches: Iterator[Any]) -> list[Any]:
    """All matches of a linear-time (RE2) search, stopped at the collection limit and the deadline."""
    deadline = time.perf_counter() + max(_TimeLimit.remaining(), 0.0)
    found: list[Any] = []
    for m in matches:
        found.append(m)
        if not len(found) & 1023:
            check_count(len(found), "the matches of a regular expression")
            if time.perf_counter() > deadline:
                raise _TimeLimit.exceeded()
    return found


@lru_cache(maxsize=512)
def _compile(pattern: str, options: int) -> _Compiled:
    return _Compiled(pattern, RegexOptions(options))


# ---------------------------------------------------------------------------------------------
# Capture / Group / Match
# ---------------------------------------------------------------------------------------------


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
            return utf16.text(match._text[: match.Index])
        if token == "$'":
            return utf16.text(match._text[match.Index + match.Length :])
        if token == "$_":
            return utf16.text(match._text)
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
    """``System.Text.RegularExpressions.Regex``.

    ``IsMatch``, ``Match``, ``Matches``, ``Replace`` and ``Split`` serve both the instance form
    (``regex.IsMatch(input)``) and the static form (``Regex.IsMatch(input, pattern)``).
    """

    dotnet_name = "System.Text.RegularExpressions.Regex"

    def __init__(self, pattern: str, options: Any = RegexOptions.None_, matchTimeout: Any = None) -> None:
        if pattern is None:
            raise ArgumentNullException("pattern")
        self._pattern = pattern
        self._options = RegexOptions(int(options or 0))
        self._timeout = _timeout_seconds(matchTimeout)
        self._timeout_value = matchTimeout
        self._compiled = _compile(pattern, int(self._options))

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
    from .datetimes import TimeSpan

    return TimeSpan(-10_000)


Regex.InfiniteMatchTimeout = static_property(_infinite)  # type: ignore[attr-defined]


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
