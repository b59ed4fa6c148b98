"""Cost of Dictionary/HashSet keys compared as .NET compares them (engine/dotnet/keyed.py).

Run:  python -m tests.perf.bench_keyed

Each row compiles one expression once and times its evaluation (CPU microseconds per evaluation,
best of 5), next
to the same work on Python's own dict/set, in this one run. The expressions use string and int
keys, the common case; boxed keys of other types take the same path.
"""

from __future__ import annotations

import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.dotnet.limits import LIMITS  # noqa: E402
from engine.expr.expression import compile_expression  # noqa: E402
from tests.oracle.render import empty_context  # noqa: E402

EXPRESSIONS = {
    "Dictionary<string,int>: 100 sets + 100 reads":
        '@{ var d = new Dictionary<string, int>(); for (int i = 0; i < 100; i++) { d["k" + i] = i; }'
        ' int s = 0; for (int i = 0; i < 100; i++) { s += d["k" + i]; } return s; }',
    "Dictionary<int,int>: 100 TryGetValue":
        '@{ var d = new Dictionary<int, int> { { 1, 1 }, { 2, 2 } }; int s = 0; int v;'
        ' for (int i = 0; i < 100; i++) { if (d.TryGetValue(i % 4, out v)) { s += v; } } return s; }',
    "HashSet<int>: 100 Add + 100 Contains":
        '@{ var h = new HashSet<int>(); for (int i = 0; i < 100; i++) { h.Add(i % 50); }'
        ' int n = 0; for (int i = 0; i < 100; i++) { if (h.Contains(i)) { n++; } } return n; }',
    "HashSet<string> of 100 + foreach":
        '@{ var h = new HashSet<string>(Enumerable.Range(0, 100).Select(i => "k" + i)); int n = 0;'
        ' foreach (var s in h) { n += s.Length; } return n; }',
    "ToLookup + Distinct of 100 strings":
        '@(Enumerable.Range(0, 100).Select(i => "k" + (i % 10)).ToLookup(s => s).Count'
        ' + Enumerable.Range(0, 100).Select(i => "k" + (i % 10)).Distinct().Count())',
}


def _time(fn: Callable[[], object], budget: float = 0.3) -> float:
    number = 1
    while timeit.timeit(fn, number=number, timer=time.process_time) < budget / 4 and number < 1_000_000:
        number *= 4
    return min(timeit.repeat(fn, number=number, repeat=5, timer=time.process_time)) / number * 1e6


def _python_dict() -> int:
    d: dict[str, int] = {}
    for i in range(100):
        d["k" + str(i)] = i
    return sum(d["k" + str(i)] for i in range(100))


def main() -> None:
    LIMITS.timeout = 10.0  # CPU time is measured; a busy machine must not trip the wall-time limit
    context = empty_context()
    print(f"{'row':48} {'us/eval':>9}")
    for name, text in EXPRESSIONS.items():
        compiled = compile_expression(text)
        print(f"{name:48} {_time(lambda c=compiled: c.evaluate(context)):9.1f}")
    print(f"{'(Python dict, the first row in plain Python)':48} {_time(_python_dict):9.1f}")


if __name__ == "__main__":
    main()
