"""A JSON reader with Newtonsoft ``JsonTextReader`` leniency and error messages.

Produces plain Python structures: objects are ``dict`` (duplicate names replace the earlier value,
keeping its position), arrays ``list``, integers ``int``, floats ``float``, strings ``str``; the
caller turns them into ``JToken``s. Accepted like Newtonsoft: ``//`` and ``/* */`` comments,
single-quoted strings, unquoted property names, trailing commas, ``NaN``/``Infinity``/``undefined``.
Strings that look like ISO-8601 date-times are reported through ``date_hook`` (Newtonsoft's default
``DateParseHandling.DateTime``).
"""

from __future__ import annotations

import json as _json
import math
import re
from collections.abc import Callable
from typing import Any

from .errors import JsonReaderException

MAX_DEPTH = 64
"""Newtonsoft 13's default ``JsonReader.MaxDepth``: deeper documents are rejected."""

UNDEFINED = object()
"""Marker for the JavaScript ``undefined`` literal (Newtonsoft ``JTokenType.Undefined``)."""

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


class JsonReader:
    """Parse one JSON text; :meth:`read` returns the root value."""

    def __init__(self, text: str, date_hook: Callable[[str], Any] | None = None) -> None:
        self.text = text
        self.pos = 0
        self.date_hook = date_hook
        self.path: list[str | int] = []

    # -- errors ---------------------------------------------------------------------------------
    def _line_pos(self, at: int) -> tuple[int, int]:
        before = self.text[:at]
        line = before.count("\n") + 1
        return line, at - (before.rfind("\n") + 1)

    def _path_text(self) -> str:
        out = ""
        for p in self.path:
            if isinstance(p, int):
                out += f"[{p}]"
            elif re.fullmatch(r"[A-Za-z0-9_]+", p):
                out += ("." if out else "") + p
            else:
                out += "['" + p.replace("'", "\\'") + "']"
        return out

    def error(self, message: str, at: int | None = None) -> JsonReaderException:
        line, col = self._line_pos(self.pos if at is None else at)
        return JsonReaderException(f"{message} Path '{self._path_text()}', line {line}, position {col}.")

    # -- scanning -------------------------------------------------------------------------------
    def _skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\ufeff\xa0":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self.pos = n
                    raise self.error("Unexpected end while parsing comment.")
                self.pos = end + 2
            else:
                return

    def read(self) -> Any:
        self._skip()
        if self.pos >= len(self.text):
            raise JsonReaderException(
                "Unexpected end of content while loading JObject. Path '', line 1, position 0."
            )
        value = self._value()
        self._skip()
        if self.pos < len(self.text):
            raise self.error(
                f"Additional text encountered after finished reading JSON content: {self.text[self.pos]}.",
                self.pos + 1,
            )
        return value

    def _value(self) -> Any:
        self._skip()
        if self.pos >= len(self.text):
            raise self.error("Unexpected end when reading JSON.")
        ch = self.text[self.pos]
        if ch == "{":
            return self._object()
        if ch == "[":
            return self._array()
        if ch in "\"'":
            s = self._string()
            if self.date_hook is not None and (len(s) >= 19 and s[4:5] == "-" and s[10:11] == "T"
                                               or s.startswith("/Date(")):
                date = self.date_hook(s)
                if date is not None:
                    return date
            return s
        if ch == "-" or ch.isdigit():
            return self._number()
        m = _IDENT.match(self.text, self.pos)
        if m:
            word = m.group(0)
            literal = {
                "true": True,
                "false": False,
                "null": None,
                "NaN": math.nan,
                "Infinity": math.inf,
                "undefined": UNDEFINED,
            }
            if word in literal:
                self.pos = m.end()
                return literal[word]
        raise self.error(f"Unexpected character encountered while parsing value: {ch}.", self.pos + 1)

    def _number(self) -> int | float:
        if self.text.startswith("-Infinity", self.pos):
            self.pos += 9
            return -math.inf
        m = _NUMBER.match(self.text, self.pos)
        if not m:
            raise self.error(
                f"Unexpected character encountered while parsing number: {self.text[self.pos + 1 : self.pos + 2]}.",
                self.pos + 1,
            )
        token = m.group(0)
        end = m.end()
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "._"):
            raise self.error(
                f"Unexpected character encountered while parsing number: {self.text[end]}.", end + 1
            )
        self.pos = end
        if any(c in token for c in ".eE"):
            return float(token)
        return int(token)

    def _string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        text, n = self.text, len(self.text)
        while True:
            end = self.pos
            while end < n and text[end] != quote and text[end] != "\\":
                end += 1
            out.append(text[self.pos : end])
            if end >= n:
                self.pos = n
                raise self.error("Unterminated string. Expected delimiter: " + quote + ".", n)
            if text[end] == quote:
                self.pos = end + 1
                return "".join(out)
            esc = text[end + 1 : end + 2]
            simple = {
                '"': '"',
                "'": "'",
                "\\": "\\",
                "/": "/",
                "b": "\b",
                "f": "\f",
                "n": "\n",
                "r": "\r",
                "t": "\t",
            }
            if esc in simple:
                out.append(simple[esc])
                self.pos = end + 2
            elif esc == "u":
                hex_digits = text[end + 2 : end + 6]
                if not re.fullmatch(r"[0-9A-Fa-f]{4}", hex_digits):
                    self.pos = end
                    raise self.error(f"Invalid Unicode escape sequence: \\u{hex_digits}.", end + 2)
                out.append(chr(int(hex_digits, 16)))
                self.pos = end + 6
            else:
                self.pos = end
                raise self.error(f"Bad JSON escape sequence: \\{esc}.", end + 2)

    def _name(self) -> str:
        ch = self.text[self.pos]
        if ch in "\"'":
            return self._string()
        m = re.compile(r"[^\s:{}\[\],/'\"]+").match(self.text, self.pos)
        if not m:
            raise self.error(f"Invalid property identifier character: {ch}.", self.pos + 1)
        self.pos = m.end()
        return m.group(0)

    def _enter(self) -> None:
        if len(self.path) >= MAX_DEPTH:
            raise self.error(f"The reader's MaxDepth of {MAX_DEPTH} has been exceeded.", self.pos + 1)

    def _object(self) -> dict[str, Any]:
        self._enter()
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            self._skip()
            if self.pos >= len(self.text):
                raise self.error(
                    "Unexpected end while parsing unquoted property name."
                    if not result
                    else "Unexpected end when reading JSON."
                )
            if self.text[self.pos] == "}":
                self.pos += 1
                return result
            name = self._name()
            self._skip()
            if self.pos >= len(self.text) or self.text[self.pos] != ":":
                got = self.text[self.pos] if self.pos < len(self.text) else "end"
                raise self.error(
                    f"Invalid character after parsing property name. Expected ':' but got: {got}.",
                    self.pos + 1,
                )
            self.pos += 1
            result[name] = self._member(name)
            self._separator("}")

    def _array(self) -> list[Any]:
        self._enter()
        self.pos += 1
        result: list[Any] = []
        while True:
            self._skip()
            if self.pos >= len(self.text):
                raise self.error("Unexpected end when reading JSON.")
            if self.text[self.pos] == "]":
                self.pos += 1
                return result
            result.append(self._member(len(result)))
            self._separator("]")

    def _member(self, key: str | int) -> Any:
        """The value of a property or array item, read with ``key`` on the error path."""
        self.path.append(key)
        value = self._value()
        self.path.pop()
        return value

    def _separator(self, close: str) -> None:
        """After a member: consume a ``,``, or stop before ``close``; anything else is an error."""
        self._skip()
        if self.pos >= len(self.text):
            raise self.error("Unexpected end when reading JSON.")
        ch = self.text[self.pos]
        if ch == ",":
            self.pos += 1
        elif ch != close:
            raise self.error(
                f"After parsing a value an unexpected character was encountered: {ch}.", self.pos + 1
            )


