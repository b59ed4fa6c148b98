"""A Liquid subset for `<set-body template="liquid">` (APIM's DotLiquid in C# naming mode).

Supported: output `{{ expr | Filter: arg, ... }}`; tags `if`/`elsif`/`else`/`endif`, `unless`,
`for x in list` (with `limit:`/`offset:`, `reversed`, ranges `(1..n)`, `forloop.*`, `else`),
`assign`, `capture`, `comment`, `raw`; whitespace control `{{-`/`-}}`/`{%-`/`-%}`; conditions
with `== != <> < > <= >= contains`, `and`/`or`; literals `'s' "s" 1 1.5 true false nil null
empty blank`; paths `a.b[0]["c"]`, `.size`/`.first`/`.last`. Filter names are matched without
case or underscores (`NewlineToBr` = `newline_to_br`). Templates compile once; rendering is
bounded (loop iterations and output size).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from engine import clock

MAX_ITERATIONS = 100_000
MAX_OUTPUT_CHARS = 16 * 1024 * 1024


class LiquidSyntaxError(ValueError):
    """The template does not parse; `offset` is the position in the template text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class LiquidRenderError(ValueError):
    """Rendering failed (e.g. division by zero, too many loop iterations)."""


_TOKEN = re.compile(r"(\{\{-?.*?-?\}\}|\{%-?.*?-?%\})", re.DOTALL)
_EXPR_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'[^']*'|"[^"]*")
      | (?P<range>\(\s*[^()]+?\s*\.\.\s*[^()]+?\s*\))
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<>|<=|>=|<|>|\||:|,|\[|\]|\.)
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-?]*)
    )""",
    re.VERBOSE,
)


class _Empty:
    """Liquid's `empty`/`blank` keyword: equal to '', [], {} and (blank) None."""

    def __init__(self, blank: bool) -> None:
        self.blank = blank

    def __eq__(self, other: object) -> bool:
        if other is None:
            return self.blank
        if isinstance(other, str):
            return other.strip() == "" if self.blank else other == ""
        if isinstance(other, list | dict | tuple):
            return len(other) == 0
        return False

    __hash__ = None  # type: ignore[assignment]  # unhashable, as == is overridden (typeshed types __hash__ as a method)


# -- expressions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: Any

    def eval(self, scope: Scope) -> Any:
        return self.value


@dataclass(frozen=True)
class Path:
    parts: tuple[Any, ...]  # str names or index expressions

    def eval(self, scope: Scope) -> Any:
        value: Any = scope.lookup(self.parts[0])
        for part in self.parts[1:]:
            key = part.eval(scope) if isinstance(part, Literal | Path | RangeExpr) else part
            value = _member(value, key)
        return value


@dataclass(frozen=True)
class RangeExpr:
    low: Any
    high: Any

    def eval(self, scope: Scope) -> Any:
        low, high = _to_int(self.low.eval(scope)), _to_int(self.high.eval(scope))
        if high - low > MAX_ITERATIONS:
            raise LiquidRenderError(f"range ({low}..{high}) is too large")
        return list(range(low, high + 1))


@dataclass(frozen=True)
class Filtered:
    base: Any
    filters: tuple[tuple[str, tuple[Any, ...]], ...]

    def eval(self, scope: Scope) -> Any:
        value = self.base.eval(scope)
        for name, args in self.filters:
            value = FILTERS[name](value, *(a.eval(scope) for a in args))
            if isinstance(value, str | list) and len(value) > MAX_OUTPUT_CHARS:
                raise LiquidRenderError("a value grew too large")
        return value


@dataclass(frozen=True)
class Condition:
    op: str  # 'and', 'or', a comparison, or '' (truthiness of left)
    left: Any
    right: Any = None

    def eval(self, scope: Scope) -> Any:
        if self.op == "and":
            return _truthy(self.left.eval(scope)) and _truthy(self.right.eval(scope))
        if self.op == "or":
            return _truthy(self.left.eval(scope)) or _truthy(self.right.eval(scope))
        left = self.left.eval(scope)
        if not self.op:
            return left
        return _compare(self.op, left, self.right.eval(scope))


