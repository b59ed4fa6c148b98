"""Operators, conditionals and type tests, with C# semantics and statically specialised fast paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.dotnet import clrnumeric
from engine.dotnet.clrnumeric import NumKind
from engine.dotnet.conversions import to_string
from engine.dotnet.errors import NullReferenceException
from engine.expr import ast
from engine.expr import runtime as rt
from engine.expr.bind import (
    OBJECT_REFUSED,
    Constant,
    binary_type,
    coalesce_type,
    conditional_type,
    constant_conversion,
    is_collection,
    unary_kind,
)
from engine.expr.closures import (
    Code,
    _as_text,
    _compare,
    _generated_concat,
    _is_stringish,
    _located,
    _located_call,
    _type_test,
    _wrapping,
)
from engine.expr.contexttypes import INTERFACES, cast_value, token_value, unbox_value
from engine.expr.cstypes import (
    BOOL,
    DOUBLE,
    DYNAMIC,
    INT,
    LONG,
    NULL,
    NUMERIC_TYPES,
    STRING,
    CsType,
    is_value_type,
    nullable_type,
    numeric_kind,
)
from engine.expr.host import CompilerHost
from engine.expr.library import strip_namespace
from engine.expr.resolve import is_token
from engine.expr.runtime import ShortCircuit
from engine.expr.tables import (
    _EQ_OPS,
    _FAST_CASTS,
    _ORDER_OPS,
    _PY_COMPARE,
)


def _clr_name(t: CsType) -> str | None:
    """The .NET full name of a built-in element type (`System.Int32`), or None."""
    kind = numeric_kind(t) if not t.name.endswith("?") else None
    return kind.name if kind is not None else {"string": "System.String", "bool": "System.Boolean"}.get(t.name)


def _collection_text(code: Code) -> Code:
    """An array or `List<T>` of a built-in `T` as a string operand: C#'s `ToString()` is its type's
    name (`"x" + new[] { 1 }` is `"xSystem.Int32[]"`); null stays null (`""`)."""
    t = code.type
    element = _clr_name(t.element) if t.pyclass is list and t.element is not None else None
    if element is None:
        return code
    if t.name.endswith("[]") and t.name.count("[") == 1:
        text = f"{element}[]"
    elif t.name.startswith("List<"):
        text = f"System.Collections.Generic.List`1[{element}]"
    else:
        return code
    fn = code.fn
    return Code(lambda env: None if fn(env) is None else text, STRING)


def _static_name(compiler: Any, node: ast.Expr, type_: CsType) -> str:
    return "object" if compiler.is_boxed(node) else type_.name


class OperatorCompiler(CompilerHost):
    """Mixin of `Compiler`: unary/binary operators, `?:`, casts, `is`/`as`."""

    def x_Unary(self, node: ast.Unary) -> Code:
        constant = self.bound.constant(node)
        if constant is not None:  # folded by the bind pass
            return self.constant(constant)
        operand = self.expr(node.operand)
        op = node.op
        checked = self.bound.type_of(node.operand) is not None or self.is_boxed(node.operand)  # bind reported them
        if op == "!" and operand.type not in (BOOL, DYNAMIC) and not checked:
            self.error("expr-type", f"operator '!' cannot be applied to an operand of type '{operand.type.name}'",
                       node.pos)
        if op != "!" and self.is_boxed(node.operand):
            if not checked:
                self.error("expr-type", f"operator '{op}' cannot be applied to an operand of type 'object'",
                           node.pos)
            return self._dead()
        kind = operand.type.kind
        if op != "!" and kind is not None:
            return self._numeric_unary(node, operand, kind)
        f, o = rt.UNARY[op], operand.fn
        pos = node.pos

        def unary(env: list[Any]) -> Any:
            try:
                return f(o(env))
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(unary, BOOL if op == "!" else operand.type)

    def _numeric_unary(self, node: ast.Unary, operand: Code, kind: NumKind) -> Code:
        """`-x`, `+x`, `~x` on a statically numeric operand (constants are folded by the bind pass)."""
        op, checked = node.op, self.checked_context is True
        result = unary_kind(op, kind)
        if result is None:
            if self.bound.type_of(node.operand) is None:  # (else reported by the bind pass)
                self.error("expr-type", f"operator '{op}' cannot be applied to an operand of type "
                           f"'{operand.type.name}'", node.pos)
            return self._dead()
        f: Callable[[Any], Any] = {
            "-": lambda v: clrnumeric.negate(v, checked=checked), "~": clrnumeric.complement, "+": clrnumeric.plus,
        }[op]
        type_ = NUMERIC_TYPES[result]
        o, pos = operand.fn, node.pos

        def numeric_unary(env: list[Any]) -> Any:
            v = o(env)
            if v is None:
                return None
            try:
                return f(v)
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(numeric_unary, type_)

    def x_Binary(self, node: ast.Binary) -> Code:
        constant = self.bound.constant(node)
        if constant is not None:  # folded by the bind pass
            return self.constant(constant)
        op = node.op
        left, right = self.expr(node.left), self.expr(node.right)
        lf, rf = left.fn, right.fn
        lt, rtype = left.type, right.type
        pos = node.pos
        report = not self._bound_operands(node)  # (else bind reported the findings of `a op b`)
        if op in ("&&", "||") and lt is BOOL and rtype is BOOL:
            if op == "&&":
                return Code(lambda env: lf(env) and rf(env), BOOL,
                            src=f"({self.source(left)} and {self.source(right)})")
            return Code(lambda env: lf(env) or rf(env), BOOL, src=f"({self.source(left)} or {self.source(right)})")
        if op == "&&":
            truth = rt.truth
            return Code(lambda env: truth(lf(env)) and truth(rf(env)), BOOL)
        if op == "||":
            truth = rt.truth
            return Code(lambda env: truth(lf(env)) or truth(rf(env)), BOOL)
        if op == "??":
            result = coalesce_type(lt, rtype, self.bound.constant(node.right))
            kind = result.kind
            if kind is not None:  # `long? n; n ?? 7` is a long: both sides convert to it
                if numeric_kind(lt) not in (None, kind):
                    lf = self._implicit(left, kind)
                if rtype.kind not in (None, kind):
                    rf = self._implicit(right, kind)

            def coalesce(env: list[Any]) -> Any:
                v = lf(env)
                return v if v is not None else rf(env)

            return Code(coalesce, result)
        if op in OBJECT_REFUSED and (self.is_boxed(node.left) or self.is_boxed(node.right)) and not (
                op == "+" and STRING in (lt, rtype)):
            if report:
                self.error("expr-type", f"operator '{op}' cannot be applied to operands of type "
                           f"'{_static_name(self, node.left, lt)}' and '{_static_name(self, node.right, rtype)}'", pos,
                           "cast the value first, e.g. (int)x")
            return self._dead()
        if op in clrnumeric.OPERATORS and (is_collection(lt) or is_collection(rtype)) and not (
                op == "+" and STRING in (lt, rtype)):
            if report:
                self.error("expr-type", f"operator '{op}' cannot be applied to operands of type '{lt.name}' and "
                           f"'{rtype.name}'", pos)
            return self._dead()
        if op in ("==", "!=") and self.is_boxed(node.left) and self.is_boxed(node.right):
            return self._reference_equality(node, left, right)
        if lt.kind is not None and rtype.kind is not None and op in clrnumeric.OPERATORS:
            return self._numeric_binary(node, left, right)
        if op in ("-", "*", "/", "%") and (lt is STRING or rtype is STRING or lt is BOOL or rtype is BOOL) and report:
            self.error("expr-type", f"operator '{op}' cannot be applied to operands of type '{lt.name}' and "
                       f"'{rtype.name}'", pos)
        if op in ("<", ">", "<=", ">=") and (lt is STRING or rtype is STRING) and report:
            self.error("expr-type", f"operator '{op}' cannot be applied to operands of type 'string'", pos,
                       "use string.Compare(a, b) or a.CompareTo(b)")
        result = binary_type(op, lt, rtype)
        if op in ("==", "!=") and (lt is STRING and rtype in (STRING, NULL) or (
            rtype is STRING and lt is NULL
        ) or lt in (INT, LONG, BOOL) and rtype is lt):
            return Code(_compare(left, right, _EQ_OPS[op]), BOOL,
                        src=f"({self.source(left)} {op} {self.source(right)})")
        if op in ("<", ">", "<=", ">=") and lt in (INT, LONG) and rtype in (INT, LONG):
            if right.const and right.value is not None:
                cmp, c = _ORDER_OPS[op], right.value
                tmp = self.name_of(None, "_t")
                src = (f"({self.source(left)} {op} {self.source(right)})" if left.nonnull else
                       f"(({tmp} := {self.source(left)}) is not None and {tmp} {op} {self.source(right)})")
                return Code(lambda env: (v := lf(env)) is not None and cmp(v, c), BOOL, src=src)
            py = _PY_COMPARE[op]
            return Code(lambda env: py(lf(env), rf(env)), BOOL)
        if op == "+" and result is STRING:
            return self._concat(node)
        f = rt.BINARY[op]
        if self.checked_context and op in clrnumeric.OPERATORS:
            f = rt.CHECKED[op]

        def binary(env: list[Any]) -> Any:
            try:
                return f(lf(env), rf(env))
            except ShortCircuit:
                raise
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(binary, result)

    def _numeric_binary(self, node: ast.Binary, left: Code, right: Code) -> Code:
        """`a op b` on statically numeric operands: the width-specific C# operation, bound once."""
        op, lk, rk = node.op, left.type.kind, right.type.kind
        assert lk is not None and rk is not None
        if op not in clrnumeric.SHIFTS:
            lk, rk = _constant_conversion(left, lk, rk), _constant_conversion(right, rk, lk)
        kind = clrnumeric.result_kind(op, lk, rk)
        fn = clrnumeric.operation(op, lk, rk, checked=self.checked_context is True)
        if kind is None or fn is None:
            if not self._bound_operands(node):  # (else reported by the bind pass)
                self.error("expr-type", f"operator '{op}' cannot be applied to operands of type "
                           f"'{left.type.name}' and '{right.type.name}'", node.pos)
            return self._dead()
        type_ = NUMERIC_TYPES[kind]
        lf, rf, pos = left.fn, right.fn, node.pos
        if kind is clrnumeric.INT32 and op in ("+", "-", "*") and not self.checked_context and \
                lk.integral and rk.integral and clrnumeric.CHAR not in (lk, rk):
            return Code(_wrapping(op, lf, rf, 32), type_)

        def numeric(env: list[Any]) -> Any:
            a, b = lf(env), rf(env)
            if a is None or b is None:
                return None
            try:
                return fn(a, b)
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(numeric, type_)

    def _bound_operands(self, node: ast.Binary) -> bool:
        """Both operands typed by the bind pass: it typed and checked `a op b`."""
        return self.bound.type_of(node.left) is not None and self.bound.type_of(node.right) is not None

    def _reference_equality(self, node: ast.Binary, left: Code, right: Code) -> Code:
        """`==` on two `object` operands: C# compares references (two boxes are never the same)."""
        same = isinstance(node.left, ast.Name) and isinstance(node.right, ast.Name) and \
            node.left.ident == node.right.ident
        lf, rf, negate = left.fn, right.fn, node.op == "!="
        equals = rt.reference_equals
        return Code(lambda env: equals(lf(env), rf(env), same) != negate, BOOL)

    def is_boxed(self, node: ast.Expr) -> bool:
        """True when `node` is statically of type `object` (a boxed value of unknown type): bind's flag."""
        return id(node) in self.bound.boxed

    def x_Checked(self, node: ast.Checked) -> Code:
        constant = self.bound.constant(node)
        if constant is not None:  # folded by the bind pass
            return self.constant(constant)
        outer = self.checked_context
        self.checked_context = node.checked
        try:
            return self.expr(node.expr)
        finally:
            self.checked_context = outer

    def x_DefaultOf(self, node: ast.DefaultOf) -> Code:
        constant = self.bound.constant(node)
        return self.constant(constant) if constant is not None else self._dead()

    def _concat(self, node: ast.Binary) -> Code:
        """`a + b + c ...` with a string result: one closure joining all operands (C# left-to-right)."""
        spine: list[ast.Expr] = []
        cur: ast.Expr = node
        while isinstance(cur, ast.Binary) and cur.op == "+":
            spine.append(cur.right)
            cur = cur.left
        spine.append(cur)
        spine.reverse()
        codes = [_collection_text(self.expr(e)) for e in spine]
        # numeric prefix before the first string operand is added numerically (1 + 2 + "a" == "3a")
        first = next(i for i, c in enumerate(codes) if c.type is STRING or i > 0 and _is_stringish(codes[:i + 1]))
        if first > 1:
            head = self._numeric_sum(codes[:first], node.pos)
            codes = [head, *codes[first:]]
        check = rt.check_string
        generated = _generated_concat(codes)
        if generated is not None:
            terms = []
            for code in codes:
                if code.const:
                    terms.append(self.name_of(to_string(code.value), "k"))
                elif code.type is STRING:
                    terms.append(f"({self.source(code)} or '')")
                else:
                    terms.append(f"{self.name_of(to_string, '_ts')}({self.source(code)})")
            tmp = self.name_of(None, "_t")
            src = (f"({tmp} if {self.name_of(len, '_len')}({tmp} := {' + '.join(terms)}) <= 4096 "
                   f"else {self.name_of(check, '_check')}({tmp}))")
            return Code(generated, STRING, src=src)
        parts = [_as_text(c) for c in codes]
        if len(parts) == 2:
            p0, p1 = parts

            def concat2(env: list[Any]) -> str:
                r: str = p0(env) + p1(env)
                return check(r) if len(r) > 4096 else r

            return Code(concat2, STRING)
        if len(parts) == 3:
            p0, p1, p2 = parts

            def concat3(env: list[Any]) -> str:
                r: str = p0(env) + p1(env) + p2(env)
                return check(r) if len(r) > 4096 else r

            return Code(concat3, STRING)

        def concat(env: list[Any]) -> str:
            r = "".join([p(env) for p in parts])
            return check(r) if len(r) > 4096 else r

        return Code(concat, STRING)

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
        self._expect_bool(cond, node.cond)
        c, t, o = cond.fn, then.fn, other.fn
        truth = rt.truth
        tk, ok = then.type.kind, other.type.kind
        if tk is not None and ok is not None and tk is not ok:  # `b ? 1 : 2.5` is a double
            target = ok if clrnumeric.widens(tk, ok) else tk if clrnumeric.widens(ok, tk) else None
            if target is not None:
                t = self._implicit(then, target) if tk is not target else t
                o = self._implicit(other, target) if ok is not target else o
                return Code(lambda env: t(env) if truth(c(env)) else o(env), NUMERIC_TYPES[target])
        type_ = conditional_type(then.type, other.type)
        if cond.type is BOOL and then.const and other.const:
            tv, ov = then.value, other.value
            return Code(lambda env: tv if c(env) else ov, type_,
                        src=f"({self.source(then)} if {self.source(cond)} else {self.source(other)})")
        if cond.type is BOOL:
            return Code(lambda env: t(env) if c(env) else o(env), type_,
                        src=f"({self.source(then)} if {self.source(cond)} else {self.source(other)})")
        return Code(lambda env: t(env) if truth(c(env)) else o(env), type_)

    def _expect_bool(self, code: Code, node: ast.Expr) -> None:
        """A condition must be a bool (checked by the bind pass where it typed the condition)."""
        if self.bound.type_of(node) is None and code.type not in (BOOL, DYNAMIC):
            self.error("expr-type", f"cannot implicitly convert type '{code.type.name}' to 'bool'", node.pos)

    def x_Cast(self, node: ast.Cast) -> Code:
        constant = self.bound.constant(node)
        if constant is not None:  # a numeric conversion of a constant, folded by the bind pass
            return self.constant(constant)
        operand = self.expr(node.operand)
        name = str(node.type)
        type_ = self.bound.types[id(node)]
        if not self.bound.known_type(node):
            return self._dead()
        o, pos = operand.fn, node.pos
        if type_ is operand.type and type_ in (STRING, INT, BOOL, DOUBLE) or id(node.operand) in self.bound.signatures:
            return Code(o, type_)  # (`(Func<int, int>)(x => x + 1)`: the lambda typed by the bind pass)
        if operand.type.name.endswith("?") and not type_.name.endswith("?") and type_ is not DYNAMIC:
            value = nullable_type(type_).members["Value"].impl if is_value_type(type_) else None
            if value is not None:  # `(int)n` of a null `int?`: InvalidOperationException, like `n.Value`
                inner = operand.fn

                def non_null(env: list[Any]) -> Any:
                    try:
                        return value(inner(env))
                    except Exception as exc:
                        raise _located(exc, pos) from None

                operand = Code(non_null, operand.type)
                o = operand.fn
        boxed = self.is_boxed(node.operand)
        if type_.kind is not None and node.type.array == 0 and operand.type.kind is not None and not boxed:
            return self._numeric_cast(node, operand, type_)
        cast = unbox_value if boxed else token_value if is_value_type(type_) and is_token(operand.type) else cast_value
        fast = _FAST_CASTS.get(name)
        if fast is not None:
            exact, limit = fast

            def fast_cast(env: list[Any]) -> Any:
                v = o(env)
                if v.__class__ is exact and (limit is None or -limit <= v < limit):  # type: ignore[operator]  # an int bound
                    return v
                try:
                    return cast(v, name)
                except Exception as exc:
                    raise _located(exc, pos) from None

            tmp, exact_name = self.name_of(None, "_t"), self.name_of(exact, "_cls")
            cast_name = self.name_of(_located_call(cast, pos), "_cast")
            check = f" and {-limit} <= {tmp} < {limit}" if limit is not None else ""
            src = (f"({tmp} if ({tmp} := {self.source(operand)}).__class__ is {exact_name}{check} "
                   f"else {cast_name}({tmp}, {self.name_of(name, 'k')}))")
            return Code(fast_cast, type_, src=src, nonnull=exact is not str)
        iface = INTERFACES.get(strip_namespace(name))
        cls = iface.pyclass if iface is not None else None
        if cls is not None:

            def iface_cast(env: list[Any]) -> Any:
                v = o(env)
                if v is None or isinstance(v, cls):
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

    def _numeric_cast(self, node: ast.Cast, operand: Code, type_: CsType) -> Code:
        """`(T)x` between numeric types known at compile time (constants are checked like C#)."""
        kind = type_.kind
        assert kind is not None
        o, pos, checked = operand.fn, node.pos, self.checked_context is True
        convert = clrnumeric.convert

        def numeric_cast(env: list[Any]) -> Any:
            v = o(env)
            if v is None:
                if node.type.nullable:
                    return None
                raise _located(NullReferenceException("Nullable object must have a value."), pos)
            try:
                return convert(v, kind, checked=checked)
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(numeric_cast, type_)

    def x_IsType(self, node: ast.IsType) -> Code:
        operand = self.fn(node.operand)
        if node.type is None:
            if node.negate:
                return Code(lambda env: operand(env) is not None, BOOL)
            return Code(lambda env: operand(env) is None, BOOL)
        if not self.bound.known_type(node):
            return self._dead()
        test = _type_test(str(node.type))
        if node.bind is None:
            return Code(lambda env: test(operand(env)), BOOL)
        slot = self.bound.local(node).slot

        def is_bind(env: list[Any]) -> bool:
            value = operand(env)
            if test(value):
                env[slot] = value
                return True
            return False

        return Code(is_bind, BOOL)

    def x_AsType(self, node: ast.AsType) -> Code:
        operand = self.fn(node.operand)
        if not self.bound.known_type(node):
            return self._dead()
        test = _type_test(str(node.type))
        return Code(lambda env: v if test(v := operand(env)) else None, self.bound.types[id(node)])


def _constant_conversion(code: Code, kind: NumKind, other: NumKind) -> NumKind:
    """`constant_conversion` for an operand the emitter knows as a constant (others keep their type)."""
    return constant_conversion(Constant(code.type, code.value), kind, other) if code.const else kind
