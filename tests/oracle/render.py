"""Render an engine value the way scripts/oracle/Render.cs renders a C# value, and compare rows."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.context import Context, Request, Url
from engine.dotnet.conversions import to_string
from engine.dotnet.datetimes import DateTime, DateTimeOffset
from engine.dotnet.guid import Guid
from engine.dotnet.newtonsoft import Formatting, JToken
from engine.dotnet.primitives import Char, dotnet_type_name, enum_to_string
from engine.dotnet.timespan import TimeSpan
from engine.errors import ExpressionError, PolicyLoadError
from engine.expr.expression import analyse, as_value_text, compile_expression

INTEGER_TYPES = {"sbyte": "SByte", "byte": "Byte", "short": "Int16", "ushort": "UInt16", "int": "Int32",
                 "uint": "UInt32", "long": "Int64", "ulong": "UInt64"}
SCALARS = {"Int32", "Int64", "Int16", "Byte", "SByte", "UInt16", "UInt32", "UInt64", "Double", "Single",
           "Decimal", "String", "Char", "Boolean", "DateTime", "TimeSpan", "DateTimeOffset", "Guid"}


def quote(text: str, q: str) -> str:
    out = [q]
    for c in text:
        code = ord(c)
        if c in ("\\", q):
            out.append("\\" + c)
        elif code > 0xFFFF:  # one UTF-16 surrogate pair, as C# strings hold it
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        elif code < 0x20 or code > 0x7E:
            out.append(f"\\u{code:04x}")
        else:
            out.append(c)
    out.append(q)
    return "".join(out)


def render(value: Any, depth: int = 0) -> str:
    if value is None:
        return "null"
    if depth > 6:
        return "..."
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Char):
        return quote(str(value), "'")
    if isinstance(value, str):
        return quote(value, '"')
    if isinstance(value, enum.Enum):
        return enum_to_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, DateTime):
        return f"DateTime({value.Ticks},{enum_to_string(value.Kind)})"
    if isinstance(value, DateTimeOffset):
        return f"DateTimeOffset({value.Ticks},{value.Offset.Ticks})"
    if isinstance(value, TimeSpan):
        return f"TimeSpan({value.Ticks})"
    if isinstance(value, Guid):
        return value.ToString("D")
    if isinstance(value, JToken):
        return f"{enum_to_string(value.Type)}:{value.ToString(Formatting.None_)}"
    if type(value).__name__ == "KeyValuePair":
        return f"[{render(value.Key, depth + 1)}, {render(value.Value, depth + 1)}]"
    if type(value).__name__ == "Tuple":
        return "(" + ", ".join(render(v, depth + 1) for v in value) + ")"
    if isinstance(value, dict) and type(value).__name__ != "AnonymousObject":
        return "{" + ", ".join(f"{render(k, depth + 1)}: {render(v, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset | bytes | bytearray) or (
            hasattr(value, "__iter__") and not hasattr(value, "ToString")):
        parts: list[str] = []
        for item in value:
            if len(parts) >= 50:
                parts.append("...")
                break
            parts.append(render(item, depth + 1))
        return "[" + ", ".join(parts) + "]"
    return quote(to_string(value), '"')


def type_name(value: Any, static: str | None) -> str:
    """The short C# type name of an engine value (`static` is the compiler's type of the result)."""
    if value is None:
        return "null"
    if type(value).__name__ == "AnonymousObject":
        return "<>anonymous"
    if isinstance(value, enum.Enum):
        return type(value).__name__
    if isinstance(value, int) and not isinstance(value, bool) and static in INTEGER_TYPES:
        return INTEGER_TYPES[static]
    if isinstance(value, float) and static == "float":
        return "Single"
    return dotnet_type_name(value).split("`", 1)[0].rsplit(".", 1)[-1]


def comparable_type(name: str) -> str:
    """Collections compare by kind only: the engine holds C# arrays, lists and iterators as lists."""
    if name in SCALARS or name == "null":
        return name
    if name.startswith("<>"):  # compiler-generated anonymous types: <>__AnonType0<...>, <>f__AnonymousType0<...>
        return "anonymous"
    if name.startswith(("Dictionary<", "SortedDictionary<", "IDictionary<")) or name == "Dictionary":
        return "dictionary"
    if name.endswith("[]") or "Iterator" in name or name.startswith((
            "List<", "HashSet<", "IEnumerable<", "KeyCollection<", "ValueCollection<")) \
            or name in ("List", "HashSet", "Object[]", "Array"):
        return "sequence"
    return name.split("<", 1)[0]


@dataclass
class Outcome:
    kind: str  # "value", "error" or "compile"
    type: str = ""
    value: str = ""
    error: str = ""


def _static_type(text: str) -> str | None:
    compiler, _, _ = analyse(as_value_text(text))
    root = getattr(compiler, "root", None)
    return root.type.name if root is not None else None


def empty_context() -> Context:
    url = Url.parse("https://localhost/")
    return Context(request=Request(method="GET", url=url, original_url=url.copy(), ip_address="127.0.0.1"))


def evaluate(expr: str) -> Outcome:
    text = expr if expr.startswith("@{") else f"@({expr})"
    try:
        compiled = compile_expression(text)
    except PolicyLoadError:
        return Outcome("compile")
    try:
        value = compiled.evaluate(empty_context())
    except ExpressionError as exc:
        name = exc.detail.split(":", 1)[0]
        return Outcome("error", error=name if name.endswith("Exception") else f"Internal({exc.detail[:60]})")
    try:
        return Outcome("value", type_name(value, _static_type(text)), render(value))
    except Exception as exc:  # a value the engine cannot even print is a disagreement, not a crash
        return Outcome("error", error=f"Internal({type(exc).__name__}: {str(exc)[:60]})")


def _same_real(expected: str, actual: str) -> bool:
    try:
        a, b = float(expected.replace("Infinity", "inf")), float(actual)
    except ValueError:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


_REAL = re.compile(r"(-?Infinity|NaN|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")


def _same_reals_inside(expected: str, actual: str) -> bool:
    """A collection of doubles: the same text, with each number compared by value (C# prints `1`,
    Python `1.0`)."""
    a, b = _REAL.split(expected), _REAL.split(actual)
    if len(a) != len(b):
        return False
    return all(x == y or i % 2 == 1 and _same_real(x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)))


def agrees(row: dict[str, Any], got: Outcome) -> bool:
    if "compile" in row:
        return got.kind == "compile"
    if "error" in row:
        return got.kind == "error" and got.error == row["error"]
    if got.kind != "value" or comparable_type(row["type"]) != comparable_type(got.type):
        return False
    if row["type"] in ("Double", "Single"):
        return _same_real(row["value"], got.value)
    if comparable_type(row["type"]) == "sequence" and ("Double" in row["type"] or "Single" in row["type"]):
        return _same_reals_inside(row["value"], got.value)
    return bool(row["value"] == got.value)


def describe(got: Outcome) -> str:
    if got.kind == "value":
        return f"{got.value} ({got.type})"
    return f"{got.kind} {got.error}".strip()