def _member(value: Any, key: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        if key in value:
            return value[key]
        if isinstance(key, str):
            if isinstance(value, CaseInsensitiveDict):
                return value.get(key)
            if key in ("size", "Size"):
                return len(value)
        return None
    if isinstance(value, list | tuple | str):
        if isinstance(key, int) and not isinstance(key, bool):
            try:
                return value[key]
            except IndexError:
                return None
        if key in ("size", "Size"):
            return len(value)
        if key in ("first", "First") and not isinstance(value, str):
            return value[0] if value else None
        if key in ("last", "Last") and not isinstance(value, str):
            return value[-1] if value else None
    return None


def _truthy(value: Any) -> bool:
    return value is not None and value is not False


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "contains":
        if isinstance(left, str):
            return right is not None and str(right) in left
        if isinstance(left, list | tuple):
            return right in left
        if isinstance(left, dict):
            return right in left
        return False
    if isinstance(right, _Empty):
        left, right = right, left
    if op == "==":
        return bool(left == right)
    if op in ("!=", "<>"):
        return not bool(left == right)
    try:
        if isinstance(left, bool) or isinstance(right, bool):
            return False
        if isinstance(left, str) != isinstance(right, str):
            left, right = _to_number(left), _to_number(right)
        return bool({"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op])
    except (TypeError, ValueError, LiquidRenderError):
        return False


class _ExprParser:
    def __init__(self, text: str, offset: int) -> None:
        self.offset = offset
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            match = _EXPR_TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise LiquidSyntaxError(f"unexpected character {text[pos:].strip()[:1]!r} in {text.strip()!r}", offset)
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.pos = 0

    def peek(self, value: str | None = None) -> tuple[str, str] | None:
        if self.pos >= len(self.tokens):
            return None
        token = self.tokens[self.pos]
        return token if value is None or token[1] == value else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek(value)
        if token is None:
            expected = f"'{value}'" if value else "more input"
            raise LiquidSyntaxError(f"expected {expected}", self.offset)
        self.pos += 1
        return token

    def done(self) -> None:
        if self.pos < len(self.tokens):
            raise LiquidSyntaxError(f"unexpected {self.tokens[self.pos][1]!r}", self.offset)

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return Literal(text[1:-1])
        if kind == "number":
            return Literal(float(text) if "." in text else int(text))
        if kind == "range":
            low, _, high = text[1:-1].partition("..")
            return RangeExpr(_ExprParser(low, self.offset).single(), _ExprParser(high, self.offset).single())
        if kind == "word":
            if text in ("true", "false"):
                return Literal(text == "true")
            if text in ("nil", "null"):
                return Literal(None)
            if text in ("empty", "blank"):
                return Literal(_Empty(text == "blank"))
            parts: list[Any] = [text]
            while True:
                if self.peek("."):
                    self.take(".")
                    parts.append(self.take()[1])
                elif self.peek("["):
                    self.take("[")
                    parts.append(self.value())
                    self.take("]")
                else:
                    return Path(tuple(parts))
        raise LiquidSyntaxError(f"unexpected {text!r}", self.offset)

    def single(self) -> Any:
        result = self.value()
        self.done()
        return result

    def filtered(self) -> Any:
        base = self.value()
        filters = []
        while self.peek("|"):
            self.take("|")
            name = self.take()[1]
            key = _filter_key(name)
            if key not in FILTERS:
                raise LiquidSyntaxError(f"unknown filter '{name}'", self.offset)
            args: list[Any] = []
            if self.peek(":"):
                self.take(":")
                args.append(self.value())
                while self.peek(","):
                    self.take(",")
                    args.append(self.value())
            filters.append((key, tuple(args)))
        self.done()
        return Filtered(base, tuple(filters)) if filters else base

    def condition(self) -> Any:
        left = self.comparison()
        token = self.peek()
        if token is not None and token[1] in ("and", "or"):
            self.take()
            return Condition(token[1], left, self.condition())
        self.done()
        return left

    def comparison(self) -> Any:
        left = self.value()
        token = self.peek()
        if token is not None and (token[0] == "op" and token[1] in ("==", "!=", "<>", "<", ">", "<=", ">=")
                                  or token[1] == "contains"):
            self.take()
            return Condition(token[1], left, self.value())
        return Condition("", left)


# -- template nodes --------------------------------------------------------------------------

class Scope:
    """Variable lookup: assigned/loop variables over the bindings."""

    def __init__(self, bindings: dict[str, Any]) -> None:
        self.frames: list[dict[str, Any]] = [bindings, {}]
        self.iterations = 0
        self.chars = 0

    def emit(self, out: list[str], text: str) -> None:
        """Append output, enforcing the size limit as it grows (not after the fact)."""
        self.chars += len(text)
        if self.chars > MAX_OUTPUT_CHARS:
            raise LiquidRenderError("the rendered body is too large")
        out.append(text)

    def lookup(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        return None

    def assign(self, name: str, value: Any) -> None:
        self.frames[1][name] = value


@dataclass
class Block:
    nodes: list[Any] = field(default_factory=list)

    def render(self, scope: Scope, out: list[str]) -> None:
        for node in self.nodes:
            if isinstance(node, str):
                scope.emit(out, node)
            else:
                node.render(scope, out)


@dataclass
class Output:
    expr: Any

    def render(self, scope: Scope, out: list[str]) -> None:
        scope.emit(out, to_text(self.expr.eval(scope)))


@dataclass
class If:
    branches: list[tuple[Any, Block]]  # (condition or None for else, body)
    negate_first: bool = False

    def render(self, scope: Scope, out: list[str]) -> None:
        for i, (cond, body) in enumerate(self.branches):
            if cond is None:
                body.render(scope, out)
                return
            hit = _truthy(cond.eval(scope))
            if i == 0 and self.negate_first:
                hit = not hit
            if hit:
                body.render(scope, out)
                return


@dataclass
class For:
    var: str
    collection: Any
    body: Block
    otherwise: Block | None
    limit: Any = None
    offset: Any = None
    reversed: bool = False

    def render(self, scope: Scope, out: list[str]) -> None:
        items = self.collection.eval(scope)
        if isinstance(items, dict):
            items = [[k, v] for k, v in items.items()]
        elif items is None or isinstance(items, str | int | float):
            items = [] if items in (None, "") else [items]
        items = list(items)
        start = _to_int(self.offset.eval(scope)) if self.offset is not None else 0
        items = items[start:]
        if self.limit is not None:
            items = items[: _to_int(self.limit.eval(scope))]
        if self.reversed:
            items.reverse()
        if not items:
            if self.otherwise is not None:
                self.otherwise.render(scope, out)
            return
        frame: dict[str, Any] = {}
        scope.frames.append(frame)
        try:
            for index, item in enumerate(items):
                scope.iterations += 1
                if scope.iterations > MAX_ITERATIONS:
                    raise LiquidRenderError(f"more than {MAX_ITERATIONS} loop iterations")
                frame[self.var] = item
                frame["forloop"] = {
                    "index": index + 1, "index0": index, "rindex": len(items) - index,
                    "rindex0": len(items) - index - 1, "first": index == 0,
                    "last": index == len(items) - 1, "length": len(items),
                }
                self.body.render(scope, out)
        finally:
            scope.frames.pop()


@dataclass
class Assign:
    name: str
    expr: Any

    def render(self, scope: Scope, out: list[str]) -> None:
        scope.assign(self.name, self.expr.eval(scope))


@dataclass
class Capture:
    name: str
    body: Block

    def render(self, scope: Scope, out: list[str]) -> None:
        inner: list[str] = []
        self.body.render(scope, inner)
        scope.assign(self.name, "".join(inner))


_FOR = re.compile(r"^(\w+)\s+in\s+(.+?)((?:\s+(?:limit|offset)\s*:\s*\S+|\s+reversed)*)\s*$", re.DOTALL)
_FOR_OPTION = re.compile(r"(limit|offset)\s*:\s*(\S+)|(reversed)")


@dataclass
class Template:
    """A compiled template; `render(bindings)` returns the text."""

    root: Block

    def render(self, bindings: dict[str, Any]) -> str:
        out: list[str] = []
        self.root.render(Scope(bindings), out)
        return "".join(out)


def parse(text: str) -> Template:
    """Compile a template; raises LiquidSyntaxError with the offset of the bad tag."""
    tokens = _tokens(text)
    root, end = _parse_block(tokens, 0, ())
    if end < len(tokens):
        tag, offset = tokens[end][1], tokens[end][2]
        raise LiquidSyntaxError(f"unexpected '{{% {tag} %}}'", offset)
    return Template(root)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, content, offset) with kind text/output/tag; whitespace control applied."""
    raw: list[tuple[str, str, int, bool, bool]] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            raw.append(("text", text[pos:match.start()], pos, False, False))
        token = match.group()
        kind = "output" if token.startswith("{{") else "tag"
        inner = token[2:-2]
        strip_left, strip_right = inner.startswith("-"), inner.endswith("-")
        inner = inner[1 if strip_left else 0: -1 if strip_right else None]
        raw.append((kind, inner.strip(), match.start(), strip_left, strip_right))
        pos = match.end()
    if pos < len(text):
        raw.append(("text", text[pos:], pos, False, False))
    for opener in ("{{", "{%"):
        for kind, content, offset, *_ in raw:
            if kind == "text" and opener in content:
                raise LiquidSyntaxError(f"'{opener}' is never closed", offset + content.index(opener))
    out: list[tuple[str, str, int]] = []
    for i, (kind, content, offset, _, _) in enumerate(raw):
        if kind == "text":
            if i > 0 and raw[i - 1][4]:
                content = content.lstrip()
            if i + 1 < len(raw) and raw[i + 1][3]:
                content = content.rstrip()
        out.append((kind, content, offset))
    return _join_raw(out)


def _join_raw(tokens: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """`{% raw %}...{% endraw %}` and `{% comment %}` bodies become text / nothing."""
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(tokens):
        kind, content, offset = tokens[i]
        name = content.split(None, 1)[0] if kind == "tag" and content else ""
        if name in ("raw", "comment"):
            end_name = "end" + name
            j = i + 1
            while j < len(tokens) and not (tokens[j][0] == "tag" and tokens[j][1] == end_name):
                j += 1
            if j == len(tokens):
                raise LiquidSyntaxError(f"'{{% {name} %}}' has no '{{% {end_name} %}}'", offset)
            if name == "raw":
                out.append(("text", "".join(_source_of(t) for t in tokens[i + 1 : j]), offset))
            i = j + 1
            continue
        out.append(tokens[i])
        i += 1
    return out


def _source_of(token: tuple[str, str, int]) -> str:
    kind, content, _ = token
    if kind == "output":
        return "{{ " + content + " }}"
    if kind == "tag":
        return "{% " + content + " %}"
    return content


def _parse_block(
    tokens: list[tuple[str, str, int]], i: int, stop: tuple[str, ...]
) -> tuple[Block, int]:
    block = Block()
    while i < len(tokens):
        kind, content, offset = tokens[i]
        if kind == "text":
            block.nodes.append(content)
            i += 1
            continue
        if kind == "output":
            block.nodes.append(Output(_ExprParser(content, offset).filtered()))
            i += 1
            continue
        name, _, rest = content.partition(" ")
        name = name.strip()
        if name in stop:
            return block, i
        node: If | For | Assign | Capture
        if name in ("if", "unless"):
            node, i = _parse_if(tokens, i, name, rest, offset)
        elif name == "for":
            node, i = _parse_for(tokens, i, rest, offset)
        elif name == "assign":
            target, eq, expr = rest.partition("=")
            if not eq or not re.fullmatch(r"\s*[A-Za-z_]\w*\s*", target):
                raise LiquidSyntaxError("assign needs 'name = value'", offset)
            node, i = Assign(target.strip(), _ExprParser(expr, offset).filtered()), i + 1
        elif name == "capture":
            body, end = _parse_block(tokens, i + 1, ("endcapture",))
            if end >= len(tokens):
                raise LiquidSyntaxError("'{% capture %}' has no '{% endcapture %}'", offset)
            node, i = Capture(rest.strip(), body), end + 1
        else:
            raise LiquidSyntaxError(f"unknown tag '{name}'", offset)
        block.nodes.append(node)
    if stop:
        raise LiquidSyntaxError(f"missing '{{% {stop[-1]} %}}'", tokens[-1][2] if tokens else 0)
    return block, i


def _parse_if(tokens: list[tuple[str, str, int]], i: int, name: str, rest: str, offset: int) -> tuple[If, int]:
    end_tag = "end" + name
    branches: list[tuple[Any, Block]] = []
    condition: Any = _ExprParser(rest, offset).condition()
    i += 1
    while True:
        body, i = _parse_block(tokens, i, ("elsif", "else", end_tag))
        branches.append((condition, body))
        if i >= len(tokens):
            raise LiquidSyntaxError(f"'{{% {name} %}}' has no '{{% {end_tag} %}}'", offset)
        _, content, tag_offset = tokens[i]
        tag, _, tag_rest = content.partition(" ")
        i += 1
        if tag == end_tag:
            return If(branches, negate_first=name == "unless"), i
        if tag == "elsif":
            condition = _ExprParser(tag_rest, tag_offset).condition()
        else:
            body, i = _parse_block(tokens, i, (end_tag,))
            branches.append((None, body))
            if i >= len(tokens):
                raise LiquidSyntaxError(f"'{{% {name} %}}' has no '{{% {end_tag} %}}'", offset)
            return If(branches, negate_first=name == "unless"), i + 1


def _parse_for(tokens: list[tuple[str, str, int]], i: int, rest: str, offset: int) -> tuple[For, int]:
    match = _FOR.match(rest.strip())
    if match is None:
        raise LiquidSyntaxError("for needs 'item in collection'", offset)
    limit = offset_expr = None
    is_reversed = False
    for option in _FOR_OPTION.finditer(match.group(3) or ""):
        if option.group(3):
            is_reversed = True
        elif option.group(1) == "limit":
            limit = _ExprParser(option.group(2), offset).single()
        else:
            offset_expr = _ExprParser(option.group(2), offset).single()
    collection = _ExprParser(match.group(2), offset).single()
    body, i = _parse_block(tokens, i + 1, ("else", "endfor"))
    otherwise = None
    if i < len(tokens) and tokens[i][1] == "else":
        otherwise, i = _parse_block(tokens, i + 1, ("endfor",))
    if i >= len(tokens):
        raise LiquidSyntaxError("'{% for %}' has no '{% endfor %}'", offset)
    return For(match.group(1), collection, body, otherwise, limit, offset_expr, is_reversed), i + 1


# -- values and filters ----------------------------------------------------------------------

class CaseInsensitiveDict(dict[Any, Any]):
    """A dict whose string keys also match case-insensitively (headers, query parameters)."""

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        if isinstance(key, str):
            lowered = key.lower()
            for name, value in self.items():
                if isinstance(name, str) and name.lower() == lowered:
                    return value
        return default


def to_text(value: Any) -> str:
    """How a value prints in the output."""
    if value is None or isinstance(value, _Empty):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        from engine.dotnet.formatting import double_to_string

        return double_to_string(value)  # .NET: 3.0 -> "3", 1e20 -> "1E+20"
    if isinstance(value, list | tuple):
        return "".join(to_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise LiquidRenderError("a boolean is not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    text = str(value or "0").strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return 0


def _to_int(value: Any) -> int:
    number = _to_number(value)
    return int(number)


def _arith(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(value: Any, operand: Any = 0) -> Any:
        return op(_to_number(value), _to_number(operand))

    return apply


def _divided_by(value: Any, operand: Any) -> Any:
    left, right = _to_number(value), _to_number(operand)
    if right == 0:
        raise LiquidRenderError("DividedBy: division by zero")
    if isinstance(left, int) and isinstance(right, int):
        return left // right
    return left / right


def _modulo(value: Any, operand: Any) -> Any:
    right = _to_number(operand)
    if right == 0:
        raise LiquidRenderError("Modulo: division by zero")
    return _to_number(value) % right


def _round(value: Any, digits: Any = 0) -> Any:
    places = _to_int(digits)
    try:
        rounded = Decimal(str(_to_number(value))).quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_EVEN")
    except InvalidOperation:
        return value
    return int(rounded) if places == 0 else float(rounded)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return [value]
    return [value]


def _truncate(value: Any, length: Any = 50, ellipsis: Any = "...") -> str:
    text, size, tail = to_text(value), _to_int(length), to_text(ellipsis)
    if len(text) <= size:
        return text
    return text[: max(0, size - len(tail))] + tail


def _truncate_words(value: Any, words: Any = 15, ellipsis: Any = "...") -> str:
    parts = to_text(value).split()
    count = max(1, _to_int(words))
    return " ".join(parts) if len(parts) <= count else " ".join(parts[:count]) + to_text(ellipsis)


def _slice(value: Any, start: Any, length: Any = 1) -> Any:
    begin, size = _to_int(start), _to_int(length)
    sequence = value if isinstance(value, list | tuple) else to_text(value)
    if begin < 0:
        begin += len(sequence)
    return sequence[begin : begin + size]


def _sort(value: Any, key: Any = None) -> list[Any]:
    items = _as_list(value)
    if key is not None:
        return sorted(items, key=lambda item: (_member(item, key) is None, to_text(_member(item, key))))
    return sorted(items, key=lambda item: (isinstance(item, str), item if not isinstance(item, str) else item))


def _uniq(value: Any) -> list[Any]:
    seen: list[Any] = []
    for item in _as_list(value):
        if item not in seen:
            seen.append(item)
    return seen


def _date(value: Any, fmt: Any = None) -> str:
    moment = _to_datetime(value)
    if moment is None:
        return to_text(value)
    if fmt is None or to_text(fmt) == "":
        return moment.isoformat()
    return format_date(moment, to_text(fmt))


def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    text = to_text(value).strip()
    if text.lower() in ("now", "today"):
        return datetime.fromtimestamp(clock.now(), UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


_NET_DATE = re.compile(r"yyyy|yy|MMMM|MMM|MM|M|dddd|ddd|dd|d|HH|H|hh|h|mm|m|ss|s|fff|ff|f|tt|zzz|'[^']*'|\\.")


def format_date(moment: datetime, fmt: str) -> str:
    """A .NET custom date format (yyyy MM dd HH mm ss fff tt zzz ...); `%` formats use strftime."""
    if "%" in fmt:
        return moment.strftime(fmt)
    names = {
        "yyyy": f"{moment.year:04d}", "yy": f"{moment.year % 100:02d}", "MMMM": moment.strftime("%B"),
        "MMM": moment.strftime("%b"), "MM": f"{moment.month:02d}", "M": str(moment.month),
        "dddd": moment.strftime("%A"), "ddd": moment.strftime("%a"), "dd": f"{moment.day:02d}",
        "d": str(moment.day), "HH": f"{moment.hour:02d}", "H": str(moment.hour),
        "hh": f"{(moment.hour % 12) or 12:02d}", "h": str((moment.hour % 12) or 12), "mm": f"{moment.minute:02d}",
        "m": str(moment.minute), "ss": f"{moment.second:02d}", "s": str(moment.second),
        "fff": f"{moment.microsecond // 1000:03d}", "ff": f"{moment.microsecond // 10000:02d}",
        "f": str(moment.microsecond // 100000), "tt": "AM" if moment.hour < 12 else "PM",
        "zzz": moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:] if moment.utcoffset() is not None else "",
    }

    def replace(match: re.Match[str]) -> str:
        token = match.group()
        if token.startswith("'"):
            return token[1:-1]
        if token.startswith("\\"):
            return token[1:]
        return names[token]

    return _NET_DATE.sub(replace, fmt)


def _currency(value: Any) -> str:
    number = _to_number(value)
    sign = "-" if number < 0 else ""
    return f"{sign}¤{abs(number):,.2f}"


def _escape(value: Any) -> str:
    return html.escape(to_text(value), quote=True).replace("&#x27;", "&#39;")


FILTERS: dict[str, Callable[..., Any]] = {}


def _filter_key(name: str) -> str:
    return name.replace("_", "").lower()


def _register(**filters: Callable[..., Any]) -> None:
    for name, function in filters.items():
        FILTERS[_filter_key(name)] = function


_register(
    Abs=lambda v: abs(_to_number(v)),
    Append=lambda v, s="": to_text(v) + to_text(s),
    AtLeast=lambda v, n: max(_to_number(v), _to_number(n)),
    AtMost=lambda v, n: min(_to_number(v), _to_number(n)),
    Capitalize=lambda v: to_text(v)[:1].upper() + to_text(v)[1:],
    Compact=lambda v: [item for item in _as_list(v) if item is not None],
    Currency=_currency,
    Date=_date,
    Default=lambda v, d="": d if v is None or v is False or v == "" or v == [] else v,
    DividedBy=_divided_by,
    Downcase=lambda v: to_text(v).lower(),
    Escape=_escape,
    H=_escape,
    First=lambda v: (_as_list(v)[0] if _as_list(v) else None) if not isinstance(v, str) else v[:1],
    Join=lambda v, sep=" ": to_text(sep).join(to_text(item) for item in _as_list(v)),
    Last=lambda v: (_as_list(v)[-1] if _as_list(v) else None) if not isinstance(v, str) else v[-1:],
    Lstrip=lambda v: to_text(v).lstrip(),
    Map=lambda v, key: [_member(item, to_text(key)) for item in _as_list(v)],
    Minus=_arith(lambda a, b: a - b),
    Modulo=_modulo,
    NewlineToBr=lambda v: to_text(v).replace("\r\n", "\n").replace("\n", "<br />\n"),
    Plus=_arith(lambda a, b: a + b),
    Prepend=lambda v, s="": to_text(s) + to_text(v),
    Remove=lambda v, s: to_text(v).replace(to_text(s), ""),
    RemoveFirst=lambda v, s: to_text(v).replace(to_text(s), "", 1),
    Replace=lambda v, s, r="": to_text(v).replace(to_text(s), to_text(r)),
    ReplaceFirst=lambda v, s, r="": to_text(v).replace(to_text(s), to_text(r), 1),
    Round=_round,
    Rstrip=lambda v: to_text(v).rstrip(),
    Size=lambda v: len(v) if isinstance(v, list | tuple | dict | str) else 0,
    Slice=_slice,
    Sort=_sort,
    Split=lambda v, sep=" ": to_text(v).split(to_text(sep)) if to_text(sep) else list(to_text(v)),
    Strip=lambda v: to_text(v).strip(),
    StripHtml=lambda v: re.sub(r"<script.*?</script>|<style.*?</style>|<!--.*?-->|<.*?>", "", to_text(v), flags=re.S),
    StripNewlines=lambda v: re.sub(r"\r?\n", "", to_text(v)),
    Times=_arith(lambda a, b: a * b),
    Truncate=_truncate,
    TruncateWords=_truncate_words,
    Uniq=_uniq,
    Upcase=lambda v: to_text(v).upper(),
    UrlDecode=lambda v: unquote_plus(to_text(v)),
    UrlEncode=lambda v: quote_plus(to_text(v)),
    Ceil=lambda v: math.ceil(_to_number(v)),
    Floor=lambda v: math.floor(_to_number(v)),
)


def filter_names() -> Iterable[str]:
    return sorted(FILTERS)
