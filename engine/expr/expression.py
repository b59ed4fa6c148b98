"""Compile a policy expression value (`@(...)` or `@{...}`) into a `CompiledExpression`."""

from __future__ import annotations

import logging
from typing import Any

from engine.diagnostics import Diagnostic, Diagnostics, Severity
from engine.dotnet.errors import DotNetException, KeyNotFoundException, NullReferenceException, from_python
from engine.dotnet.limits import ResourceLimitExceeded, enter, leave
from engine.errors import ExpressionError, PolicyLoadError, SecurityError
from engine.expr import ast
from engine.expr.bind import Bindings, Problem, bind
from engine.expr.build import build
from engine.expr.closures import raised_at
from engine.expr.compile import Compiler
from engine.expr.library import warm_up
from engine.expr.parser import ExprSyntaxError
from engine.expr.runtime import Budget, LimitExceeded, ShortCircuit
from engine.model import ValueText
from engine.schema import AttrType
from engine.source import SourceFile, Span

log = logging.getLogger("policygate.expressions")

MAX_SOURCE = 100_000  # characters in one expression
# expressions with more calls/`new`/interpolations than this are metered (time + volume of large
# values) even without loops; fewer sites can build at most this many limit-sized values
MAX_UNMETERED_SITES = 8


def as_value_text(value: ValueText | str, file: str = "<expr>") -> ValueText:
    if isinstance(value, ValueText):
        return value
    source = SourceFile(file, value)
    return ValueText(value, source.span(0, len(value)), source)


def split_expression(text: str) -> tuple[str, str, int]:
    """(start symbol, body, offset of the body) of `@(...)` / `@{...}`; raise ExprSyntaxError."""
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    opener = text[start:start + 2]
    closer = {"@(": ")", "@{": "}"}.get(opener)
    if closer is None:
        raise ExprSyntaxError("a policy expression starts with '@(' or '@{'", start)
    if end - start < 3 or text[end - 1] != closer:
        raise ExprSyntaxError(f"the expression must end with '{closer}'", max(end - 1, start))
    return ("expression" if closer == ")" else "block"), text[start + 2:end - 1], start + 2


def bind_expression(value: ValueText) -> tuple[ast.Expr | ast.Block | None, Bindings | None, list[Diagnostic]]:
    """Parse and bind (what lint runs): the tree, the bind pass's tables and the diagnostics in
    source order; (None, None, diagnostics) when the text does not parse."""
    if len(value.text) > MAX_SOURCE:
        message = f"the expression is {len(value.text)} characters long; the limit is {MAX_SOURCE}"
        return None, None, [Diagnostic("expr-security", Severity.ERROR, message, value.span_of(0, 1))]
    warm_up()
    try:
        start, body, base = split_expression(value.text)
        tree = build(body, start, base)
        bound = bind(tree)
    except ExprSyntaxError as exc:
        span = value.span_of(exc.offset, exc.offset + 1)
        return None, None, [Diagnostic("expr-syntax", Severity.ERROR, exc.message, span, exc.hint)]
    except RecursionError:
        return None, None, [_too_deep(value)]
    return tree, bound, _diagnostics(value, bound.problems)


def analyse(value: ValueText) -> tuple[Compiler | None, Any, list[Diagnostic]]:
    """Parse, bind and emit; return (compiler, compiled closure or None, diagnostics in source order)."""
    tree, bound, problems = bind_expression(value)
    if tree is None or bound is None:
        return None, None, problems
    return emit_expression(value, tree, bound)


def emit_expression(value: ValueText, tree: ast.Expr | ast.Block, bound: Bindings
                    ) -> tuple[Compiler | None, Any, list[Diagnostic]]:
    """The emit pass over a bound tree: (compiler, closure, bind's and emit's diagnostics in source order)."""
    compiler = Compiler(bound)
    try:
        if isinstance(tree, ast.Block):
            fn = compiler.compile_block(tree)
        else:
            root = compiler.compile_expression(tree)
            fn = root.fn
            compiler.root = root
    except RecursionError:
        return None, None, [_too_deep(value)]
    # (emit reports only where the bind pass left a value untyped: see docs/contributing.md)
    return compiler, fn, _diagnostics(value, bound.problems + compiler.problems)


def _diagnostics(value: ValueText, found: list[Problem]) -> list[Diagnostic]:
    return [Diagnostic(code, Severity.ERROR, message, value.span_of(*pos), hint)
            for code, message, pos, hint in sorted(found, key=lambda problem: problem[2][0])]  # in source order


