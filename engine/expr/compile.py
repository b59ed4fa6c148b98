"""AST -> Python closures (and, for simple expressions, one generated function).

One pass does both jobs of the checker and the compiler: every name and member is resolved
against `engine.expr.members` (diagnostics are collected, never raised one by one), and each node
becomes a closure `f(env)`. `env` is a list: `[context, return value, budget, locals...]`, locals
get fixed slots at compile time. Members of statically known types are bound here; values whose
type is only known at run time go through `members.member_gate` / `members.call_gate`.

Nodes that are plain Python once bound (context paths, constants, comparisons, `&&`/`||`, `?:`,
string concatenation, casts, calls on the always-present context dictionaries) also carry inline
source; `Compiler.generated_evaluator` turns a whole expression of such nodes into one function
executed in a namespace with empty `__builtins__` (other nodes are referenced as bound closures).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any

from engine.dotnet.errors import IndexOutOfRangeException, NullReferenceException
from engine.expr import ast
from engine.expr import members as M
from engine.expr import runtime as rt
from engine.expr.closures import (
    _NEVER_NULL,
    _NON_NULL_STRINGS,
    AnonymousObject,
    Code,
    Local,
    _always_set,
    _Args,
    _as_text,
    _binary_type,
    _compare,
    _context,
    _Delegate,
    _fast_string_method,
    _formatted_hole,
    _fused,
    _generated_concat,
    _has_conditional,
    _hole,
    _invoke,
    _is_enum_member,
    _is_stringish,
    _located,
    _located_call,
    _make_lambda,
    _property,
    _py_name,
    _raise_missing,
    _static_attr,
    _type_keyword,
    _type_of_value_class,
    _type_test,
    _value_type,
    _wrapping,
)
from engine.expr.gates import add_gate, index_gate, setattr_gate, setitem_gate
from engine.expr.members import DYNAMIC, CsType
from engine.expr.runtime import SHORT, ShortCircuit
from engine.expr.statements import RETURN, StatementCompiler
from engine.expr.tables import (
    _BUILTIN_RESULTS,
    _ELEMENT_RESULTS,
    _EQ_OPS,
    _EXTRA_TYPE_NAMES,
    _FAST_CASTS,
    _GENERIC_COLLECTIONS,
    _ORDER_OPS,
    _PY_COMPARE,
    _STATIC_RESULTS,
    _VALUE_DEFAULTS,
)

Fn = Callable[[list[Any]], Any]


class Compiler(StatementCompiler):
    """Compile one expression or block; `problems` collects (code, message, pos, hint)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, ast.Pos, str | None]] = []
        self.scopes: list[dict[str, Local]] = [{}]
        self.functions: dict[str, list[Any]] = {}
        self.nslots = 3
        self.uses_body = False
        self.needs_budget = False
        self.lambda_types: list[CsType] = []
        self.is_block = False
        self.namespace: dict[str, Any] = {"__builtins__": {}}
        self.null_sites: list[ast.Pos] = []  # inline paths that may be null (AttributeError)
        self.key_sites: list[ast.Pos] = []  # inline `context.Variables[k]` (KeyError)

    # ------------------------------------------------------------------ diagnostics helpers
    def error(self, code: str, message: str, pos: ast.Pos, hint: str | None = None) -> None:
        self.problems.append((code, message, pos, hint))

    def _dead(self, type_: CsType = DYNAMIC) -> Code:
        def fail(env: list[Any]) -> Any:
            raise rt.SecurityError("this expression did not compile")

        return Code(fail, type_)

    @staticmethod
    def _suggest(name: str, options: list[str]) -> str | None:
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
        if not close:
            lowered = {o.lower(): o for o in options}
            if name.lower() in lowered:
                close = [lowered[name.lower()]]
        return f"did you mean '{close[0]}'?" if close else None

    def _check_name(self, name: str, pos: ast.Pos) -> bool:
        if name.startswith("_") or "__" in name or name in M.FORBIDDEN:
            self.error("expr-security", f"'{name}' is not accessible from policy expressions", pos)
            return False
        return True

    def _check_member_case(self, name: str, target: Code, pos: ast.Pos) -> bool:
        """Every allowed .NET member starts with an upper-case letter (anonymous types aside)."""
        if M.CS_IDENT.match(name) or name in target.type.members:
            return True
        options = list(target.type.members) or (M.namespace_names(target.type.pyclass)
                                                 if isinstance(target.type.pyclass, type) else [])
        self.error("expr-unknown-member", f"'{target.static_name or target.type.name}' has no member '{name}'", pos,
                   self._suggest(name, options) or "members of .NET types start with an upper-case letter")
        return False

    # ------------------------------------------------------------------ generated source
    def bind(self, obj: Any, prefix: str = "f") -> str:
        """A namespace name for `obj` in the generated evaluator (names are never user text)."""
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = obj
        return name

    def source(self, code: Code) -> str:
        """Python source computing `code` from `c` (the context) and `env`: inline when known."""
        if code.src is not None:
            return code.src
        if code.const:
            return self.bind(code.value, "k")
        if code.path is not None:
            parent = code.path.rsplit(".", 1)[0] if "." in code.path else ""
            if code.pos is not None and parent not in _NEVER_NULL:
                self.null_sites.append(code.pos)
            return "c" + ("." + code.path if code.path else "")
        return f"{self.bind(code.fn)}(env)"

    # ------------------------------------------------------------------ scopes
    def lookup(self, name: str) -> Local | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def declare(self, name: str, type_: CsType, pos: ast.Pos) -> int:
        if name in self.scopes[-1]:
            self.error("expr-type", f"a local variable named '{name}' is already defined in this scope", pos)
        slot = self.nslots
        self.nslots += 1
        self.scopes[-1][name] = Local(slot, type_)
        return slot

    # ------------------------------------------------------------------ entry points
    def compile_expression(self, node: ast.Expr) -> Code:
        return self.expr(node)

    def generated_evaluator(self, root: Code, error: Callable[[BaseException], BaseException],
                            coerce: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        """`evaluate(ctx)` as one generated function when the root has inline source, else None.

        The source contains only names bound by `bind()`, attribute paths from the declared context
        model and operators: no user text. It runs in a namespace with empty `__builtins__`.
        """
        src = self.source(root)
        if root.src is None and root.path is None and not root.const:
            return None
        null_sites, key_sites = sorted(set(self.null_sites)), sorted(set(self.key_sites))
        report = error

        def error(exc: BaseException) -> BaseException:  # locate what the inline code cannot
            if getattr(exc, "expr_pos", None) is None:
                if isinstance(exc, AttributeError) and len(null_sites) == 1:
                    _located(exc, null_sites[0])
                elif isinstance(exc, KeyError) and len(key_sites) == 1:
                    _located(exc, key_sites[0])
            return report(exc)

        value = f"{self.bind(coerce, '_coerce')}({src})" if coerce is not None else src
        prologue = "    env = [c]\n" if "env" in src else ""
        short, exc_type, err = self.bind(ShortCircuit, "_S"), self.bind(Exception, "_E"), self.bind(error, "_err")
        text = (f"def evaluate(c):\n{prologue}    try:\n        return {value}\n"
                f"    except {short}:\n        return None\n"
                f"    except {exc_type} as exc:\n        raise {err}(exc) from None\n")
        exec(compile(text, "<policy expression>", "exec"), self.namespace)  # noqa: S102 - no user text
        return self.namespace["evaluate"]  # type: ignore[no-any-return]

    def compile_block(self, block: ast.Block) -> Fn:
        self.is_block = True
        body = self.block(block.body, new_scope=False)

        def run(env: list[Any]) -> Any:
            if body(env) == RETURN:
                return env[1]
            return None

        return run

    # ================================================================== expressions
    def expr(self, node: ast.Expr) -> Code:
        code = self.chain(node)
        if isinstance(node, ast.Member | ast.Index | ast.Call) and _has_conditional(node):
            inner = code.fn

            def chain_root(env: list[Any]) -> Any:
                try:
                    return inner(env)
                except ShortCircuit:
                    return None

            return Code(chain_root, code.type)
        return code

    def chain(self, node: ast.Expr) -> Code:
        """Compile without ending a `?.` chain (for the target of a member/index/call)."""
        method = getattr(self, "x_" + type(node).__name__, None)
        if method is None:
            self.error("expr-syntax", f"{type(node).__name__} is not supported here", node.pos)
            return self._dead()
        return method(node)

    def fn(self, node: ast.Expr) -> Fn:
        return self.expr(node).fn

    # -- literals --------------------------------------------------------------------------------
    def x_Literal(self, node: ast.Literal) -> Code:
        value = node.value
        type_ = M.PRIMITIVES.get(node.type, DYNAMIC)
        return Code(lambda env: value, type_, const=True, value=value)

    def x_Interpolated(self, node: ast.Interpolated) -> Code:
        from engine.dotnet.formatting import format_value

        pieces: list[Any] = []
        for part in node.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            inner = self.fn(part.expr)
            if part.format is None and part.alignment == 0:
                pieces.append(_hole(inner))
            else:
                pieces.append(_formatted_hole(inner, part.format, part.alignment, format_value))
        if all(isinstance(p, str) for p in pieces):
            text = "".join(pieces)
            return Code(lambda env: text, M.STRING, const=True, value=text)
        funcs = [(lambda env, p=p: p) if isinstance(p, str) else p for p in pieces]
        check = rt.check_string

        def interpolate(env: list[Any]) -> str:
            return check("".join([f(env) for f in funcs]))

        return Code(interpolate, M.STRING)

    # -- names -------------------------------------------------------------------------------------
    def x_Name(self, node: ast.Name) -> Code:
        name = node.ident
        local = self.lookup(name)
        if local is not None:
            slot = local.slot
            return Code(lambda env: env[slot], local.type)
        if name == "context":
            return Code(_context, M.CONTEXT, path="")
        if not self._check_name(name, node.pos):
            return self._dead()
        static = M.static_type(name)
        if static is not None or name in M.INTERFACES:
            return Code(self._type_used_as_value(name), DYNAMIC, static=static, static_name=name)
        if self._is_namespace_prefix(name):
            return Code(self._type_used_as_value(name), DYNAMIC, static_name=name)
        options = [n for scope in self.scopes for n in scope] + ["context"] + M.known_type_names()
        hint = self._suggest(name, options)
        if name in M.PRIMITIVES or M.strip_namespace(name) != name:
            hint = hint or None
        self.error("expr-unknown-name", f"the name '{name}' does not exist in the current context", node.pos, hint)
        return self._dead()

    @staticmethod
    def _is_namespace_prefix(name: str) -> bool:
        return any(ns.startswith(name + ".") or ns == name + "." for ns in M.NAMESPACES)

    @staticmethod
    def _type_used_as_value(name: str) -> Fn:
        def fail(env: list[Any]) -> Any:
            raise rt.SecurityError(f"'{name}' is a type, not a value")

        return fail

    def x_TypeRef(self, node: ast.TypeRef) -> Code:
        name = node.type.name
        return Code(self._type_used_as_value(name), DYNAMIC, static=M.static_type(name), static_name=name)

    # -- member access -------------------------------------------------------------------------------
    def x_Member(self, node: ast.Member) -> Code:
        if not self._check_name(node.name, node.name_pos):
            return self._dead()
        target = self.chain(node.target)
        if not self._check_member_case(node.name, target, node.name_pos):
            return self._dead()
        if target.static_name:
            return self._static_member(node, target)
        code = self._instance_member(node, target)
        return code

    def _static_member(self, node: ast.Member, target: Code) -> Code:
        full = f"{target.static_name}.{node.name}"
        if target.static is None:
            # a namespace prefix (`System.Text`) or a type that exists only for casts
            static = M.static_type(full)
            if static is not None or full in M.INTERFACES:
                return Code(self._type_used_as_value(full), DYNAMIC, static=static, static_name=full)
            if self._is_namespace_prefix(full):
                return Code(self._type_used_as_value(full), DYNAMIC, static_name=full)
            self.error("expr-unknown-name", f"the type or namespace '{full}' is not available", node.pos)
            return self._dead()
        holder = target.static
        name = _py_name(holder, node.name)
        if not M.CS_IDENT.match(name.rstrip("_")) or not hasattr(holder, name):
            options = [n for n in dir(holder) if M.CS_IDENT.match(n)]
            self.error("expr-unknown-member", f"'{target.static_name}' has no member '{name}'", node.name_pos,
                       self._suggest(name, options))
            return self._dead()
        raw = _static_attr(holder, name)
        if isinstance(raw, M._static_property_type()) or isinstance(raw, property):
            return Code(lambda env: getattr(holder, name), _type_of_value_class(holder, name))
        value = getattr(holder, name)
        if callable(value) and not isinstance(value, type) and not _is_enum_member(value):
            self.error("expr-type", f"'{target.static_name}.{name}' is a method: call it with ()", node.name_pos)
            return self._dead()
        return Code(lambda env: value, _value_type(value), const=True, value=value)

    def _instance_member(self, node: ast.Member, target: Code) -> Code:
        name, pos, ttype = node.name, node.pos, target.type
        tfn = target.fn
        declared = ttype.member(name)
        if declared is not None:
            if declared.kind != "property":
                self.error("expr-type", f"'{ttype.name}.{name}' is a method: call it with ()", node.name_pos)
                return self._dead()
            if ttype in (M.REQUEST, M.RESPONSE) and name == "Body":
                self.uses_body = True
            result = declared.result()
            if declared.path is not None and target.path is not None and not node.conditional:
                path = f"{target.path}.{declared.path}" if target.path else declared.path
                getter = attrgetter(path)
                return Code(_fused(getter, pos), result, path=path, pos=pos)
            impl = declared.impl
            return Code(_property(tfn, impl, node.conditional, pos), result)
        if ttype.closed:
            self.error("expr-unknown-member", f"'{ttype.name}' has no member '{name}'", node.name_pos,
                       self._suggest(name, list(ttype.members)))
            return self._dead()
        namespace_fn, result = self._builtin_member(ttype, name, node.name_pos, want_property=True)
        if namespace_fn is not None:
            return Code(_property(tfn, namespace_fn, node.conditional, pos), result)
        if isinstance(ttype.pyclass, type) and ttype.pyclass.__module__.startswith("engine.dotnet"):
            if M._defined_by_library(ttype.pyclass, name) is None:
                options = [n for n in dir(ttype.pyclass) if M.CS_IDENT.match(n)]
                self.error("expr-unknown-member", f"'{ttype.name}' has no member '{name}'", node.name_pos,
                           self._suggest(name, options))
                return self._dead()
        if ttype.name.startswith("<anonymous"):
            return Code(_property(tfn, lambda o: o[name], node.conditional, pos), ttype.members[name].result()
                        if name in ttype.members else DYNAMIC)
        gate = M.member_gate
        anon = AnonymousObject
        cond = node.conditional

        def dynamic(env: list[Any]) -> Any:
            obj = tfn(env)
            if obj is None and cond:
                raise SHORT
            try:
                if obj.__class__ is anon:
                    return obj[name]
                return gate(obj, name)
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(dynamic, DYNAMIC)

    def _builtin_member(self, ttype: CsType, name: str, pos: ast.Pos, *, want_property: bool
                        ) -> tuple[Any, CsType]:
        """Bind a member of a value represented by a Python built-in (str, int, list...)."""
        pyclass = ttype.pyclass
        if not isinstance(pyclass, type) or pyclass.__module__ != "builtins" and pyclass is not Decimal:
            return None, DYNAMIC
        if M._namespace_for(pyclass) is None:
            return None, DYNAMIC
        fn = M.namespace_function(pyclass, name, array=ttype.name.endswith("[]"))
        if fn is None:
            if M.extension(name) is not None:
                return None, DYNAMIC
            self.error("expr-unknown-member", f"'{ttype.name}' has no member '{name}'", pos,
                       self._suggest(name, M.namespace_names(pyclass)))
            return _raise_missing(name), DYNAMIC
        is_prop = name in M._NAMESPACE_PROPERTIES
        if want_property and not is_prop:
            self.error("expr-type", f"'{ttype.name}.{name}' is a method: call it with ()", pos)
        return fn, _BUILTIN_RESULTS.get((ttype.name, name), _BUILTIN_RESULTS.get(("*", name), DYNAMIC))

    # -- indexers ------------------------------------------------------------------------------------
    def x_Index(self, node: ast.Index) -> Code:
        target = self.chain(node.target)
        args = [self.fn(a.value) for a in node.args if a.value is not None]
        tfn, pos, cond = target.fn, node.pos, node.conditional
        declared = target.type.member("Item")
        if declared is not None and len(args) == 1 and target.path and not cond:
            impl, a0, getter = declared.impl, args[0], attrgetter(target.path)

            def path_item(env: list[Any]) -> Any:
                try:
                    return impl(getter(env[0]), a0(env))
                except Exception as exc:
                    raise _located(exc, pos) from None

            src = None
            if target.type is M.VARIABLES and _always_set(target.path):
                src = f"{self.source(target)}[{self.source(self.expr(node.args[0].value))}]"  # type: ignore[arg-type]
                self.key_sites.append(pos)
            return Code(path_item, declared.result(), src=src)
        if declared is not None and len(args) == 1:
            impl, a0 = declared.impl, args[0]

            def item(env: list[Any]) -> Any:
                obj = tfn(env)
                if obj is None:
                    if cond:
                        raise SHORT
                    raise _located(NullReferenceException(), pos)
                try:
                    return impl(obj, a0(env))
                except Exception as exc:
                    raise _located(exc, pos) from None

            return Code(item, declared.result())
        keys = [a.value for a in node.args]
        if (target.type.name.endswith("[]") and target.type.pyclass is list and len(keys) == 1
                and isinstance(keys[0], ast.Literal) and type(keys[0].value) is int and keys[0].value >= 0):
            k = keys[0].value

            def const_index(env: list[Any]) -> Any:
                obj = tfn(env)
                if obj is None:
                    if cond:
                        raise SHORT
                    raise _located(NullReferenceException(), pos)
                try:
                    return obj[k]
                except IndexError:
                    raise _located(IndexOutOfRangeException(), pos) from None

            return Code(const_index, target.type.element or DYNAMIC)
        element = target.type.element if target.type.element is not None and target.type is not M.STRING else DYNAMIC
        if target.type is M.STRING:
            element = M.CHAR

        def index(env: list[Any]) -> Any:
            obj = tfn(env)
            if obj is None:
                if cond:
                    raise SHORT
                raise _located(NullReferenceException(), pos)
            try:
                return index_gate(obj, [a(env) for a in args])
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(index, element)

    # -- calls ---------------------------------------------------------------------------------------
    def x_Call(self, node: ast.Call) -> Code:
        func = node.func
        if isinstance(func, ast.Member):
            if not self._check_name(func.name, func.name_pos):
                return self._dead()
            target = self.chain(func.target)
            if not self._check_member_case(func.name, target, func.name_pos):
                return self._dead()
            if target.static_name:
                return self._static_call(node, func, target)
            return self._instance_call(node, func, target)
        if isinstance(func, ast.Name) and func.ident in self.functions:
            return self._local_function_call(node, func)
        if isinstance(func, ast.Name):
            if func.ident in M.FORBIDDEN or not self._check_name(func.ident, func.pos):
                if func.ident in M.FORBIDDEN:
                    self.error("expr-security", f"'{func.ident}' is not accessible from policy expressions", func.pos)
                return self._dead()
            self.error("expr-unknown-name", f"the name '{func.ident}' does not exist in the current context",
                       func.pos, self._suggest(func.ident, list(self.functions)))
            return self._dead()
        callee = self.fn(func)
        args = self._args(node.args)
        pos = node.pos

        def invoke(env: list[Any]) -> Any:
            f = callee(env)
            if not isinstance(f, _Delegate):
                raise _located(rt.SecurityError("only lambdas can be invoked"), pos)
            return f(*[a(env) for a in args.positional])

        return Code(invoke, DYNAMIC)

    def _args(self, args: tuple[ast.Arg, ...], lambda_type: CsType | None = None) -> _Args:
        positional: list[Fn] = []
        named: dict[str, Fn] = {}
        outs: list[tuple[int, int]] = []  # (index in result tuple, slot)
        for arg in args:
            if arg.out is not None:
                local = self.lookup(arg.out) if arg.out_type is None else None
                if arg.out_type is not None:
                    otype = DYNAMIC if arg.out_type.name == "var" else M.resolve_type_name(arg.out_type)
                    slot = self.declare(arg.out, otype, arg.pos)
                elif local is None:
                    self.error("expr-unknown-name", f"the name '{arg.out}' does not exist in the current context",
                               arg.pos)
                    continue
                else:
                    slot = local.slot
                outs.append((len(outs) + 1, slot))
                continue
            if isinstance(arg.value, ast.Lambda) and lambda_type is not None:
                self.lambda_types.append(lambda_type)
                try:
                    code = self.fn(arg.value)
                finally:
                    self.lambda_types.pop()
            else:
                code = self.fn(arg.value)  # type: ignore[arg-type]
            if arg.name is not None:
                named[arg.name] = code
            else:
                positional.append(code)
        return _Args(positional, named, outs)

    def _static_call(self, node: ast.Call, func: ast.Member, target: Code) -> Code:
        holder = target.static
        name = func.name
        full = f"{target.static_name}.{name}"
        if holder is None:
            self.error("expr-unknown-name", f"'{full}' is not available", func.pos)
            return self._dead()
        fn = getattr(holder, name, None) if M.CS_IDENT.match(name) and name not in M.FORBIDDEN else None
        if fn is None or not callable(fn):
            options = [n for n in dir(holder) if M.CS_IDENT.match(n)]
            self.error("expr-unknown-member", f"'{target.static_name}' has no method '{name}'", func.name_pos,
                       self._suggest(name, options))
            return self._dead()
        args = self._args(node.args)
        type_args = tuple(str(t) for t in func.type_args)
        self._check_arity(fn, 0, len(type_args) + len(args.positional) + len(args.outs) * 0, full, func.name_pos,
                          args)
        result = _STATIC_RESULTS.get(full.replace("System.", ""), DYNAMIC)
        if result is DYNAMIC and name in ("Parse", "FromObject") and isinstance(holder, type):
            result = M.library_type(holder)
        if type_args and func.type_args:
            result = M.resolve_type_name(func.type_args[0]) if name.startswith("Deserialize") else result
            keyword = _type_keyword(fn)
            if keyword is not None:  # the library takes <T> as a named parameter, not first
                targ = type_args[0]
                args.named[keyword] = lambda env: targ
                type_args = ()
        return Code(_invoke(lambda env: None, lambda _obj, *a, **k: fn(*a, **k), type_args, args, node.pos,
                            static=True, check=True, name=name), result)

    def _check_arity(self, fn: Any, skip: int, given: int, label: str, pos: ast.Pos, args: _Args) -> None:
        if args.named:
            return
        lo, hi = M.signature_arity(fn, skip)
        total = given
        if total < lo or (hi is not None and total > hi + (len(args.outs) if args.outs else 0)):
            expected = f"{lo}" if hi == lo else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
            if args.outs and total >= lo:
                return
            self.error("expr-arity", f"'{label}' takes {expected} argument(s), {total} given", pos)

    def _instance_call(self, node: ast.Call, func: ast.Member, target: Code) -> Code:
        name, ttype = func.name, target.type
        type_args = tuple(str(t) for t in func.type_args)
        declared = ttype.member(name)
        elem = ttype.element or DYNAMIC
        if declared is not None and declared.kind != "method" and not ttype.closed and M.extension(name) is not None:
            declared = None  # `headers.Count()`: the LINQ extension, not the property
        if declared is not None:
            if declared.kind != "method":
                self.error("expr-type", f"'{ttype.name}.{name}' is a property, not a method", func.name_pos)
                return self._dead()
            args = self._args(node.args, elem)
            given = len(args.positional) + len(args.outs) + len(args.named)
            if given < declared.min_args or (declared.max_args is not None and given > declared.max_args):
                expected = (f"{declared.min_args}" if declared.min_args == declared.max_args else
                            f"{declared.min_args} to {declared.max_args}")
                self.error("expr-arity", f"'{ttype.name}.{name}' takes {expected} argument(s), {given} given",
                           func.name_pos)
            if ttype in (M.REQUEST, M.RESPONSE) or ttype is M.BODY:
                self.uses_body = True
            if declared.generic:
                targs: tuple[Any, ...] = type_args or (None,)
            else:
                targs = ()
            if not declared.generic and type_args:
                self.error("expr-arity", f"'{ttype.name}.{name}' is not generic", func.name_pos)
            src = None
            if (declared.inline is not None and _always_set(target.path) and not func.conditional and not targs
                    and not args.named and not args.outs):
                arg_srcs = [self.source(self.expr(a.value)) for a in node.args if a.value is not None]
                src = declared.inline(self.source(target), arg_srcs)
            elif (_always_set(target.path) and not func.conditional and not targs and not args.named
                  and not args.outs):
                arg_srcs = [self.source(self.expr(a.value)) for a in node.args if a.value is not None]
                src = f"{self.bind(declared.impl)}({', '.join([self.source(target), *arg_srcs])})"
            return Code(_invoke(target.fn, declared.impl, targs, args, node.pos, conditional=func.conditional,
                                path=target.path), declared.result(func.type_args), src=src)
        if ttype.closed:
            ext = M.extension(name)
            if ext is None:
                self.error("expr-unknown-member", f"'{ttype.name}' has no member '{name}'", func.name_pos,
                           self._suggest(name, list(ttype.members)))
                return self._dead()
        args = self._args(node.args, elem)
        fn, result = (None, DYNAMIC)
        if not ttype.closed and name in M._NAMESPACE_PROPERTIES and M.extension(name) is not None:
            pass  # `list.Count()`: the LINQ extension method, not the property
        elif not ttype.closed:
            fn, result = self._builtin_member(ttype, name, func.name_pos, want_property=False)
        if fn is not None:
            if name in M._NAMESPACE_PROPERTIES:
                self.error("expr-type", f"'{ttype.name}.{name}' is a property, not a method", func.name_pos)
            self._check_arity(fn, 1, len(type_args) + len(args.positional), f"{ttype.name}.{name}", func.name_pos,
                              args)
            fast = _fast_string_method(name, node.args, fn) if ttype is M.STRING else None
            if fast is not None:
                src = None
                if target.path in _NON_NULL_STRINGS and not func.conditional:
                    src = f"{self.bind(fast)}({self.source(target)})"
                return Code(_invoke(target.fn, fast, (), _Args([], {}, []), node.pos, conditional=func.conditional,
                                    path=target.path), result, src=src)
            return Code(_invoke(target.fn, fn, type_args, args, node.pos, conditional=func.conditional,
                                check=True, name=name, path=target.path), result)
        if isinstance(ttype.pyclass, type) and ttype.pyclass.__module__.startswith("engine.dotnet"):
            if M._defined_by_library(ttype.pyclass, name) is None and M.extension(name) is None:
                options = [n for n in dir(ttype.pyclass) if M.CS_IDENT.match(n)]
                self.error("expr-unknown-member", f"'{ttype.name}' has no member '{name}'", func.name_pos,
                           self._suggest(name, options))
                return self._dead()
        result = _BUILTIN_RESULTS.get(("*", name), DYNAMIC)
        if name in _ELEMENT_RESULTS:
            result = elem
        gate = M.call_gate

        def dynamic(obj: Any, *a: Any, **k: Any) -> Any:
            return gate(obj, name, a, k)

        return Code(_invoke(target.fn, dynamic, type_args, args, node.pos, conditional=func.conditional,
                            check=True, name=name), result)

    def _local_function_call(self, node: ast.Call, func: ast.Name) -> Code:
        cell = self.functions[func.ident]
        args = self._args(node.args)
        positional = args.positional
        pos = node.pos

        def call(env: list[Any]) -> Any:
            values = [a(env) for a in positional]
            try:
                return cell[0](env, values)
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(call, cell[1])

    # -- operators -------------------------------------------------------------------------------------
    def x_Unary(self, node: ast.Unary) -> Code:
        operand = self.expr(node.operand)
        if node.op == "!" and operand.type not in (M.BOOL, DYNAMIC):
            self.error("expr-type", f"operator '!' cannot be applied to an operand of type '{operand.type.name}'",
                       node.pos)
        if node.op == "-" and operand.const and isinstance(operand.value, int | float | Decimal):
            value = -operand.value
            return Code(lambda env: value, operand.type, const=True, value=value)
        f, o = rt.UNARY[node.op], operand.fn
        return Code(lambda env: f(o(env)), M.BOOL if node.op == "!" else operand.type)

    def x_Binary(self, node: ast.Binary) -> Code:
        op = node.op
        left, right = self.expr(node.left), self.expr(node.right)
        lf, rf = left.fn, right.fn
        lt, rtype = left.type, right.type
        pos = node.pos
        if op in ("&&", "||") and lt is M.BOOL and rtype is M.BOOL:
            if op == "&&":
                return Code(lambda env: lf(env) and rf(env), M.BOOL,
                            src=f"({self.source(left)} and {self.source(right)})")
            return Code(lambda env: lf(env) or rf(env), M.BOOL, src=f"({self.source(left)} or {self.source(right)})")
        if op == "&&":
            truth = rt.truth
            return Code(lambda env: truth(lf(env)) and truth(rf(env)), M.BOOL)
        if op == "||":
            truth = rt.truth
            return Code(lambda env: truth(lf(env)) or truth(rf(env)), M.BOOL)
        if op == "??":

            def coalesce(env: list[Any]) -> Any:
                v = lf(env)
                return v if v is not None else rf(env)

            return Code(coalesce, lt if lt is not M.NULL else rtype)
        if op in ("-", "*", "/", "%") and (lt is M.STRING or rtype is M.STRING or lt is M.BOOL or rtype is M.BOOL):
            self.error("expr-type", f"operator '{op}' cannot be applied to operands of type '{lt.name}' and "
                       f"'{rtype.name}'", pos)
        if op in ("<", ">", "<=", ">=") and (lt is M.STRING or rtype is M.STRING):
            self.error("expr-type", f"operator '{op}' cannot be applied to operands of type 'string'", pos,
                       "use string.Compare(a, b) or a.CompareTo(b)")
        result = _binary_type(op, lt, rtype)
        if op in ("==", "!=") and (lt is M.STRING and rtype in (M.STRING, M.NULL) or (
            rtype is M.STRING and lt is M.NULL
        ) or lt in (M.INT, M.LONG, M.BOOL) and rtype is lt):
            return Code(_compare(left, right, _EQ_OPS[op]), M.BOOL,
                        src=f"({self.source(left)} {op} {self.source(right)})")
        if op in ("<", ">", "<=", ">=") and lt in (M.INT, M.LONG) and rtype in (M.INT, M.LONG):
            if right.const and right.value is not None:
                cmp, c = _ORDER_OPS[op], right.value
                tmp = self.bind(None, "_t")
                src = (f"({self.source(left)} {op} {self.source(right)})" if left.nonnull else
                       f"(({tmp} := {self.source(left)}) is not None and {tmp} {op} {self.source(right)})")
                return Code(lambda env: (v := lf(env)) is not None and cmp(v, c), M.BOOL, src=src)
            py = _PY_COMPARE[op]
            return Code(lambda env: py(lf(env), rf(env)), M.BOOL)
        if op == "+" and result is M.STRING:
            return self._concat(node)
        if op in ("+", "-", "*") and lt in (M.INT, M.LONG) and rtype in (M.INT, M.LONG):
            return Code(_wrapping(op, lf, rf, 64 if M.LONG in (lt, rtype) else 32), result)
        f = rt.BINARY[op]

        def binary(env: list[Any]) -> Any:
            try:
                return f(lf(env), rf(env))
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(binary, result)

    def _concat(self, node: ast.Binary) -> Code:
        """`a + b + c ...` with a string result: one closure joining all operands (C# left-to-right)."""
        spine: list[ast.Expr] = []
        cur: ast.Expr = node
        while isinstance(cur, ast.Binary) and cur.op == "+":
            spine.append(cur.right)
            cur = cur.left
        spine.append(cur)
        spine.reverse()
        codes = [self.expr(e) for e in spine]
        # numeric prefix before the first string operand is added numerically (1 + 2 + "a" == "3a")
        first = next(i for i, c in enumerate(codes) if c.type is M.STRING or i > 0 and _is_stringish(codes[:i + 1]))
        if first > 1:
            head = self._numeric_sum(codes[:first], node.pos)
            codes = [head, *codes[first:]]
        check = rt.check_string
        generated = _generated_concat(codes)
        if generated is not None:
            terms = []
            for code in codes:
                if code.const:
                    terms.append(self.bind(M.to_string(code.value), "k"))
                elif code.type is M.STRING:
                    terms.append(f"({self.source(code)} or '')")
                else:
                    terms.append(f"{self.bind(M.to_string, '_ts')}({self.source(code)})")
            tmp = self.bind(None, "_t")
            src = (f"({tmp} if {self.bind(len, '_len')}({tmp} := {' + '.join(terms)}) <= 4096 "
                   f"else {self.bind(check, '_check')}({tmp}))")
            return Code(generated, M.STRING, src=src)
        parts = [_as_text(c) for c in codes]
        if len(parts) == 2:
            p0, p1 = parts

            def concat2(env: list[Any]) -> str:
                r = p0(env) + p1(env)
                return check(r) if len(r) > 4096 else r

            return Code(concat2, M.STRING)
        if len(parts) == 3:
            p0, p1, p2 = parts

            def concat3(env: list[Any]) -> str:
                r = p0(env) + p1(env) + p2(env)
                return check(r) if len(r) > 4096 else r

            return Code(concat3, M.STRING)

        def concat(env: list[Any]) -> str:
            r = "".join([p(env) for p in parts])
            return check(r) if len(r) > 4096 else r

        return Code(concat, M.STRING)

    def _numeric_sum(self, codes: list[Code], pos: ast.Pos) -> Code:
        fns = [c.fn for c in codes]
        add = rt.add

        def total(env: list[Any]) -> Any:
            acc = fns[0](env)
            for f in fns[1:]:
                acc = add(acc, f(env))
            return acc

        return Code(total, DYNAMIC)

    def x_Ternary(self, node: ast.Ternary) -> Code:
        cond, then, other = self.expr(node.cond), self.expr(node.then), self.expr(node.other)
        self._expect_bool(cond, node.cond.pos)
        c, t, o = cond.fn, then.fn, other.fn
        truth = rt.truth
        type_ = then.type if then.type is other.type or other.type is M.NULL else (
            other.type if then.type is M.NULL else DYNAMIC)
        if cond.type is M.BOOL and then.const and other.const:
            tv, ov = then.value, other.value
            return Code(lambda env: tv if c(env) else ov, type_,
                        src=f"({self.source(then)} if {self.source(cond)} else {self.source(other)})")
        if cond.type is M.BOOL:
            return Code(lambda env: t(env) if c(env) else o(env), type_,
                        src=f"({self.source(then)} if {self.source(cond)} else {self.source(other)})")
        return Code(lambda env: t(env) if truth(c(env)) else o(env), type_)

    def _expect_bool(self, code: Code, pos: ast.Pos) -> None:
        if code.type not in (M.BOOL, DYNAMIC):
            self.error("expr-type", f"cannot implicitly convert type '{code.type.name}' to 'bool'", pos)

    def x_Cast(self, node: ast.Cast) -> Code:
        operand = self.expr(node.operand)
        name = str(node.type)
        type_ = M.resolve_type_name(node.type)
        if not self._known_type(node.type, node.pos):
            return self._dead()
        o, pos = operand.fn, node.pos
        if type_ is operand.type and type_ in (M.STRING, M.INT, M.BOOL, M.DOUBLE):
            return Code(o, type_)
        cast = M.cast_value
        fast = _FAST_CASTS.get(name)
        if fast is not None:
            exact, limit = fast

            def fast_cast(env: list[Any]) -> Any:
                v = o(env)
                if v.__class__ is exact and (limit is None or -limit <= v < limit):
                    return v
                try:
                    return cast(v, name)
                except Exception as exc:
                    raise _located(exc, pos) from None

            tmp, exact_name = self.bind(None, "_t"), self.bind(exact, "_cls")
            cast_name = self.bind(_located_call(cast, pos), "_cast")
            check = f" and {-limit} <= {tmp} < {limit}" if limit is not None else ""
            src = (f"({tmp} if ({tmp} := {self.source(operand)}).__class__ is {exact_name}{check} "
                   f"else {cast_name}({tmp}, {self.bind(name, 'k')}))")
            return Code(fast_cast, type_, src=src, nonnull=exact is not str)
        iface = M.INTERFACES.get(M.strip_namespace(name))
        if iface is not None:
            cls = iface.pyclass

            def iface_cast(env: list[Any]) -> Any:
                v = o(env)
                if v is None or isinstance(v, cls):  # type: ignore[arg-type]
                    return v
                try:
                    return cast(v, name)
                except Exception as exc:
                    raise _located(exc, pos) from None

            return Code(iface_cast, type_)

        def do_cast(env: list[Any]) -> Any:
            try:
                return cast(o(env), name)
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(do_cast, type_)

    def _known_type(self, t: ast.TypeName, pos: ast.Pos) -> bool:
        base = M.strip_namespace(t.name)
        if t.name == "var" or base in M.PRIMITIVES or base in M.INTERFACES or M.static_type(base) is not None:
            return all(self._known_type(a, pos) for a in t.args)
        if base in _GENERIC_COLLECTIONS or base in _EXTRA_TYPE_NAMES:
            return all(self._known_type(a, pos) for a in t.args)
        if base in M.FORBIDDEN or base.startswith("_"):
            self.error("expr-security", f"the type '{t.name}' is not accessible from policy expressions", pos)
            return False
        self.error("expr-unknown-name", f"the type '{t.name}' is not available in policy expressions", pos,
                   self._suggest(base, M.known_type_names()))
        return False

    def x_IsType(self, node: ast.IsType) -> Code:
        operand = self.fn(node.operand)
        if node.type is None:
            if node.negate:
                return Code(lambda env: operand(env) is not None, M.BOOL)
            return Code(lambda env: operand(env) is None, M.BOOL)
        if not self._known_type(node.type, node.pos):
            return self._dead()
        test = _type_test(str(node.type))
        if node.bind is None:
            return Code(lambda env: test(operand(env)), M.BOOL)
        slot = self.declare(node.bind, M.resolve_type_name(node.type), node.pos)

        def is_bind(env: list[Any]) -> bool:
            value = operand(env)
            if test(value):
                env[slot] = value
                return True
            return False

        return Code(is_bind, M.BOOL)

    def x_AsType(self, node: ast.AsType) -> Code:
        operand = self.fn(node.operand)
        if not self._known_type(node.type, node.pos):
            return self._dead()
        test = _type_test(str(node.type))
        return Code(lambda env: v if test(v := operand(env)) else None, M.resolve_type_name(node.type))

    # -- assignment ------------------------------------------------------------------------------------
    def x_Assign(self, node: ast.Assign) -> Code:
        value = self.expr(node.value)
        vf = value.fn
        op = node.op[:-1] if node.op != "=" else ""
        combine = (lambda a, b: a if a is not None else b) if op == "??" else rt.BINARY.get(op)
        target = node.target
        if isinstance(target, ast.Name):
            local = self.lookup(target.ident)
            if local is None:
                self.error("expr-unknown-name", f"the name '{target.ident}' does not exist in the current context",
                           target.pos)
                return self._dead()
            slot = local.slot
            if not op:

                def assign(env: list[Any]) -> Any:
                    env[slot] = v = vf(env)
                    return v

            elif op == "??":

                def assign(env: list[Any]) -> Any:
                    cur = env[slot]
                    if cur is None:
                        env[slot] = cur = vf(env)
                    return cur

            else:
                pos = node.pos

                def assign(env: list[Any]) -> Any:
                    try:
                        env[slot] = v = combine(env[slot], vf(env))  # type: ignore[misc]
                    except Exception as exc:
                        raise _located(exc, pos) from None
                    return v

            return Code(assign, local.type)
        if isinstance(target, ast.Index):
            obj = self.expr(target.target)
            if obj.type in (M.VARIABLES, M.HEADERS, M.QUERY, M.MATCHED):
                self.error("expr-type", f"'{obj.type.name}' is read-only in expressions", target.pos,
                           "use set-variable / set-header policies to change the context")
                return self._dead()
            of = obj.fn
            keys = [self.fn(a.value) for a in target.args if a.value is not None]
            pos = node.pos

            def set_item(env: list[Any]) -> Any:
                container = of(env)
                ks = [k(env) for k in keys]
                try:
                    v = vf(env)
                    if combine is not None:
                        v = combine(index_gate(container, ks), v)
                    setitem_gate(container, ks, v)
                except Exception as exc:
                    raise _located(exc, pos) from None
                return v

            return Code(set_item, value.type)
        if isinstance(target, ast.Member):
            obj = self.expr(target.target)
            if obj.type in M.MODEL_TYPES.values() or obj.static_name:
                self.error("expr-type", f"'{target.name}' is read-only", target.name_pos)
                return self._dead()
            of, name, pos = obj.fn, target.name, node.pos
            if not self._check_name(name, target.name_pos):
                return self._dead()

            def set_member(env: list[Any]) -> Any:
                o = of(env)
                v = vf(env)
                try:
                    if combine is not None:
                        v = combine(M.member_gate(o, name), v)
                    setattr_gate(o, name, v)
                except Exception as exc:
                    raise _located(exc, pos) from None
                return v

            return Code(set_member, value.type)
        self.error("expr-type", "the left-hand side of an assignment must be a variable, property or indexer",
                   node.pos)
        return self._dead()

    def x_IncDec(self, node: ast.IncDec) -> Code:
        delta = 1 if node.op == "++" else -1
        one = ast.Literal(1, "int", node.pos)
        assign = self.x_Assign(ast.Assign("+=" if delta > 0 else "-=", node.target, one, node.pos))
        if node.prefix:
            return assign
        af = assign.fn

        def post(env: list[Any]) -> Any:
            return rt.sub(af(env), delta)

        return Code(post, assign.type)

    # -- lambdas -----------------------------------------------------------------------------------------
    def x_Lambda(self, node: ast.Lambda) -> Code:
        self.needs_budget = True
        param_type = self.lambda_types[-1] if self.lambda_types else DYNAMIC
        self.scopes.append({})
        slots = [self.declare(p, param_type if i == 0 else DYNAMIC, node.pos) for i, p in enumerate(node.params)]
        if isinstance(node.body, ast.Block):
            block = self.block(node.body.body, new_scope=False)

            def body(env: list[Any]) -> Any:
                return env[1] if block(env) == RETURN else None

        else:
            body = self.fn(node.body)
        self.scopes.pop()
        return Code(_make_lambda(slots, body), DYNAMIC)

    # -- object creation ---------------------------------------------------------------------------------
    def x_New(self, node: ast.New) -> Code:
        t = node.type
        base = M.strip_namespace(t.name)
        args = self._args(node.args)
        pos = node.pos
        factory: Callable[..., Any] | None = None
        type_: CsType = DYNAMIC
        if base in _GENERIC_COLLECTIONS:
            factory = _GENERIC_COLLECTIONS[base]
            type_ = CsType(str(t), list if base in ("List", "IList") else dict if "Dictionary" in base else set,
                           element=M.resolve_type_name(t.args[0]) if t.args and "Dictionary" not in base else DYNAMIC)
        elif base in ("string", "String"):
            factory = M.lib("strings", "String").New  # type: ignore[union-attr]
            type_ = M.STRING
        else:
            if not self._known_type(t, node.pos):
                return self._dead()
            holder = M.static_type(base)
            if not isinstance(holder, type):
                self.error("expr-type", f"cannot create an instance of '{t.name}'", node.pos)
                return self._dead()
            factory = holder
            type_ = M.library_type(holder)
        type_args = tuple(str(a) for a in t.args) if base not in _GENERIC_COLLECTIONS else ()
        create = _invoke(lambda env: None, lambda _o, *a, **k: factory(*a, **k), type_args, args, pos, static=True,
                         check=True, name="New" if type_ is M.STRING else "")
        if not node.init:
            return Code(create, type_)
        inits = self._initializers(node.init)

        def create_and_init(env: list[Any]) -> Any:
            obj = create(env)
            try:
                for init in inits:
                    init(env, obj)
            except Exception as exc:
                raise _located(exc, pos) from None
            return obj

        return Code(create_and_init, type_)

    def _initializers(self, items: tuple[ast.Init, ...]) -> list[Callable[[list[Any], Any], None]]:
        out: list[Callable[[list[Any], Any], None]] = []
        for item in items:
            value = self.fn(item.value) if item.value is not None else None
            if item.kind == "member":
                name = item.name or ""
                if not self._check_name(name, item.pos):
                    continue
                out.append(lambda env, o, n=name, v=value: setattr_gate(o, n, v(env)))
            elif item.kind == "index":
                keys = [self.fn(a.value) for a in item.keys if a.value is not None]
                out.append(lambda env, o, ks=keys, v=value: setitem_gate(o, [k(env) for k in ks], v(env)))
            elif item.kind == "element":
                out.append(lambda env, o, v=value: add_gate(o, [v(env)]))
            else:
                parts = [self.fn(a.value) for a in item.keys if a.value is not None]
                out.append(lambda env, o, ps=parts: add_gate(o, [p(env) for p in ps]))
        return out

    def x_NewArray(self, node: ast.NewArray) -> Code:
        elem = node.element
        is_bytes = elem is not None and elem.name in ("byte", "Byte") and elem.array == 0
        if elem is not None and not self._known_type(elem, node.pos):
            return self._dead()
        etype = M.resolve_type_name(elem) if elem is not None else DYNAMIC
        type_ = M.STRING_ARRAY if etype is M.STRING else CsType(f"{elem or 'object'}[]", list, element=etype)
        if node.size is not None:
            size = self.fn(node.size)
            default = _VALUE_DEFAULTS.get(elem.name if elem is not None and elem.array == 0 else "", None)
            pos = node.pos

            def sized(env: list[Any]) -> Any:
                n = size(env)
                if not isinstance(n, int) or n < 0:
                    raise _located(rt.DotNetTypeError("array size must be a non-negative integer"), pos)
                rt.check_size(n)
                return bytearray(n) if is_bytes else [default] * n

            return Code(sized, type_)
        items = [self.fn(i) for i in node.items or ()]
        if is_bytes:
            return Code(lambda env: bytearray(i(env) for i in items), type_)
        if elem is None and node.items:
            first = self.expr(node.items[0]).type
            type_ = M.STRING_ARRAY if first is M.STRING else CsType("object[]", list, element=first)
        return Code(lambda env: [i(env) for i in items], type_)

    def x_NewAnonymous(self, node: ast.NewAnonymous) -> Code:
        fields = [(name, self.expr(value)) for name, value in node.members]
        type_ = CsType("<anonymous type>", AnonymousObject, closed=True)
        for name, code in fields:
            type_.members[name] = M.Member(name, "property", lambda o, n=name: o[n], code.type)
        pairs = [(name, code.fn) for name, code in fields]
        return Code(lambda env: AnonymousObject((n, f(env)) for n, f in pairs), type_)

    def x_TypeOf(self, node: ast.TypeOf) -> Code:
        self._known_type(node.type, node.pos)
        name = str(node.type)
        return Code(lambda env: name, DYNAMIC)
