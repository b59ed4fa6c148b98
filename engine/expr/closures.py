"""Closure factories of the compiler and `Code`, the compiled form of one expression node."""

from __future__ import annotations

import operator
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from engine.dotnet.conversions import to_string
from engine.dotnet.equality import object_equals
from engine.dotnet.errors import NullReferenceException
from engine.expr import ast
from engine.expr import runtime as rt
from engine.expr.contexttypes import INTERFACES
from engine.expr.cstypes import BOOL, INT, STRING, CsType, Member, method
from engine.expr.library import strip_namespace
from engine.expr.runtime import SHORT, ShortCircuit

Fn = Callable[[list[Any]], Any]


@dataclass(slots=True)
class Code:
    """A compiled expression: its closure, static type, and optional shortcuts for fusion."""

    fn: Fn
    type: CsType
    path: str | None = None  # value is attrgetter(path)(context): fused property chains
    const: bool = False
    value: Any = None
    static: Any = None  # a static type holder (`Convert`, `JObject`) when the node names a type
    static_name: str = ""
    src: str | None = None  # inline Python source for the generated evaluator (see Compiler.source)
    nonnull: bool = False  # never null (a cast to a value type)
    pos: ast.Pos | None = None  # position of a fused context path (for errors in generated code)


# Where in the expression an exception in flight was raised. Python's own exceptions (KeyError,
# ZeroDivisionError...) take neither typed fields nor weak references, so the evaluator remembers the
# last few it located, per context, until the top of the evaluation reads them (`raised_at`).
_RAISED_AT: ContextVar[tuple[tuple[BaseException, ast.Pos], ...]] = ContextVar("expr_raised_at", default=())
_KEPT = 4  # a rethrown exception is still found after a few handled ones inside a catch block


def _located(exc: BaseException, pos: ast.Pos) -> BaseException:
    """`exc`, remembered as raised at `pos` unless an inner node located it first."""
    kept = _RAISED_AT.get()
    if not is_located(exc):
        _RAISED_AT.set(((exc, pos), *kept[: _KEPT - 1]))
    return exc


def is_located(exc: BaseException) -> bool:
    return any(known is exc for known, _ in _RAISED_AT.get())


def raised_at(exc: BaseException) -> ast.Pos | None:
    """Where `exc` was located (None: nowhere); forgets it, so the exception is not kept alive."""
    kept = _RAISED_AT.get()
    for i, (known, pos) in enumerate(kept):
        if known is exc:
            _RAISED_AT.set(kept[:i] + kept[i + 1:])
            return pos
    return None


class AnonymousObject(dict[str, Any]):
    """Value of `new { A = 1, B = x }`: a dict, so JSON serialisation sees its properties."""

    def ToString(self) -> str:
        inner = ", ".join(f"{k} = {to_string(v)}" for k, v in self.items())
        return "{ " + inner + " }" if inner else "{ }"

    def Equals(self, other: Any) -> bool:
        """Anonymous types compare by value, property by property (C#'s generated Equals)."""
        return isinstance(other, AnonymousObject) and list(self) == list(other) and all(
            object_equals(self[k], other[k]) for k in self)

    def GetHashCode(self) -> int:
        return hash(tuple(self))


def anonymous_type(fields: list[tuple[str, CsType]]) -> CsType:
    """The static type of `new { A = 1, B = x }`: its properties (of the fields' types) and object's methods."""
    type_ = CsType("<anonymous type>", AnonymousObject, closed=True)
    for name, field in fields:
        type_.members[name] = Member(name, "property", lambda o, n=name: o[n], field)
    type_.members["ToString"] = method("ToString", AnonymousObject.ToString, STRING, 0, 0)
    type_.members["Equals"] = method("Equals", AnonymousObject.Equals, BOOL, 1, 1)
    type_.members["GetHashCode"] = method("GetHashCode", AnonymousObject.GetHashCode, INT, 0, 0)
    return type_


@dataclass
class _Args:
    positional: list[Fn]
    named: dict[str, Fn]
    outs: list[tuple[int, int, Any]]  # (index in the result tuple, slot, default(T) of the variable's type)


def _located_call(fn: Callable[..., Any], pos: ast.Pos) -> Callable[..., Any]:
    """`fn` whose exceptions carry `pos` (slow paths called from generated code)."""

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            raise _located(exc, pos) from None

    return call


def _always_set(path: str | None) -> bool:
    """Context paths that are never null (so generated code may use them without checks)."""
    if path is None:
        return False
    return path in ("request.headers", "response.headers", "variables", "request.url.query",
                    "request.matched_parameters")


