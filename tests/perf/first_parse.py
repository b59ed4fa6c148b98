"""Process start-up + the first parse of a set of expressions, in fresh processes.

    python -m tests.perf.first_parse [--documents samples] [--rounds 5]

Collects every `@(...)`/`@{...}` value of the XML documents under `--documents`, then starts
`--rounds` fresh Python processes that each import the parser, parse every valid expression once
(the first parse in a process: tables, lexers and caches are met for the first time), then every
invalid one (their reports: the first loads Lark), then all of them again. Prints the best CPU time
of each step and of the whole process (interpreter start included); the parser cache in the user's
cache directory is warmed first, as on any start after the first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from engine.expr.build import build
from engine.expr.expression import split_expression
from engine.expr.parser import ExprSyntaxError
from tests.perf.bench_passes import ROOT, expressions

CHILD = """
import json, sys, time
started = time.process_time()
from engine.expr.build import build
from engine.expr.expression import split_expression
from engine.expr.parser import ExprSyntaxError
imported = time.process_time()
valid, invalid = json.load(open(sys.argv[1]))
def parse_all(texts):
    for text in texts:
        try:
            start, body, base = split_expression(text)
            build(body, start, base)
        except ExprSyntaxError:
            pass
parse_all(valid)
first = time.process_time()
parse_all(invalid)
reports = time.process_time()
parse_all(valid + invalid)
second = time.process_time()
print(json.dumps([imported - started, first - imported, reports - first, second - reports]))
"""
STEPS = ("import the parser", "first parse, valid", "first parse, invalid", "second parse of all")


def parses(text: str) -> bool:
    try:
        start, body, base = split_expression(text)
        build(body, start, base)
    except ExprSyntaxError:
        return False
    return True


def child_run(path: str) -> tuple[list[float], float]:
    """One fresh process: the CPU seconds of its STEPS and its total CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", CHILD, path], cwd=ROOT, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(out), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=Path, default=ROOT / "samples")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    texts = [value.text for value in expressions(args.documents, hostile=False)]
    valid = [text for text in texts if parses(text)]
    invalid = [text for text in texts if text not in valid]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as stream:
        json.dump([valid, invalid], stream)
    try:
        child_run(stream.name)  # warms the parser cache (and the OS file cache)
        runs = [child_run(stream.name) for _ in range(args.rounds)]
    finally:
        os.unlink(stream.name)
    best = [min(run[0][i] for run in runs) for i in range(len(STEPS))]
    print(f"{len(valid)} valid + {len(invalid)} invalid expressions from {args.documents}, CPU ms, "
          f"best of {args.rounds} fresh processes:")
    for label, seconds in zip(STEPS, best, strict=True):
        print(f"  {label:<22}{seconds * 1e3:8.1f}")
    print(f"  {'whole process':<22}{min(total for _, total in runs) * 1e3:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
