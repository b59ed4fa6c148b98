"""The engine under `engine.dotnet.regex`: .NET patterns translated to RE2 or the ``regex`` package.

`translate` rewrites .NET syntax (``(?<name>…)``, ``(?'name'…)``, ``\\k<name>``, ``\\z``/``\\Z``,
Unicode ``\\w``/``\\d``/``\\s``). `CompiledPattern` runs a pattern on RE2 (linear-time) whenever RE2
supports it, else on the backtracking ``regex`` package with every match bounded by the ``Regex``'s
timeout or the expression's time limit (`set_time_limit`); it numbers groups like .NET. `RegexOptions`
lives here because the compiled pattern is what reads it.
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import re2 as _re2  # type: ignore[import-untyped]  # google-re2 ships no type information
import regex as _backtracking  # type: ignore[import-untyped]  # nor does regex (types-regex lacks error.pos/msg)

from .errors import (
    ArgumentException,
    RegexMatchTimeoutException,
)
from .limits import check_count

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
    _TimeLimit.remaining = staticmethod(remaining)
    _TimeLimit.exceeded = staticmethod(exceeded)


# The `regex` package measures its timeout in CPU time, so on a busy machine a match may take
# longer in wall time; tests/dotnet/test_regex_limits.py checks both under load.


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


def translate(pattern: str, explicit_capture: bool, for_re2: bool, unicode: bool = True) -> str | None:
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


class CompiledPattern:
    """A pattern compiled for RE2 and/or the backtracking engine, with .NET group numbering."""

    def __init__(self, pattern: str, options: RegexOptions) -> None:
        self._pattern = pattern
        self._options = options
        self._explicit = bool(options & RegexOptions.ExplicitCapture)
        self.re2: Any = None
        if not options & (RegexOptions.IgnorePatternWhitespace | RegexOptions.RightToLeft):
            translated = translate(pattern, self._explicit, for_re2=True,
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
                    translate(self._pattern, self._explicit, for_re2=False) or "", flags)
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
    empty_at = -1  # google-re2's finditer repeats an empty match found after a skip (`(?m)^`, `\b`)
    for m in matches:
        start, end = m.span()
        if start == end:
            if start == empty_at:
                continue
            empty_at = start
        found.append(m)
        if not len(found) & 1023:
            check_count(len(found), "the matches of a regular expression")
            if time.perf_counter() > deadline:
                raise _TimeLimit.exceeded()
    return found


@lru_cache(maxsize=512)
def compile_pattern(pattern: str, options: int) -> CompiledPattern:
    return CompiledPattern(pattern, RegexOptions(options))


# ---------------------------------------------------------------------------------------------
# Capture / Group / Match
# ---------------------------------------------------------------------------------------------