_NEVER_NULL = frozenset({"", "request", "response", "request.url", "request.original_url", "deployment",
                         "request.headers", "response.headers", "variables"})
_NON_NULL_STRINGS = frozenset({"request.method", "request.url.path", "request.url.host", "request.url.scheme",
                               "request.original_url.path", "request.original_url.host", "request.ip_address"})


def _has_conditional(node: ast.Expr) -> bool:
    while True:
        if isinstance(node, ast.Member | ast.Index):
            if node.conditional:
                return True
            node = node.target
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return False


def _context(env: list[Any]) -> Any:
    return env[0]


def _fused(getter: Callable[[Any], Any], pos: ast.Pos) -> Fn:
    """`context.A.B.C` as one C-level attrgetter; an AttributeError means a null in the path."""

    def fused(env: list[Any]) -> Any:
        try:
            return getter(env[0])
        except AttributeError:
            raise _located(NullReferenceException(), pos) from None

    return fused


def _property(tfn: Fn, impl: Callable[[Any], Any], conditional: bool, pos: ast.Pos) -> Fn:
    def get(env: list[Any]) -> Any:
        obj = tfn(env)
        if obj is None:
            if conditional:
                raise SHORT
            raise _located(NullReferenceException(), pos)
        try:
            return impl(obj)
        except Exception as exc:
            raise _located(exc, pos) from None

    return get


def _invoke(tfn: Fn, impl: Callable[..., Any], type_args: tuple[Any, ...], args: _Args, pos: ast.Pos, *,
            conditional: bool = False, static: bool = False, check: bool = False, name: str = "",
            path: str | None = None) -> Fn:
    """A call `target.M<T>(args)` -> impl(target, *type_args, *args, **named), with out params."""
    positional = args.positional
    named = args.named
    outs = args.outs
    checker = rt.check_result if check else None
    preflight = rt.PREFLIGHT.get(name)
    simple = not named and not outs and not type_args and preflight is None
    if simple and path and not conditional and len(positional) <= 2:
        return _invoke_on_path(attrgetter(path), impl, positional, pos, checker)
    if simple and len(positional) <= 2 and checker is None:
        if len(positional) == 0 and not static:
            return _property(tfn, impl, conditional, pos)  # `x.M()` is `impl(x)`, null-checked like a property
        if len(positional) == 0:
            def call0(env: list[Any]) -> Any:
                try:
                    return impl(tfn(env))
                except Exception as exc:
                    raise _located(exc, pos) from None

            return call0
        if len(positional) == 1:
            a0 = positional[0]

            def call1(env: list[Any]) -> Any:
                obj = tfn(env)
                if obj is None and not static:
                    if conditional:
                        raise SHORT
                    raise _located(NullReferenceException(), pos)
                try:
                    return impl(obj, a0(env))
                except ShortCircuit:
                    raise
                except Exception as exc:
                    raise _located(exc, pos) from None

            return call1
        a0, a1 = positional

        def call2(env: list[Any]) -> Any:
            obj = tfn(env)
            if obj is None and not static:
                if conditional:
                    raise SHORT
                raise _located(NullReferenceException(), pos)
            try:
                return impl(obj, a0(env), a1(env))
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return call2

    def call(env: list[Any]) -> Any:
        obj = tfn(env)
        if obj is None and not static and not _accepts_null(impl):
            if conditional:
                raise SHORT
            raise _located(NullReferenceException(), pos)
        try:
            values = [*type_args, *[a(env) for a in positional]]
            if preflight is not None:
                preflight(obj, values)
            if named:
                result = impl(obj, *values, **{k: v(env) for k, v in named.items()})
            else:
                result = impl(obj, *values)
            if outs:
                if not isinstance(result, tuple):
                    raise rt.DotNetTypeError("this method has no out parameters")
                for index, slot, zero in outs:
                    value = result[index] if index < len(result) else None
                    env[slot] = zero if value is None else value
                result = result[0]
            return checker(result) if checker is not None else result
        except ShortCircuit:
            raise
        except Exception as exc:
            raise _located(exc, pos) from None

    return call


