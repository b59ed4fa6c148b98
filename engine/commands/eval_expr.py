"""`policygate eval 'EXPR'`: evaluate one policy expression against a synthetic request.

The expression may be written with or without the `@( )` wrapper; `@{ ... }` blocks work too.
Prints `value (C# type)` and exits 0, or prints the located error and exits 1 (2 for bad usage).
The rest of the context (API, operation, product, subscription, user and groups, matched
parameters, variables, a response) comes from options or a `--context` file (`eval_context`).

`--file FILE` evaluates every non-empty line of FILE (lines starting with `#` are comments) as a
separate expression, each against a fresh context, and prints one line per expression: the value,
or `error: ...`. `--stats` appends the CPU time and the growth of the peak resident memory each
evaluation caused. Exit status 1 when any expression failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.commands import eval_context
from engine.context import Context, Headers, MessageBody, Request, Url
from engine.diagnostics import Diagnostic, Severity, render_text
from engine.errors import ExpressionError, PolicyLoadError
from engine.model import ValueText
from engine.source import SourceFile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", nargs="?",
                        help="C# expression, e.g. 'context.Request.Method' or '@{ return 1; }'")
    parser.add_argument("--file", metavar="FILE", help="evaluate each line of FILE as one expression")
    parser.add_argument("--stats", action="store_true", help="print CPU time and peak-memory growth per expression")
    parser.add_argument("--method", default="GET", help="request method (default GET)")
    parser.add_argument("--url", default="https://localhost/", help="request URL")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'K: V'", help="request header")
    parser.add_argument("--body", metavar="FILE", help="request body file ('-' for stdin)")
    parser.add_argument("--var", action="append", default=[], metavar="k=v",
                        help="context variable (ints, true/false and null are typed, the rest are strings)")
    eval_context.add_arguments(parser)


def _value_text(expression: str) -> ValueText:
    source = SourceFile("<expr>", expression)
    stripped = expression.strip()
    if stripped.startswith("@(") or stripped.startswith("@{"):
        return ValueText(expression, source.span(0, len(expression)), source)
    text = "@(" + expression + ")"
    n = len(expression)
    offsets = [0, 0, *range(n), n, n]
    return ValueText(text, source.span(0, n), source, offsets)


def _typed(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def build_context(args: argparse.Namespace) -> Context:
    headers = Headers()
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header must look like 'Name: value', got {line!r}")
        headers.add(name.strip(), value.strip())
    body = None
    if args.body:
        data = sys.stdin.buffer.read() if args.body == "-" else Path(args.body).read_bytes()
        body = MessageBody(data)
    variables: dict[str, Any] = {}
    for item in args.var:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--var must look like k=v, got {item!r}")
        variables[key] = _typed(value)
    url = Url.parse(args.url)
    request = Request(method=args.method.upper(), url=url, original_url=url.copy(), headers=headers, body=body,
                      ip_address="127.0.0.1")
    return eval_context.build_context(args, request, variables)


def describe(value: Any) -> str:
    """`value (C# type)` as printed by the command."""
    from engine.dotnet.conversions import to_string
    from engine.dotnet.primitives import dotnet_type_name
    from engine.expr.contexttypes import MODEL_TYPES

    model = MODEL_TYPES.get(type(value))
    type_name = model.name if model is not None else dotnet_type_name(value)
    if value is None:
        return "null (null)"
    if model is not None:
        to_text = model.members.get("ToString")
        text = to_text.impl(value) if to_text is not None else type_name
        return f"{text} ({type_name})"
    return f"{to_string(value)} ({type_name})"


def run(args: argparse.Namespace) -> int:
    from engine.expr import compile_expression

    if (args.expression is None) == (args.file is None):
        print("policygate eval: give one expression or --file FILE", file=sys.stderr)
        return 2
    try:
        ctx = build_context(args)
        if args.file is not None:
            lines = Path(args.file).read_text(encoding="utf-8").splitlines()
    except (ValueError, OSError) as exc:
        print(f"policygate eval: {exc}", file=sys.stderr)
        return 2
    if args.file is not None:
        return _run_batch(args, lines)
    value = _value_text(args.expression)
    try:
        compiled = compile_expression(value)
    except PolicyLoadError as exc:
        for diag in exc.diagnostics:
            print(render_text(diag, value.source), file=sys.stderr)
        return 1
    try:
        result = compiled.evaluate(ctx)
    except ExpressionError as exc:
        span = exc.span or value.span
        diag = Diagnostic(exc.code, Severity.ERROR, exc.detail, span)
        print(render_text(diag, value.source), file=sys.stderr)
        return 1
    print(describe(result))
    return 0


def _run_batch(args: argparse.Namespace, lines: list[str]) -> int:
    """One line of output per expression of the file (errors on one line, without source excerpts)."""
    import resource
    import time

    from engine.expr import compile_expression

    compile_expression("@(0)")  # load the grammar and the library first: stats are per expression
    failed = False
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        value = _value_text(line)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.process_time()
        try:
            text = describe(compile_expression(value).evaluate(build_context(args)))
        except PolicyLoadError as exc:
            failed, text = True, "error: " + "; ".join(f"[{d.code}] {d.message}" for d in exc.diagnostics)
        except ExpressionError as exc:
            failed, text = True, f"error: [{exc.code}] {exc.detail}"
        if args.stats:
            cpu = (time.process_time() - started) * 1000
            grown = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
            text += f"  [cpu {cpu:.1f} ms, peak +{grown:.1f} MiB]"
        print(f"{number}: {text}", flush=True)
    return 1 if failed else 0
