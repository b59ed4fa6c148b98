"""``System.String`` members and statics, ``StringComparison``, ``StringSplitOptions``, ``StringComparer``.

Strings are Python ``str``; ``StringMembers`` holds the instance members (instance first),
``String`` the statics. Comparisons named ``Ordinal*`` are code-unit comparisons; culture-sensitive
ones (the C# defaults of ``Compare``/``CompareTo``/``StartsWith(string)``...) use a case-insensitive
first pass with lowercase sorting before uppercase, close to ICU's invariant collation for ASCII.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Literal

from . import utf16
from .conversions import to_string
from .errors import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    IndexOutOfRangeException,
    NullReferenceException,
)
from .formatting import composite_format
from .limits import bounded_list, check_count, check_length, joined_length
from .primitives import WHITESPACE_CHARS, Char, is_whitespace


class StringComparison(enum.IntEnum):
    """``System.StringComparison``."""

    CurrentCulture = 0
    CurrentCultureIgnoreCase = 1
    InvariantCulture = 2
    InvariantCultureIgnoreCase = 3
    Ordinal = 4
    OrdinalIgnoreCase = 5


class StringSplitOptions(enum.IntFlag):
    """``System.StringSplitOptions``."""

    None_ = 0
    RemoveEmptyEntries = 1
    TrimEntries = 2


_REMOVE_EMPTY, _TRIM = StringSplitOptions.RemoveEmptyEntries.value, StringSplitOptions.TrimEntries.value

_IGNORE_CASE = {
    StringComparison.CurrentCultureIgnoreCase,
    StringComparison.InvariantCultureIgnoreCase,
    StringComparison.OrdinalIgnoreCase,
}


# ---------------------------------------------------------------------------------------------
# case mapping and comparison helpers
# ---------------------------------------------------------------------------------------------


def to_upper(s: str) -> str:
    """Invariant upper-casing that never changes the length (``"ß"`` stays ``"ß"``); the dotless
    ``ı`` stays itself, as the invariant culture does on Windows (and .NET's ICU mode copies)."""
    if s.isascii():
        return s.upper()
    return "".join(u if len(u := c.upper()) == 1 and c != "\u0131" else c for c in s)


def to_lower(s: str) -> str:
    """Invariant lower-casing that never changes the length."""
    if s.isascii():
        return s.lower()
    return "".join(low if len(low := c.lower()) == 1 else c for c in s)


def _fold(s: str) -> str:
    return to_upper(s)


def _culture_key(s: str) -> tuple[str, str]:
    return (to_lower(s), s.swapcase())


def ordinal_difference(a: str, b: str) -> int:
    """.NET's ordinal comparison result: the first differing code unit difference, else the length difference."""
    for x, y in zip(a, b, strict=False):
        if x != y:
            return ord(x) - ord(y)
    return len(a) - len(b)


def compare_strings(a: str | None, b: str | None, comparison: StringComparison | int = 0) -> int:
    """``String.Compare(a, b, comparison)`` returning -1, 0 or 1."""
    if a is None or b is None:
        return 0 if a is b else (-1 if a is None else 1)
    comparison = StringComparison(comparison)
    if comparison == StringComparison.Ordinal:
        return ordinal_difference(a, b)
    if comparison == StringComparison.OrdinalIgnoreCase:
        return ordinal_difference(_fold(a), _fold(b))
    ka, kb = _culture_key(a), _culture_key(b)
    if comparison in _IGNORE_CASE:
        return (ka[0] > kb[0]) - (ka[0] < kb[0])
    return (ka > kb) - (ka < kb)


def equals_strings(
    a: str | None, b: str | None, comparison: StringComparison | int = StringComparison.Ordinal
) -> bool:
    if a is None or b is None:
        return a is b
    if StringComparison(comparison) in _IGNORE_CASE:
        return _fold(a) == _fold(b)
    return a == b


def _comparison_arg(args: tuple[Any, ...], default: StringComparison) -> StringComparison:
    """Read a trailing ``StringComparison`` or ``(bool ignoreCase, CultureInfo)`` pair."""
    for a in args:
        if isinstance(a, StringComparison):
            return a
        if isinstance(a, bool):
            return StringComparison.InvariantCultureIgnoreCase if a else StringComparison.InvariantCulture
        if isinstance(a, int):
            return StringComparison(a)
    return default


def _chars(arg: Any) -> str | None:
    """A trim/split char set from ``char``, ``char[]``, ``params char[]`` or ``null``."""
    if arg is None:
        return None
    if isinstance(arg, str):
        return str(arg)
    return "".join(str(c) for c in arg)


def _trim_set(chars: tuple[Any, ...]) -> str:
    """The characters ``Trim(params char[])`` removes: white space when none (or only empty) are given."""
    cs = _chars(chars[0] if len(chars) == 1 else chars) if chars else None
    return cs if cs else WHITESPACE_CHARS


def _has_affix(test: Callable[[str, str], bool], s: str, value: Any, args: tuple[Any, ...]) -> bool:
    """``StartsWith``/``EndsWith`` (``test`` is ``str.startswith``/``str.endswith``): a ``char`` is
    ordinal, a string compares as the optional ``StringComparison`` says (culture by default)."""
    _need(value, "value")
    if isinstance(value, Char):
        return test(s, value)
    comparison = _comparison_arg(args, StringComparison.CurrentCulture)
    if comparison in _IGNORE_CASE:
        return test(_fold(s), _fold(str(value)))
    return test(s, str(value))


def _need(value: Any, name: str) -> None:
    if value is None:
        raise ArgumentNullException(name)


# ---------------------------------------------------------------------------------------------
# split
# ---------------------------------------------------------------------------------------------


def _split_args(args: tuple[Any, ...]) -> tuple[list[str] | None, int, StringSplitOptions]:
    """Decode Split's overloads into (separators or None for whitespace, count, options)."""
    seps: list[str] | None = None
    count = 2**31 - 1
    options = StringSplitOptions.None_
    rest = list(args)
    if rest and isinstance(rest[-1], StringSplitOptions):
        options = rest.pop()
    if len(rest) >= 2 and isinstance(rest[-1], int) and not isinstance(rest[-1], bool | Char):
        count = rest.pop()
    if len(rest) == 1 and not isinstance(rest[0], str) and rest[0] is not None:
        seps = [str(x) for x in rest[0] if x is not None]
    elif len(rest) >= 1 and all(isinstance(x, str) for x in rest):
        seps = [str(x) for x in rest]
    elif len(rest) == 1 and rest[0] is None:
        seps = None
    if seps is not None:
        seps = [s for s in seps if s != ""]
        if not seps:
            seps = None
    return seps, count, options


_NORMAL_FORMS: dict[str, Literal["NFC", "NFD", "NFKC", "NFKD"]] = {
    "NFC": "NFC", "NFD": "NFD", "NFKC": "NFKC", "NFKD": "NFKD"}  # String.Normalize's NormalizationForm
_WHITESPACE_SPLIT = re.compile("[" + re.escape(WHITESPACE_CHARS) + "]")


@functools.lru_cache(maxsize=256)
def _separator_regex(seps: tuple[str, ...]) -> re.Pattern[str]:
    """Alternation in array order: at each position the first separator that matches wins, like .NET."""
    return re.compile("|".join(re.escape(sep) for sep in seps))


def split(s: str, *args: Any) -> list[str]:
    """``string.Split`` with all its overloads."""
    if len(args) == 1 and (args[0].__class__ is str or args[0].__class__ is Char) and args[0]:
        check_count(s.count(args[0]) + 1, "the result of Split")  # `Split(',')`, the common call
        return s.split(args[0])
    seps, count, options = _split_args(args)
    if count < 0:
        raise ArgumentOutOfRangeException("count", "Count cannot be less than zero.")
    remove_empty = bool(options.value & _REMOVE_EMPTY)  # int tests: a Flag's `&` costs microseconds
    trim = bool(options.value & _TRIM)
    if count == 0 or (s == "" and remove_empty):
        return []
    if count == 1:  # .NET returns the string whole (trimmed with TrimEntries), separators and all
        whole = s.strip(WHITESPACE_CHARS) if trim else s
        return [] if whole == "" and remove_empty else [whole]
    if not remove_empty:  # the number of pieces is known before splitting
        occurrences = sum(map(is_whitespace, s)) if seps is None else sum(s.count(sep) for sep in seps if sep)
        check_count(min(count, occurrences + 1), "the result of Split")
    if count >= 2**31 - 1:
        if seps is None:
            pieces = _WHITESPACE_SPLIT.split(s)
        elif len(seps) == 1:
            pieces = s.split(seps[0])
        else:
            pieces = _separator_regex(tuple(seps)).split(s)
        if trim:
            pieces = [p.strip(WHITESPACE_CHARS) for p in pieces]
        if remove_empty:
            pieces = [p for p in pieces if p != ""]
        return pieces
    pieces = []
    start = i = 0
    n = len(s)

    def emit(piece: str) -> None:
        if trim:
            piece = piece.strip(WHITESPACE_CHARS)
        if piece == "" and remove_empty:
            return
        pieces.append(piece)

    def separator_at(i: int) -> int:
        if seps is None:
            return 1 if is_whitespace(s[i]) else 0
        for sep in seps:
            if s.startswith(sep, i):
                return len(sep)
        return 0

    while i < n and len(pieces) < count - 1:
        matched = separator_at(i)
        if matched:
            emit(s[start:i])
            i += matched
            start = i
        else:
            i += 1
    if remove_empty:  # .NET skips the empty entries that would start the last one
        while i < n:
            matched = separator_at(i)
            if matched:
                entry = s[start:i]
                if (entry.strip(WHITESPACE_CHARS) if trim else entry) != "":
                    break
                i += matched
                start = i
            else:
                i += 1
    last = s[start:]
    if trim:
        last = last.strip(WHITESPACE_CHARS)
    if not (last == "" and remove_empty):
        pieces.append(last)
    return pieces


# ---------------------------------------------------------------------------------------------
# instance members
# ---------------------------------------------------------------------------------------------


def _null_checked(cls: type) -> type:
    """Make every member raise ``NullReferenceException`` when called on ``null``; members whose
    results depend on positions count UTF-16 code units (`_UTF16_MEMBERS`)."""
    for name, member in list(vars(cls).items()):
        if isinstance(member, staticmethod) and not name.startswith("_"):
            func = member.__func__
            if name in _UTF16_MEMBERS:
                func = _in_utf16_units(func)
            setattr(cls, name, staticmethod(_raise_on_null(func)))
    return cls


# Members that index or count characters: C# counts UTF-16 code units, where a character outside
# the BMP is two `char`s (see engine/dotnet/utf16.py).
_UTF16_MEMBERS = frozenset({
    "Length", "Item", "Chars", "Substring", "IndexOf", "LastIndexOf", "IndexOfAny", "LastIndexOfAny",
    "PadLeft", "PadRight", "Insert", "Remove", "ToCharArray",
})


def _in_utf16_units(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run `func` on the UTF-16 unit form of its string arguments when one holds a non-BMP character."""

    @functools.wraps(func)
    def wrapper(s: Any, *args: Any) -> Any:
        if (s.__class__ is not str or not utf16.has_astral(s)) and not any(
                a.__class__ is str and utf16.has_astral(a) for a in args):
            return func(s, *args)
        result = func(utf16.units(s), *(utf16.units(a) if a.__class__ is str else a for a in args))
        return utf16.text(result) if result.__class__ is str else result

    return wrapper


def _raise_on_null(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func(s, *args)`` that raises ``NullReferenceException`` for ``s is None``.

    ``functools.wraps`` sets ``__wrapped__``, so ``inspect.signature`` (and the expression binder's
    arity check) sees the C# parameters of ``func``.
    """

    @functools.wraps(func)
    def wrapper(s: Any, *args: Any) -> Any:
        if s is None:
            raise NullReferenceException()
        return func(s, *args)

    return wrapper


def _check_start(s: str, start: int, name: str = "startIndex") -> None:
    if start < 0 or start > len(s):
        raise ArgumentOutOfRangeException(
            name,
            "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
        )


def _index_of(s: str, value: Any, args: tuple[Any, ...], last: bool) -> int:
    _need(value, "value")
    rest = list(args)
    comparison = StringComparison.Ordinal if isinstance(value, Char) else StringComparison.CurrentCulture
    if rest and isinstance(rest[-1], StringComparison):
        comparison = rest.pop()
    value = str(value)
    hay, needle = (_fold(s), _fold(value)) if comparison in _IGNORE_CASE else (s, value)
    if not last:
        start = rest[0] if rest else 0
        if start < 0 or start > len(s):
            raise ArgumentOutOfRangeException(
                "startIndex",
                "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            )
        end = start + rest[1] if len(rest) > 1 else len(s)
        if end > len(s) or end < start:
            raise ArgumentOutOfRangeException(
                "count",
                "Count must be positive and count must refer to a location within the string/array/collection.",
            )
        return hay.find(needle, start, end)
    if not s:
        return 0 if value == "" else -1
    start = rest[0] if rest else len(s) - 1
    if start < 0 or start > len(s):
        raise ArgumentOutOfRangeException(
            "startIndex",
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        )
    if start == len(s):
        start -= 1
    lo = start - rest[1] + 1 if len(rest) > 1 else 0
    if lo < 0:
        raise ArgumentOutOfRangeException(
            "count",
            "Count must be positive and count must refer to a location within the string/array/collection.",
        )
    if needle == "":
        return start if rest else len(s)
    return hay.rfind(needle, lo, start + 1)


@_null_checked
class StringMembers:
    """Instance members of ``System.String`` (instance first)."""

    @staticmethod
    def Length(s: str) -> int:
        return len(s)

    @staticmethod
    def Item(s: str, index: int) -> Char:
        if not isinstance(index, int) or index < 0 or index >= len(s):
            raise IndexOutOfRangeException()
        return Char(s[index])

    Chars = Item

    @staticmethod
    def Split(s: str, *args: Any) -> list[str]:
        return split(s, *args)

    @staticmethod
    def Substring(s: str, start: int, length: int | None = None) -> str:
        if start < 0:
            raise ArgumentOutOfRangeException("startIndex", "StartIndex cannot be less than zero.")
        if start > len(s):
            raise ArgumentOutOfRangeException(
                "startIndex", "startIndex cannot be larger than length of string."
            )
        if length is None:
            return s[start:]
        if length < 0:
            raise ArgumentOutOfRangeException("length", "Length cannot be less than zero.")
        if start + length > len(s):
            raise ArgumentOutOfRangeException(
                "length", "Index and length must refer to a location within the string."
            )
        return s[start : start + length]

    @staticmethod
    def IndexOf(s: str, value: Any, *args: Any) -> int:
        return _index_of(s, value, args, last=False)

    @staticmethod
    def LastIndexOf(s: str, value: Any, *args: Any) -> int:
        return _index_of(s, value, args, last=True)

    @staticmethod
    def IndexOfAny(s: str, chars: Iterable[str], start: int = 0, count: int | None = None) -> int:
        _need(chars, "anyOf")
        _check_start(s, start)
        end = len(s) if count is None else start + count
        wanted = set(_chars(chars) or "")
        for i in range(start, min(end, len(s))):
            if s[i] in wanted:
                return i
        return -1

    @staticmethod
    def LastIndexOfAny(s: str, chars: Iterable[str], start: int | None = None) -> int:
        _need(chars, "anyOf")
        wanted = set(_chars(chars) or "")
        begin = len(s) - 1 if start is None else start
        for i in range(min(begin, len(s) - 1), -1, -1):
            if s[i] in wanted:
                return i
        return -1

    @staticmethod
    def Replace(s: str, old: Any, new: Any, *args: Any) -> str:
        _need(old, "oldValue")
        old = str(old)
        if old == "":
            raise ArgumentException("String cannot be of zero length.", "oldValue")
        new = "" if new is None else str(new)
        comparison = _comparison_arg(args, StringComparison.Ordinal)
        if len(new) > len(old):
            check_length(len(s) + (_fold(s).count(_fold(old)) if comparison in _IGNORE_CASE else s.count(old)) * (
                len(new) - len(old)))
        if comparison not in _IGNORE_CASE:
            return s.replace(old, new)
        out, i, folded, fold_old = [], 0, _fold(s), _fold(old)
        while True:
            j = folded.find(fold_old, i)
            if j < 0:
                out.append(s[i:])
                return "".join(out)
            out.append(s[i:j])
            out.append(new)
            i = j + len(old)

    @staticmethod
    def Trim(s: str, *chars: Any) -> str:
        return s.strip(_trim_set(chars))

    @staticmethod
    def TrimStart(s: str, *chars: Any) -> str:
        return s.lstrip(_trim_set(chars))

    @staticmethod
    def TrimEnd(s: str, *chars: Any) -> str:
        return s.rstrip(_trim_set(chars))

    @staticmethod
    def StartsWith(s: str, value: Any, *args: Any) -> bool:
        return _has_affix(str.startswith, s, value, args)

    @staticmethod
    def EndsWith(s: str, value: Any, *args: Any) -> bool:
        return _has_affix(str.endswith, s, value, args)

    @staticmethod
    def Contains(s: str, value: Any, *args: Any) -> bool:
        _need(value, "value")
        comparison = _comparison_arg(args, StringComparison.Ordinal)
        if comparison in _IGNORE_CASE:
            return _fold(str(value)) in _fold(s)
        return str(value) in s

    @staticmethod
    def ToLower(s: str, culture: Any = None) -> str:
        return to_lower(s)

    @staticmethod
    def ToUpper(s: str, culture: Any = None) -> str:
        return to_upper(s)

    @staticmethod
    def ToLowerInvariant(s: str) -> str:
        return to_lower(s)

    @staticmethod
    def ToUpperInvariant(s: str) -> str:
        return to_upper(s)

    @staticmethod
    def Equals(s: str, other: Any, comparison: Any = StringComparison.Ordinal) -> bool:
        if other is not None and not isinstance(other, str):
            return False
        if isinstance(other, Char):
            return False
        return equals_strings(s, other, comparison)

    @staticmethod
    def CompareTo(s: str, other: Any) -> int:
        if other is None:
            return 1
        return compare_strings(s, str(other), StringComparison.CurrentCulture)

    @staticmethod
    def PadLeft(s: str, width: int, char: str = " ") -> str:
        if width < 0:
            raise ArgumentOutOfRangeException("totalWidth", "Non-negative number required.")
        check_length(width)
        return s.rjust(width, str(char))

    @staticmethod
    def PadRight(s: str, width: int, char: str = " ") -> str:
        if width < 0:
            raise ArgumentOutOfRangeException("totalWidth", "Non-negative number required.")
        check_length(width)
        return s.ljust(width, str(char))

    @staticmethod
    def Insert(s: str, index: int, value: str) -> str:
        _need(value, "value")
        if index < 0 or index > len(s):
            raise ArgumentOutOfRangeException(
                "startIndex",
                "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            )
        check_length(len(s) + len(value))
        return s[:index] + value + s[index:]

    @staticmethod
    def Remove(s: str, start: int, count: int | None = None) -> str:
        if start < 0:
            raise ArgumentOutOfRangeException("startIndex", "StartIndex cannot be less than zero.")
        if count is None:
            if start >= len(s) and not (start == 0 == len(s)):
                raise ArgumentOutOfRangeException(
                    "startIndex", "startIndex must be less than length of string."
                )
            return s[:start]
        if count < 0:
            raise ArgumentOutOfRangeException("count", "Count cannot be less than zero.")
        if start + count > len(s):
            raise ArgumentOutOfRangeException(
                "count", "Index and count must refer to a location within the string."
            )
        return s[:start] + s[start + count :]

    @staticmethod
    def ToCharArray(s: str, start: int = 0, length: int | None = None) -> list[Char]:
        end = len(s) if length is None else start + length
        if start < 0 or end > len(s) or end < start:
            raise ArgumentOutOfRangeException(
                "startIndex",
                "Index was out of range. Must be non-negative and less than the size of the collection.",
            )
        check_count(end - start, "a char array")
        return [Char(c) for c in s[start:end]]

    @staticmethod
    def ToString(s: str, provider: Any = None) -> str:
        return s

    @staticmethod
    def Clone(s: str) -> str:
        return s

    @staticmethod
    def GetHashCode(s: str) -> int:
        h = 5381
        for ch in s:
            h = ((h * 33) ^ ord(ch)) & 0xFFFFFFFF
        return h - 2**32 if h >= 2**31 else h

    @staticmethod
    def Normalize(s: str, form: Any = None) -> str:
        import unicodedata

        name = "NFC" if form is None else str(getattr(form, "name", form)).replace("Form", "NF")
        normal = _NORMAL_FORMS.get(name)
        if normal is None:
            raise ValueError(f"{form!r} is not a normalization form")
        return unicodedata.normalize(normal, s)

    @staticmethod
    def IsNormalized(s: str) -> bool:
        import unicodedata

        return unicodedata.is_normalized("NFC", s)


# ---------------------------------------------------------------------------------------------
# statics
# ---------------------------------------------------------------------------------------------


def _params(args: tuple[Any, ...]) -> list[Any]:
    """C# ``params`` array: a single array argument is the array itself."""
    if len(args) == 1 and isinstance(args[0], list | tuple):
        return bounded_list(args[0])
    if len(args) == 1 and hasattr(args[0], "GetEnumerator") and not isinstance(args[0], str | dict):
        return bounded_list(args[0].GetEnumerator())  # `string.Join(",", stack)`: a Stack or Queue
    if (
        len(args) == 1
        and not isinstance(args[0], str)
        and hasattr(args[0], "__iter__")
        and not isinstance(args[0], dict)
    ):
        from .newtonsoft import JToken

        if not isinstance(args[0], JToken) or isinstance(args[0], list):
            return bounded_list(args[0])
    return list(args)


class String:
    """Statics of ``System.String``."""

    dotnet_name = "System.String"
    Empty = ""

    @staticmethod
    def New(value: Any, count: int | None = None, length: int | None = None) -> str:
        """``new string(char c, int count)`` / ``new string(char[] chars[, start, length])``."""
        if count is not None and isinstance(value, str) and len(value) == 1 and length is None:
            if count < 0:
                raise ArgumentOutOfRangeException("count", "Non-negative number required.")
            check_length(count)
            return str(value) * count
        _need(value, "value")
        text = "".join(str(c) for c in value)
        if count is not None:
            text = utf16.units(text)
            text = text[count : count + (length if length is not None else len(text))]
        return utf16.text(text)

    @staticmethod
    def IsNullOrEmpty(s: str | None) -> bool:
        return s is None or s == ""

    @staticmethod
    def IsNullOrWhiteSpace(s: str | None) -> bool:
        return s is None or all(is_whitespace(c) for c in s)

    @staticmethod
    def Join(separator: Any, *values: Any) -> str:
        sep = "" if separator is None else str(separator)
        if len(values) == 3 and isinstance(values[0], list) and isinstance(values[1], int):
            items = values[0][values[1] : values[1] + values[2]]
        else:
            if len(values) == 1 and values[0] is None:
                raise ArgumentNullException("value")
            items = _params(values)
        parts = [to_string(v) for v in items]
        joined_length(parts, sep)
        return utf16.text(sep.join(parts))

    @staticmethod
    def Concat(*values: Any) -> str:
        if len(values) == 1 and values[0] is None:
            return ""
        parts = [to_string(v) for v in _params(values)]
        joined_length(parts)
        return utf16.text("".join(parts))

    @staticmethod
    def Format(*args: Any) -> str:
        from .culture import is_format_provider

        rest = list(args)
        if rest and (
            is_format_provider(rest[0]) or (rest[0] is None and len(rest) > 1 and isinstance(rest[1], str))
        ):
            rest.pop(0)
        if not rest:
            raise ArgumentNullException("format")
        fmt, items = rest[0], rest[1:]
        if len(items) == 1 and isinstance(items[0], list | tuple):
            items = list(items[0])
        return composite_format(fmt, items)

    @staticmethod
    def Compare(a: str | None, b: Any, *args: Any) -> int:
        if len(args) >= 3 and isinstance(b, int):
            # Compare(strA, indexA, strB, indexB, length[, comparison|ignoreCase])
            index_a, str_b, index_b, length = b, args[0], args[1], args[2]
            a = None if a is None else a[index_a : index_a + length]
            str_b = None if str_b is None else str_b[index_b : index_b + length]
            return compare_strings(a, str_b, _comparison_arg(args[3:], StringComparison.CurrentCulture))
        return compare_strings(a, b, _comparison_arg(args, StringComparison.CurrentCulture))

    @staticmethod
    def CompareOrdinal(a: str | None, b: Any, *args: Any) -> int:
        if len(args) == 3:
            index_a, b, index_b, length = b, args[0], args[1], args[2]
            a = None if a is None else a[index_a : index_a + length]
            b = None if b is None else b[index_b : index_b + length]
        if a is None or b is None:
            return 0 if a is b else (-1 if a is None else 1)
        return ordinal_difference(a, b)

    @staticmethod
    def Equals(a: str | None, b: str | None, comparison: Any = StringComparison.Ordinal) -> bool:
        return equals_strings(a, b, comparison)

    @staticmethod
    def Copy(s: str) -> str:
        _need(s, "str")
        return s

    @staticmethod
    def IsInterned(s: str) -> str:
        return s


class StringComparer:
    """``System.StringComparer``: ``Ordinal``, ``OrdinalIgnoreCase``, culture variants."""

    dotnet_name = "System.StringComparer"
    Ordinal: ClassVar[StringComparer]  # set below the class
    OrdinalIgnoreCase: ClassVar[StringComparer]
    InvariantCulture: ClassVar[StringComparer]
    InvariantCultureIgnoreCase: ClassVar[StringComparer]
    CurrentCulture: ClassVar[StringComparer]
    CurrentCultureIgnoreCase: ClassVar[StringComparer]

    def __init__(self, comparison: StringComparison) -> None:
        self._comparison = comparison

    @property
    def ignore_case(self) -> bool:
        return self._comparison in _IGNORE_CASE

    def key(self, s: Any) -> Any:
        """The normalised dictionary key of ``s`` under this comparer."""
        return _fold(s) if self.ignore_case and isinstance(s, str) else s

    def Equals(self, a: Any, b: Any = None) -> bool:
        return equals_strings(a, b, self._comparison)

    def Compare(self, a: str | None, b: str | None) -> int:
        return compare_strings(a, b, self._comparison)

    def GetHashCode(self, s: str) -> int:
        _need(s, "obj")
        return StringMembers.GetHashCode(self.key(s))

    def __call__(self, a: str | None, b: str | None) -> int:
        return self.Compare(a, b)


StringComparer.Ordinal = StringComparer(StringComparison.Ordinal)
StringComparer.OrdinalIgnoreCase = StringComparer(StringComparison.OrdinalIgnoreCase)
StringComparer.InvariantCulture = StringComparer(StringComparison.InvariantCulture)
StringComparer.InvariantCultureIgnoreCase = StringComparer(StringComparison.InvariantCultureIgnoreCase)
StringComparer.CurrentCulture = StringComparer(StringComparison.CurrentCulture)
StringComparer.CurrentCultureIgnoreCase = StringComparer(StringComparison.CurrentCultureIgnoreCase)


__all__ = [
    "String",
    "StringComparer",
    "StringComparison",
    "StringMembers",
    "StringSplitOptions",
    "compare_strings",
    "equals_strings",
    "split",
    "to_lower",
    "to_upper",
]
