"""Compile each distinct expression once per configuration.

A configuration composes the same documents into many pipelines (every operation x product), and
validation checks every expression before the pipelines are built. `ExpressionCache` makes all of
them share one analysis: the parse and bind pass of a valid expression text (what validation and
lint run) and its emit pass (closures, run once, when a pipeline first compiles it) are kept by
text — they do not depend on where the text is — and the `CompiledExpression` of one occurrence
(its file position decides runtime error locations) by (file, offset, text, result type).
Invalid expressions are not kept: each occurrence reports its own located diagnostics.
"""

from __future__ import annotations

from typing import Any

from engine.diagnostics import Diagnostic, Diagnostics
from engine.errors import PolicyLoadError
from engine.expr import ast
from engine.expr.bind import Bindings
from engine.expr.compile import Compiler
from engine.expr.expression import CompiledExpression, bind_expression, emit_expression
from engine.model import ValueText
from engine.schema import AttrType

_Key = tuple[str, int, str, AttrType | None]


class ExpressionCache:
    """One configuration's compiled expressions; `parses`/`compilations` count the work done."""

    def __init__(self) -> None:
        self._bound: dict[str, tuple[ast.Expr | ast.Block, Bindings]] = {}
        self._emitted: dict[str, tuple[Compiler, Any]] = {}
        self._compiled: dict[_Key, CompiledExpression] = {}
        self.parses = 0  # parse + bind runs: distinct expression texts (plus every invalid occurrence)
        self.compilations = 0  # CompiledExpressions made: distinct (occurrence, result type) pairs

    def check(self, value: ValueText, diagnostics: Diagnostics) -> None:
        """Lint an expression: parse and bind, once per text (kept for the pipelines that compile it)."""
        problems: list[Diagnostic] = []
        self._bind(value, problems)
        diagnostics.extend(problems)

    def compile(self, value: ValueText, *, result: AttrType | None = None) -> CompiledExpression:
        """The compiled expression of this occurrence; raises PolicyLoadError when it is invalid."""
        key = (value.source.path, value.file_offset(0), value.text, result)
        compiled = self._compiled.get(key)
        if compiled is None:
            problems: list[Diagnostic] = []
            emitted = self._emit(value, problems)
            if emitted is None:
                raise PolicyLoadError(problems)
            compiler, fn = emitted
            compiled = self._compiled[key] = CompiledExpression(value, fn, compiler, result)
            self.compilations += 1
        return compiled

    def _bind(self, value: ValueText, problems: list[Diagnostic]) -> tuple[ast.Expr | ast.Block, Bindings] | None:
        bound = self._bound.get(value.text)
        if bound is not None:
            return bound
        tree, bindings, found = bind_expression(value)
        self.parses += 1
        if found or tree is None or bindings is None:
            problems.extend(found)
            return None
        bound = self._bound[value.text] = (tree, bindings)
        return bound

    def _emit(self, value: ValueText, problems: list[Diagnostic]) -> tuple[Compiler, Any] | None:
        emitted = self._emitted.get(value.text)
        if emitted is not None:
            return emitted
        bound = self._bind(value, problems)
        if bound is None:
            return None
        compiler, fn, found = emit_expression(value, *bound)
        if found or compiler is None:  # (a finding of emit's own: the text is not kept)
            del self._bound[value.text]
            problems.extend(found)
            return None
        emitted = self._emitted[value.text] = (compiler, fn)
        return emitted
