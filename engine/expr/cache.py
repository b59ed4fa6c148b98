"""Compile each distinct expression once per configuration.

A configuration composes the same documents into many pipelines (every operation x product), and
validation checks every expression before the pipelines are built. `ExpressionCache` makes all of
them share one compilation: the analysis (parse, check, emit closures) of a valid expression text
is kept by text — it does not depend on where the text is — and the `CompiledExpression` of one
occurrence (its file position decides runtime error locations) by (file, offset, text, result type).
Invalid expressions are not kept: each occurrence reports its own located diagnostics.
"""

from __future__ import annotations

from typing import Any

from engine.diagnostics import Diagnostic, Diagnostics
from engine.errors import PolicyLoadError
from engine.expr.compile import Compiler
from engine.expr.expression import CompiledExpression, analyse
from engine.model import ValueText
from engine.schema import AttrType

_Key = tuple[str, int, str, AttrType | None]


class ExpressionCache:
    """One configuration's compiled expressions; `parses`/`compilations` count the work done."""

    def __init__(self) -> None:
        self._analysed: dict[str, tuple[Compiler, Any]] = {}
        self._compiled: dict[_Key, CompiledExpression] = {}
        self.parses = 0  # analyses run: distinct expression texts (plus every invalid occurrence)
        self.compilations = 0  # CompiledExpressions made: distinct (occurrence, result type) pairs

    def check(self, value: ValueText, diagnostics: Diagnostics) -> None:
        """Lint an expression (compiling it once for the pipelines that will use it)."""
        problems: list[Diagnostic] = []
        self._analyse(value, problems)
        diagnostics.extend(problems)

    def compile(self, value: ValueText, *, result: AttrType | None = None) -> CompiledExpression:
        """The compiled expression of this occurrence; raises PolicyLoadError when it is invalid."""
        key = (value.source.path, value.file_offset(0), value.text, result)
        compiled = self._compiled.get(key)
        if compiled is None:
            problems: list[Diagnostic] = []
            analysed = self._analyse(value, problems)
            if analysed is None:
                raise PolicyLoadError(problems)
            compiler, fn = analysed
            compiled = self._compiled[key] = CompiledExpression(value, fn, compiler, result)
            self.compilations += 1
        return compiled

    def _analyse(self, value: ValueText, problems: list[Diagnostic]) -> tuple[Compiler, Any] | None:
        analysed = self._analysed.get(value.text)
        if analysed is not None:
            return analysed
        compiler, fn, found = analyse(value)
        self.parses += 1
        if found or compiler is None:
            problems.extend(found)
            return None
        analysed = self._analysed[value.text] = (compiler, fn)
        return analysed