def _too_deep(value: ValueText) -> Diagnostic:
    return Diagnostic("expr-security", Severity.ERROR, "the expression is nested too deeply", value.span_of(0, 1))


class CompiledExpression:
    """A compiled policy expression. `evaluate(ctx)` runs it; errors carry the file span."""

    __slots__ = ("source", "uses_body", "evaluate", "_value")

    def __init__(self, value: ValueText, fn: Any, compiler: Compiler, result: AttrType | None) -> None:
        self.source = value.text
        self.uses_body = compiler.uses_body
        self._value = value
        self.evaluate = self._evaluator(fn, compiler, result)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"

    def span(self) -> Span:
        return self._value.span

    def _evaluator(self, fn: Any, compiler: Compiler, result: AttrType | None) -> Any:
        """`evaluate(ctx)`: run the expression against a request context; raise ExpressionError.

        Specialised once: a plain expression becomes one generated function (see
        `Compiler.generated_evaluator`), otherwise one list and one closure call.
        """
        nslots, block = compiler.nslots - 3, compiler.is_block
        budget = compiler.needs_budget or compiler.allocation_sites > MAX_UNMETERED_SITES
        error = self._error
        coerce = result.coerce if result is not None else None
        root = compiler.root
        if root is not None and nslots == 0 and not budget and not block:
            generated = compiler.generated_evaluator(root, error, coerce)
            if generated is not None:
                return generated
        if nslots == 0 and not budget and coerce is None and not block:

            def evaluate(ctx: Any) -> Any:
                try:
                    return fn([ctx])
                except ShortCircuit:
                    return None
                except Exception as exc:
                    raise error(exc) from None

            return evaluate
        slots = [None] * nslots
        if budget:

            def evaluate_metered(ctx: Any) -> Any:
                meter = Budget()
                previous = enter(meter)
                try:
                    value = fn([ctx, None, meter, *slots])
                    return coerce(value) if coerce is not None else value
                except ShortCircuit:
                    return None
                except Exception as exc:
                    raise error(exc) from None
                finally:
                    leave(previous)

            return evaluate_metered

        def evaluate_full(ctx: Any) -> Any:
            try:
                value = fn([ctx, None, None, *slots])
                return coerce(value) if coerce is not None else value
            except ShortCircuit:
                return None
            except Exception as exc:
                raise error(exc) from None

        return evaluate_full

    def _error(self, exc: BaseException) -> ExpressionError:
        pos = raised_at(exc)
        if isinstance(exc, AttributeError):  # a null inside a fused context path (`context.Api.Name`)
            exc = NullReferenceException()
        elif type(exc) is KeyError:  # `context.Variables["x"]` in generated code
            key = exc.args[0] if exc.args else ""
            exc = KeyNotFoundException(f"The given key '{key}' was not present in the dictionary.")
        span = self._value.span_of(*pos) if pos is not None else self._value.span
        if isinstance(exc, ExpressionError):
            if exc.span is None:
                return type(exc)(exc.detail, span) if isinstance(exc, SecurityError) else ExpressionError(
                    exc.detail, span, code=exc.code)
            return exc
        if isinstance(exc, DotNetException):
            name = exc.dotnet_name.rsplit(".", 1)[-1]
            return ExpressionError(f"{name}: {exc.Message}", span)
        if isinstance(exc, ResourceLimitExceeded):
            return LimitExceeded(str(exc), span)
        if isinstance(exc, RecursionError):
            return SecurityError("the expression nests too deeply", span)
        if isinstance(exc, MemoryError):
            return SecurityError("the expression ran out of memory", span)
        if isinstance(exc, ValueError) and pos is None:
            return ExpressionError(f"the result is not valid here: {exc}", span)
        log.debug("expression at %s raised a Python exception", span, exc_info=exc)
        dotnet = from_python(exc)
        return ExpressionError(f"{dotnet.dotnet_name.rsplit('.', 1)[-1]}: {dotnet.Message}", span)


def compile_expression(value: ValueText | str, *, result: AttrType | None = None) -> CompiledExpression:
    """Compile `@(...)`/`@{...}`; raise PolicyLoadError with every diagnostic when it is invalid."""
    text = as_value_text(value)
    compiler, fn, problems = analyse(text)
    if problems or compiler is None:
        raise PolicyLoadError(problems)
    return CompiledExpression(text, fn, compiler, result)


def check_expression(value: ValueText | str, diagnostics: Diagnostics) -> None:
    """Lint: add every syntax, name, member, arity, type and security finding to `diagnostics`.
    Parse and bind only: the bind pass makes every finding (no closures are built)."""
    _, _, problems = bind_expression(as_value_text(value))
    diagnostics.extend(problems)
