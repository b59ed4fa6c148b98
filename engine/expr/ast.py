"""Syntax tree of policy expressions: frozen dataclasses, every node carries its position.

`pos` is the half-open `(start, end)` character range of the node in the expression's
`ValueText.text`, so `ValueText.span_of(*node.pos)` gives the file span for a diagnostic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Pos = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TypeName:
    """A C# type as written: `string`, `int?`, `JObject`, `List<string>`, `byte[]`."""

    name: str
    args: tuple[TypeName, ...] = ()
    array: int = 0
    nullable: bool = False

    def __str__(self) -> str:
        text = self.name
        if self.args:
            text += "<" + ", ".join(str(a) for a in self.args) + ">"
        if self.nullable:
            text += "?"
        return text + "[]" * self.array

    @property
    def element(self) -> TypeName:
        return TypeName(self.name, self.args, self.array - 1, self.nullable)


class Node:
    __slots__ = ()
    pos: Pos


class Expr(Node):
    __slots__ = ()


class Stmt(Node):
    __slots__ = ()


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    value: Any
    type: str  # C# type name: string, int, long, double, decimal, float, char, bool, null
    pos: Pos


@dataclass(frozen=True, slots=True)
class Hole:
    expr: Expr
    alignment: int
    format: str | None


@dataclass(frozen=True, slots=True)
class Interpolated(Expr):
    parts: tuple[str | Hole, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Name(Expr):
    ident: str
    type_args: tuple[TypeName, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class TypeRef(Expr):
    """A predefined type keyword used as an expression (`string.Join`, `int.Parse`)."""

    type: TypeName
    pos: Pos


@dataclass(frozen=True, slots=True)
class Member(Expr):
    target: Expr
    name: str
    type_args: tuple[TypeName, ...]
    conditional: bool  # `?.`
    pos: Pos
    name_pos: Pos


@dataclass(frozen=True, slots=True)
class Index(Expr):
    target: Expr
    args: tuple[Arg, ...]
    conditional: bool  # `?[`
    pos: Pos


@dataclass(frozen=True, slots=True)
class Arg:
    value: Expr | None
    name: str | None = None  # named argument `preserveContent: true`
    out: str | None = None  # `out x` / `out var x` / `ref x`: the variable name (`ref` also has a value)
    out_type: TypeName | None = None  # declared type of `out T x` (None for `out x`)
    pos: Pos = (0, 0)


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: Expr
    args: tuple[Arg, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str
    operand: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str  # + - * / % == != < > <= >= & | ^ << >> && || ??
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    type: TypeName
    operand: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class IsType(Expr):
    operand: Expr
    type: TypeName | None  # None: `is null`
    bind: str | None  # `is T name`
    negate: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class AsType(Expr):
    operand: Expr
    type: TypeName
    pos: Pos


@dataclass(frozen=True, slots=True)
class Assign(Expr):
    op: str  # = += -= ...
    target: Expr
    value: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class IncDec(Expr):
    op: str  # ++ or --
    target: Expr
    prefix: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class Lambda(Expr):
    params: tuple[str, ...]
    body: Expr | Block
    pos: Pos


@dataclass(frozen=True, slots=True)
class Init:
    """One item of an object/collection initializer."""

    kind: str  # member | index | element | add
    name: str | None
    keys: tuple[Arg, ...]
    value: Expr | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class New(Expr):
    type: TypeName
    args: tuple[Arg, ...]
    init: tuple[Init, ...] | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class NewArray(Expr):
    element: TypeName | None  # None: `new[] { ... }`
    size: Expr | None
    items: tuple[Expr, ...] | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class NewRectangularArray(Expr):
    element: TypeName
    sizes: tuple[Expr, ...]  # `new int[2, 3]`
    pos: Pos


@dataclass(frozen=True, slots=True)
class NewAnonymous(Expr):
    members: tuple[tuple[str, Expr], ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Checked(Expr):
    """`checked(expr)` / `unchecked(expr)`: integer overflow throws / wraps inside `expr`."""

    expr: Expr
    checked: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class DefaultOf(Expr):
    """`default(T)`."""

    type: TypeName
    pos: Pos


@dataclass(frozen=True, slots=True)
class TypeOf(Expr):
    type: TypeName
    pos: Pos


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Block(Stmt):
    body: tuple[Stmt, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Declarator:
    name: str
    value: Expr | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class LocalDecl(Stmt):
    type: TypeName  # `var` is TypeName("var")
    declarators: tuple[Declarator, ...]
    pos: Pos
    const: bool = False  # `const int k = 1;`: never assigned again


@dataclass(frozen=True, slots=True)
class Deconstruct(Stmt):
    """`var (a, b) = value;`"""

    names: tuple[str, ...]
    value: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class TupleLit(Expr):
    """`(1, "a")`: a C# 7 value tuple."""

    items: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ExprStmt(Stmt):
    expr: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class If(Stmt):
    cond: Expr
    then: Stmt
    other: Stmt | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Foreach(Stmt):
    type: TypeName
    name: str
    iterable: Expr
    body: Stmt
    pos: Pos


@dataclass(frozen=True, slots=True)
class While(Stmt):
    cond: Expr
    body: Stmt
    do: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class For(Stmt):
    init: LocalDecl | tuple[Expr, ...] | None
    cond: Expr | None
    step: tuple[Expr, ...]
    body: Stmt
    pos: Pos


@dataclass(frozen=True, slots=True)
class Return(Stmt):
    value: Expr | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Jump(Stmt):
    kind: str  # break | continue
    pos: Pos


@dataclass(frozen=True, slots=True)
class Throw(Stmt):
    value: Expr | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Catch:
    type: TypeName | None
    name: str | None
    body: Block
    pos: Pos
    filter: Expr | None = None  # `catch (E e) when (cond)`


@dataclass(frozen=True, slots=True)
class Try(Stmt):
    body: Block
    catches: tuple[Catch, ...]
    final: Block | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class SwitchSection:
    labels: tuple[Expr | None, ...]  # None is `default:`
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Switch(Stmt):
    subject: Expr
    sections: tuple[SwitchSection, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class LocalFunction(Stmt):
    returns: TypeName | None  # None: void
    name: str
    params: tuple[tuple[TypeName, str, Expr | None], ...]  # (type, name, default value)
    body: Block
    pos: Pos


@dataclass(frozen=True, slots=True)
class CheckedBlock(Stmt):
    """`checked { ... }` / `unchecked { ... }`: integer overflow throws / wraps inside the block."""

    body: Block
    checked: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class Using(Stmt):
    resource: LocalDecl | Expr
    body: Block
    pos: Pos


def walk(node: Any) -> Iterator[Any]:
    """`node` and every node below it (tuples of nodes included)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if item.__class__ is tuple:
            stack.extend(item)
        elif item.__class__.__module__ == __name__ and item.__class__ is not TypeName:
            yield item
            stack.extend(getattr(item, name) for name in item.__slots__)
