"""The syntax of OData 4.0/4.01 system query options: `$filter`, `$orderby`, `$select`, `$expand`,
`$compute` and `$search` values (percent-decoded), as the OData URL Conventions' ABNF writes them.

grammar/odata.lark is the grammar; this is its hand-written recursive-descent parser, several
times faster than a generated one (it runs per request), checked against Lark's parse of the
grammar by tests/policies/test_odata_syntax.py. `syntax_problem` says what is wrong with a value
(None when it is well formed). Names are not resolved: whether `Price` is a property of the
addressed entity is the backend's to say.

Operators (`eq`, `and`, `asc`, `any`...) are keywords only where an operator may stand, so a
property may be called `desc`. As the ABNF asks, an operator is a word of its own: `Price eq5`
is an error.
"""

from __future__ import annotations

import functools
import re

OPTIONS = ("filter", "orderby", "select", "expand", "compute", "search")
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,12})?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<guid>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})(?![\w-])
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,12})?)?)
  | (?P<typed>[^\W\d]\w*(?:\.[^\W\d]\w*)*'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<json>"(?:[^"\\]|\\.)*")
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<dollar>\$[^\W\d]\w*)
  | (?P<alias>@[^\W\d]\w*)
  | (?P<name>[^\W\d]\w*(?:\.[^\W\d]\w*)*(?:\.\*)?)
  | (?P<punct>[(),/:;=*\[\]{}-])
