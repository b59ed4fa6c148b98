"""The expression parser's own tables: plain data the LALR driver (`engine.expr.parser`) runs on.

- `actions[state][symbol]`: a shift (or a goto, for a nonterminal) to state n >= 0, or a reduction
  by `reductions[~n]` (n < 0).
- `reductions`: what each grammar rule pops and how its value is shaped, as Lark's tree builder
  would shape it (`Reduction`).
- `lexers[state]`: the contextual lexer of a state, the terminals it accepts in Lark's priority
  order indexed by first character, and the keywords its name terminal is retyped to; `root_lexer`
  the same for all terminals (the syntax-error report, `engine.expr.syntaxreport`, uses it).

They are built from the Lark grammar once (`engine.expr.lalrbuild`) and kept in the cache directory
as marshalled plain data under a key of the grammar text (`engine.expr.grammarcache`); loading them
reads no Lark object and builds no scanner lazily: only the ~100 terminal patterns are compiled.
"""

from __future__ import annotations

import functools
import marshal
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.expr.grammarcache import cache_key, cache_path, write_atomic

FORMAT = 2  # of the plain data below; part of the cache key


@dataclass(frozen=True, slots=True)
class Reduction:
    """What Lark's tree builder does for one grammar rule, precomputed from its options."""

    size: int                    # symbols popped
    origin: str                  # the nonterminal pushed
    name: str                    # the builder method: alias or rule name
    keep: tuple[tuple[int, bool, int], ...]  # (child index, splice an inlined `_rule`, Nones before it)
    nones_after: int             # placeholders for absent trailing `[optional]` parts
    inline: bool                 # `_rule` / `__x_star_n`: its children go into the parent
    pass_through: bool           # `?rule` without alias: one child is returned as is
    token_child: bool            # ... and that child is a token
    unit: bool                   # `?a: b`: value and span stay, only the state changes


@dataclass(frozen=True, slots=True)
class Lexer:
    """One state's lexer: candidate terminal ids in priority order; the first that matches wins."""

    by_char: dict[str, tuple[int, ...]]  # ASCII first characters whose candidates differ from `other`
    other: tuple[int, ...]               # candidates for any other first character
    retype: dict[str, dict[str, str]]    # terminal -> {text: keyword terminal} (Lark's "unless")


Matcher = Callable[[str, int], "re.Match[str] | None"]


@dataclass(frozen=True, slots=True)
class Tables:
    actions: tuple[dict[str, int], ...]
    reductions: tuple[Reduction, ...]
    start_states: dict[str, int]
    end_states: dict[str, int]
    terminals: tuple[str, ...]      # terminal id -> name
    matchers: tuple[Matcher, ...]   # terminal id -> its compiled pattern's `match`
    ignore: frozenset[str]          # whitespace and comments
    lexers: tuple[Lexer, ...]       # per state
    root_lexer: Lexer               # all terminals: what Lark tries where a state's lexer fails
    literals: dict[str, str]        # terminal name -> its text, for the terminals that are literal strings


def from_plain(data: dict[str, Any]) -> Tables:
    """Tables from their plain (marshalled) form: see `engine.expr.lalrbuild.plain_tables`."""
    lexers = [Lexer(by_char, other, retype) for by_char, other, retype in data["lexers"]]
    return Tables(
        tuple(data["actions"]), tuple(Reduction(*r) for r in data["reductions"]), data["start_states"],
        data["end_states"], tuple(name for name, _ in data["terminals"]),
        tuple(re.compile(source).match for _, source in data["terminals"]), frozenset(data["ignore"]),
        tuple(lexers[i] for i in data["state_lexer"]), lexers[data["root_lexer"]], data["literals"])


def plain_key() -> str:
    return cache_key(f"tables{FORMAT}")


def load_plain() -> dict[str, Any] | None:
    """The cached plain tables of the packaged grammar, or None when absent, unreadable or stale."""
    try:
        data = marshal.loads(cache_path(f"tables{FORMAT}", "tables").read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("key") != plain_key():
        return None
    return data


@functools.cache
def tables() -> Tables:
    """The parser's tables: from the cache, or built from the Lark grammar and cached."""
    data = load_plain()
    if data is None:
        from engine.expr.lalrbuild import plain_tables
        from engine.expr.larkgrammar import grammar

        data = plain_tables(grammar(), plain_key())
        encoded = marshal.dumps(data)
        write_atomic(cache_path(f"tables{FORMAT}", "tables"), lambda stream: stream.write(encoded))
    return from_plain(data)
