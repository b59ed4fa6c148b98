"""The JSONPath subset of Newtonsoft's ``SelectToken``/``SelectTokens``.

Supported: ``$`` root, ``.name``, ``['name']``/``["name"]``, ``[n]``, ``[n,m]``, ``[start:end:step]``,
``*``/``[*]`` wildcards, ``..name``/``..*`` recursive descent and filters
``[?(@.path op value)]`` with ``== != < <= > >=``, existence ``[?(@.path)]``, ``&&`` and ``||``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import JsonException

if TYPE_CHECKING:
    from .newtonsoft import JArray, JObject, JToken

_NAME = re.compile(r"[^.\[\]()\s]+")


@dataclass(frozen=True)
class _Step:
    kind: str  # field, index, wildcard, scan, slice, filter, scanfilter, union
    value: Any = None


def _error(path: str, message: str) -> JsonException:
    return JsonException(f"{message}")


@lru_cache(maxsize=1024)
def parse_path(path: str) -> tuple[_Step, ...]:
    """Parse a JSONPath once; results are cached (steps are immutable)."""
    return tuple(_parse_path(path))


def _parse_path(path: str) -> list[_Step]:
    steps: list[_Step] = []
    i, n = 0, len(path)
    if path.startswith("$"):
        i = 1
    while i < n:
        ch = path[i]
        if ch == ".":
            if path.startswith("..", i):
                i += 2
                if i < n and path[i] == "*":
                    steps.append(_Step("scan", None))
                    i += 1
                    continue
                if i < n and path[i] == "[":
                    sub = _bracket(path, i)
                    i = sub[1]
                    step = sub[0]
                    if step.kind == "field":
                        steps.append(_Step("scan", step.value))
                    elif step.kind == "filter":  # Newtonsoft's QueryScanFilter
                        steps.append(_Step("scanfilter", step.value))
                    else:  # Newtonsoft drops the scan before an index, slice or union: `..[0]` is `[0]`
                        steps.append(step)
                    continue
                m = _NAME.match(path, i)
                if not m:
                    raise _error(path, f"Unexpected character while parsing path: {path[i : i + 1]}")
                steps.append(_Step("scan", m.group(0)))
                i = m.end()
                continue
            i += 1
            if i < n and path[i] == "*":
                steps.append(_Step("wildcard"))
                i += 1
                continue
            m = _NAME.match(path, i)
            if not m:
                raise _error(
                    path,
                    "Unexpected end while parsing path."
                    if i >= n
                    else f"Unexpected character while parsing path: {path[i]}",
                )
            steps.append(_Step("field", m.group(0)))
            i = m.end()
        elif ch == "[":
            step, i = _bracket(path, i)
            steps.append(step)
        elif ch == "*" and not steps:
            steps.append(_Step("wildcard"))
            i += 1
        else:
            m = _NAME.match(path, i)
            if not m or (steps and path[i - 1] not in ".]"):
                raise _error(path, f"Unexpected character while parsing path: {ch}")
            steps.append(_Step("field", m.group(0)))
            i = m.end()
    return steps


def _bracket(path: str, i: int) -> tuple[_Step, int]:
    end_search = i + 1
    if path.startswith("[?(", i) or path.startswith("[(", i):
        depth, j = 0, i + 1
        quote = ""
        while j < len(path):
            c = path[j]
            if quote:
                if c == quote:
                    quote = ""
            elif c in "'\"":
                quote = c
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j + 1 >= len(path) or path[j + 1] != "]":
            raise JsonException("Path ended with an open query.")
        body = path[i + 3 : j] if path.startswith("[?(", i) else path[i + 2 : j]
        return _Step("filter", _parse_filter(body)), j + 2
    content_start = end_search
    if content_start < len(path) and path[content_start] in "'\"":
        quote = path[content_start]
        names: list[str] = []
        j = content_start
        while True:
            buf = []
            j += 1
            while j < len(path) and path[j] != quote:
                if path[j] == "\\" and j + 1 < len(path):
                    j += 1
                buf.append(path[j])
                j += 1
            if j >= len(path):
                raise JsonException("Path ended with an open indexer.")
            names.append("".join(buf))
            j += 1
            while j < len(path) and path[j] == " ":
                j += 1
            if j < len(path) and path[j] == ",":
                j += 1
                while j < len(path) and path[j] == " ":
                    j += 1
                if j < len(path) and path[j] in "'\"":
                    quote = path[j]
                    continue
            break
        if j >= len(path) or path[j] != "]":
            raise JsonException(
                "Unexpected character while parsing path indexer: " + (path[j] if j < len(path) else "end")
            )
        if len(names) == 1:
            return _Step("field", names[0]), j + 1
        return _Step("union", names), j + 1
    close = path.find("]", i)
    if close < 0:
        raise JsonException("Path ended with an open indexer.")
    inner = path[i + 1 : close].strip()
    if inner == "*":
        return _Step("wildcard"), close + 1
    if ":" in inner:
        parts = [p.strip() for p in inner.split(":")]
        try:
            vals = [int(p) if p else None for p in parts]
        except ValueError as exc:
            raise JsonException(f"Unexpected character while parsing path indexer: {inner}") from exc
        while len(vals) < 3:
            vals.append(None)
        if vals[2] == 0:
            raise JsonException("Step cannot be zero.")
        return _Step("slice", tuple(vals[:3])), close + 1
    try:
        indexes = [int(p) for p in inner.split(",")]
    except ValueError as exc:
        raise JsonException(f"Unexpected character while parsing path indexer: {inner[:1]}") from exc
    if len(indexes) == 1:
        return _Step("index", indexes[0]), close + 1
    return _Step("union", indexes), close + 1


# -- filters ------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>|&&|\|\||\(|\)|!)|(?P<path>[@$](?:\.[A-Za-z0-9_$*-]+|\[[^\]]*\])*)"
    r"|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<lit>true|false|null))"
)


def _parse_filter(text: str) -> Callable[[Any, Any], bool]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise JsonException(f"Unexpected character while parsing path query: {text[pos : pos + 1]}")
        kind = m.lastgroup or "op"
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    parser = _FilterParser(tokens)
    expr = parser.parse_or()
    if parser.i != len(tokens):
        raise JsonException("Unexpected character while parsing path query.")
    return expr


class _FilterParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse_or(self) -> Callable[[Any, Any], bool]:
        left = self.parse_and()
        while self._peek() == ("op", "||"):
            self.i += 1
            right = self.parse_and()
            left = (lambda a, b: lambda t, r: a(t, r) or b(t, r))(left, right)
        return left

    def parse_and(self) -> Callable[[Any, Any], bool]:
        left = self.parse_cmp()
        while self._peek() == ("op", "&&"):
            self.i += 1
            right = self.parse_cmp()
            left = (lambda a, b: lambda t, r: a(t, r) and b(t, r))(left, right)
        return left

    def parse_cmp(self) -> Callable[[Any, Any], bool]:
        tok = self._peek()
        if tok == ("op", "("):
            self.i += 1
            inner = self.parse_or()
            if self._peek() != ("op", ")"):
                raise JsonException("Unexpected end while parsing path query.")
            self.i += 1
            return inner
        if tok == ("op", "!"):
            self.i += 1
            inner = self.parse_cmp()
            return lambda t, r: not inner(t, r)
        left = self.operand()
        op = self._peek()
        if op and op[0] == "op" and op[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            right = self.operand()
            return _compare(left, op[1], right)
        return lambda t, r: bool(left(t, r))

    def operand(self) -> Callable[[Any, Any], Any]:
        tok = self._peek()
        if tok is None:
            raise JsonException("Unexpected end while parsing path query.")
        self.i += 1
        kind, text = tok
        if kind == "path":
            steps = parse_path(text[1:]) if len(text) > 1 else []
            from_root = text[0] == "$"
            return lambda t, r: _first_or_none(_evaluate(r if from_root else t, steps, False))
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", text[1:-1])
            return lambda t, r: _Const(value)
        if kind == "num":
            num: Any = float(text) if any(c in text for c in ".eE") else int(text)
            return lambda t, r: _Const(num)
        if kind == "lit":
            lit = {"true": True, "false": False, "null": None}[text]
            return lambda t, r: _Const(lit)
        raise JsonException(f"Unexpected character while parsing path query: {text}")


@dataclass(frozen=True)
class _Const:
    value: Any


def _first_or_none(tokens: list[Any]) -> Any:
    return tokens[0] if tokens else None


def _scalar(x: Any) -> tuple[bool, Any]:
    from .newtonsoft import JValue

    if isinstance(x, _Const):
        return True, x.value
    if isinstance(x, JValue):
        return True, x.Value
    return False, x


def _compare(
    left: Callable[[Any, Any], Any], op: str, right: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], bool]:
    def run(t: Any, r: Any) -> bool:
        lx, rx = left(t, r), right(t, r)
        if lx is None or rx is None:
            if op == "!=":
                return (lx is None) != (rx is None) or not (lx is None and rx is None)
            return False
        ls, lv = _scalar(lx)
        rs, rv = _scalar(rx)
        if not (ls and rs):
            from .newtonsoft import deep_equals

            eq = lx is rx or (not ls and not rs and deep_equals(lx, rx))
            return eq if op == "==" else (not eq if op == "!=" else False)
        if (
            isinstance(lv, int | float | Decimal)
            and isinstance(rv, int | float | Decimal)
            and not isinstance(lv, bool)
            and not isinstance(rv, bool)
        ):
            a, b = float(lv), float(rv)
        elif type(lv) is type(rv) or (isinstance(lv, str) and isinstance(rv, str)):
            a, b = lv, rv
        else:
            return op == "!="
        try:
            return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        except TypeError:
            return False

    return run


# -- evaluation -----------------------------------------------------------------------------------


def _evaluate(root: Any, steps: Sequence[_Step], error_when_no_match: bool) -> list[Any]:
    from .newtonsoft import JArray, JObject, JProperty

    current = [root]
    for step in steps:
        nxt: list[Any] = []
        for token in current:
            if step.kind == "field":
                if isinstance(token, JObject):
                    v = token[step.value]
                    if v is not None:
                        nxt.append(v)
                    elif error_when_no_match:
                        raise JsonException(f"Property '{step.value}' does not exist on JObject.")
                elif error_when_no_match:
                    raise JsonException(f"Property '{step.value}' not valid on {type(token).__name__}.")
            elif step.kind == "index":
                if isinstance(token, JArray):
                    idx = step.value
                    if 0 <= idx < token.Count:
                        nxt.append(token[idx])
                    elif error_when_no_match:
                        raise JsonException(f"Index {idx} outside the bounds of JArray.")
                elif error_when_no_match:
                    raise JsonException(f"Index {step.value} not valid on {type(token).__name__}.")
            elif step.kind == "union":
                for key in step.value:
                    if isinstance(key, int) and isinstance(token, JArray) and 0 <= key < token.Count:
                        nxt.append(token[key])
                    elif isinstance(key, str) and isinstance(token, JObject) and token[key] is not None:
                        nxt.append(token[key])
            elif step.kind == "wildcard":
                nxt.extend(_values(token))
            elif step.kind == "slice":
                if isinstance(token, JArray):
                    start, stop, stride = step.value
                    nxt.extend(token.Children()[slice(start, stop, stride)])
                elif error_when_no_match:
                    raise JsonException(f"Array slice is not valid on {type(token).__name__}.")
            elif step.kind == "scan":
                for d in token.Descendants() if hasattr(token, "Descendants") else []:
                    if isinstance(d, JProperty):
                        if step.value is None or d.Name == step.value:
                            nxt.append(d.Value)
                    elif step.value is None:
                        if not isinstance(d.Parent, JProperty):
                            nxt.append(d)
            elif step.kind == "filter":
                for child in _values(token):
                    if step.value(child, root):
                        nxt.append(child)
            elif step.kind == "scanfilter":
                for d in token.DescendantsAndSelf() if hasattr(token, "DescendantsAndSelf") else [token]:
                    if step.value(d, root):
                        nxt.append(d)
        current = nxt
    return current


def _values(token: Any) -> list[Any]:
    from .newtonsoft import JArray, JObject

    if isinstance(token, JObject):
        return [p.Value for p in token.Properties()]
    if isinstance(token, JArray):
        return token.Children()
    return []


def select_tokens(token: Any, path: str, error_when_no_match: bool = False) -> list[JToken]:
    """All tokens matching ``path`` (``SelectTokens``)."""
    if path is None:
        from .errors import ArgumentNullException

        raise ArgumentNullException("path")
    simple = _simple_steps(path)
    if simple is not None:
        found = _walk(token, simple)
        if found is not None:
            return [found]
    return _evaluate(token, parse_path(path), error_when_no_match)


@lru_cache(maxsize=1024)
def _simple_steps(path: str) -> tuple[tuple[bool, Any], ...] | None:
    """A path of names and indexes only (`items[3].name`) as (is-name, key) pairs, else None."""
    steps = parse_path(path)
    if all(step.kind in ("field", "index") for step in steps):
        return tuple((step.kind == "field", step.value) for step in steps)
    return None


def _walk(token: Any, simple: tuple[tuple[bool, Any], ...]) -> Any:
    """The token a names-and-indexes path reaches, or None (then the general evaluation runs, with
    its errors when a match is required)."""
    jobject, jarray = _json_classes()
    for is_name, key in simple:
        if is_name:
            prop = token._props.get(key) if isinstance(token, jobject) else None
            if prop is None:
                return None
            token = prop.Value
        else:
            items = token._list if isinstance(token, jarray) else ()
            if not 0 <= key < len(items):
                return None
            token = items[key]
    return token


@lru_cache(maxsize=1)
def _json_classes() -> tuple[type[JObject], type[JArray]]:
    from .newtonsoft import JArray, JObject

    return JObject, JArray


def select_token(token: Any, path: str, error_when_no_match: bool = False) -> JToken | None:
    """The single token matching ``path`` or ``None`` (``SelectToken``)."""
    found = select_tokens(token, path, error_when_no_match)
    if len(found) > 1:
        raise JsonException("Path returned multiple tokens.")
    return found[0] if found else None


__all__ = ["parse_path", "select_token", "select_tokens"]