""", re.VERBOSE)
_SEARCH_TOKEN = re.compile(r'(?P<ws>\s+)|(?P<json>"(?:[^"\\]|\\.)*")|(?P<punct>[()])|(?P<name>[^\s()"]+)')
_CMP = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "has", "in"})
_ADD = frozenset({"add", "sub"})
_MUL = frozenset({"mul", "div", "divby", "mod"})
_LITERAL_KINDS = frozenset({"datetime", "guid", "date", "time", "typed", "string", "number"})
_LITERAL_NAMES = frozenset({"null", "true", "false", "INF", "NaN"})
_DOLLAR_SEGMENTS = frozenset({"$it", "$root", "$this", "$count", "$value", "$ref"})
_END = ("end", "", 0)
_CACHED_LENGTH = 2048
MAX_NESTING = 40  # parentheses, lambdas, calls, nested options: deeper values are refused, not recursed into


class ODataSyntaxError(ValueError):
    """A value that breaks the ABNF: the message says what and where (1-based position)."""


def syntax_problem(option: str, text: str) -> str | None:
    """Why `text` is not a value of system query option `option` (one of OPTIONS, without `$`); None
    when it is well formed. Clients repeat their queries: a value seen before (of at most 2 KB, so
    the cache stays small) costs a lookup."""
    return _remembered(option, text) if len(text) <= _CACHED_LENGTH else _problem(option, text)


@functools.lru_cache(maxsize=1024)
def _remembered(option: str, text: str) -> str | None:
    return _problem(option, text)


def _problem(option: str, text: str) -> str | None:
    try:
        parser = _Parser(text, _SEARCH_TOKEN if option == "search" else _TOKEN)
        getattr(parser, option)()
        parser.expect_end()
    except ODataSyntaxError as exc:
        return str(exc)
    return None


class _Parser:
    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text):
            match = pattern.match(text, position)
            if match is None and text[position] in "'\"":
                raise ODataSyntaxError(f"the quoted string at position {position + 1} is not closed")
            if match is None:
                raise ODataSyntaxError(f"unexpected character '{text[position]}' at position {position + 1}")
            kind = match.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, match.group(), position + 1))
            position = match.end()
        self.index = 0
        self.depth = 0

    # -- tokens
    def peek(self, ahead: int = 0) -> tuple[str, str, int]:
        index = self.index + ahead
        return self.tokens[index] if index < len(self.tokens) else _END

    def next(self) -> tuple[str, str, int]:
        token = self.peek()
        self.index += 1
        return token

    def at(self, text: str, kind: str = "") -> bool:
        token = self.peek()
        return token[1] == text and token[0] != "end" and (not kind or token[0] == kind)

    def accept(self, text: str, kind: str = "") -> bool:
        if self.at(text, kind):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(f"'{text}'")

    def fail(self, expected: str) -> None:
        kind, text, position = self.peek()
        if kind == "end":
            raise ODataSyntaxError(f"the value ends early: {expected} expected")
        raise ODataSyntaxError(f"unexpected '{text}' at position {position}: {expected} expected")

    def expect_end(self) -> None:
        if self.peek()[0] != "end":
            self.fail("the end of the value")

    def operator(self, words: frozenset[str]) -> str | None:
        kind, text, _ = self.peek()
        if kind == "name" and text in words:
            self.index += 1
            return text
        return None

    def comma_list(self, item: str) -> None:
        getattr(self, item)()
        while self.accept(","):
            getattr(self, item)()

    # -- system query options
    def filter(self) -> None:
        self.expr()

    def orderby(self) -> None:
        self.comma_list("order_item")

    def select(self) -> None:
        self.comma_list("select_item")

    def expand(self) -> None:
        self.comma_list("expand_item")

    def compute(self) -> None:
        self.comma_list("compute_item")

    def search(self) -> None:
        self.search_or()

    # -- expressions (commonExpr), lowest precedence first
    def nest(self) -> None:
        """Enter one level of nesting (the parser recurses: the depth is bounded)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ODataSyntaxError(f"the value is nested more than {MAX_NESTING} levels deep")

    def expr(self) -> None:
        self.nest()
        self.and_expr()
        while self.operator(frozenset({"or"})):
            self.and_expr()
        self.depth -= 1

    def and_expr(self) -> None:
        self.not_expr()
        while self.operator(frozenset({"and"})):
            self.not_expr()

    def not_expr(self) -> None:
        while self.operator(frozenset({"not"})):
            pass
        self.cmp_expr()

    def cmp_expr(self) -> None:
        self.add_expr()
        while (word := self.operator(_CMP)) is not None:
            if word == "in":
                self.in_list()
            else:
                self.add_expr()

    def add_expr(self) -> None:
        self.mul_expr()
        while self.operator(_ADD):
            self.mul_expr()

    def mul_expr(self) -> None:
        self.unary()
        while self.operator(_MUL):
            self.unary()

    def unary(self) -> None:
        while self.accept("-", "punct"):
            pass
        self.primary()

    def primary(self) -> None:
        kind, text, _ = self.peek()
        if kind in _LITERAL_KINDS or kind == "alias" or (kind == "name" and text in _LITERAL_NAMES):
            self.index += 1
        elif self.accept("(", "punct"):
            self.expr()
            while self.accept(","):
                self.expr()
            self.expect(")")
        elif self.at("[", "punct") or self.at("{", "punct"):
            self.json_value()
        elif kind in ("name", "dollar") and not text.endswith(".*"):
            self.path()
        else:
            self.fail("a value")

    def in_list(self) -> None:
        kind, text, _ = self.peek()
        if self.accept("(", "punct"):
            if not self.accept(")"):
                self.expr()
                while self.accept(","):
                    self.expr()
                self.expect(")")
        elif self.at("[", "punct"):
            self.json_value()
        elif kind == "alias":
            self.index += 1
        elif kind in ("name", "dollar"):
            self.path()
        else:
            self.fail("a list")

    def path(self) -> None:
        """Members, navigation, casts, function and method calls, keys, lambdas: `Items/any(d:d/Price gt 5)`."""
        self.segment(first=True)
        while self.accept("/", "punct"):
            self.segment(first=False)

    def segment(self, first: bool) -> None:
        kind, text, _ = self.next()
        if kind == "dollar" and text in _DOLLAR_SEGMENTS:
            return
        if kind != "name" or text.endswith(".*"):
            self.index -= 1
            self.fail("a property, function or lambda")
        if text in ("any", "all") and not first and self.at("(", "punct"):
            self.lambda_(text)
        elif self.accept("(", "punct") and not self.accept(")"):
            self.argument()
            while self.accept(","):
                self.argument()
            self.expect(")")

    def lambda_(self, word: str) -> None:
        self.expect("(")
        if word == "any" and self.accept(")"):
            return
        kind, variable, _ = self.next()
        if kind != "name" or "." in variable:
            self.index -= 1
            self.fail("a lambda variable")
        self.expect(":")
        self.expr()
        self.expect(")")

    def argument(self) -> None:
        if self.peek()[0] == "name" and self.peek(1)[1] == "=":
            self.index += 2
        self.expr()

    def json_value(self) -> None:
        self.nest()
        self.json_item()
        self.depth -= 1

    def json_item(self) -> None:
        kind, text, _ = self.peek()
        if self.accept("[", "punct"):
            if not self.accept("]"):
                self.json_value()
                while self.accept(","):
                    self.json_value()
                self.expect("]")
        elif self.accept("{", "punct"):
            if not self.accept("}"):
                self.json_member()
                while self.accept(","):
                    self.json_member()
                self.expect("}")
        elif kind in ("json", "number") or (kind == "name" and text in ("null", "true", "false")):
            self.index += 1
        elif self.accept("-", "punct") and self.peek()[0] == "number":
            self.index += 1
        else:
            self.fail("a JSON value")

    def json_member(self) -> None:
        if self.next()[0] != "json":
            self.index -= 1
            self.fail("a member name in double quotes")
        self.expect(":")
        self.json_value()

    # -- $orderby, $select, $expand, $compute items
    def order_item(self) -> None:
        self.expr()
        self.operator(frozenset({"asc", "desc"}))

    def select_item(self) -> None:
        if self.accept("*", "punct"):
            return
        self.select_path()
        self.item_options()

    def select_path(self) -> None:
        """`Address/City`, `NS.Type/Prop`, `NS.*`; an expanded path may end in `/$ref` or `/$count`."""
        first = True
        while True:
            kind, text, _ = self.next()
            if kind == "dollar" and text in _DOLLAR_SEGMENTS and not first:
                return
            if kind != "name":
                self.index -= 1
                self.fail("a property")
            first = False
            if not self.accept("/", "punct"):
                return

    def expand_item(self) -> None:
        if self.accept("$value", "dollar"):
            return
        if self.accept("*", "punct"):
            if self.accept("/", "punct") and not (self.accept("$ref", "dollar") or self.accept("$count", "dollar")):
                self.fail("$ref or $count")
        else:
            self.select_path()
        self.item_options()

    def item_options(self) -> None:
        if self.accept("(", "punct"):
            self.nest()
            self.item_option()
            while self.accept(";"):
                self.item_option()
            self.expect(")")
            self.depth -= 1

    def item_option(self) -> None:
        kind, text, _ = self.next()
        name = text.lower().removeprefix("$") if kind in ("name", "dollar") else ""
        if not name:
            self.index -= 1
            self.fail("an option such as $filter=")
        self.expect("=")
        if name in OPTIONS:
            getattr(self, name)()
        elif name in ("top", "skip"):
            self.integer()
        elif name == "levels":
            if not self.accept("max", "name"):
                self.integer()
        elif name == "count":
            if self.next()[1].lower() not in ("true", "false"):
                self.index -= 1
                self.fail("true or false")
        else:
            self.index -= 2
            self.fail("an option ($filter, $select, $expand, $orderby, $top, $skip, $count, $search, $levels, $compute)")

    def integer(self) -> None:
        if not self.peek()[1].isdigit():
            self.fail("a non-negative integer")
        self.index += 1

    def compute_item(self) -> None:
        self.expr()
        if not self.operator(frozenset({"as"})):
            self.fail("'as'")
        if self.next()[0] != "name":
            self.index -= 1
            self.fail("the computed property's name")

    # -- $search
    def search_or(self) -> None:
        self.nest()
        self.search_and()
        while self.accept("OR", "name"):
            self.search_and()
        self.depth -= 1

    def search_and(self) -> None:
        self.search_not()
        while True:
            if self.accept("AND", "name"):
                self.search_not()
            elif self.search_starts():
                self.search_not()
            else:
                return

    def search_starts(self) -> bool:
        kind, text, _ = self.peek()
        return kind == "json" or (kind == "punct" and text == "(") or (kind not in ("end", "punct") and text != "OR")

    def search_not(self) -> None:
        while self.accept("NOT", "name"):
            pass
        kind, text, _ = self.peek()
        if self.accept("(", "punct"):
            self.search_or()
            self.expect(")")
        elif kind not in ("end", "punct") and text not in ("AND", "OR"):
            self.index += 1
        else:
            self.fail("a search term")
