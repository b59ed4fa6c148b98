"""Member access, indexers and calls: binding against the allow-list, dynamic gates otherwise."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from engine.dotnet import clrnumeric
from engine.dotnet.clrnumeric import ByteValue
from engine.dotnet.errors import IndexOutOfRangeException, InvalidOperationException, NullReferenceException
from engine.dotnet.primitives import static_property
from engine.expr import ast
from engine.expr import runtime as rt
from engine.expr.bind import is_string_typed
from engine.expr.closures import (
    _NON_NULL_STRINGS,
    AnonymousObject,
    Code,
    Fn,
    MethodGroup,
    _always_set,
    _Args,
    _fast_string_method,
    _fused,
    _invoke,
    _located,
    _property,
    _raise_missing,
    _required_parameters,
    _type_keyword,
    is_delegate,
)
from engine.expr.contexttypes import BODY, REQUEST, RESPONSE, VARIABLES
from engine.expr.cstypes import (
    BOOL,
    DYNAMIC,
    NO_VALUE,
    NULLABLE_MEMBERS,
    STRING,
    CsType,
    Member,
    zero_value,
)
from engine.expr.gates import MemberAccessError, call_gate, index_gate, is_list_type, member_gate
from engine.expr.host import CompilerHost
from engine.expr.library import (
    DECLARED_PROPERTY_ONLY,
    declared_property,
    lib,
    strip_namespace,
)
from engine.expr.names import (
    static_attr,
    static_property_type,
)
from engine.expr.resolve import Resolved, Shape, arity_problem, index_result, value_method, value_property
from engine.expr.runtime import SHORT, ShortCircuit
from engine.expr.tables import (
    METERED_MEMBERS,
    METERED_TYPES,
)

_OR_DEFAULT = frozenset({"FirstOrDefault", "LastOrDefault", "SingleOrDefault", "ElementAtOrDefault", "Find",
                         "FindLast", "GetValueOrDefault"})


class AccessCompiler(CompilerHost):
    """Mixin of `Compiler`: `.`, `?.`, `[]`, `?[]` and calls."""

    def x_Member(self, node: ast.Member) -> Code:
        if node.name in DECLARED_PROPERTY_ONLY:
            return self._declared_only_member(node)
        if id(node) in self.bound.refused:
            return self._dead()  # reported by the bind pass
        target = self.chain(node.target)
        resolved = self.bound.resolved.get(id(node))  # a member of a value the bind pass typed
        if resolved is None:
            if target.static_name:
                return self._static_member(node, target)
            if not self._check_member_case(node.name, target, node.name_pos):
                return self._dead()
            resolved = self._resolved(value_property(target.type, node.name), node.name_pos)
        return self._member(node, target, resolved)

    def _declared_only_member(self, node: ast.Member) -> Code:
        """`token.Type`, `jwt.Type`: allowed only where a library class declares the property."""
        target = self.chain(node.target)
        if id(node) in self.bound.resolved:  # decided by the bind pass
            return self._member(node, target, self.bound.resolved[id(node)])
        ttype = target.type
        if target.static_name or not (ttype is DYNAMIC or declared_property(ttype.pyclass, node.name)):
            self.error("expr-security", f"'{node.name}' is not accessible from policy expressions", node.name_pos)
            return self._dead()
        return self._member(node, target, self._resolved(value_property(ttype, node.name), node.name_pos))

    def _resolved(self, resolved: Resolved, pos: ast.Pos) -> Resolved:
        """Report the findings of a member the emitter resolved itself (a value bind did not type)."""
        for code, message, hint in resolved.problems:
            self.error(code, message, pos, hint)
        return resolved

    def _static_member(self, node: ast.Member, target: Code) -> Code:
        """A member of a type (bound by the bind pass): a longer type or namespace name, a static
        property, a constant or enum member, or a method group where a delegate is expected."""
        symbol = self.bound.symbol(node)
        if symbol.kind != "static":
            return self._qualifier(symbol)
        constant = self.bound.constant(node)
        if constant is not None:  # a constant or enum member (bound with its value)
            return self.constant(constant)
        holder, name = symbol.holder, symbol.name
        if isinstance(static_attr(holder, name), static_property | property):
            return Code(lambda env: getattr(holder, name), static_property_type(holder, name))
        value = getattr(holder, name)  # a method (or a library object that is also callable)
        if id(node) in self.bound.method_groups:  # `list.Any(string.IsNullOrEmpty)`: a method group as a delegate
            group = MethodGroup(value, _required_parameters(value))
            return Code(lambda env: group, DYNAMIC)
        return self._dead()  # a method group where no delegate is expected: reported by the bind pass

    @staticmethod
    def _nullable_target(target: Code, name: str, conditional: bool) -> Code:
        """A null `T?` is a valid target of `Value`, `HasValue` and `GetValueOrDefault()`."""
        if conditional or not target.type.name.endswith("?") or name not in NULLABLE_MEMBERS:
            return target
        fn, no_value = target.fn, NO_VALUE

        def value_or_marker(env: list[Any]) -> Any:
            value = fn(env)
            return no_value if value is None else value

        return Code(value_or_marker, target.type)

    def _member(self, node: ast.Member, target: Code, resolved: Resolved) -> Code:
        """The closure of `x.Name` (not called), as resolved (`resolve.value_property`)."""
        target = self._nullable_target(target, node.name, node.conditional)
        name, pos, how = node.name, node.pos, resolved.how
        if how == "declared":
            assert resolved.member is not None
            return self._property(node, target, resolved.member)
        if how in ("builtin", "missing"):
            fn = resolved.fn if how == "builtin" else _raise_missing(name)
            return Code(_property(target.fn, fn, node.conditional, pos), resolved.result)
        if how != "dynamic":
            return self._dead()
        tfn = target.fn
        gate = member_gate
        anon = AnonymousObject
        cond = node.conditional
        name_pos = node.name_pos

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
            except MemberAccessError as exc:
                raise _located(exc, name_pos) from None
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(dynamic, resolved.result)

    def _property(self, node: ast.Member, target: Code, declared: Member) -> Code:
        """A declared property of the target's type: a fused attribute path where it can be."""
        pos = node.pos
        if target.type in (REQUEST, RESPONSE) and node.name == "Body":
            self.uses_body = True
        result = declared.result()
        if declared.path is not None and target.path is not None and not node.conditional:
            path = f"{target.path}.{declared.path}" if target.path else declared.path
            getter = attrgetter(path)
            return Code(_fused(getter, pos), result, path=path, pos=pos)
        return Code(_property(target.fn, declared.impl, node.conditional, pos), result)

    # -- indexers ------------------------------------------------------------------------------------
    def x_Index(self, node: ast.Index) -> Code:
        target = self.chain(node.target)
        args = [self.fn(a.value) for a in node.args if a.value is not None]
        tfn, pos, cond = target.fn, node.pos, node.conditional
        if id(node) in self.bound.value_types:  # typed by the bind pass
            declared, element = self.bound.members.get(id(node)), self.bound.value_types[id(node)]
        else:
            declared, element = index_result(target.type, len(args))
        if declared is not None and target.path and not cond:
            impl, a0, getter = declared.impl, args[0], attrgetter(target.path)

            def path_item(env: list[Any]) -> Any:
                try:
                    return impl(getter(env[0]), a0(env))
                except Exception as exc:
                    raise _located(exc, pos) from None

            src = None
            if target.type is VARIABLES and _always_set(target.path):
                src = f"{self.source(target)}[{self.source(self.expr(node.args[0].value))}]"  # type: ignore[arg-type]  # an index argument has a value
                self.key_sites.append(pos)
            return Code(path_item, element, src=src)
        if declared is not None:
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

            return Code(item, element)
        keys = [a.value for a in node.args]
        if (target.type.name.endswith("[]") and target.type.pyclass is list and len(keys) == 1
                and isinstance(keys[0], ast.Literal) and type(keys[0].value) is int and keys[0].value >= 0):
            k = keys[0].value
            box = ByteValue if element.kind is clrnumeric.BYTE else None

            def const_index(env: list[Any]) -> Any:
                obj = tfn(env)
                if obj is None:
                    if cond:
                        raise SHORT
                    raise _located(NullReferenceException(), pos)
                try:
                    return obj[k] if box is None else box(obj[k])  # a byte[] (a bytearray) holds bytes
                except IndexError:
                    raise _located(IndexOutOfRangeException(), pos) from None

            return Code(const_index, element)
        is_list = is_list_type(target.type)

        def index(env: list[Any]) -> Any:
            obj = tfn(env)
            if obj is None:
                if cond:
                    raise SHORT
                raise _located(NullReferenceException(), pos)
            try:
                return index_gate(obj, [a(env) for a in args], is_list)
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(index, element)

    # -- calls ---------------------------------------------------------------------------------------
    def x_Call(self, node: ast.Call) -> Code:
        self.allocation_sites += 1
        func = node.func
        if isinstance(func, ast.Member):
            if func.name in METERED_MEMBERS:  # loops over a whole sequence or document: see tables.py
                self.needs_budget = True
            if id(func) in self.bound.refused:
                return self._dead()  # reported by the bind pass
            target = self.chain(func.target)
            if target.static_name:
                return self._static_call(node, func, target)
            resolved = self.bound.resolved.get(id(func))  # a method of a value the bind pass typed
            if resolved is None:
                if not self._check_member_case(func.name, target, func.name_pos):
                    return self._dead()
                shape = self.bound.shape(func, node.args)
                resolved = self._resolved(value_method(target.type, func.name, shape, self.bound.type_args.get(
                    id(func), ())), func.name_pos)
            code = self._call(node, func, target, resolved)
            code = self._element_defaults(code, func.name, node, target.type)
            return self._or_default(code, func.name, node)
        if isinstance(func, ast.Name):
            symbol = self.bound.symbol(func)
            if symbol.kind == "function":
                return self._local_function_call(node, func)
            if symbol.kind == "object":
                return self._object_static(node, func.ident)
            if symbol.kind != "local":
                return self._dead()  # reported by the bind pass
        callee = self.fn(func)
        args = self._args(node.args)
        pos = node.pos

        def invoke(env: list[Any]) -> Any:
            f = callee(env)
            if not is_delegate(f):
                raise _located(rt.SecurityError("only lambdas can be invoked"), pos)
            try:
                return f(*[a(env) for a in args.positional])
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(invoke, DYNAMIC)

    def _object_static(self, node: ast.Call, name: str) -> Code:
        """`Equals(a, b)` / `ReferenceEquals(a, b)` unqualified: the expression is compiled inside a
        class, so C# binds them to `object`'s statics."""
        args = self._args(node.args)
        if len(args.positional) != 2 or args.named or args.outs:
            return self._dead()  # reported by the bind pass
        impl = getattr(lib("objects", "Object"), name)
        a, b = args.positional
        return Code(lambda env: impl(a(env), b(env)), BOOL)

    def _args(self, args: tuple[ast.Arg, ...], lambda_type: CsType | None = None) -> _Args:
        positional: list[Fn] = []
        named: dict[str, Fn] = {}
        outs: list[tuple[int, int, Any]] = []  # (index in result tuple, slot, default(T) of its type)
        for arg in args:
            if arg.out is not None:
                local = self.bound.locals.get((id(arg), 0))  # `out var x` / `out T x` declare it
                if local is None:
                    continue  # reported by the bind pass
                slot, otype = local.slot, local.type
                if arg.value is not None:  # `ref x`: passed in and written back
                    positional.append(self.fn(arg.value))
                outs.append((len(outs) + 1, slot, zero_value(otype)))
                continue
            if isinstance(arg.value, ast.Lambda) and lambda_type is not None:
                self.lambda_types.append(lambda_type)
                try:
                    code = self.fn(arg.value)
                finally:
                    self.lambda_types.pop()
            else:
                code = self.fn(arg.value)  # type: ignore[arg-type]  # only `out` arguments (above) have none
            if arg.name is not None:
                named[arg.name] = code
            else:
                positional.append(code)
        return _Args(positional, named, outs)

    def _static_call(self, node: ast.Call, func: ast.Member, target: Code) -> Code:
        name = func.name
        full = f"{target.static_name}.{name}"
        if strip_namespace(target.static_name) in METERED_TYPES:
            self.needs_budget = True
        symbol = self.bound.symbol(func)
        if symbol.kind != "method":
            return self._dead()  # reported by the bind pass
        holder, fn = symbol.holder, symbol.member
        only = node.args[0].value if len(node.args) == 1 else None
        if name == "ToString" and holder is lib("systemconvert", "Convert") and only is not None and is_string_typed(only):
            return Code(self.fn(only), STRING)  # Convert.ToString(string) returns its argument
        args = self._args(node.args)
        type_args = tuple(str(t) for t in func.type_args) or self._inferred_enum_type(holder, name, node.args)
        arity = arity_problem(fn, 0, len(type_args) + len(args.positional), full,
                              Shape(named=len(args.named), outs=len(args.outs)))
        if arity is not None and id(node) not in self.bound.checked:  # (else reported by the bind pass)
            self.error("expr-arity", arity, func.name_pos)
        result = self.bound.value_types.get(id(node), DYNAMIC)  # bind's `resolve.static_result`
        if type_args and func.type_args:
            keyword = _type_keyword(fn)
            if keyword is not None:  # the library takes <T> as a named parameter, not first
                targ = type_args[0]
                args.named[keyword] = lambda env: targ
                type_args = ()
        return Code(_invoke(lambda env: None, lambda _obj, *a, **k: fn(*a, **k), type_args, args, node.pos,
                            static=True, check=True, name=name), result)

    def _inferred_enum_type(self, holder: Any, name: str, args: tuple[ast.Arg, ...]) -> tuple[str, ...]:
        """`Enum.TryParse("Monday", out d)`: C# infers `TEnum` from the `out` variable's type."""
        if name != "TryParse" or holder is not lib("enums", "Enum"):
            return ()
        out = next((a for a in args if a.out is not None), None)
        if out is None or out.out is None:
            return ()
        if out.out_type is not None:
            return (str(out.out_type),)
        local = self.bound.locals.get((id(out), 0))
        return (local.type.name,) if local is not None and local.type is not DYNAMIC else ()

    def _call(self, node: ast.Call, func: ast.Member, target: Code, resolved: Resolved) -> Code:
        """The closure of `x.Name(...)`, as resolved (`resolve.value_method`)."""
        target = self._nullable_target(target, func.name, func.conditional)
        name, ttype, how = func.name, target.type, resolved.how
        if how == "error" and not resolved.check_args:
            return self._dead()
        args = self._args(node.args, ttype.element or DYNAMIC)
        if how == "declared":
            assert resolved.member is not None
            return self._declared_call(node, func, target, resolved.member, args)
        if how == "reverse":
            reverse = lib("linq", "Enumerable").Reverse
            return Code(_invoke(target.fn, reverse, (), args, node.pos, conditional=func.conditional, check=True,
                                name=name), resolved.result)
        if how == "error":
            return self._dead()
        type_args = tuple(str(t) for t in func.type_args)
        if how == "builtin":
            fn = resolved.fn
            fast = _fast_string_method(name, node.args, fn) if ttype is STRING else None
            if fast is not None:
                src = None
                if target.path in _NON_NULL_STRINGS and not func.conditional:
                    src = f"{self.name_of(fast)}({self.source(target)})"
                return Code(_invoke(target.fn, fast, (), _Args([], {}, []), node.pos, conditional=func.conditional,
                                    path=target.path), resolved.result, src=src)
            return Code(_invoke(target.fn, fn, type_args, args, node.pos, conditional=func.conditional,
                                check=True, name=name, path=target.path), resolved.result)
        gate = call_gate
        name_pos = func.name_pos

        def dynamic(obj: Any, *a: Any, **k: Any) -> Any:
            try:
                return gate(obj, name, a, k)
            except MemberAccessError as exc:
                raise _located(exc, name_pos) from None

        return Code(_invoke(target.fn, dynamic, type_args, args, node.pos, conditional=func.conditional,
                            check=True, name=name), resolved.result)

    def _declared_call(self, node: ast.Call, func: ast.Member, target: Code, declared: Member, args: _Args) -> Code:
        """A call of a method the target's type declares (arity and generics already checked)."""
        ttype = target.type
        if ttype in (REQUEST, RESPONSE) or ttype is BODY:
            self.uses_body = True
        targs: tuple[Any, ...] = (tuple(str(t) for t in func.type_args) or (None,)) if declared.generic else ()
        src = None
        arity_ok = declared.min_args <= len(node.args) <= (declared.max_args or len(node.args))
        if (_always_set(target.path) and not func.conditional and not targs and not args.named
                and not args.outs and arity_ok):
            arg_srcs = [self.source(self.expr(a.value)) for a in node.args if a.value is not None]
            src = (declared.inline(self.source(target), arg_srcs) if declared.inline is not None else
                   f"{self.name_of(declared.impl)}({', '.join([self.source(target), *arg_srcs])})")
        return Code(_invoke(target.fn, declared.impl, targs, args, node.pos, conditional=func.conditional,
                            path=target.path), declared.result(self.bound.type_args.get(id(func), ())), src=src)

    @staticmethod
    def _or_default(code: Code, name: str, node: ast.Call) -> Code:
        """LINQ's `FirstOrDefault()`, `List.Find`, `Dictionary.GetValueOrDefault(key)` & co. over numbers
        or bools give `default(T)` (0, false), not null."""
        if name not in _OR_DEFAULT or code.type.name.endswith("?") or (
                name not in ("ElementAtOrDefault", "Find", "FindLast") and len(node.args) > 1):
            return code
        zero = zero_value(code.type)
        if zero is None:
            return code
        fn = code.fn

        def or_default(env: list[Any]) -> Any:
            value = fn(env)
            return zero if value is None else value

        return Code(or_default, code.type)

    @staticmethod
    def _element_defaults(code: Code, name: str, node: ast.Call, receiver: CsType) -> Code:
        """LINQ over a sequence of a value type `T`: `DefaultIfEmpty()` adds `default(T)` (0 for
        `int[]`); over `T?` (`int?[]`) `Max()`, `Min()` and `Average()` of no values are null."""
        elem = receiver.element
        if elem is None or node.args:
            return code
        fn = code.fn
        if name == "DefaultIfEmpty" and not elem.name.endswith("?"):
            zero = zero_value(elem)
            if zero is None:
                return code

            def default_if_empty(env: list[Any]) -> Any:
                items = fn(env)
                return [zero] if items == [None] else items

            return Code(default_if_empty, code.type)
        if name in ("Max", "Min", "Average") and elem.name.endswith("?"):
            def nullable_aggregate(env: list[Any]) -> Any:
                try:
                    return fn(env)
                except InvalidOperationException:  # "Sequence contains no elements": null for T?
                    return None

            return Code(nullable_aggregate, code.type)
        return code

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
