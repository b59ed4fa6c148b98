"""Lint entry point: check an expression without keeping the compiled code.

Name/member/arity/type resolution happens in the single pass of `engine.expr.compile.Compiler`
(one source of truth for what compiles and what lint reports); this module is the lint-facing API.
"""

from __future__ import annotations

from engine.expr.expression import check_expression

__all__ = ["check_expression"]
