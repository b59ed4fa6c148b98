"""The bind pass: the names, scopes and written types of one parsed expression, before emit.

`bind(tree)` walks the `ast` once, in the order the emitter compiles it, and records in `Bindings`
(side tables keyed by node identity; the tree itself is never changed):

* every local variable (declarations, `out var`, `is T x`, lambda and local-function parameters,
  `foreach` and `catch` variables) as a `Local` with its slot in `env`, and each local
  function's slot range;
* what every simple name denotes (`Symbol`): a local, `context`, a local function, `Equals`/
  `ReferenceEquals` of `object`, a type (with the class holding its statics) or a namespace
  prefix, also for qualified names (`System.Text.Encoding`); and the members of types: static
  properties, constants and enum members (`Encoding.UTF8`, `StringComparison.Ordinal`) and
  static methods (`Convert.ToBase64String`);
* every written type resolved to its `CsType` (casts, `as`, `default`, declarations, arrays,
  local functions' results, type arguments), what `new T(...)` creates and with which factory,
  and the exception class each `catch` clause takes;
* member names the allow-list refuses (`x.__class__`, `GetType`) and written types that do not
  exist (`(Foo)x`, `new Foo()`, `default(Foo)`): the emitter compiles those nodes to nothing;
* constant expressions (`Constant`: type and value): literals, and numeric `-x`, `+x`, `~x` and
  binary operators on constants, folded as csc folds them (in `checked`/`unchecked` context, with
  the implicit constant conversions and `-2147483648`); overflow and division by zero in a folded
  expression are diagnostics here;
* the static type of every expression it can type (`value_types`, `Bindings.type_of`): the
  `context` surface and what its members return, constants, typed locals, lambda parameters and
  `foreach` variables (the element type of the receiver or sequence), static properties and calls,
  local functions' results, casts, `as`, `is`, `new`, arrays, anonymous types, interpolations,
  assignments, `++`/`--` and operators on typed operands;
* what every member, call and indexer of a typed value denotes (`resolved`: `engine.expr.resolve`),
  with arities and type arguments checked, which operands are statically `object` (`boxed`), and
  which static methods are used as delegates (`method_groups`: in an argument or a `Func`/`Action`/
  `Predicate` declaration; elsewhere a method without `()` is an error);
* the diagnostics of all of the above (unknown names and members, security, duplicate
  declarations, constant folding, arities, conditions that are not bool, void values).

It raises nothing. Lint runs this pass and no other (`check_expression`). Where it leaves a value
untyped (`None`: a value it cannot know yet, such as a `var` of such a value) the emitter
(`engine.expr.compile.Compiler`) types it with the same functions, and reports what it finds there.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.dotnet import clrnumeric
from engine.dotnet.clrnumeric import NumKind
from engine.dotnet.containers import RectangularArray, Tuple
from engine.dotnet.conversions import to_string
from engine.dotnet.errors import DivideByZeroException, DotNetException, OverflowException
from engine.dotnet.primitives import Char, static_property
from engine.expr import ast
from engine.expr.closures import anonymous_type
from engine.expr.contexttypes import CONTEXT as CONTEXT_TYPE
from engine.expr.contexttypes import HEADERS, INTERFACES, MATCHED, MODEL_TYPES, QUERY, VARIABLES
from engine.expr.cstypes import (
    BOOL,
    DOUBLE,
    DYNAMIC,
    INT,
    NULL,
    NUMERIC_TYPES,
    PRIMITIVES,
    STRING,
    STRING_ARRAY,
    SYSTEM_TYPE,
    VOID,
    CsType,
    Member,
    is_value_type,
    library_type,
    nullable_inner,
    numeric_kind,
)
from engine.expr.library import (
    CS_IDENT,
    DECLARED_PROPERTY_ONLY,
    FORBIDDEN,
    declared_property,
    defined_by_library,
    lib,
    py_name,
    strip_namespace,
)
from engine.expr.names import (
    is_enum_member,
    is_namespace_prefix,
    known_type_names,
    resolve_type_name,
    static_attr,
    static_property_type,
    static_type,
    value_type,
)
from engine.expr.overloads import ENUM, Argument, overload_result, overloads, resolve_overload
from engine.expr.resolve import (
    MEMBER_CASE_HINT,
    Resolved,
    Shape,
    arity_problem,
    index_result,
    member_case_problem,
    static_result,
    suggest,
    value_method,
    value_property,
)
from engine.expr.tables import _EXTRA_TYPE_NAMES, _GENERIC_COLLECTIONS, _VALUE_DEFAULTS

Problem = tuple[str, str, ast.Pos, str | None]  # (code, message, position, hint)
FIRST_SLOT = 3  # env: [context, return value, budget, locals...]
OBJECT_STATICS = frozenset({"Equals", "ReferenceEquals"})
# `default(T)` of the library's structs: the all-zero value
_STRUCT_DEFAULTS = {"DateTime": "MinValue", "DateTimeOffset": "MinValue", "TimeSpan": "Zero", "Guid": "Empty"}


@dataclass
class Local:
    """A local variable: its slot in `env`; the emitter refines `type` and `boxed` as it compiles
    the declaration (`var x = ...` takes the value's type)."""

    slot: int
    type: CsType
    boxed: bool = False  # declared `object` (or `var` of an `object` value): C# operators refuse it
    known: bool = True  # False: a `var`, lambda or `out var` local whose type the bind pass could not give
    const: bool = False  # a `const` local: assigning it is an error


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a name denotes. `kind`: local | context | function | object | type | namespace |
    static (a static property, field or constant of `holder`, Python name `name`) | method | error."""

    kind: str
    name: str
    local: Local | None = None
    holder: Any = None  # kind "type": the class holding the statics (None: an interface, casts only)
    member: Any = None  # kind "method": the static method of `holder`


@dataclass(frozen=True, slots=True)
class Constant:
    """A constant expression: its static type and value (None: folding failed, already reported)."""

    type: CsType
    value: Any
    failed: bool = False


def literal_constant(node: ast.Literal) -> Constant:
    """The type and (boxed) value of a literal: `1` an int, `1L` a long, `'a'` a char..."""
    type_ = PRIMITIVES.get(node.type, DYNAMIC)
    value = node.value
    if type_.kind is not None and value is not None:
        value = type_.kind.box(value)
    return Constant(type_, value)


def unary_kind(op: str, kind: NumKind) -> NumKind | None:
    """The result kind of `-x`, `+x` or `~x` on a numeric operand (None: C# defines no such operator)."""
    if op == "-":
        return clrnumeric.negate_kind(kind)
    if op == "~":
        return clrnumeric.unary_promote(kind) if kind.integral else None
    return clrnumeric.unary_promote(kind)


# operators C# does not define on `object` operands (`+` is string concatenation when a side is a string)
OBJECT_REFUSED = frozenset({"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "<", ">", "<=", ">="})


def is_collection(type_: CsType) -> bool:
    """Arrays, lists, dictionaries and sets: C# defines no arithmetic operators on them."""
    return type_.pyclass in (list, dict, set, bytes, bytearray)


def binary_type(op: str, left: CsType, right: CsType, *, boxed: tuple[bool, bool] = (False, False),
                constants: tuple[Constant | None, Constant | None] = (None, None)) -> CsType:
    """The static type of `a op b` (not folded): numeric promotion (with the implicit constant
    conversions), string concatenation, comparisons; DYNAMIC where C# has no such operator."""
    if op in ("&&", "||"):
        return BOOL
    if op == "??":
        return coalesce_type(left, right, constants[1])
    concatenation = op == "+" and STRING in (left, right)
    if op in OBJECT_REFUSED and (boxed[0] or boxed[1]) and not concatenation:
        return DYNAMIC
    if op in clrnumeric.OPERATORS and (is_collection(left) or is_collection(right)) and not concatenation:
        return DYNAMIC
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return BOOL
    lk, rk = left.kind, right.kind
    if lk is not None and rk is not None and op in clrnumeric.OPERATORS:
        if op not in clrnumeric.SHIFTS:
            lk, rk = _converted(constants[0], lk, rk), _converted(constants[1], rk, lk)
        kind = clrnumeric.result_kind(op, lk, rk)
        if kind is None or clrnumeric.operation(op, lk, rk, checked=False) is None:
            return DYNAMIC
        return NUMERIC_TYPES[kind]
    if concatenation:
        other = right if left is STRING else left
        if isinstance(other.pyclass, type) and defined_by_library(other.pyclass, "__add__") is not None:
            return DYNAMIC  # a library operator: `ns + "local"` is an XName
        return STRING
    if left is BOOL and right is BOOL and op in ("&", "|", "^"):
        return BOOL
    return DYNAMIC


def binary_problems(op: str, left: CsType, right: CsType, *, boxed: tuple[bool, bool] = (False, False),
                    constants: tuple[Constant | None, Constant | None] = (None, None)) -> list[tuple[str, str | None]]:
    """The `expr-type` findings (message, hint) of `a op b` (not folded) on operands of these types."""
    concatenation = op == "+" and STRING in (left, right)
    if op in ("&&", "||"):  # `1 && 2`: C# has no truthiness
        refused = [t for t in (left, right) if t is STRING or numeric_kind(t) is not None]
        return [(f"operator '{op}' cannot be applied to operands of type '{left.name}' and '{right.name}'",
                 None)] if refused else []
    if op in OBJECT_REFUSED and (boxed[0] or boxed[1]) and not concatenation:
        names = ["object" if boxed[0] else left.name, "object" if boxed[1] else right.name]
        return [(f"operator '{op}' cannot be applied to operands of type '{names[0]}' and '{names[1]}'",
                 "cast the value first, e.g. (int)x")]
    message = f"operator '{op}' cannot be applied to operands of type '{left.name}' and '{right.name}'"
    if op in clrnumeric.OPERATORS and (is_collection(left) or is_collection(right)) and not concatenation:
        return [(message, None)]
    if op in ("==", "!=") and boxed[0] and boxed[1]:
        return []
    if left.kind is not None and right.kind is not None and op in clrnumeric.OPERATORS:
        return [] if binary_type(op, left, right, constants=constants) is not DYNAMIC else [(message, None)]
    found: list[tuple[str, str | None]] = []
    if op in ("-", "*", "/", "%") and (STRING in (left, right) or BOOL in (left, right)) or \
            op in ("<<", ">>", "&", "|", "^") and STRING in (left, right):
        found.append((message, None))
    elif BOOL in (left, right) and _refuses_bool(op, left, right) and not concatenation:  # `b + 1`, `n & true`
        found.append((message, None))
    if op in ("<", ">", "<=", ">=") and STRING in (left, right):
        found.append((f"operator '{op}' cannot be applied to operands of type 'string'",
                      "use string.Compare(a, b) or a.CompareTo(b)"))
    return found


def _refuses_bool(op: str, left: CsType, right: CsType) -> bool:
    """C# defines no `+`, shift or ordering operator on `bool`, and `&`, `|`, `^`, `==`, `!=` only
    between two bools (`b + 1`, `"a".Length & true`); an `object` other side is left to run time."""
    other = right if left is BOOL else left
    if other is DYNAMIC or other is NULL:
        return False
    if op in ("&", "|", "^", "==", "!="):
        return other is not BOOL and (other.kind is not None or other is STRING)
    return op in ("+", "<<", ">>", "<", ">", "<=", ">=")


def unary_problems(op: str, operand: CsType, *, boxed: bool = False) -> list[str]:
    """The `expr-type` findings of `!x`, `-x`, `+x`, `~x` (not folded) on an operand of this type."""
    if op == "!":
        return [] if operand in (BOOL, DYNAMIC) else [
            f"operator '!' cannot be applied to an operand of type '{operand.name}'"]
    if boxed:
        return [f"operator '{op}' cannot be applied to an operand of type 'object'"]
    if operand.kind is not None and unary_kind(op, operand.kind) is None or operand in (STRING, BOOL) \
            or is_collection(operand):  # `-"a".Trim()`, `-true`
        return [f"operator '{op}' cannot be applied to an operand of type '{operand.name}'"]
    return []


def unary_type(op: str, operand: CsType, *, boxed: bool = False) -> CsType:
    """The static type of `!x`, `-x`, `+x`, `~x` (not folded); DYNAMIC where C# has no such operator."""
    if op == "!":
        return BOOL
    if boxed:
        return DYNAMIC
    if operand.kind is not None:
        kind = unary_kind(op, operand.kind)
        return NUMERIC_TYPES[kind] if kind is not None else DYNAMIC
    return operand


def conditional_problem(then: CsType, other: CsType, constants: tuple[Constant | None, Constant | None]
                        ) -> str | None:
    """C# 7's error for `c ? a : b` when neither branch converts to the other's type (`c ? 1 : "a"`,
    `c ? 1 : null`, `c ? 1m : 2.0`); None where there is a conversion or the bind pass cannot tell."""
    def converts(source: CsType, target: CsType, constant: Constant | None) -> bool | None:
        if source is NULL:
            return not (is_value_type(target) and nullable_inner(target) is None)
        return False if target is NULL else implicit_conversion(source, target, constant)

    simple = (BOOL, STRING, NULL)
    if not all(t in simple or numeric_kind(t) is not None for t in (then, other)) or then is other:
        return None
    if converts(then, other, constants[0]) is not False or converts(other, then, constants[1]) is not False:
        return None
    names = ["<null>" if t is NULL else t.name for t in (then, other)]
    return (f"type of conditional expression cannot be determined because there is no implicit conversion "
            f"between '{names[0]}' and '{names[1]}'")


def conditional_type(then: CsType, other: CsType) -> CsType:
    """The type of `c ? a : b`: the wider of two numeric types, the non-null branch's, or DYNAMIC."""
    tk, ok = then.kind, other.kind
    if tk is not None and ok is not None and tk is not ok:  # `b ? 1 : 2.5` is a double
        target = ok if clrnumeric.widens(tk, ok) else tk if clrnumeric.widens(ok, tk) else None
        if target is not None:
            return NUMERIC_TYPES[target]
    return then if then is other or other is NULL else other if then is NULL else DYNAMIC


def coalesce_type(left: CsType, right: CsType, constant: Constant | None = None) -> CsType:
    """The type of `a ?? b` (C# spec, the null coalescing operator): `A0` when `a` is an `A0?` and `b`
    converts to `A0` (`long? n; n ?? 7` is a long), else `A` when `b` converts to it, else `b`'s type
    when `A0` converts to it (`int? n; n ?? 2.5` is a double)."""
    if left is NULL:
        return right
    inner = nullable_inner(left)
    if inner is not None and implicit_conversion(right, inner, constant):
        return inner
    if right is NULL or implicit_conversion(right, left, constant) is not False:
        return left
    if inner is not None and inner.kind is not None and right.kind is not None and \
            clrnumeric.widens(inner.kind, right.kind):
        return right
    return left


def best_common_type(types: list[CsType]) -> CsType:
    """The element type of `new[] { a, b }`: the one item type every other converts to (`new[] { 1, 2.5 }`
    is a double[], `new[] { "a", null }` a string[]); the first item's type where C# finds none."""
    typed = [t for t in types if t is not NULL] or types
    kinds = {t.kind for t in typed}
    if None not in kinds and len(kinds) > 1:
        for kind in kinds:
            if kind is not None and all(k is kind or k is not None and clrnumeric.widens(k, kind) for k in kinds):
                return NUMERIC_TYPES[kind]
    return typed[0]


def _converted(constant: Constant | None, kind: NumKind, other: NumKind) -> NumKind:
    return constant_conversion(constant, kind, other) if constant is not None else kind


def constant_conversion(constant: Constant, kind: NumKind, other: NumKind) -> NumKind:
    """C# implicit constant conversion: a non-negative `int`/`long` constant beside a `uint`/`ulong`
    operand takes the unsigned type (`u + 1` is a `uint`, `1 + 1UL` a `ulong`)."""
    value = constant.value
    if other not in (clrnumeric.UINT32, clrnumeric.UINT64) or kind not in (
            clrnumeric.INT32, clrnumeric.INT64) or not isinstance(value, int):
        return kind
    return other if other.lo <= value <= other.hi and (other is clrnumeric.UINT64 or kind is clrnumeric.INT32) \
        else kind


# methods of a collection of T (lists, sets, arrays, stacks, queues, LINQ sequences) whose argument
# at this position is a T: C# converts it to T at compile time (`new List<long> { 1 }.Contains(1)`)
ELEMENT_PARAMETERS = {"Add": 0, "Contains": 0, "IndexOf": 0, "LastIndexOf": 0, "Remove": 0, "Insert": 1, "Push": 0,
                      "Enqueue": 0, "BinarySearch": 0}


DICTIONARY_PARAMETERS = {"Add": ("key", "value"), "ContainsKey": ("key",), "ContainsValue": ("value",),
                         "Remove": ("key",), "TryGetValue": ("key",), "GetValueOrDefault": ("key", "value")}


def implicit_conversion(source: CsType, target: CsType, constant: Constant | None = None) -> bool | None:
    """Whether C# converts a value of type `source` to `target` implicitly (numeric widening and the
    implicit constant conversions: `byte b = 1`); None where the bind pass cannot tell (class types)."""
    if source is target:
        return True
    if (inner := nullable_inner(target)) is not None and source.kind is not None:
        return implicit_conversion(source, inner, constant)  # `long? n = 1`
    if nullable_inner(source) is not None and (target.kind is not None or target is BOOL):
        return False  # `int m = n` of an `int? n`: only an explicit cast unwraps it
    if target.kind is not None:
        if source.kind is not None:
            return clrnumeric.widens(source.kind, target.kind) or _fits_constant(constant, target.kind)
        return False if source in (STRING, BOOL) else None
    if target in (STRING, BOOL) and (source.kind is not None or source in (STRING, BOOL)):
        return False
    if source.kind is not None or source in (STRING, BOOL):
        return _scalar_to_library(source, target)
    return None


def _scalar_to_library(source: CsType, target: CsType) -> bool | None:
    """A number, string or bool stored in a library type (`DateTime d = "2024-01-01"`, `JObject o = 5`):
    only through that type's implicit conversion (`XName n = "a"`, `JToken t = 5`)."""
    cls = target.pyclass
    if not isinstance(cls, type) or not cls.__module__.startswith("engine.dotnet") or issubclass(cls, enum.Enum):
        return None  # (an enum takes the constant 0)
    if source is STRING and hasattr(cls, "from_string"):
        return True
    return None if vars(cls).get("implicit_from_scalars", False) else False


def _fits_constant(constant: Constant | None, kind: NumKind) -> bool:
    """An `int` constant in the range of sbyte, byte, short, ushort, uint or ulong, or a non-negative
    `long` constant for a ulong, converts implicitly."""
    if constant is None or constant.failed or not isinstance(constant.value, int) or constant.type.kind is None:
        return False
    source, value = constant.type.kind, constant.value
    if source is clrnumeric.INT32 and kind in (clrnumeric.SBYTE, clrnumeric.BYTE, clrnumeric.INT16, clrnumeric.UINT16,
                                               clrnumeric.UINT32, clrnumeric.UINT64):
        return kind.lo <= value <= kind.hi
    return source is clrnumeric.INT64 and kind is clrnumeric.UINT64 and value >= 0


@functools.lru_cache(maxsize=256)
def _constant_targets(kind: NumKind, value: int) -> frozenset[CsType]:
    """The numeric types an integer constant of type `kind` converts to implicitly besides widening."""
    constant = Constant(NUMERIC_TYPES[kind], value)
    return frozenset(t for t in NUMERIC_TYPES.values() if t.kind is not None and _fits_constant(constant, t.kind))


def _conversion_message(source: CsType, target: CsType, position: int | str) -> str:
    """`position`: an argument's number, "initializer" (an item of a collection initializer) or "assignment"."""
    if position == "assignment":
        return f"cannot implicitly convert type '{source.name}' to '{target.name}'"
    if position == "initializer":
        return f"cannot convert from '{source.name}' to '{target.name}' in a collection initializer"
    return f"argument {position}: cannot convert from '{source.name}' to '{target.name}'"


def element_type(receiver: CsType) -> CsType | None:
    """T of a collection of T whose methods take T (not a string's char, nor a dictionary's pair)."""
    if receiver.element is None or receiver.element is DYNAMIC:
        return None
    if receiver.pyclass in (list, set) or receiver.pyclass in (lib("containers", "Stack"), lib("containers", "Queue")):
        return receiver.element
    return None


ERROR = Symbol("error", "")
CONTEXT = Symbol("context", "context")


class Bindings:
    """The bind pass's result for one expression: side tables keyed by `id(node)`, and problems."""

    def __init__(self) -> None:
        self.symbols: dict[int, Symbol] = {}  # Name / Member / TypeRef nodes
        self.locals: dict[tuple[int, int], Local] = {}  # (declaring node or out Arg, index) -> Local
        self.function_slots: dict[int, tuple[int, int]] = {}  # LocalFunction -> [first, last) slots
        self.types: dict[int, CsType] = {}  # the type written at a node (a cast's, a declaration's...)
        self.type_args: dict[int, tuple[CsType, ...]] = {}  # Member nodes called with `<T, ...>`
        self.creations: dict[int, tuple[Callable[..., Any], CsType]] = {}  # New -> (factory, created type)
        self.exceptions: dict[int, type] = {}  # Catch -> the exception class it takes
        self.constants: dict[int, Constant] = {}  # constant expressions (literals, folded operators)
        self.value_types: dict[int, CsType] = {}  # expressions typed by the bind pass: `context` paths
        self.members: dict[int, Member | None] = {}  # Member / Index node -> the declared member (None: an error)
        self.resolved: dict[int, Resolved] = {}  # Member node (of a typed value) -> what it denotes
        self.refused: set[int] = set()  # Member / Init nodes whose member name is not accessible
        self.unknown_types: set[int] = set()  # nodes whose written type does not exist
        self.boxed: set[int] = set()  # expressions of static type `object` (C# refuses their operators)
        self.checked: set[int] = set()  # assignments / deconstructions whose findings bind reported
        self.method_groups: set[int] = set()  # static method names used as delegates (`list.Any(string.IsNullOrEmpty)`)
        self.conversions: dict[int, NumKind] = {}  # values C# converts to a collection's element type T
        # Lambda -> (parameter types, result type or None) of the `Func`/`Action`/`Predicate` it is declared as
        self.signatures: dict[int, tuple[tuple[CsType, ...], CsType | None]] = {}
        self.problems: list[Problem] = []
        self.nslots = FIRST_SLOT

    def symbol(self, node: ast.Node) -> Symbol:
        return self.symbols.get(id(node), ERROR)

    def local(self, node: Any, index: int = 0) -> Local:
        """The local declared by `node` (its `index`-th name), or referenced by an `out x` Arg."""
        return self.locals[(id(node), index)]

    def known_type(self, node: ast.Node) -> bool:
        return id(node) not in self.unknown_types

    def constant(self, node: ast.Node) -> Constant | None:
        return self.constants.get(id(node))

    def type_of(self, node: ast.Node) -> CsType | None:
        """The static type of an expression the bind pass typed (None: the emitter types it)."""
        constant = self.constants.get(id(node))  # (a folded `-x` keeps its constant's type: `-2147483648`)
        return constant.type if constant is not None else self.value_types.get(id(node))

    def shape(self, func: ast.Member | None, args: tuple[ast.Arg, ...]) -> Shape:
        """How `func` is called: type arguments, positional (`ref x` too), named and `out` arguments."""
        positional = named = outs = 0
        for arg in args:
            if arg.out is not None:
                if (id(arg), 0) in self.locals:  # (an unknown `out x` is reported and left out)
                    outs += 1
                    positional += arg.value is not None
            elif arg.name is not None:
                named += 1
            else:
                positional += 1
        return Shape(len(func.type_args) if func is not None else 0, positional, named, outs)


def delegate_signature(t: ast.TypeName) -> tuple[tuple[CsType, ...], CsType | None] | None:
    """(parameter types, result type) of `Func<T..., TResult>`, `Action<T...>` (no result) and
    `Predicate<T>` (bool); None for other types."""
    name = strip_namespace(t.name)
    if t.array or t.nullable or name not in ("Func", "Action", "Predicate"):
        return None
    types = tuple(resolve_type_name(a) for a in t.args)
    if name == "Func":
        return (types[:-1], types[-1]) if types else None
    return (types, BOOL if name == "Predicate" else None)


def _no_explicit_conversion(source: CsType, target: CsType) -> bool:
    """True for a cast C# has no conversion for between a number (or char), a string and a bool
    (`(int)"5"`, `(string)5`, `(bool)1`)."""
    def group(t: CsType) -> str | None:
        return "string" if t is STRING else "bool" if t is BOOL else "number" if numeric_kind(t) is not None else None

    a, b = group(source), group(target)
    return a is not None and b is not None and a != b


def _exception_class(t: ast.TypeName | None) -> type:
    """The class a `catch (T e)` clause takes (any .NET exception for `Exception` or no type)."""
    if t is None or t.name in ("Exception", "System.Exception"):
        return DotNetException
    found = lib("registry", "runtime_class")
    klass = found(t.name) if found is not None else None
    if klass is None:
        klass = lib("errors", strip_namespace(t.name))
    return klass if isinstance(klass, type) and issubclass(klass, DotNetException) else DotNetException


def pattern_assignments(cond: ast.Expr) -> tuple[set[int], set[int], set[int]]:
    """The `is T x` tests of a condition joined by `&&`, `||` and `!`, as ids: (those whose variable is
    definitely assigned when the condition is true, ... when it is false, all of them)."""
    if isinstance(cond, ast.IsType) and cond.bind is not None and not cond.negate:
        return {id(cond)}, set(), {id(cond)}
    if isinstance(cond, ast.Unary) and cond.op == "!":
        when_true, when_false, tests = pattern_assignments(cond.operand)
        return when_false, when_true, tests
    if isinstance(cond, ast.Binary) and cond.op in ("&&", "||"):
        lt, lf, ltests = pattern_assignments(cond.left)
        rt, rf, rtests = pattern_assignments(cond.right)
        if cond.op == "&&":  # false: the left is false, or the left is true and the right false
            return lt | rt, lf & (lt | rf), ltests | rtests
        return lt & (lf | rt), lf | rf, ltests | rtests
    return set(), set(), set()


def _is_context_variables(node: ast.Expr) -> bool:
    return (isinstance(node, ast.Member) and node.name == "Variables" and isinstance(node.target, ast.Name)
            and node.target.ident == "context")


def _is_boxed_variable(node: ast.Call) -> bool:
    """`context.Variables.GetValueOrDefault("x")`: a C# `object` value."""
    func = node.func
    if not isinstance(func, ast.Member) or func.name != "GetValueOrDefault" or func.type_args or \
            not _is_context_variables(func.target):
        return False
    # with a default value, C# infers T from it (`GetValueOrDefault("n", 0)` is an int): not boxed
    default = node.args[1].value if len(node.args) > 1 else None
    return default is None or isinstance(default, ast.Literal) and default.type == "null"


def is_string_typed(node: ast.Expr | None) -> bool:
    """A literal `null` or a `(string)` cast: C# binds it to a `string` overload."""
    if isinstance(node, ast.Literal):
        return node.type in ("null", "string")
    return isinstance(node, ast.Cast) and str(node.type) in ("string", "String", "System.String")


def bind(tree: ast.Expr | ast.Block) -> Bindings:
    """Run the bind pass over an expression (`@(...)`) or a block (`@{...}`)."""
    binder = _Binder()
    if isinstance(tree, ast.Block):
        binder.block(tree.body, new_scope=False)
    else:
        binder.expr(tree)
        if binder.bound.type_of(tree) is VOID:  # `@(list.Add(1))`: C# has no value to give
            binder.error("expr-type", "the expression has no value (it calls a void method)", tree.pos)
    return binder.bound


class _Binder:
    def __init__(self) -> None:
        self.bound = Bindings()
        self.scopes: list[dict[str, Local]] = [{}]
        self.functions: set[str] = set()  # local functions: visible in the whole expression once declared
        self.checked_context: bool | None = None  # checked(...): True, unchecked(...): False, else None
        self.lambda_types: list[CsType | None] = []  # element types of the receivers whose lambdas are bound (None: unknown)
        self.function_types: dict[str, CsType] = {}  # local functions' result types
        self.delegates: set[int] = set()  # Member nodes where a method group is a value: arguments, delegate initializers
        self.jumps: list[str] = []  # enclosing `loop`s and `switch`es of the statement being bound (`break`/`continue`)
        self.catches = 0  # enclosing catch blocks (`throw;`)
        # locals declared without a value and not assigned yet, in source order (C#'s definite assignment,
        # approximated so that it never refuses what C# accepts: a branch's assignment counts for the rest)
        self.unassigned: set[int] = set()
        self.unordered = 0  # > 0 where source order is not run order (local functions, a for's steps, do-while)

    # ------------------------------------------------------------------ diagnostics, scopes
    def error(self, code: str, message: str, pos: ast.Pos, hint: str | None = None) -> None:
        self.bound.problems.append((code, message, pos, hint))

    def check_name(self, name: str, pos: ast.Pos) -> bool:
        """Python's private names and the reflection/IO surface are never reachable."""
        if name.startswith("_") or "__" in name or name in FORBIDDEN:
            self.error("expr-security", f"'{name}' is not accessible from policy expressions", pos)
            return False
        return True

    def known_type(self, t: ast.TypeName, pos: ast.Pos) -> bool:
        base = strip_namespace(t.name)
        if t.name == "var" or base in PRIMITIVES or base in INTERFACES or static_type(base) is not None:
            return all(self.known_type(a, pos) for a in t.args)
        if base in _GENERIC_COLLECTIONS or base in _EXTRA_TYPE_NAMES:
            return all(self.known_type(a, pos) for a in t.args)
        if base in FORBIDDEN or base.startswith("_"):
            self.error("expr-security", f"the type '{t.name}' is not accessible from policy expressions", pos)
            return False
        self.error("expr-unknown-name", f"the type '{t.name}' is not available in policy expressions", pos,
                   suggest(base, known_type_names()))
        return False

    def check_type(self, node: ast.Node, t: ast.TypeName) -> bool:
        """Check the type written at `node` and record its CsType (DYNAMIC when it is unknown)."""
        self.bound.types[id(node)] = resolve_type_name(t)
        if self.known_type(t, node.pos):
            return True
        self.bound.unknown_types.add(id(node))
        return False

    def lookup(self, name: str) -> Local | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def declare(self, key: Any, index: int, name: str, type_: CsType, pos: ast.Pos, *, known: bool = True) -> Local:
        if name in self.scopes[-1]:
            self.error("expr-type", f"a local variable named '{name}' is already defined in this scope", pos)
        local = self.scopes[-1][name] = self.bound.locals[(id(key), index)] = Local(
            self.bound.nslots, type_, known=known)
        self.bound.nslots += 1
        return local

    def resolved(self, node: ast.Node, symbol: Symbol) -> Symbol:
        self.bound.symbols[id(node)] = symbol
        return symbol

    # ------------------------------------------------------------------ expressions
    def expr(self, node: ast.Expr | None) -> Symbol | None:
        """Bind `node`; for a name of a type or namespace, return its symbol (a qualifier)."""
        if node is None:
            return None
        method = getattr(self, "b_" + type(node).__name__, None)
        return method(node) if method is not None else None

    def exprs(self, nodes: tuple[ast.Expr, ...] | list[ast.Expr] | None) -> None:
        for node in nodes or ():
            self.expr(node)

    def b_Name(self, node: ast.Name) -> Symbol:
        name = node.ident
        local = self.lookup(name)
        if local is not None:
            self.read(local, name, node.pos)
            if local.known:  # `IResponse r = ...; r.StatusCode`: typed when declared (`object o`: DYNAMIC)
                self.bound.value_types[id(node)] = local.type
            if local.boxed:
                self.bound.boxed.add(id(node))
            return self.resolved(node, Symbol("local", name, local))
        if name == "context":
            self.bound.value_types[id(node)] = CONTEXT_TYPE
            return self.resolved(node, CONTEXT)
        if name in self.functions:  # a local function as a delegate: `items.Count(IsEven)`
            return self.resolved(node, Symbol("function", name))
        if not self.check_name(name, node.pos):
            return self.resolved(node, ERROR)
        qualifier = self.qualifier(name)
        if qualifier is not None:
            return self.resolved(node, qualifier)
        options = [n for scope in self.scopes for n in scope] + ["context"] + known_type_names()
        self.error("expr-unknown-name", f"the name '{name}' does not exist in the current context", node.pos,
                   suggest(name, options))
        return self.resolved(node, ERROR)

    def read(self, local: Local, name: str, pos: ast.Pos) -> None:
        """A local's value is used: C# requires it to be assigned before (CS0165)."""
        if id(local) in self.unassigned and not self.unordered:
            self.error("expr-type", f"use of unassigned local variable '{name}'", pos)
            self.unassigned.discard(id(local))  # (reported once)

    @staticmethod
    def qualifier(name: str) -> Symbol | None:
        """A type (`Convert`, `IResponse`) or a namespace prefix (`System.Text`), or None."""
        static = static_type(name)
        if static is not None or name in INTERFACES:
            return Symbol("type", name, holder=static)
        if is_namespace_prefix(name):
            return Symbol("namespace", name)
        return None

    def b_TypeRef(self, node: ast.TypeRef) -> Symbol:
        return self.resolved(node, Symbol("type", node.type.name, holder=static_type(node.type.name)))

    def b_Member(self, node: ast.Member) -> Symbol | None:
        if node.name in DECLARED_PROPERTY_ONLY:  # `token.Type`: only where a library class declares it
            self.declared_only(node, self.expr(node.target))
            return None
        if not self.check_name(node.name, node.name_pos):
            self.bound.refused.add(id(node))
            return None
        target = self.expr(node.target)
        if target is None or target.kind not in ("type", "namespace"):
            self.value_member(node)
            return None
        if not self.member_case(target, node.name, node.name_pos):
            return self.resolved(node, ERROR)
        if target.holder is None:  # `System.Text`, `IResponse`: only a longer name can follow
            full = f"{target.name}.{node.name}"
            qualifier = self.qualifier(full)
            if qualifier is None:
                self.error("expr-unknown-name", f"the type or namespace '{full}' is not available", node.pos)
                return self.resolved(node, ERROR)
            return self.resolved(node, qualifier)
        holder = target.holder
        name = py_name(holder, node.name)
        if not CS_IDENT.match(name.rstrip("_")) or not hasattr(holder, name):
            self.error("expr-unknown-member", f"'{target.name}' has no member '{name}'", node.name_pos,
                       suggest(name, [n for n in dir(holder) if CS_IDENT.match(n)]))
            return self.resolved(node, ERROR)
        self.resolved(node, Symbol("static", name, holder=holder))
        if isinstance(static_attr(holder, name), static_property | property):
            self.bound.value_types[id(node)] = static_property_type(holder, name)
            return None
        value = getattr(holder, name)
        if not callable(value) or isinstance(value, type) or is_enum_member(value) or hasattr(
                type(value), "dotnet_name"):  # not a method (StringComparer.Ordinal is a callable object)
            self.bound.constants[id(node)] = Constant(value_type(value), value)
        elif id(node) in self.delegates:  # `list.Any(string.IsNullOrEmpty)`: a method group as a delegate
            self.bound.method_groups.add(id(node))
            self.bound.value_types[id(node)] = DYNAMIC
        else:
            self.error("expr-type", f"'{target.name}.{name}' is a method: call it with ()", node.name_pos)
        return None  # a value, not a qualifier

    def value_member(self, node: ast.Member) -> None:
        """A member of a value whose type the bind pass knows (`context.Request.Url.Host`,
        `"abc".Length`): what it denotes (`resolve.value_property`), its type and its findings."""
        ttype = self.bound.type_of(node.target)
        if ttype is not None and self.value_case(node, ttype):
            self.resolve(node, node, value_property(ttype, node.name))

    def declared_only(self, node: ast.Member, target: Symbol | None) -> None:
        """`token.Type`: a property only where a library class declares it (never of a type)."""
        ttype = self.bound.type_of(node.target)
        static = target is not None and target.kind in ("type", "namespace")
        if not static and ttype is None:
            return  # the emitter decides it
        if static or not (ttype is DYNAMIC or declared_property(ttype.pyclass if ttype else None, node.name)):
            self.error("expr-security", f"'{node.name}' is not accessible from policy expressions", node.name_pos)
            self.resolve(node, node, Resolved("error"))
        elif ttype is not None:
            self.resolve(node, node, value_property(ttype, node.name))

    def static_arity(self, node: ast.Call, func: ast.Member) -> None:
        """The arity of a static method call (`Enum.TryParse` counts the `TEnum` it infers from its
        `out` variable); left to the emitter where that variable's type is not known here."""
        symbol = self.bound.symbol(func)
        only = node.args[0].value if len(node.args) == 1 else None
        if symbol.kind != "method" or func.name == "ToString" and symbol.holder is lib(
                "systemconvert", "Convert") and only is not None and is_string_typed(only):
            return
        type_args = len(func.type_args)
        if not type_args and func.name == "TryParse" and symbol.holder is lib("enums", "Enum"):
            out = next((a for a in node.args if a.out is not None), None)
            if out is not None and out.out_type is None:
                local = self.bound.locals.get((id(out), 0))
                if local is not None and local.type is DYNAMIC:
                    return  # its type may be the emitter's
                type_args = int(local is not None)
            elif out is not None:
                type_args = 1
        shape = self.bound.shape(func, node.args)
        target = self.bound.symbol(func.target) if isinstance(func.target, ast.Name | ast.Member | ast.TypeRef) else ERROR
        arity = arity_problem(symbol.member, 0, type_args + shape.positional, f"{target.name}.{func.name}", shape)
        if arity is not None:
            self.error("expr-arity", arity, func.name_pos)
        self.bound.checked.add(id(node))

    def value_call(self, node: ast.Call, func: ast.Member) -> None:
        """A method of a value whose type the bind pass knows (`context.Variables.GetValueOrDefault<int>
        ("n")`, `s.Substring(1)`): what it denotes (`resolve.value_method`, arity and type arguments
        checked), the call's result type and the findings."""
        ttype = self.bound.type_of(func.target)
        if ttype is not None and self.value_case(func, ttype):
            shape = self.bound.shape(func, node.args)
            self.resolve(func, node, value_method(ttype, func.name, shape, self.bound.type_args.get(id(func), ())))
            self.element_arguments(ttype, func.name, node.args)
            if ttype is STRING:
                self.overload(node, func, None)

    def overload(self, node: ast.Call, func: ast.Member, holder: str | None) -> None:
        """The overload C# picks for a library method taking primitives (`engine.expr.overloads`):
        an error where none applies (`int.Parse(1)`) or two apply equally (`Math.Floor(7 / 2)`)."""
        if any(a.name is not None or a.out is not None or a.value is None for a in node.args):
            return
        candidates = overloads(holder, func.name, len(node.args))
        if candidates is None:
            return
        args = []
        for arg in node.args:
            assert arg.value is not None
            type_ = self.bound.type_of(arg.value)
            if type_ is None:
                return
            constant = self.bound.constant(arg.value)
            if constant is None or constant.failed or constant.type.kind is None or not isinstance(
                    constant.value, int):
                args.append(Argument(type_, frozenset()))
                continue
            value = int(constant.value)
            args.append(Argument(type_, _constant_targets(constant.type.kind, value), zero=value == 0))
        problem = resolve_overload(candidates, args)
        if isinstance(problem, tuple):  # `Math.Max(1u, 2)` is Max(uint, uint): the arguments convert
            for index, (arg, param) in enumerate(zip(node.args, problem, strict=True)):
                assert arg.value is not None
                if param is not ENUM:
                    self.convert(arg.value, param, index + 1)
            result = overload_result(holder, func.name, problem)
            if result is not None:
                self.bound.value_types[id(node)] = result
            return
        if problem is None:
            return
        name = f"{holder or 'string'}.{func.name}"
        given = ", ".join(a.type.name for a in args)
        if problem == "none":
            self.error("expr-type", f"no overload of '{name}' takes the arguments ({given})", func.name_pos)
        else:
            self.error("expr-type", f"the call '{name}({given})' is ambiguous: several overloads apply equally",
                       func.name_pos)

    def element_arguments(self, receiver: CsType, name: str, args: tuple[ast.Arg, ...]) -> None:
        """`list.Add(x)`, `list.Contains(x)`, `dictionary.Add(k, v)`: the argument that is a T."""
        positional = [arg.value for arg in args if arg.name is None and arg.out is None and arg.value is not None]
        if receiver.pyclass is dict:  # `Add(K, V)`, `ContainsKey(K)`, `ContainsValue(V)`, `GetValueOrDefault(K, V)`...
            for index, type_ in enumerate(DICTIONARY_PARAMETERS.get(name, ())[:len(positional)]):
                stored = receiver.key if type_ == "key" else receiver.value
                if stored is not None and stored is not DYNAMIC:
                    self.convert(positional[index], stored, index + 1)
            return
        position, element = ELEMENT_PARAMETERS.get(name), element_type(receiver)
        if position is not None and element is not None and position < len(positional) <= position + 2:
            self.convert(positional[position], element, position + 1)

    def convert(self, node: ast.Expr, target: CsType, position: int | str) -> None:
        """C#'s implicit conversion of a value to the type `target` where a T is expected: recorded
        for the emitter (`conversions`), or an error where there is none (`List<int>.Contains(1L)`)."""
        source = self.bound.type_of(node)
        if source is None or source is target:
            return
        converts = implicit_conversion(source, target, self.bound.constant(node))
        if converts is False:
            self.error("expr-type", _conversion_message(source, target, position), node.pos)
        elif converts and (kind := numeric_kind(target)) is not None and source.kind is not kind:
            self.bound.conversions[id(node)] = kind

    def value_case(self, node: ast.Member, ttype: CsType) -> bool:
        """The member-case rule for a member of a typed value (`context.request`): False after an error."""
        problem = member_case_problem(ttype, node.name)
        if problem is None:
            return True
        message, hint = problem
        self.error("expr-unknown-member", message, node.name_pos, hint)
        self.resolve(node, node, Resolved("error", check_args=False))
        return False

    def resolve(self, node: ast.Member, typed: ast.Expr, resolved: Resolved) -> None:
        """Record what the member `node` denotes, the type of `typed` (the member or its call), and
        report the findings at the member's name."""
        for code, message, hint in resolved.problems:
            self.error(code, message, node.name_pos, hint)
        self.bound.resolved[id(node)] = resolved
        if resolved.how in ("declared", "error"):
            self.bound.members[id(node)] = resolved.member
        self.bound.value_types[id(typed)] = resolved.result

    def member_case(self, target: Symbol, name: str, pos: ast.Pos) -> bool:
        """Members of types and namespaces start with an upper-case letter."""
        if CS_IDENT.match(name):
            return True
        self.error("expr-unknown-member", f"'{target.name}' has no member '{name}'", pos, MEMBER_CASE_HINT)
        return False

    def b_Index(self, node: ast.Index) -> None:
        self.expr(node.target)
        if _is_context_variables(node.target):  # `context.Variables["x"]` is an `object`
            self.bound.boxed.add(id(node))
        keys = [a.value for a in node.args if a.value is not None]
        self.exprs(keys)
        ttype = self.bound.type_of(node.target)
        if ttype is not None:  # `context.Request.Headers["a"]`: the declared indexer; `s[0]`: a char
            declared, self.bound.value_types[id(node)] = index_result(ttype, len(keys))
            if declared is not None:
                self.bound.members[id(node)] = declared
            if ttype.key is not None and ttype.key is not DYNAMIC and len(keys) == 1:
                self.convert(keys[0], ttype.key, 1)  # `new Dictionary<long, V>()[1]`: the key is a long

    def b_Call(self, node: ast.Call) -> None:
        func = node.func
        if _is_boxed_variable(node):
            self.bound.boxed.add(id(node))
        if isinstance(func, ast.Member):
            if not self.check_name(func.name, func.name_pos):
                self.bound.refused.add(id(func))
                return
            if func.type_args:
                self.bound.type_args[id(func)] = tuple(resolve_type_name(t) for t in func.type_args)
            target = self.expr(func.target)
            if target is not None and target.kind in ("type", "namespace"):
                self.static_method(func, target)
                symbol = self.bound.symbol(func)
                if symbol.kind == "method":
                    self.bound.value_types[id(node)] = static_result(
                        symbol.holder, func.name, f"{target.name}.{func.name}", self.bound.type_args.get(id(func), ()))
                    if strip_namespace(target.name) == "Array" and func.name in ("IndexOf", "LastIndexOf"):
                        self.args(node.args)
                        array = self.bound.type_of(node.args[0].value) if node.args and node.args[0].value else None
                        if array is not None and len(node.args) > 1:  # `Array.IndexOf(new long[] { 1 }, 1)`: T is long
                            self.element_arguments(array, "IndexOf", node.args[1:])
                        self.static_arity(node, func)
                        return
            else:
                receiver = self.bound.type_of(func.target)  # `items.Where(x => ...)`: x is an element
                self.args(node.args, element=receiver.element or DYNAMIC if receiver is not None else None,
                          lambdas=True)
                self.value_call(node, func)
                return
        elif isinstance(func, ast.Name) and func.ident in self.functions:
            self.resolved(func, Symbol("function", func.ident))
            self.bound.value_types[id(node)] = self.function_types.get(func.ident, DYNAMIC)
        elif isinstance(func, ast.Name) and self.lookup(func.ident) is None:
            if func.ident in OBJECT_STATICS:  # compiled inside a class: `object.Equals(a, b)`
                self.resolved(func, Symbol("object", func.ident))
                self.args(node.args)
                shape = self.bound.shape(None, node.args)
                if shape.positional != 2 or shape.named or shape.outs:
                    self.error("expr-arity", f"'object.{func.ident}' takes 2 argument(s), {len(node.args)} given",
                               node.pos)
                else:
                    self.bound.value_types[id(node)] = BOOL
                return
            else:
                self.resolved(func, ERROR)
                if self.check_name(func.ident, func.pos):
                    self.error("expr-unknown-name", f"the name '{func.ident}' does not exist in the current context",
                               func.pos, suggest(func.ident, sorted(self.functions)))
                return
        else:
            self.expr(func)
        self.args(node.args)
        if isinstance(func, ast.Member):
            self.static_arity(node, func)
            symbol = self.bound.symbol(func)
            if symbol.kind == "method" and isinstance(func.target, ast.Name | ast.Member | ast.TypeRef):
                self.overload(node, func, self.bound.symbol(func.target).name)

    def static_method(self, func: ast.Member, target: Symbol) -> None:
        """`Convert.ToInt32(...)`: the method of the type's statics holder."""
        name = func.name
        if not self.member_case(target, name, func.name_pos):
            self.resolved(func, ERROR)
        elif target.holder is None:
            self.error("expr-unknown-name", f"'{target.name}.{name}' is not available", func.pos)
            self.resolved(func, ERROR)
        elif not callable(method := getattr(target.holder, name, None)):
            self.error("expr-unknown-member", f"'{target.name}' has no method '{name}'", func.name_pos,
                       suggest(name, [n for n in dir(target.holder) if CS_IDENT.match(n)]))
            self.resolved(func, ERROR)
        else:
            self.resolved(func, Symbol("method", name, holder=target.holder, member=method))

    def args(self, args: tuple[ast.Arg, ...], *, element: CsType | None = None, lambdas: bool = False) -> None:
        """Bind the arguments of a call; with `lambdas`, a lambda passed to a method of a value takes
        the value's `element` type as the type of its first parameter (None: not known to the bind pass)."""
        for arg in args:
            if isinstance(arg.value, ast.Member):
                self.delegates.add(id(arg.value))
            if lambdas and isinstance(arg.value, ast.Lambda):
                self.lambda_types.append(element)
                try:
                    self.expr(arg.value)
                finally:
                    self.lambda_types.pop()
                continue
            if arg.out is not None:
                if arg.out_type is not None:
                    otype = DYNAMIC if arg.out_type.name == "var" else resolve_type_name(arg.out_type)
                    self.declare(arg, 0, arg.out, otype, arg.pos)
                else:
                    local = self.lookup(arg.out)
                    if local is None:
                        self.error("expr-unknown-name", f"the name '{arg.out}' does not exist in the current context",
                                   arg.pos)
                        continue
                    self.bound.locals[(id(arg), 0)] = local
                    self.expr(arg.value)  # `ref x`: passed in as well
                    self.unassigned.discard(id(local))  # `out x` assigns it
                    continue
                self.expr(arg.value)
                continue
            self.expr(arg.value)

    def b_Interpolated(self, node: ast.Interpolated) -> None:
        self.exprs([part.expr for part in node.parts if isinstance(part, ast.Hole)])
        self.bound.value_types[id(node)] = STRING
        if all(isinstance(part, str) for part in node.parts):
            self.bound.constants[id(node)] = Constant(STRING, "".join(str(part) for part in node.parts))

    def b_Literal(self, node: ast.Literal) -> None:
        self.bound.constants[id(node)] = literal_constant(node)

    def b_Unary(self, node: ast.Unary) -> None:
        self.expr(node.operand)
        self.fold_unary(node)
        operand_type, boxed = self.bound.type_of(node.operand), id(node.operand) in self.bound.boxed
        if operand_type is not None or node.op == "!":
            self.bound.value_types[id(node)] = unary_type(node.op, operand_type or DYNAMIC, boxed=boxed)
        if (operand_type is not None or boxed) and id(node) not in self.bound.constants:  # (else: emit checks it)
            for message in unary_problems(node.op, operand_type or DYNAMIC, boxed=boxed):
                self.error("expr-type", message, node.pos)

    def fold_unary(self, node: ast.Unary) -> None:
        operand = self.bound.constant(node.operand)
        if operand is None or operand.failed or operand.value is None or node.op == "!" or operand.type.kind is None:
            return
        op, kind, literal = node.op, operand.type.kind, node.operand
        if op == "-" and isinstance(literal, ast.Literal) and literal.type in ("uint", "ulong") and \
                literal.value in (1 << 31, 1 << 63):  # `-2147483648` is an int, `-9223372036854775808` a long
            target = clrnumeric.INT32 if literal.value == 1 << 31 else clrnumeric.INT64
            self.bound.constants[id(node)] = Constant(NUMERIC_TYPES[target], target.wrap(-literal.value))
            return
        result = unary_kind(op, kind)
        if result is None:  # not an operator of this type: the emitter reports it
            return
        value, checked = operand.value, self.checked_context is not False
        compute: Callable[[], Any] = {
            "-": lambda: clrnumeric.negate(value, checked=checked), "~": lambda: clrnumeric.complement(value),
            "+": lambda: clrnumeric.plus(value),
        }[op]
        self.fold(node, compute, NUMERIC_TYPES[result])

    def b_Binary(self, node: ast.Binary) -> None:
        self.expr(node.left)
        self.expr(node.right)
        self.fold_binary(node)
        lt, rt = self.bound.type_of(node.left), self.bound.type_of(node.right)
        if lt is None or rt is None:
            if node.op in ("&&", "||", "==", "!="):
                self.bound.value_types[id(node)] = BOOL
            return  # the emitter types and checks it
        boxed = (id(node.left) in self.bound.boxed, id(node.right) in self.bound.boxed)
        constants = (self.bound.constant(node.left), self.bound.constant(node.right))
        self.bound.value_types[id(node)] = binary_type(node.op, lt, rt, boxed=boxed, constants=constants)
        if id(node) not in self.bound.constants:
            for message, hint in binary_problems(node.op, lt, rt, boxed=boxed, constants=constants):
                self.error("expr-type", message, node.pos, hint)

    def fold_binary(self, node: ast.Binary) -> None:
        left, right = self.bound.constant(node.left), self.bound.constant(node.right)
        op = node.op
        if left is None or right is None or left.failed or right.failed or op not in clrnumeric.OPERATORS:
            return
        lk, rk = left.type.kind, right.type.kind
        if lk is None or rk is None or left.value is None or right.value is None:
            return
        if op not in clrnumeric.SHIFTS:
            lk, rk = constant_conversion(left, lk, rk), constant_conversion(right, rk, lk)
        kind = clrnumeric.result_kind(op, lk, rk)
        folding = clrnumeric.operation(op, lk, rk, checked=self.checked_context is not False)
        if kind is None or folding is None:  # not an operator of these types: the emitter reports it
            return
        lv, rv = left.value, right.value
        self.fold(node, lambda: folding(lv, rv), NUMERIC_TYPES[kind])

    def fold(self, node: ast.Expr, compute: Callable[[], Any], type_: CsType) -> None:
        """A constant expression evaluated now; overflow and division by zero are errors."""
        try:
            self.bound.constants[id(node)] = Constant(type_, compute())
            return
        except OverflowException:
            self.error("expr-constant", "the operation overflows at compile time in checked mode", node.pos,
                       "use unchecked(...) if wrapping is intended")
        except DivideByZeroException:
            self.error("expr-constant", "division by constant zero", node.pos)
        self.bound.constants[id(node)] = Constant(type_, None, failed=True)

    def b_Ternary(self, node: ast.Ternary) -> None:
        self.exprs([node.cond, node.then, node.other])
        self.condition(node.cond)
        then, other = self.bound.type_of(node.then), self.bound.type_of(node.other)
        if then is not None and other is not None:
            self.bound.value_types[id(node)] = conditional_type(then, other)
            problem = conditional_problem(then, other, (self.bound.constant(node.then), self.bound.constant(node.other)))
            if problem is not None:
                self.error("expr-type", problem, node.pos)

    def b_Checked(self, node: ast.Checked) -> None:
        outer = self.checked_context
        self.checked_context = node.checked
        try:
            self.expr(node.expr)
        finally:
            self.checked_context = outer
        constant = self.bound.constant(node.expr)
        if constant is not None:
            self.bound.constants[id(node)] = constant
        elif id(node.expr) in self.bound.value_types:
            self.bound.value_types[id(node)] = self.bound.value_types[id(node.expr)]

    def b_Cast(self, node: ast.Cast) -> None:
        if isinstance(node.operand, ast.Lambda) and (signature := delegate_signature(node.type)) is not None:
            self.bound.signatures[id(node.operand)] = signature  # `(Func<int>)(() => "a")` is refused
        self.expr(node.operand)
        if strip_namespace(str(node.type)) in ("object", "Object"):
            self.bound.boxed.add(id(node))
        if not self.check_type(node, node.type):
            return
        operand, type_ = self.bound.constant(node.operand), self.bound.types[id(node)]
        self.bound.value_types[id(node)] = type_  # `((IResponse)x).StatusCode`
        source = self.bound.type_of(node.operand)
        if source is not None and id(node.operand) not in self.bound.boxed and not node.type.array and \
                _no_explicit_conversion(source, type_):
            self.error("expr-type", f"cannot convert type '{source.name}' to '{type_.name}'", node.pos,
                       "use Convert.ToInt32(...), int.Parse(...) or .ToString() to convert")
        if operand is None or operand.failed or operand.value is None or type_.kind is None or \
                operand.type.kind is None or node.type.array or type_ is operand.type and type_ in (INT, DOUBLE):
            return  # only conversions of numeric constants fold (`(int)1` keeps `1`'s code, not a constant)
        value = operand.value
        try:
            self.bound.constants[id(node)] = Constant(
                type_, clrnumeric.convert(value, type_.kind, checked=self.checked_context is not False))
        except OverflowException:
            self.error("expr-constant", f"constant value '{to_string(value)}' cannot be converted to a "
                       f"'{type_.name}'", node.pos, "use unchecked(...) if wrapping is intended")
            self.bound.constants[id(node)] = Constant(type_, None, failed=True)

    def b_AsType(self, node: ast.AsType) -> None:
        self.expr(node.operand)
        if self.check_type(node, node.type):
            type_ = self.bound.types[id(node)]
            self.bound.value_types[id(node)] = type_
            if is_value_type(type_) and nullable_inner(type_) is None and not node.type.array:
                self.error("expr-type", f"the as operator must be used with a reference type or nullable type "
                           f"('{type_.name}' is a non-nullable value type)", node.pos, f"use (x as {type_.name}?)")

    def b_IsType(self, node: ast.IsType) -> None:
        self.expr(node.operand)
        self.bound.value_types[id(node)] = BOOL
        if node.type is None or not self.check_type(node, node.type):
            return
        if node.bind is not None:  # `x is string s`: `s` is in scope after the test
            self.declare(node, 0, node.bind, self.bound.types[id(node)], node.pos)

    def b_DefaultOf(self, node: ast.DefaultOf) -> None:
        if not self.check_type(node, node.type):
            return
        t, type_ = node.type, self.bound.types[id(node)]
        base = strip_namespace(t.name)
        value: Any = None
        if t.nullable or t.array:
            value = None
        elif type_.kind is clrnumeric.CHAR:
            value = Char("\0")
        elif type_.kind is not None:
            value = clrnumeric.implicit(0, type_.kind)
        elif type_ is BOOL:
            value = False
        elif base in _STRUCT_DEFAULTS and not t.args:
            value = getattr(type_.pyclass, _STRUCT_DEFAULTS[base])
        else:
            value = _VALUE_DEFAULTS.get(str(t))
        self.bound.constants[id(node)] = Constant(type_, value)

    def b_TypeOf(self, node: ast.TypeOf) -> None:
        self.check_type(node, node.type)
        self.bound.value_types[id(node)] = SYSTEM_TYPE

    def b_Assign(self, node: ast.Assign) -> None:
        self.expr(node.value)
        self.assign_target(node.target)
        self.assigned(node.target, node.op == "=")
        self.check_assignment(node, node.target, node.op[:-1] if node.op != "=" else "", self.bound.type_of(node.value))

    def b_IncDec(self, node: ast.IncDec) -> None:
        """`x++`: a numeric local steps in its own type; anything else is `x += 1` (`x -= 1`)."""
        self.assign_target(node.target)
        self.assigned(node.target, False)
        local = self.bound.symbol(node.target).local if isinstance(node.target, ast.Name) else None
        if local is not None and local.type.kind is not None:
            self.bound.value_types[id(node)] = local.type
        elif local is not None and local.boxed:
            self.error("expr-type", f"operator '{node.op}' cannot be applied to an operand of type 'object'", node.pos)
            self.bound.checked.add(id(node))
        else:
            self.check_assignment(node, node.target, "+" if node.op == "++" else "-", INT)

    def check_assignment(self, node: ast.Assign | ast.IncDec, target: ast.Expr, op: str, value: CsType | None) -> None:
        """The type and findings of `target = value` / `target op= value` where bind typed what they
        depend on (`checked`); the emitter checks the others."""
        result: CsType | None = None
        if isinstance(target, ast.Name):
            local = self.bound.symbol(target).local
            if local is None:
                return  # an unknown name, reported
            if local.boxed and op and op != "??" and not (op == "+" and value is STRING):  # `o += "b"` concatenates
                self.error("expr-type", f"operator '{op}=' cannot be applied to an operand of type 'object'", node.pos)
            elif local.type is DYNAMIC or value is None and op and op != "??" and local.type.kind is not None:
                return
            elif local.type.kind is not None and op and op != "??" and value is not None and value.kind is not None:
                self.check_compound(node, local.type, op, value)
                result = local.type
            elif op and op != "??" and value is not None and value.kind is not None \
                    and (inner := nullable_inner(local.type)) is not None and inner.kind is not None:
                self.check_compound(node, inner, op, value, shown=local.type)  # `n += 1L` with an int? n
                result = local.type
            elif not op and isinstance(node, ast.Assign) and value is not None and local.type is not DYNAMIC:
                self.convert(node.value, local.type, "assignment")  # `n = 1L` with an int n
                result = local.type
            elif local.type.kind is not None and op and op != "??" and value in (STRING, BOOL):
                if op == "+" and value is STRING:  # `n += "a"`: `n + "a"` is a string
                    self.error("expr-type", f"cannot implicitly convert type 'string' to '{local.type.kind.keyword}'",
                               node.pos)
                else:
                    self.error("expr-type", f"operator '{op}=' cannot be applied to operands of type "
                               f"'{local.type.kind.keyword}' and '{value.name}'", node.pos)
                result = local.type
            else:
                result = local.type
        elif isinstance(target, ast.Index):
            container = self.bound.type_of(target.target)
            if container is None:
                return
            if container in (VARIABLES, HEADERS, QUERY, MATCHED):
                self.error("expr-type", f"'{container.name}' is read-only in expressions", target.pos,
                           "use set-variable / set-header policies to change the context")
            else:
                result = value
                stored = container.value if container.pyclass is dict else element_type(container)
                if isinstance(node, ast.Assign) and not op and stored is not None and stored is not DYNAMIC:
                    self.convert(node.value, stored, "assignment")  # `doubles[0] = 1` stores a double
                elif op and op != "??" and stored is not None and stored.kind is not None and value is not None \
                        and value.kind is not None:  # `bytes[0] += 1` stores a byte
                    self.check_compound(node, stored, op, value)
                    result = stored
        elif isinstance(target, ast.Member):
            static = self.bound.symbol(target.target).kind in ("type", "namespace")
            owner = self.bound.type_of(target.target)
            if not static and owner is None:
                return
            if static or owner in MODEL_TYPES.values():
                self.error("expr-type", f"'{target.name}' is read-only", target.name_pos)
            elif id(target) not in self.bound.refused:
                result = value
        else:
            self.error("expr-type", "the left-hand side of an assignment must be a variable, property or indexer",
                       node.pos)
        self.bound.checked.add(id(node))
        if result is not None:
            self.bound.value_types[id(node)] = result

    def check_compound(self, node: ast.Assign | ast.IncDec, target: CsType, op: str, value: CsType,
                       shown: CsType | None = None) -> None:
        """`x op= y` on a numeric local x of type T (`shown`: its `T?`): C# computes `(T)(x op y)`,
        allowed when `x op y` converts to T implicitly, `y` does (`byte b; b += 1`) or `op` is a
        shift (C# spec, "Compound assignment"). `x++` (an IncDec) always is."""
        assert target.kind is not None and value.kind is not None
        given = node.value if isinstance(node, ast.Assign) else None
        constant = self.bound.constant(given) if given is not None else None
        operand = value.kind if op in clrnumeric.SHIFTS else _converted(constant, value.kind, target.kind)
        if given is not None and operand is not value.kind:  # `u += 1` with a ulong u: the 1 is a ulong
            self.bound.conversions[id(given)] = operand
        kind = clrnumeric.result_kind(op, target.kind, operand)
        if kind is None:
            self.error("expr-type", f"operator '{op}=' cannot be applied to operands of type "
                       f"'{target.kind.keyword}' and '{value.name}'", node.pos)
        elif given is not None and not (kind is target.kind or clrnumeric.widens(kind, target.kind)
                                        or op in clrnumeric.SHIFTS) \
                and implicit_conversion(value, target, constant) is False:
            self.error("expr-type", _conversion_message(value, shown or target, "assignment"), given.pos)

    def assigned(self, target: ast.Expr, plain: bool) -> None:
        """`x = v` assigns the local `x`; `x += v` and `x++` also read it."""
        local = self.bound.symbol(target).local if isinstance(target, ast.Name) else None
        if local is not None and isinstance(target, ast.Name):
            if not plain:
                self.read(local, target.ident, target.pos)
            self.unassigned.discard(id(local))

    def assign_target(self, target: ast.Expr) -> None:
        if isinstance(target, ast.Name):
            local = self.lookup(target.ident)
            if local is None:
                self.error("expr-unknown-name", f"the name '{target.ident}' does not exist in the current context",
                           target.pos)
                self.resolved(target, ERROR)
            else:
                self.resolved(target, Symbol("local", target.ident, local))
                if local.const:
                    self.error("expr-type", f"'{target.ident}' is a constant: it cannot be assigned", target.pos)
        elif isinstance(target, ast.Index):
            self.b_Index(target)
            if self.bound.type_of(target.target) is STRING:
                self.error("expr-type", "a string's characters are read-only", target.pos,
                           "build a new string (Substring, Replace, StringBuilder)")
        elif isinstance(target, ast.Member):
            self.expr(target.target)
            if not self.check_name(target.name, target.name_pos):
                self.bound.refused.add(id(target))
            owner = self.bound.type_of(target.target)
            if owner is not None and (owner is STRING or numeric_kind(owner) is not None) and \
                    id(target.target) not in self.bound.boxed:
                self.error("expr-type", f"'{owner.name}.{target.name}' is read-only", target.name_pos)

    def b_Lambda(self, node: ast.Lambda) -> None:
        self.scopes.append({})
        first = self.lambda_types[-1] if self.lambda_types else DYNAMIC  # (the emitter's rule)
        params, result = self.bound.signatures.get(id(node), ((), None))
        if params and len(params) != len(node.params):
            self.error("expr-type", f"the delegate takes {len(params)} parameter(s); the lambda declares "
                       f"{len(node.params)}", node.pos)
            params = ()
            del self.bound.signatures[id(node)]
        jumps, self.jumps, catches, self.catches = self.jumps, [], self.catches, 0
        for index, param in enumerate(node.params):
            if params:
                self.declare(node, index, param, params[index], node.pos)
            else:
                self.declare(node, index, param, first or DYNAMIC if index == 0 else DYNAMIC, node.pos,
                             known=index > 0 or first is not None)
        if isinstance(node.body, ast.Block):
            self.block(node.body.body, new_scope=False)
        else:
            self.expr(node.body)
            if result is not None and result is not DYNAMIC:
                self.convert(node.body, result, "assignment")  # `Func<int> f = () => "a"` is an error
        self.scopes.pop()
        self.jumps, self.catches = jumps, catches

    def b_New(self, node: ast.New) -> None:
        self.args(node.args)
        self.creation(node)
        if id(node) in self.bound.creations:
            self.bound.value_types[id(node)] = self.bound.creations[id(node)][1]
        for item in node.init or ():
            self.expr(item.value)
            if item.kind == "member" and not self.check_name(item.name or "", item.pos):
                self.bound.refused.add(id(item))
            self.exprs([a.value for a in item.keys if a.value is not None])
        created = self.bound.creations.get(id(node))
        if created is not None and node.init:
            self.initializer_conversions(node, created[1])

    def initializer_conversions(self, node: ast.New, created: CsType) -> None:
        """`new List<long> { 1 }` holds a long, `new Dictionary<string, double> { { "a", 1 } }` a double:
        each item is converted to the element type (a dictionary's key and value types) as C#'s Add does."""
        element = element_type(created)
        for item in node.init or ():
            if item.kind == "element" and item.value is not None and element is not None:
                self.convert(item.value, element, "initializer")
            elif item.kind == "add" and created.pyclass is dict and len(item.keys) == 2:
                for arg, stored in zip(item.keys, (created.key, created.value), strict=True):
                    if arg.value is not None and stored is not None and stored is not DYNAMIC:
                        self.convert(arg.value, stored, "initializer")

    def creation(self, node: ast.New) -> None:
        """What `new T(...)` makes: a collection, a string, or an instance of a library class."""
        t = node.type
        base = strip_namespace(t.name)
        if base in _GENERIC_COLLECTIONS:
            pyclass = list if base in ("List", "IList") else dict if "Dictionary" in base else set
            created = CsType(str(t), pyclass,
                             element=resolve_type_name(t.args[0]) if t.args and "Dictionary" not in base else DYNAMIC,
                             value=resolve_type_name(t.args[1]) if len(t.args) == 2 else None,
                             key=resolve_type_name(t.args[0]) if len(t.args) == 2 else None)
            self.bound.creations[id(node)] = (_GENERIC_COLLECTIONS[base], created)
        elif base in ("string", "String"):
            self.bound.creations[id(node)] = (lib("strings", "String").New, STRING)
        elif self.check_type(node, t):
            holder = static_type(base)
            if isinstance(holder, type):
                created = library_type(holder)
                if len(t.args) == 1 and holder in (lib("containers", "Stack"), lib("containers", "Queue")):
                    created = CsType(created.name, holder, element=resolve_type_name(t.args[0]))  # `Stack<long>`
                self.bound.creations[id(node)] = (holder, created)
            else:
                self.error("expr-type", f"cannot create an instance of '{t.name}'", node.pos)

    def b_NewArray(self, node: ast.NewArray) -> None:
        known = node.element is None or self.check_type(node, node.element)
        self.expr(node.size)
        self.exprs(node.items)
        element: CsType | None = self.bound.types.get(id(node), DYNAMIC)
        declared = self.bound.types.get(id(node))
        if node.element is not None and known and declared is not None and declared is not DYNAMIC and \
                node.element.array == 0:
            for item in node.items or ():
                self.convert(item, declared, "assignment")  # `new int[] { "a" }` is an error
        if node.element is None and node.items:  # `new[] { ... }`: the items' best common type
            types = [self.bound.type_of(item) for item in node.items]
            element = best_common_type([t for t in types if t is not None]) if None not in types else None
        if known and element is not None:
            self.bound.value_types[id(node)] = STRING_ARRAY if element is STRING else CsType(
                f"{node.element or 'object'}[]", list, element=element)

    def b_NewRectangularArray(self, node: ast.NewRectangularArray) -> None:
        if self.check_type(node, node.element):
            self.bound.value_types[id(node)] = CsType(f"{node.element}[{',' * (len(node.sizes) - 1)}]",
                                                      RectangularArray, element=self.bound.types[id(node)])
        self.exprs(node.sizes)

    def b_NewAnonymous(self, node: ast.NewAnonymous) -> None:
        self.exprs([value for _, value in node.members])
        fields = [(name, self.bound.type_of(value)) for name, value in node.members]
        if all(field is not None for _, field in fields):
            self.bound.value_types[id(node)] = anonymous_type([(name, field or DYNAMIC) for name, field in fields])

    def b_TupleLit(self, node: ast.TupleLit) -> None:
        self.exprs(node.items)
        items = [self.bound.type_of(item) for item in node.items]
        if all(item is not None for item in items):  # System.ValueTuple: deconstructed, no members
            self.bound.value_types[id(node)] = CsType("System.ValueTuple", Tuple, closed=True,
                                                      items=tuple(item for item in items if item is not None))

    # ------------------------------------------------------------------ statements
    def block(self, stmts: tuple[ast.Stmt, ...], *, new_scope: bool = True) -> None:
        if new_scope:
            self.scopes.append({})
        for s in stmts:
            if isinstance(s, ast.LocalFunction):  # callable before its declaration
                self.functions.add(s.name)
                self.function_types[s.name] = resolve_type_name(s.returns) if s.returns else VOID
        for s in stmts:
            self.stmt(s)
        if new_scope:
            self.scopes.pop()

    def stmt(self, node: ast.Stmt | None) -> None:
        if node is not None:
            getattr(self, "s_" + type(node).__name__)(node)

    def scoped(self, node: ast.Stmt | None) -> None:
        self.scopes.append({})
        self.stmt(node)
        self.scopes.pop()

    def s_Block(self, node: ast.Block) -> None:
        self.block(node.body)

    def condition(self, node: ast.Expr | None) -> None:
        """A condition (`if`, `while`, `for`, `?:`, `when`) of a type bind knows must be a bool."""
        type_ = self.bound.type_of(node) if node is not None else None
        if type_ is not None and type_ not in (BOOL, DYNAMIC):
            assert node is not None
            self.error("expr-type", f"cannot implicitly convert type '{type_.name}' to 'bool'", node.pos)

    def s_LocalDecl(self, node: ast.LocalDecl) -> None:
        t = node.type
        declared = DYNAMIC
        if t.name != "var" and self.check_type(node, t):
            declared = self.bound.types[id(node)]
        self.bound.types[id(node)] = declared
        for d in node.declarators:
            if t.name in ("Func", "Action", "Predicate") and isinstance(d.value, ast.Member):
                self.delegates.add(id(d.value))  # `Func<string, bool> f = string.IsNullOrEmpty;`
            if isinstance(d.value, ast.Lambda) and (signature := delegate_signature(t)) is not None:
                self.bound.signatures[id(d.value)] = signature  # `Func<double, double> f = x => x / 2;`
            self.expr(d.value)
            if t.name == "var":
                self.implicitly_typed(d)
            typed = self.bound.type_of(d.value) if t.name == "var" and d.value is not None else None
            if typed is VOID:
                self.error("expr-type", "cannot assign void to an implicitly-typed variable", d.pos)
            if typed in (NULL, VOID):
                typed = None
            local = self.declare(d, 0, d.name, typed or declared, d.pos,  # `var r = context.Request`: IRequest
                                 known=t.name != "var" or typed is not None)
            if t.name != "var" and d.value is not None and declared is not DYNAMIC:
                self.convert(d.value, declared, "assignment")  # `int x = 1L`, `string s = 1`: no implicit conversion
            local.boxed = t.name in ("object", "Object", "System.Object") or (
                t.name == "var" and d.value is not None and id(d.value) in self.bound.boxed)
            local.const = node.const
            if d.value is None and t.name != "var":
                self.unassigned.add(id(local))

    def implicitly_typed(self, d: ast.Declarator) -> None:
        """`var x;`, `var x = null;` and `var f = x => x;` give C# no type to infer."""
        if d.value is None:
            self.error("expr-type", "an implicitly-typed variable must be initialized", d.pos)
        elif isinstance(d.value, ast.Literal) and d.value.type == "null":
            self.error("expr-type", "cannot assign <null> to an implicitly-typed variable", d.pos)
        elif isinstance(d.value, ast.Lambda):
            self.error("expr-type", "cannot assign a lambda expression to an implicitly-typed variable", d.pos,
                       "declare it as Func<...> or Action<...>")

    def s_Deconstruct(self, node: ast.Deconstruct) -> None:
        self.expr(node.value)
        value = self.bound.type_of(node.value)
        types = (value.items or (DYNAMIC,) * len(node.names)) if value is not None else (DYNAMIC,) * len(node.names)
        if value is not None:
            self.bound.checked.add(id(node))
            if len(types) != len(node.names):
                self.error("expr-type", f"cannot deconstruct a tuple of {len(types)} elements into "
                           f"{len(node.names)} variables", node.pos)
        for index, name in enumerate(node.names):
            self.declare(node, index, name, types[index] if index < len(types) else DYNAMIC, node.pos,
                         known=value is not None)

    def s_ExprStmt(self, node: ast.ExprStmt) -> None:
        self.expr(node.expr)

    def s_If(self, node: ast.If) -> None:
        self.expr(node.cond)
        self.condition(node.cond)
        when_true, when_false, tests = pattern_assignments(node.cond)
        self.branch(node.then, tests - when_true)
        if node.other is not None:
            self.branch(node.other, tests - when_false)
            return
        for test in tests - when_false:  # `if (o is int i) { } return i;`: C# refuses (CS0165)
            local = self.bound.locals.get((test, 0))
            if local is not None and not self.assigns(node.then, local):
                self.unassigned.add(id(local))

    def branch(self, body: ast.Stmt | None, unassigned: set[int]) -> None:
        """Bind a branch of an `if` where the pattern variables of `unassigned` (ids of `is T x` tests) are
        not assigned: `if (!(o is int i)) { return i; }` is refused."""
        locals_ = [local for test in unassigned if (local := self.bound.locals.get((test, 0))) is not None]
        fresh = [local for local in locals_ if id(local) not in self.unassigned]
        self.unassigned.update(id(local) for local in fresh)
        self.scoped(body)
        self.unassigned.difference_update(id(local) for local in fresh)

    def assigns(self, body: ast.Stmt, local: Local) -> bool:
        """Whether `body` assigns `local` anywhere (`x = ...`, `x++`, `out x`)."""
        for item in ast.walk(body):
            if isinstance(item, ast.Assign | ast.IncDec) and isinstance(item.target, ast.Name) and \
                    self.bound.symbol(item.target).local is local:
                return True
            if isinstance(item, ast.Arg) and item.out is not None and self.bound.locals.get((id(item), 0)) is local:
                return True
        return False

    def s_Foreach(self, node: ast.Foreach) -> None:
        self.expr(node.iterable)
        sequence = self.bound.type_of(node.iterable)
        if sequence is not None and id(node.iterable) not in self.bound.boxed and (
                numeric_kind(sequence) is not None or sequence is BOOL):
            self.error("expr-type", f"foreach cannot operate on a value of type '{sequence.name}' (it has no "
                       f"GetEnumerator)", node.iterable.pos)
        self.scopes.append({})
        known = True
        if node.type.name == "var":  # the element type of the sequence (DYNAMIC: not known to the bind pass)
            sequence = self.bound.type_of(node.iterable)
            declared = sequence.element or DYNAMIC if sequence is not None else DYNAMIC
            known = sequence is not None
        else:
            declared = resolve_type_name(node.type)
        self.declare(node, 0, node.name, declared, node.pos, known=known)
        self.loop(node.body)
        self.scopes.pop()

    def loop(self, body: ast.Stmt | None, kind: str = "loop") -> None:
        """A loop's (or a switch section's) body, in a scope of its own: `break` may leave it."""
        self.jumps.append(kind)
        try:
            self.scoped(body)
        finally:
            self.jumps.pop()

    def s_While(self, node: ast.While) -> None:
        self.unordered += node.do  # (a do-while's condition runs after its body)
        try:
            self.expr(node.cond)
        finally:
            self.unordered -= node.do
        self.condition(node.cond)
        self.loop(node.body)

    def s_For(self, node: ast.For) -> None:
        self.scopes.append({})
        if isinstance(node.init, ast.LocalDecl):
            self.stmt(node.init)
        else:
            self.exprs(node.init)
        self.expr(node.cond)
        self.condition(node.cond)
        self.unordered += 1  # (the steps run after the body)
        try:
            self.exprs(node.step)
        finally:
            self.unordered -= 1
        self.loop(node.body)
        self.scopes.pop()

    def s_Return(self, node: ast.Return) -> None:
        self.expr(node.value)

    def s_Jump(self, node: ast.Jump) -> None:
        if node.kind == "break" and not self.jumps:
            self.error("expr-type", "no enclosing loop or switch out of which to break", node.pos)
        elif node.kind == "continue" and "loop" not in self.jumps:
            self.error("expr-type", "no enclosing loop out of which to continue", node.pos)

    def s_Throw(self, node: ast.Throw) -> None:
        self.expr(node.value)
        if node.value is None and not self.catches:
            self.error("expr-type", "a throw statement with no argument is not allowed outside a catch clause",
                       node.pos)
        value = node.value
        thrown = self.bound.type_of(value) if value is not None else None
        if value is not None and thrown is not None and (thrown in (STRING, BOOL) or numeric_kind(thrown) is not None):
            self.error("expr-type", "the type thrown must be derived from System.Exception", value.pos)

    def s_Try(self, node: ast.Try) -> None:
        self.s_Block(node.body)
        for catch in node.catches:
            self.bound.exceptions[id(catch)] = _exception_class(catch.type)
            if catch.type is not None and strip_namespace(catch.type.name) in PRIMITIVES:
                self.error("expr-type", "the type caught must be derived from System.Exception", catch.pos)
            self.scopes.append({})
            if catch.name:
                self.declare(catch, 0, catch.name, DYNAMIC, catch.pos)
            self.expr(catch.filter)
            self.condition(catch.filter)
            self.catches += 1
            try:
                self.block(catch.body.body, new_scope=False)
            finally:
                self.catches -= 1
            self.scopes.pop()
        if node.final is not None:
            self.s_Block(node.final)

    def s_Switch(self, node: ast.Switch) -> None:
        self.expr(node.subject)
        subject = self.bound.type_of(node.subject)
        seen: set[Any] = set()
        for section in node.sections:
            labels = [label for label in section.labels if label is not None]
            self.exprs(labels)
            for label in labels:
                self.case_label(label, subject, seen)
            self.jumps.append("switch")
            try:
                self.block(section.body)
            finally:
                self.jumps.pop()
            last = section.body[-1] if section.body else None
            if isinstance(last, ast.ExprStmt | ast.LocalDecl):
                self.error("expr-type", "control cannot fall through from one case label to another", last.pos,
                           "end the section with break, return or throw")

    def case_label(self, label: ast.Expr, subject: CsType | None, seen: set[Any]) -> None:
        """A constant `case` label: its value converts to the subject's type and appears once."""
        constant = self.bound.constant(label)
        if constant is None or constant.failed:
            return
        if subject is not None and id(label) not in self.bound.boxed and (
                subject is STRING or numeric_kind(subject) is not None) and \
                implicit_conversion(constant.type, subject, constant) is False and constant.type is not NULL:
            self.error("expr-type", f"cannot implicitly convert type '{constant.type.name}' to '{subject.name}'",
                       label.pos)
        key = (constant.type.name, constant.value)
        if key in seen:
            self.error("expr-type", f"the switch statement contains the case label '{to_string(constant.value)}' "
                       "more than once", label.pos)
        seen.add(key)

    def s_LocalFunction(self, node: ast.LocalFunction) -> None:
        self.unordered += 1  # (a local function runs when it is called)
        try:
            self.local_function(node)
        finally:
            self.unordered -= 1

    def local_function(self, node: ast.LocalFunction) -> None:
        self.bound.types[id(node)] = resolve_type_name(node.returns) if node.returns else VOID
        self.scopes.append({})
        first = self.bound.nslots
        self.exprs([default for _, _, default in node.params if default is not None])
        for index, (t, name, _) in enumerate(node.params):
            self.declare(node, index, name, resolve_type_name(t), node.pos)
        self.block(node.body.body, new_scope=False)
        self.bound.function_slots[id(node)] = (first, self.bound.nslots)
        self.scopes.pop()

    def s_CheckedBlock(self, node: ast.CheckedBlock) -> None:
        outer = self.checked_context
        self.checked_context = node.checked
        try:
            self.s_Block(node.body)
        finally:
            self.checked_context = outer

    def s_Using(self, node: ast.Using) -> None:
        self.scopes.append({})
        if isinstance(node.resource, ast.LocalDecl):
            self.stmt(node.resource)
        else:
            self.expr(node.resource)
        self.block(node.body.body, new_scope=False)
        self.scopes.pop()
