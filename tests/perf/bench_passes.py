"""Time of each pass of the expression compiler, per expression (what lint and start-up pay).

Run:  python -m tests.perf.bench_passes [--rounds 20]

Expressions: every `@(...)`/`@{...}` value of the documents under samples/ (loaded as the gateway
loads them) and the hostile expressions of tests/expr/hostile_expressions.txt. Prints the CPU time
per expression of parse (text -> ast), bind and emit (closures, with the emitter's type checks),
and of `check_expression` (what lint runs: parse + bind), the best of `--rounds` rounds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.expr import ast, check_expression
from engine.expr.bind import bind
from engine.expr.build import build
from engine.expr.compile import Compiler
from engine.expr.expression import as_value_text, split_expression
from engine.expr.parser import ExprSyntaxError
from engine.model import PolicyElement, ValueText

ROOT = Path(__file__).resolve().parents[2]


def expressions(documents: Path = ROOT / "samples", *, hostile: bool = True) -> list[ValueText]:
    """Every expression value of the XML documents under `documents` (+ the hostile expressions)."""
    found: list[ValueText] = []

    def walk(element: PolicyElement) -> None:
        values = [*element.attributes.values(), *([element.text] if element.text is not None else [])]
        found.extend(v for v in values if v.text.strip().startswith(("@(", "@{")))
        for child in element.children:
            walk(child)

    for path in sorted(documents.rglob("*.xml")):
        document = load_document(str(path), diagnostics=Diagnostics())
        if document is not None:
            walk(document.root)
    for line in (ROOT / "tests/expr/hostile_expressions.txt").read_text().splitlines():
        if hostile and line.strip() and not line.startswith("#"):
            found.append(as_value_text(line.strip() if line.strip().startswith("@") else f"@({line.strip()})"))
    return found


def parse(value: ValueText) -> ast.Expr | ast.Block | None:
    try:
        start, body, base = split_expression(value.text)
        tree: ast.Expr | ast.Block = build(body, start, base)
        return tree
    except ExprSyntaxError:
        return None


def emit(tree: ast.Expr | ast.Block) -> None:
    compiler = Compiler(bind(tree))
    if isinstance(tree, ast.Block):
        compiler.compile_block(tree)
    else:
        compiler.compile_expression(tree)


def best(rounds: int, items: list[Any], work: Callable[[Any], Any]) -> float:
    """Best CPU seconds per item over `rounds` passes over `items`."""
    fastest = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for item in items:
            work(item)
        fastest = min(fastest, time.process_time() - started)
    return fastest / max(len(items), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    values = expressions()
    trees = [t for t in (parse(v) for v in values) if t is not None]
    for value in values:  # warm: grammar, runtime library
        check_expression(value, Diagnostics())
    parsing = best(args.rounds, values, parse)
    binding = best(args.rounds, trees, bind)
    emitting = best(args.rounds, trees, emit) - binding
    lint = best(args.rounds, values, lambda v: check_expression(v, Diagnostics()))
    print(f"{len(values)} expressions ({len(trees)} parse), CPU time per expression, best of {args.rounds}:")
    for label, seconds in (("parse", parsing), ("bind", binding), ("emit", emitting), ("lint (parse+bind)", lint)):
        print(f"  {label:<17}{seconds * 1e6:8.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
