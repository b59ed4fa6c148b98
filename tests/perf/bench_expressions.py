"""Per-evaluation cost of compiled policy expressions vs hand-written Python vs cel-python.

Run:  python -m tests.perf.bench_expressions      (pip install cel-python for the CEL column)

Each row is one typical APIM expression, the Python a programmer would write by hand against the
same context objects, and the equivalent CEL expression (built once; its activation is built once
outside the timing loop, which favours CEL). Prints ns per evaluation and the ratios measured side
by side in this one run.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.context import Context, Headers, Request, Url  # noqa: E402
from engine.expr import compile_expression  # noqa: E402


def make_context() -> Context:
    url = Url.parse("https://api.contoso.com/api/orders/42?page=3")
    headers = Headers([("X-Key", "k-1"), ("Authorization", "Bearer abc.def"), ("Content-Type", "application/json")])
    request = Request(method="POST", url=url, original_url=url.copy(), headers=headers)
    return Context(request=request, variables={"n": 42, "user": "bob"})


def _query(ctx: Context) -> str:
    values = ctx.request.url.query.get("page")
    return ",".join(values) if values is not None else "1"


# (label, C# expression, hand-written Python, CEL expression or None)
CASES: list[tuple[str, str, Callable[[Context], Any], str | None]] = [
    ("header with default", '@(context.Request.Headers.GetValueOrDefault("X-Key", "none"))',
     lambda c: c.request.headers.get("X-Key", "none"), '"x-key" in headers ? headers["x-key"] : "none"'),
    ("concatenate key", '@("key-" + context.Request.Method + "-" + context.Request.Url.Path)',
     lambda c: "key-" + c.request.method + "-" + c.request.url.path, '"key-" + method + "-" + path'),
    ("variable compare", '@((int)context.Variables["n"] > 10)',
     lambda c: c.variables["n"] > 10, "n > 10"),
    ("ternary", '@(context.Request.Method == "GET" ? "read" : "write")',
     lambda c: "read" if c.request.method == "GET" else "write", 'method == "GET" ? "read" : "write"'),
    ("string method", '@(context.Request.Url.Path.StartsWith("/api"))',
     lambda c: c.request.url.path.startswith("/api"), 'path.startsWith("/api")'),
    ("query parameter", '@(context.Request.Url.Query.GetValueOrDefault("page", "1"))', _query,
     '"page" in query ? query["page"] : "1"'),
    ("boolean logic", '@(context.Request.Method == "POST" && context.Request.Headers.ContainsKey("Content-Type") '
     '&& context.Variables.ContainsKey("n"))',
     lambda c: c.request.method == "POST" and "Content-Type" in c.request.headers and "n" in c.variables,
     'method == "POST" && "content-type" in headers && "n" in vars'),
    ("split bearer token", '@(context.Request.Headers.GetValueOrDefault("Authorization", "").Split(\' \')[1])',
     lambda c: c.request.headers.get("Authorization", "").split(" ")[1], None),
]


def per_call_ns(fn: Callable[[], Any], budget: float = 0.2) -> float:
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=max(1, int(number * budget / 0.2))))
    return best / max(1, int(number * budget / 0.2)) * 1e9


def cel_program(expression: str) -> tuple[Any, Any] | None:
    try:
        import celpy
    except ImportError:
        return None
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    activation = {
        "headers": celpy.json_to_cel({"x-key": "k-1", "authorization": "Bearer abc.def",
                                      "content-type": "application/json"}),
        "method": celpy.celtypes.StringType("POST"),
        "path": celpy.celtypes.StringType("/api/orders/42"),
        "n": celpy.celtypes.IntType(42),
        "query": celpy.json_to_cel({"page": "3"}),
        "vars": celpy.json_to_cel({"n": 42, "user": "bob"}),
    }
    return program, activation


def main() -> int:
    ctx = make_context()
    try:
        import celpy  # noqa: F401

        have_cel = True
    except ImportError:
        have_cel = False
        print("cel-python not installed: the CEL column is skipped (pip install cel-python)")
    header = f"{'expression':<20} {'ours ns':>9} {'hand ns':>9} {'ours/hand':>10} {'cel ns':>10} {'cel/ours':>9}"
    print(header)
    print("-" * len(header))
    ratios: list[float] = []
    speedups: list[float] = []
    for label, source, hand, cel in CASES:
        compiled = compile_expression(source)
        assert compiled.evaluate(ctx) == hand(ctx), label
        evaluate = compiled.evaluate
        ours = per_call_ns(lambda evaluate=evaluate: evaluate(ctx))
        manual = per_call_ns(lambda hand=hand: hand(ctx))
        ratios.append(ours / manual)
        cel_cell, speed_cell = "n/a", "n/a"
        if have_cel and cel is not None:
            program, activation = cel_program(cel)  # type: ignore[misc]
            cel_ns = per_call_ns(lambda p=program, a=activation: p.evaluate(a), budget=0.1)
            speedups.append(cel_ns / ours)
            cel_cell, speed_cell = f"{cel_ns:,.0f}", f"{cel_ns / ours:.0f}x"
        print(f"{label:<20} {ours:>9,.0f} {manual:>9,.0f} {ours / manual:>9.2f}x {cel_cell:>10} {speed_cell:>9}")
    print("-" * len(header))
    print(f"worst ours/hand ratio: {max(ratios):.2f}x (target <= 3x); "
          + (f"slowest CEL speed-up: {min(speedups):.0f}x (target >= 20x)" if speedups else "CEL not measured"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