def _invoke_on_path(getter: Callable[[Any], Any], impl: Callable[..., Any], positional: list[Fn], pos: ast.Pos,
                    checker: Callable[[Any], Any] | None) -> Fn:
    """Calls on a fused context path (`context.Request.Headers.M(...)`): one frame per call."""
    check = checker or _identity
    if len(positional) == 0:
        def path0(env: list[Any]) -> Any:
            try:
                obj = getter(env[0])
                if obj is None:
                    raise NullReferenceException()
                return check(impl(obj))
            except Exception as exc:
                raise _located(exc, pos) from None

        return path0
    if len(positional) == 1:
        a0 = positional[0]

        def path1(env: list[Any]) -> Any:
            try:
                obj = getter(env[0])
                if obj is None:
                    raise NullReferenceException()
                return check(impl(obj, a0(env)))
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return path1
    a0, a1 = positional

    def path2(env: list[Any]) -> Any:
        try:
            obj = getter(env[0])
            if obj is None:
                raise NullReferenceException()
            return check(impl(obj, a0(env), a1(env)))
        except ShortCircuit:
            raise
        except Exception as exc:
            raise _located(exc, pos) from None

    return path2


def _identity(value: Any) -> Any:
    return value


def _accepts_null(impl: Any) -> bool:
    return getattr(impl, "__name__", "") in ("IsNullOrEmpty", "IsNullOrWhiteSpace", "AsJwt", "AsBasic")


class _Delegate:
    """A compiled lambda: a Python callable the library can call (LINQ predicates...)."""

    __slots__ = ("env", "slots", "body")

    def __init__(self, env: list[Any], slots: list[int], body: Fn) -> None:
        self.env = env
        self.slots = slots
        self.body = body

    @property
    def arity(self) -> int:
        """How many parameters the lambda declares (LINQ's `Select((x, i) => ...)` passes the index)."""
        return len(self.slots)

    def __call__(self, *args: Any) -> Any:
        env = self.env
        env[2].tick()
        for slot, value in zip(self.slots, args, strict=False):
            env[slot] = value
        return self.body(env)


def _make_lambda(slots: list[int], body: Fn) -> Fn:
    if len(slots) == 1:
        slot = slots[0]

        def make1(env: list[Any]) -> Callable[..., Any]:
            budget = env[2]

            def f(x: Any, *_: Any) -> Any:
                budget.tick()
                env[slot] = x
                return body(env)

            return f

        return make1
    return lambda env: _Delegate(env, slots, body)


class MethodGroup:
    """A static library method used as a delegate value (`list.Any(string.IsNullOrEmpty)`)."""

    __slots__ = ("method", "arity")

    def __init__(self, method: Callable[..., Any], arity: int) -> None:
        self.method = method
        self.arity = arity

    def __call__(self, *args: Any) -> Any:
        return self.method(*args[: self.arity])


_ONE_PARAMETER_LAMBDA = _make_lambda([0], lambda env: None)([None, None, None]).__code__


def is_delegate(value: Any) -> bool:
    """True for the callables an expression may invoke: its own lambdas and method groups."""
    return (value.__class__ is _Delegate or value.__class__ is MethodGroup
            or getattr(value, "__code__", None) is _ONE_PARAMETER_LAMBDA)


def _hole(inner: Fn) -> Fn:
    convert = to_string

    def hole(env: list[Any]) -> str:
        v = inner(env)
        return v if v.__class__ is str else convert(v)

    return hole


def _formatted_hole(inner: Fn, fmt: str | None, alignment: int, format_value: Callable[..., str]) -> Fn:
    return lambda env: format_value(inner(env), fmt, alignment)


def _type_keyword(fn: Any) -> str | None:
    """Name of a `type_arg`-style parameter that is not the first one (`DeserializeObject(text, type_arg)`)."""
    import inspect

    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None
    for index, name in enumerate(params):
        if name in ("type_arg", "type_", "target_type") and index > 0:
            return name
    return None


def _fast_string_method(name: str, args: tuple[ast.Arg, ...], fallback: Callable[..., Any]) -> Any:
    """Exact shortcuts for string methods called with one literal argument (or none)."""
    if len(args) > 1 or any(a.name is not None or a.out is not None for a in args):
        return None
    literal = getattr(args[0], "value", None) if args else None
    if args and not isinstance(literal, ast.Literal):
        return None
    value = literal.value if literal is not None else None
    if not args:
        if name == "ToString":
            return _identity
        if name in ("ToLower", "ToLowerInvariant"):
            return lambda s: s.lower() if s.isascii() else fallback(s)
        if name in ("ToUpper", "ToUpperInvariant"):
            return lambda s: s.upper() if s.isascii() else fallback(s)
        return None
    if not isinstance(value, str) or value is None:
        return None
    if name == "Split" and len(value) == 1:  # Split(char): ordinal, keeps empty entries
        large = rt.LARGE  # long strings go through the library, which checks the number of pieces first
        return lambda s: s.split(value) if len(s) < large else fallback(s, value)
    if name == "Contains" and value:  # ordinal
        return lambda s: value in s
    if name == "Equals":  # ordinal
        return lambda s: s == value
    if name in ("StartsWith", "EndsWith") and value.isascii() and value.isprintable() and len(value) > 1:
        # culture-sensitive in .NET; identical to ordinal for printable ASCII on both sides
        test = str.startswith if name == "StartsWith" else str.endswith
        return lambda s: test(s, value) if s.isascii() and s.isprintable() else fallback(s, value)
    if name == "IndexOf" and len(value) == 1 and type(value) is not str:  # IndexOf(char) is ordinal
        return lambda s: s.find(value) if s.isascii() else fallback(s, value)  # UTF-16 indexes otherwise
    return None


