"""Syntax-error reports from the parser's tables against Lark's, on broken variants of documents.

    python -m tests.perf.syntax_reports [--documents samples] [--places 40]

Every `@(...)`/`@{...}` value of the XML documents under `--documents`, and variants of it cut,
with a character dropped, and with one of tests/expr/test_syntax_report.py's INSERTS put in, at
about `--places` places: prints how many variants, how many have a syntax error, and every variant
whose report (message, offset, expected tokens) differs from Lark's (the command fails then).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.expr.expression import split_expression
from engine.expr.parser import ExprSyntaxError
from tests.expr.test_syntax_report import compare
from tests.perf.bench_passes import ROOT, expressions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=ROOT / "samples")
    parser.add_argument("--places", type=int, default=40)
    args = parser.parse_args(argv)
    texts = []
    for value in expressions(args.documents, hostile=False):
        try:
            start, body, _ = split_expression(value.text)
        except ExprSyntaxError:
            continue
        texts.append((body, start))
    checked, errors, differ = compare(texts, args.places)
    for start, variant, lark, ours in differ:
        print(f"{start} {variant!r}\n  Lark:   {lark}\n  tables: {ours}")
    print(f"{len(texts)} expressions from {args.documents}: {checked} variants, {errors} with a syntax error, "
          f"{len(differ)} reports differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
