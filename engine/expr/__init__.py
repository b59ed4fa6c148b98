"""Policy expressions: the C# subset of APIM `@(...)` / `@{...}` compiled to Python closures.

Public API:
    compile_expression(value, *, result=None) -> CompiledExpression   (raises PolicyLoadError)
    CompiledExpression.evaluate(ctx) -> object                          (raises ExpressionError)
    CompiledExpression.uses_body / .source
    check_expression(value, diagnostics) -> None                        (lint)
    is_expression(text) -> bool
"""

from __future__ import annotations

from engine.expr.expression import CompiledExpression, check_expression, compile_expression
from engine.expr.runtime import LIMITS, Limits


def is_expression(text: str) -> bool:
    """True when the whole value is an expression (`@(...)` or `@{...}`)."""
    stripped = text.strip()
    return stripped.startswith("@(") or stripped.startswith("@{")


__all__ = ["LIMITS", "CompiledExpression", "Limits", "check_expression", "compile_expression", "is_expression"]