def _raise_missing(name: str) -> Callable[..., Any]:
    def missing(*args: Any) -> Any:
        raise rt.SecurityError(f"member '{name}' is not available")

    return missing


def _required_parameters(fn: Any) -> int:
    """How many arguments a method group passes on (its required positional parameters, at least 1)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return max(len(required), 1)


def _type_test(type_name: str) -> Callable[[Any], bool]:
    short = strip_namespace(type_name)
    iface = INTERFACES.get(short)
    cls = iface.pyclass if iface is not None else None
    if cls is not None:
        return lambda v: isinstance(v, cls)
    from engine.dotnet.conversions import is_type

    return lambda v: is_type(v, short)


def _generated_concat(codes: list[Code]) -> Fn | None:
    """String concatenation as one generated function (no frame per operand).

    The source is built from constants and slot names only, never from user text, and is executed
    in an empty namespace holding just the operand closures (`{"__builtins__": {}}`).
    """
    if len(codes) > 12:
        return None
    namespace: dict[str, Any] = {"__builtins__": {}, "_ts": to_string, "_check": rt.check_string, "_len": len}
    terms: list[str] = []
    for i, code in enumerate(codes):
        if code.const:
            namespace[f"k{i}"] = to_string(code.value)
            terms.append(f"k{i}")
        elif code.type is STRING and code.path:
            namespace[f"g{i}"] = attrgetter(code.path)
            terms.append(f"(g{i}(c) or '')")
        elif code.type is STRING:
            namespace[f"f{i}"] = code.fn
            terms.append(f"(f{i}(env) or '')")
        else:
            namespace[f"f{i}"] = code.fn
            terms.append(f"_ts(f{i}(env))")
    source = (
        "def concat(env):\n"
        "    c = env[0]\n"
        f"    r = {' + '.join(terms)}\n"
        "    return _check(r) if _len(r) > 4096 else r\n"
    )
    exec(compile(source, "<concat>", "exec"), namespace)  # noqa: S102 - generated from constants only
    concat: Callable[[list[Any]], Any] = namespace["concat"]
    return concat


def _wrapping(op: str, lf: Fn, rf: Fn, bits: int) -> Fn:
    """Unchecked C# integer arithmetic: `int` results wrap to 32 bits, `long` to 64."""
    py = {"+": operator.add, "-": operator.sub, "*": operator.mul}[op]
    low, high, span = -(1 << (bits - 1)), 1 << (bits - 1), 1 << bits

    def arith(env: list[Any]) -> Any:
        a, b = lf(env), rf(env)
        if a is None or b is None:
            return None
        r = py(a, b)
        return r if low <= r < high else (r - low) % span + low

    return arith


def _is_stringish(codes: list[Code]) -> bool:
    return any(c.type is STRING for c in codes)


def _as_text(code: Code) -> Fn:
    """An operand of string concatenation as a closure returning str (null -> "")."""
    if code.const:
        text = to_string(code.value)
        return lambda env: text
    f = code.fn
    if code.type is STRING:
        if code.path:
            getter = attrgetter(code.path)

            def path_text(env: list[Any]) -> str:
                v = getter(env[0])
                return v if v is not None else ""

            return path_text
        return lambda env: v if (v := f(env)) is not None else ""
    convert = to_string
    return lambda env: v if (v := f(env)).__class__ is str else convert(v)


def _compare(left: Code, right: Code, op: Callable[[Any, Any], bool]) -> Fn:
    """`==`/`!=` on statically typed operands: no dispatch, constants and context paths inlined."""
    if right.const:
        value = right.value
        if left.path:
            getter = attrgetter(left.path)
            return lambda env: op(getter(env[0]), value)
        lf = left.fn
        return lambda env: op(lf(env), value)
    lf, rf = left.fn, right.fn
    return lambda env: op(lf(env), rf(env))
