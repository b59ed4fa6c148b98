"""Compile and type-check every policy expression of the reference corpus; print coverage.

Usage: python scripts/expr_corpus.py [CORPUS_DIR] [-v]

Reads ../shared/corpus (relative to the repository) when present. Each `@(...)` / `@{...}` is
found with a small scanner that understands C# string and char literals, XML entities are
decoded, named values `{{name}}` are replaced by the literal `1` (APIM substitutes them before
parsing; the corpus has no values), and the text goes through `engine.expr.check_expression`.
Prints every failure with its first diagnostic, then the count and percentage that compile and
type-check cleanly. Exit status: 0 when at least 97% pass, 1 otherwise, 2 without a corpus.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.diagnostics import Diagnostics  # noqa: E402
from engine.expr import check_expression  # noqa: E402

OPEN = {"(": ")", "{": "}"}


def _skip_literal(text: str, i: int) -> int:
    """Return the index after the C# string/char literal starting at `i` (or i+1)."""
    verbatim = text.startswith('@"', i) or text.startswith('$@"', i) or text.startswith('@$"', i)
    quote_at = text.index('"', i) if verbatim or text.startswith('$"', i) else i
    quote = text[quote_at]
    j = quote_at + 1
    depth = 0
    while j < len(text):
        ch = text[j]
        if verbatim and ch == '"' and text.startswith('""', j):
            j += 2
            continue
        if not verbatim and ch == "\\":
            j += 2
            continue
        if text[i] == "$" or text[i:i + 2] in ('@$', '$@'):
            if ch == "{" and not text.startswith("{{", j):
                depth += 1
            elif ch == "}" and depth:
                depth -= 1
            elif ch == '"' and depth:
                j = _skip_literal(text, j)
                continue
        if ch == quote and depth == 0:
            return j + 1
        j += 1
    return j


def extract(text: str) -> list[tuple[int, str]]:
    """(line, expression text) for every `@(...)` / `@{...}` in a raw policy document."""
    found: list[tuple[int, str]] = []
    i = 0
    while True:
        i = text.find("@", i)
        if i < 0 or i + 1 >= len(text):
            return found
        if text[i + 1] not in OPEN:
            i += 1
            continue
        stack = [OPEN[text[i + 1]]]
        j = i + 2
        while j < len(text) and stack:
            ch = text[j]
            if ch == '"' or (ch in "@$" and text[j + 1:j + 2] in ('"', '@', '$')):
                j = _skip_literal(text, j)
                continue
            if ch == "'" and j + 2 < len(text) and (text[j + 2] == "'" or text[j + 1] == "\\"):
                j = text.index("'", j + 2 if text[j + 1] != "\\" else j + 3) + 1
                continue
            if ch == "/" and text.startswith("//", j):
                j = text.find("\n", j)
                j = len(text) if j < 0 else j
                continue
            if ch in OPEN:
                stack.append(OPEN[ch])
            elif stack and ch == stack[-1]:
                stack.pop()
            j += 1
        raw = html.unescape(text[i:j])
        # named values are substituted before expressions are parsed (APIM does the same); the
        # corpus has no values for them, so a neutral literal stands in
        raw = re.sub(r"\{\{[A-Za-z0-9_.\-]+\}\}", "1", raw)
        found.append((text.count("\n", 0, i) + 1, raw))
        i = j


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if not a.startswith("-")]
    corpus = Path(args[0]) if args else REPO.parent / "shared" / "corpus"
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}")
        return 2
    total = ok = 0
    failures: list[str] = []
    for path in sorted(corpus.glob("*.xml")):
        for line, expr in extract(path.read_text(encoding="utf-8")):
            total += 1
            diags = Diagnostics()
            check_expression(expr, diags)
            errors = [d for d in diags if d.is_error]
            if not errors:
                ok += 1
                continue
            first = errors[0]
            where = f"{path.name}:{line}"
            snippet = expr if verbose else expr[:160].replace("\n", " ")
            failures.append(f"{where}: [{first.code}] {first.message}\n    {snippet}")
    for failure in failures:
        print(failure)
    pct = 100.0 * ok / total if total else 0.0
    print(f"\n{ok}/{total} expressions compile and type-check ({pct:.1f}%), {len(failures)} failures")
    return 0 if pct >= 97.0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
