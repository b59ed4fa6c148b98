"""Operators, conditionals and type tests, with C# semantics and statically specialised fast paths."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.expr import ast
from engine.expr import members as M
from engine.expr import runtime as rt
from engine.expr.closures import (
    Code,
    _as_text,
    _binary_type,
    _compare,
    _generated_concat,
    _is_stringish,
    _located,
    _located_call,
    _type_test,
    _wrapping,
)
from engine.expr.members import DYNAMIC
from engine.expr.runtime import ShortCircuit
from engine.expr.tables import (
    _EQ_OPS,
    _EXTRA_TYPE_NAMES,
    _FAST_CASTS,
    _GENERIC_COLLECTIONS,
    _ORDER_OPS,
    _PY_COMPARE,
)

Fn = Callable[[list[Any]], Any]


class OperatorCompiler:
    """Mixin of `Compiler`: unary/binary operators, `?:`, casts, `is`/`as`."""

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
        cast = M.unbox_value if _is_boxed_variable(node.operand) else M.cast_value
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


def _is_context_variables(node: ast.Expr) -> bool:
    return (isinstance(node, ast.Member) and node.name == "Variables" and isinstance(node.target, ast.Name)
            and node.target.ident == "context")


def _is_boxed_variable(node: ast.Expr) -> bool:
    """`context.Variables["x"]` / `context.Variables.GetValueOrDefault("x")`: a C# `object` value."""
    if isinstance(node, ast.Index):
        return _is_context_variables(node.target)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Member):
        func = node.func
        return func.name == "GetValueOrDefault" and not func.type_args and _is_context_variables(func.target)
    return False
