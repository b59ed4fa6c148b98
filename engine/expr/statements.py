"""Statements of `@{ ... }` blocks: compiled to closures returning a control signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.dotnet.containers import Tuple
from engine.dotnet.errors import DotNetException, InvalidOperationException, NullReferenceException
from engine.expr import ast
from engine.expr import runtime as rt
from engine.expr.captures import assigned, iteration_locals
from engine.expr.closures import Fn, _located
from engine.expr.cstypes import DYNAMIC, NULL, VOID, CsType, implicit_converter, numeric_kind
from engine.expr.gates import iterate
from engine.expr.host import CompilerHost

# Collections whose enumerator fails once the collection is modified (.NET's version check): a
# `List<T>` on any Add/Remove; since .NET Core 3.0 / .NET 5 a `Dictionary` or `HashSet` only on an
# Add (Remove, Clear and overwriting a value leave enumerators valid: dotnet/runtime#34667).
_SIZED = (list, dict, set)  # subclasses too: a Dictionary/HashSet is an engine/dotnet/keyed.py KeyedDict/KeyedSet
_MODIFIED = "Collection was modified; enumeration operation may not execute."


def _deconstruct(value: Any, count: int) -> tuple[Any, ...] | None:
    """The parts of a tuple or a KeyValuePair (its `Deconstruct`), or None."""
    parts = getattr(value, "Deconstruct", None)
    items = tuple(parts()) if parts is not None else tuple(value) if isinstance(value, Tuple) else None
    return items if items is not None and len(items) == count else None


def _modified(collection: Any, size: int) -> bool:
    n = len(collection)
    return n != size if collection.__class__ is list else n > size

BREAK, CONTINUE, RETURN = 1, 2, 3


def user_conversion(source: CsType, target: CsType, vf: Fn) -> Fn:
    """A value of static type `source` stored in a `target` local, converted as C# converts it
    (`DateTimeOffset o = dateTime;`: `cstypes.implicit_converter`)."""
    convert = implicit_converter(source, target)
    if convert is None:
        return vf
    return lambda env: None if (v := vf(env)) is None else convert(v)


class StatementCompiler(CompilerHost):
    """Mixin of `Compiler`: one `s_<Node>` method per statement node."""

    def block(self, stmts: tuple[ast.Stmt, ...]) -> Fn:
        for s in stmts:
            if isinstance(s, ast.LocalFunction):
                self.functions[s.name] = [None, self.bound.types[id(s)], len(s.params)]
        compiled = [self.stmt(s) for s in stmts]
        if len(compiled) == 1:
            return compiled[0]

        def run(env: list[Any]) -> Any:
            for s in compiled:
                signal = s(env)
                if signal:
                    return signal
            return None

        return run

    def stmt(self, node: ast.Stmt) -> Fn:
        method: Callable[[ast.Stmt], Fn] = getattr(self, "s_" + type(node).__name__)
        return method(node)

    def s_Block(self, node: ast.Block) -> Fn:
        return self.block(node.body)

    def s_LocalDecl(self, node: ast.LocalDecl) -> Fn:
        t = node.type
        declared = self.bound.types[id(node)]  # DYNAMIC for `var` and unknown types
        parts: list[tuple[int, Fn | None]] = []
        for d in node.declarators:
            code = self.expr(d.value) if d.value is not None else None
            vtype = code.type if (t.name == "var" and code is not None and code.type not in (NULL, VOID)) \
                else declared
            if t.name == "var" and code is not None and code.type is VOID and d.value is not None and self.bound.type_of(d.value) is None:
                self.error("expr-type", "cannot assign void to an implicitly-typed variable", d.pos)
            local = self.bound.local(d)
            local.type, slot = vtype, local.slot
            fn = code.fn if code is not None else None
            kind = numeric_kind(vtype)  # `long? n = 1` stores a long
            if code is not None and kind is not None and numeric_kind(code.type) not in (None, kind):  # `double? d = i`
                fn = self._implicit(code, kind)
            if code is not None and fn is not None:
                fn = user_conversion(code.type, vtype, fn)
            parts.append((slot, fn))
        if len(parts) == 1:
            slot, f = parts[0]
            if f is None:
                return lambda env: None

            def decl(env: list[Any]) -> None:
                env[slot] = f(env)

            return decl

        def decls(env: list[Any]) -> None:
            for slot, f in parts:
                env[slot] = f(env) if f is not None else None

        return decls

    def s_Deconstruct(self, node: ast.Deconstruct) -> Fn:
        value = self.expr(node.value)
        types = value.type.items or (DYNAMIC,) * len(node.names)
        if len(types) != len(node.names) and id(node) not in self.bound.checked:
            self.error("expr-type", f"cannot deconstruct a tuple of {len(types)} elements into "
                       f"{len(node.names)} variables", node.pos)
        declared = [self.bound.local(node, index) for index in range(len(node.names))]
        for local, t in zip(declared, types, strict=False):
            local.type = t
        slots = [local.slot for local in declared]
        vf, pos, count = value.fn, node.pos, len(node.names)

        def deconstruct(env: list[Any]) -> None:
            parts = _deconstruct(vf(env), count)
            if parts is None:
                raise _located(rt.DotNetTypeError(f"the value cannot be deconstructed into {count} variables"), pos)
            for slot, part in zip(slots, parts, strict=True):
                env[slot] = part

        return deconstruct

    def s_ExprStmt(self, node: ast.ExprStmt) -> Fn:
        f = self.fn(node.expr)

        def run(env: list[Any]) -> None:
            f(env)

        return run

    def s_If(self, node: ast.If) -> Fn:
        cond = self.expr(node.cond)
        self._expect_bool(cond, node.cond)
        c = cond.fn
        then = self.stmt(node.then)
        other = self.stmt(node.other) if node.other is not None else None
        truth = rt.truth
        if other is None:
            return lambda env: then(env) if truth(c(env)) else None
        return lambda env: then(env) if truth(c(env)) else other(env)

    def s_Foreach(self, node: ast.Foreach) -> Fn:
        self.needs_budget = True
        source = self.expr(node.iterable)
        local = self.bound.local(node)
        if node.type.name == "var":
            local.type = source.type.element or DYNAMIC
        slot = local.slot
        body = self.loop_body(node.body, {slot} - assigned(node.body, self.bound))
        sf, pos = source.fn, node.pos

        def loop(env: list[Any]) -> Any:
            budget = env[2]
            collection = sf(env)
            cls = collection.__class__
            size = len(collection) if isinstance(collection, _SIZED) else -1
            items = list(collection) if cls is set else iterate(collection, pos)
            for item in items:
                budget.tick()
                if size >= 0 and _modified(collection, size):  # `foreach (var x in l) l.Add(x);`
                    raise _located(InvalidOperationException(_MODIFIED), pos)
                env[slot] = item
                signal = body(env)
                if signal:
                    if signal == BREAK:
                        break
                    if signal == RETURN:
                        return RETURN
            else:
                if size >= 0 and _modified(collection, size):  # the enumerator's last MoveNext sees it too
                    raise _located(InvalidOperationException(_MODIFIED), pos)
            return None

        return loop

    def loop_body(self, node: ast.Stmt, variables: frozenset[int] | set[int] = frozenset()) -> Fn:
        """A loop's body; `variables` (and the locals it declares) are new in each iteration for the
        lambdas that capture them (engine.expr.captures)."""
        outer = self.iteration_slots
        self.iteration_slots = outer | variables | iteration_locals(node, self.bound)
        try:
            return self.stmt(node)
        finally:
            self.iteration_slots = outer

    def s_While(self, node: ast.While) -> Fn:
        self.needs_budget = True
        cond = self.expr(node.cond)
        self._expect_bool(cond, node.cond)
        c = cond.fn
        body = self.loop_body(node.body)
        truth = rt.truth
        do = node.do

        def loop(env: list[Any]) -> Any:
            budget = env[2]
            first = do
            while first or truth(c(env)):
                first = False
                budget.tick()
                signal = body(env)
                if signal:
                    if signal == BREAK:
                        break
                    if signal == RETURN:
                        return RETURN
            return None

        return loop

    def s_For(self, node: ast.For) -> Fn:
        self.needs_budget = True
        if isinstance(node.init, ast.LocalDecl):
            init = self.stmt(node.init)
        else:
            inits = [self.fn(e) for e in node.init or ()]
            init = lambda env: [f(env) for f in inits] and None  # noqa: E731
        cond = self.expr(node.cond) if node.cond is not None else None
        if cond is not None and node.cond is not None:
            self._expect_bool(cond, node.cond)
        c = cond.fn if cond is not None else (lambda env: True)
        steps = [self.fn(e) for e in node.step]
        body = self.loop_body(node.body)
        truth = rt.truth

        def loop(env: list[Any]) -> Any:
            budget = env[2]
            init(env)
            while truth(c(env)):
                budget.tick()
                signal = body(env)
                if signal == BREAK:
                    break
                if signal == RETURN:
                    return RETURN
                for s in steps:
                    s(env)
            return None

        return loop

    def s_Return(self, node: ast.Return) -> Fn:
        if node.value is None:
            return lambda env: RETURN
        f = self.fn(node.value)

        def ret(env: list[Any]) -> int:
            env[1] = f(env)
            return RETURN

        return ret

    def s_Jump(self, node: ast.Jump) -> Fn:
        signal = BREAK if node.kind == "break" else CONTINUE
        return lambda env: signal

    def s_Throw(self, node: ast.Throw) -> Fn:
        pos = node.pos
        if node.value is None:  # `throw;` rethrows the exception of the innermost enclosing catch
            cell = self.catch_cells[-1] if self.catch_cells else [None]

            def rethrow(env: list[Any]) -> Any:
                if cell[0] is None:  # (outside a catch: refused by the bind pass)
                    raise _located(rt.DotNetTypeError("throw; outside a catch block"), pos)
                raise cell[0]

            return rethrow
        f = self.fn(node.value)

        def throw(env: list[Any]) -> Any:
            exc = f(env)
            if isinstance(exc, DotNetException):
                raise _located(exc, pos)
            raise _located(NullReferenceException(), pos)

        return throw

    def s_Try(self, node: ast.Try) -> Fn:
        body = self.s_Block(node.body)
        handlers: list[tuple[type, int | None, Fn | None, Fn, list[Any]]] = []
        for catch in node.catches:
            cls = self.bound.exceptions[id(catch)]
            slot = self.bound.local(catch).slot if catch.name else None
            accept = None
            if catch.filter is not None:
                condition = self.expr(catch.filter)
                self._expect_bool(condition, catch.filter)
                accept = condition.fn
            cell: list[Any] = [None]  # the exception being handled, for `throw;`
            self.catch_cells.append(cell)
            try:
                handlers.append((cls, slot, accept, self.block(catch.body.body), cell))
            finally:
                self.catch_cells.pop()
        final = self.s_Block(node.final) if node.final is not None else None

        def run(env: list[Any]) -> Any:
            try:
                return body(env)
            except DotNetException as exc:
                for cls, slot, accept, handler, cell in handlers:
                    if isinstance(exc, cls):
                        if slot is not None:
                            env[slot] = exc
                        if accept is not None and accept(env) is not True:
                            continue
                        cell[0] = exc
                        return handler(env)
                raise
            finally:
                if final is not None:
                    final(env)

        return run

    def s_Switch(self, node: ast.Switch) -> Fn:
        subject = self.fn(node.subject)
        sections: list[tuple[list[Fn | None], Fn]] = []
        for section in node.sections:
            labels = [self.fn(label) if label is not None else None for label in section.labels]
            sections.append((labels, self.block(section.body)))
        eq = rt.eq

        def run(env: list[Any]) -> Any:
            value = subject(env)
            chosen = None
            for labels, body in sections:
                for label in labels:
                    if label is None:
                        chosen = chosen or body
                    elif eq(value, label(env)):
                        signal = body(env)
                        return None if signal == BREAK else signal
            if chosen is not None:
                signal = chosen(env)
                return None if signal == BREAK else signal
            return None

        return run

    def s_LocalFunction(self, node: ast.LocalFunction) -> Fn:
        cell = self.functions[node.name]
        first, last = self.bound.function_slots[id(node)]
        defaults = [self.fn(default) if default is not None else None for _, _, default in node.params]
        slots = [self.bound.local(node, index).slot for index in range(len(node.params))]
        body = self.block(node.body.body)
        self.needs_budget = True

        def call(env: list[Any], values: list[Any]) -> Any:
            env[2].tick()
            saved = env[first:last]
            saved_ret = env[1]
            for slot, v in zip(slots, values, strict=False):
                env[slot] = v
            for slot, default in zip(slots[len(values):], defaults[len(values):], strict=True):
                env[slot] = default(env) if default is not None else None
            try:
                signal = body(env)
                return env[1] if signal == RETURN else None
            finally:
                env[first:last] = saved
                env[1] = saved_ret

        cell[0] = call
        return lambda env: None

    def s_CheckedBlock(self, node: ast.CheckedBlock) -> Fn:
        outer = self.checked_context
        self.checked_context = node.checked
        try:
            return self.s_Block(node.body)
        finally:
            self.checked_context = outer

    def s_Using(self, node: ast.Using) -> Fn:
        resource = self.stmt(node.resource) if isinstance(node.resource, ast.LocalDecl) else self.fn(node.resource)
        body = self.block(node.body.body)

        def run(env: list[Any]) -> Any:
            resource(env)
            return body(env)

        return run
