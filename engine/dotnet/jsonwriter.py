"""Newtonsoft-compatible JSON text for scalar values (strings, numbers, dates...)."""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

from .formatting import decimal_to_string, double_to_string

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "\x85": "\\u0085",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _escape_char(ch: str) -> str:
    esc = _ESCAPES.get(ch)
    if esc is not None:
        return esc
    if ord(ch) < 0x20:
        return f"\\u{ord(ch):04x}"
    return ch


def json_string(s: str, quote: str = '"') -> str:
    """A JSON string literal escaped like Newtonsoft's default ``StringEscapeHandling``."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return quote + s + quote
    return quote + "".join(_escape_char(c) for c in s) + quote


def ensure_decimal_place(text: str) -> str:
    if "." in text or "E" in text or "e" in text or text in ("NaN", "Infinity", "-Infinity"):
        return text
    return text + ".0"


def json_number(value: int | float | Decimal) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):  # FloatFormatHandling.String, Newtonsoft's default
            return '"' + double_to_string(value) + '"'
        return ensure_decimal_place(double_to_string(value))
    return ensure_decimal_place(decimal_to_string(value))


def json_scalar(value: Any) -> str:
    """JSON text of a scalar runtime value (``None``, bool, number, str, date, guid, bytes...)."""
    if type(value) is str:
        return json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return json_number(value)
    if isinstance(value, str):
        return json_string(str(value))
    if isinstance(value, bytes | bytearray):
        return json_string(base64.b64encode(bytes(value)).decode("ascii"))
    to_json = getattr(value, "to_json_text", None)
    if to_json is not None:
        return json_string(to_json())
    from .conversions import to_string

    return json_string(to_string(value))


__all__ = ["ensure_decimal_place", "json_number", "json_scalar", "json_string"]
