"""What the `Compiler` mixins (access, operators, statements) use of the final `Compiler`.

Declarations for the type checker only: the state is created by `Compiler.__init__` and every
method is defined by `Compiler` or by one of its mixins; at run time this class is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.dotnet.clrnumeric import NumKind
    from engine.expr import ast
    from engine.expr.bind import Bindings, Constant, Local, Problem, Symbol
    from engine.expr.closures import Code, Fn
    from engine.expr.cstypes import CsType



class CompilerHost:
    """The shared state and helpers of one compilation (see `engine.expr.compile.Compiler`)."""

    if TYPE_CHECKING:
        bound: Bindings
        problems: list[Problem]
        functions: dict[str, list[Any]]
        nslots: int
        allocation_sites: int
        needs_budget: bool
        lambda_types: list[CsType]
        key_sites: list[ast.Pos]
        checked_context: bool | None
        iteration_slots: set[int]
        catch_cells: list[list[Any]]

        def error(self, code: str, message: str, pos: ast.Pos, hint: str | None = None) -> None: ...
        def _dead(self, type_: CsType = ...) -> Code: ...
        def constant(self, constant: Constant) -> Code: ...
        def _check_member_case(self, name: str, target: Code, pos: ast.Pos) -> bool: ...
        def name_of(self, obj: Any, prefix: str = "f") -> str: ...
        def source(self, code: Code) -> str: ...
        def local(self, node: ast.Node) -> Local | None: ...
        def _qualifier(self, symbol: Symbol) -> Code: ...
        def expr(self, node: ast.Expr) -> Code: ...
        def chain(self, node: ast.Expr) -> Code: ...
        def fn(self, node: ast.Expr) -> Fn: ...
        def is_boxed(self, node: ast.Expr) -> bool: ...
        def _expect_bool(self, code: Code, node: ast.Expr) -> None: ...

        @staticmethod
        def _implicit(value: Code, kind: NumKind) -> Fn: ...

        @staticmethod
        def _suggest(name: str, options: list[str]) -> str | None: ...

        @staticmethod
        def _type_used_as_value(name: str) -> Fn: ...