def _strict(text: str) -> Any:
    """Fast path: strict JSON through the C parser (``None`` marker on any failure)."""
    try:
        return _json.loads(text)
    except (ValueError, RecursionError):
        return _FAILED


_FAILED = object()


def looks_like_date(text: str) -> bool:
    """Newtonsoft's date detection: what may be an ISO 8601 date-time, or ``/Date(...)/``."""
    return len(text) >= 19 and text[4:5] == "-" and text[10:11] == "T" or text.startswith("/Date(")


def _with_dates(value: Any, date_hook: Callable[[str], Any]) -> Any:
    if isinstance(value, str):
        if looks_like_date(value):
            date = date_hook(value)
            return value if date is None else date
        return value
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str | dict | list):
                value[k] = _with_dates(v, date_hook)
        return value
    if isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, str | dict | list):
                value[i] = _with_dates(v, date_hook)
    return value


def _too_deep(value: Any, depth: int) -> bool:
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return True
        return any(_too_deep(v, depth + 1) for v in value.values() if isinstance(v, dict | list))
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return True
        return any(_too_deep(v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


def read_json(text: str, date_hook: Callable[[str], Any] | None = None, *, strict_dates: bool = True) -> Any:
    """Parse ``text``; raises ``JsonReaderException`` with Newtonsoft-like messages.

    Strict JSON goes through the C parser; anything it rejects is read again by
    :class:`JsonReader`, which accepts Newtonsoft's extensions and produces its error messages.
    ``strict_dates=False``: strict JSON's date strings are left to the caller, which walks the
    values anyway (``newtonsoft.from_parsed``); the reader converts them as it reads.
    """
    if text is None:
        from .errors import ArgumentNullException

        raise ArgumentNullException("json")
    data = _strict(text) if text.strip() else _FAILED
    if data is not _FAILED and text.count("{") + text.count("[") > MAX_DEPTH and _too_deep(data, 0):
        data = _FAILED  # let the reader report where MaxDepth is exceeded (as many brackets at least)
    if data is not _FAILED:
        return _with_dates(data, date_hook) if date_hook is not None and strict_dates else data
    return JsonReader(text, date_hook).read()


__all__ = ["UNDEFINED", "JsonReader", "looks_like_date", "read_json"]
