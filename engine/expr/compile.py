"""The emit pass: AST -> Python closures (and, for simple expressions, one generated function).

It runs after the bind pass (`engine.expr.bind`), whose tables say what every name denotes, which
slot every local has, the types it could give, and what each member or call of a typed value
denotes (`engine.expr.resolve`). Here each node becomes a closure `f(env)` (`env` is a list:
`[context, return value, budget, locals...]`), each node once (`expr` keeps the `Code` of every
node). Values bind did not type are typed and checked here with the same functions (lint does not
run this pass: the bind pass reports every finding it can); values whose type is only known at run
time go through `gates.member_gate` / `gates.call_gate`.

Nodes that are plain Python once bound (context paths, constants, comparisons, `&&`/`||`, `?:`,
string concatenation, casts, calls on the always-present context dictionaries) also carry inline
source; `Compiler.generated_evaluator` turns a whole expression of such nodes into one function
executed in a namespace with empty `__builtins__` (other nodes are referenced as bound closures).

`Compiler` keeps diagnostics, names, literals, assignment, lambdas and object creation;
its mixins hold member access and calls (`access.py`), operators (`operators.py`) and statements
(`statements.py`); the closure factories live in `closures.py`, lookup tables in `tables.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.dotnet import clrnumeric
from engine.dotnet.clrnumeric import NumKind
from engine.dotnet.containers import RectangularArray, Tuple
from engine.expr import ast
from engine.expr import runtime as rt
from engine.expr.access import AccessCompiler
from engine.expr.bind import (
    Bindings,
    Constant,
    Local,
    Problem,
    Symbol,
    best_common_type,
    literal_constant,
)
from engine.expr.captures import referenced, snapshot_lambda
from engine.expr.closures import (
    _NEVER_NULL,
    AnonymousObject,
    Code,
    Fn,
    MethodGroup,
    _context,
    _formatted_hole,
    _has_conditional,
    _hole,
    _invoke,
    _located,
    _make_lambda,
    anonymous_type,
    is_located,
)
from engine.expr.contexttypes import CONTEXT, HEADERS, MATCHED, MODEL_TYPES, QUERY, VARIABLES
from engine.expr.cstypes import (
    DYNAMIC,
    NUMERIC_TYPES,
    STRING,
    STRING_ARRAY,
    SYSTEM_TYPE,
    VOID,
    CsType,
    numeric_kind,
    zero_value,
)
from engine.expr.gates import add_gate, index_gate, is_list_type, member_gate, setattr_gate, setitem_gate
from engine.expr.library import strip_namespace
from engine.expr.operators import OperatorCompiler
from engine.expr.resolve import index_result, member_case_problem, suggest
from engine.expr.runtime import ShortCircuit
from engine.expr.statements import RETURN, StatementCompiler, user_conversion
from engine.expr.tables import (
    _VALUE_DEFAULTS,
    METERED_TYPES,
)


class Compiler(AccessCompiler, OperatorCompiler, StatementCompiler):
    """Compile one expression or block; `problems` collects (code, message, pos, hint)."""

    def __init__(self, bound: Bindings) -> None:
        self.bound = bound  # the bind pass's tables: what each name denotes, locals and their slots
        self.root: Code | None = None  # an expression's (not a block's) compiled root
        self.problems: list[Problem] = []
        self.functions: dict[str, list[Any]] = {}  # local functions: [compiled body, return type, arity]
        self.nslots = bound.nslots
        self.checked_context: bool | None = None  # checked(...): True, unchecked(...): False, else None
        self.allocation_sites = 0  # calls, `new` and interpolations: each may build one large value
        self.uses_body = False
        self.needs_budget = False
        self.lambda_types: list[CsType] = []
        self.is_block = False
        self.namespace: dict[str, Any] = {"__builtins__": {}}
        self.null_sites: list[ast.Pos] = []  # inline paths that may be null (AttributeError)
        self.key_sites: list[ast.Pos] = []  # inline `context.Variables[k]` (KeyError)
        self.compiled: dict[int, tuple[ast.Expr, Code]] = {}  # id(node) -> (node, its code): see expr()
        self.iteration_slots: set[int] = set()  # per-iteration loop variables in scope (engine.expr.captures)
        self.catch_cells: list[list[Any]] = []  # enclosing catch clauses' exception cells (`throw;`)

    # ------------------------------------------------------------------ diagnostics helpers
    def error(self, code: str, message: str, pos: ast.Pos, hint: str | None = None) -> None:
        self.problems.append((code, message, pos, hint))

    def _dead(self, type_: CsType = DYNAMIC) -> Code:
        def fail(env: list[Any]) -> Any:
            raise rt.SecurityError("this expression did not compile")

        return Code(fail, type_)

    _suggest = staticmethod(suggest)

    def _check_member_case(self, name: str, target: Code, pos: ast.Pos) -> bool:
        """Every allowed .NET member starts with an upper-case letter (anonymous types aside)."""
        problem = member_case_problem(target.type, name)
        if problem is not None:
            self.error("expr-unknown-member", problem[0], pos, problem[1])
        return problem is None

    # ------------------------------------------------------------------ generated source
    def name_of(self, obj: Any, prefix: str = "f") -> str:
        """A namespace name for `obj` in the generated evaluator (names are never user text)."""
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = obj
        return name

    def source(self, code: Code) -> str:
        """Python source computing `code` from `c` (the context) and `env`: inline when known."""
        if code.src is not None:
            return code.src
        if code.const:
            return self.name_of(code.value, "k")
        if code.path is not None:
            parent = code.path.rsplit(".", 1)[0] if "." in code.path else ""
            if code.pos is not None and parent not in _NEVER_NULL:
                self.null_sites.append(code.pos)
            return "c" + ("." + code.path if code.path else "")
        return f"{self.name_of(code.fn)}(env)"

    # ------------------------------------------------------------------ bound names
    def local(self, node: ast.Node) -> Local | None:
        """The local variable a name denotes (bound by the bind pass), or None."""
        return self.bound.symbol(node).local

    # ------------------------------------------------------------------ entry points
    def compile_expression(self, node: ast.Expr) -> Code:
        root = self.expr(node)
        if root.type is VOID and self.bound.type_of(node) is None:  # `@(list.Add(1))`: reported by bind
            self.error("expr-type", "the expression has no value (it calls a void method)", node.pos)
        return root

    def generated_evaluator(self, root: Code, error: Callable[[BaseException], BaseException],
                            coerce: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
        """`evaluate(ctx)` as one generated function when the root has inline source, else None.

        The source contains only names made by `name_of()`, attribute paths from the declared context
        model and operators: no user text. It runs in a namespace with empty `__builtins__`.
        """
        src = self.source(root)
        if root.src is None and root.path is None and not root.const:
            return None
        null_sites, key_sites = sorted(set(self.null_sites)), sorted(set(self.key_sites))
        report = error

        def locate(exc: BaseException) -> BaseException:  # locate what the inline code cannot
            if not is_located(exc):
                if isinstance(exc, AttributeError) and len(null_sites) == 1:
                    _located(exc, null_sites[0])
                elif isinstance(exc, KeyError) and len(key_sites) == 1:
                    _located(exc, key_sites[0])
            return report(exc)

        value = f"{self.name_of(coerce, '_coerce')}({src})" if coerce is not None else src
        prologue = "    env = [c]\n" if "env" in src else ""
        short, exc_type, err = self.name_of(ShortCircuit, "_S"), self.name_of(Exception, "_E"), self.name_of(locate, "_err")
        text = (f"def evaluate(c):\n{prologue}    try:\n        return {value}\n"
                f"    except {short}:\n        return None\n"
                f"    except {exc_type} as exc:\n        raise {err}(exc) from None\n")
        exec(compile(text, "<policy expression>", "exec"), self.namespace)  # noqa: S102 - no user text
        evaluate: Callable[[Any], Any] = self.namespace["evaluate"]  # defined by the exec above
        return evaluate

    def compile_block(self, block: ast.Block) -> Fn:
        self.is_block = True
        body = self.block(block.body)

        def run(env: list[Any]) -> Any:
            if body(env) == RETURN:
                return env[1]
            return None

        return run

    # ================================================================== expressions
    def expr(self, node: ast.Expr) -> Code:
        """Compile `node` once: a node compiled again (an operand of string concatenation, an
        argument whose inline source is taken) gets the same `Code`, and nothing is reported twice."""
        done = self.compiled.get(id(node))
        if done is not None and done[0] is node:
            return done[1]
        code = self.compiled_expr(node)
        self.compiled[id(node)] = (node, code)  # the node is kept alive: its id is not reused
        return code

    def compiled_expr(self, node: ast.Expr) -> Code:
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
        method: Callable[[ast.Expr], Code] | None = getattr(self, "x_" + type(node).__name__, None)
        if method is None:
            self.error("expr-syntax", f"{type(node).__name__} is not supported here", node.pos)
            return self._dead()
        return method(node)

    def fn(self, node: ast.Expr) -> Fn:
        """The closure of `node`, converted to the element type where C# converts it (bind's `conversions`:
        `new List<long> { 1 }`, `list.Contains(1)`, `doubles[0] = 1`)."""
        code = self.expr(node)
        kind = self.bound.conversions.get(id(node))
        return code.fn if kind is None else self._implicit(code, kind)

    # -- literals --------------------------------------------------------------------------------
    def x_Literal(self, node: ast.Literal) -> Code:
        return self.constant(self.bound.constant(node) or literal_constant(node))

    def constant(self, constant: Constant) -> Code:
        """A constant expression the bind pass folded (a dead node when its folding failed)."""
        if constant.failed:
            return self._dead(constant.type)
        value = constant.value
        return Code(lambda env: value, constant.type, const=True, value=value)

    def x_Interpolated(self, node: ast.Interpolated) -> Code:
        self.allocation_sites += 1
        constant = self.bound.constant(node)
        if constant is not None:  # no holes: a constant string
            return self.constant(constant)
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
        funcs = [(lambda env, p=p: p) if isinstance(p, str) else p for p in pieces]
        check = rt.check_string

        def interpolate(env: list[Any]) -> str:
            return check("".join([f(env) for f in funcs]))

        return Code(interpolate, STRING)

    # -- names -------------------------------------------------------------------------------------
    def x_Name(self, node: ast.Name) -> Code:
        symbol = self.bound.symbol(node)
        local = symbol.local
        if local is not None:
            slot = local.slot
            return Code(lambda env: env[slot], local.type)
        if symbol.kind == "context":
            return Code(_context, CONTEXT, path="")
        if symbol.kind == "function":  # a local function as a delegate: `items.Count(IsEven)`
            cell = self.functions[symbol.name]
            return Code(lambda env: MethodGroup(lambda *a: cell[0](env, list(a)), cell[2]), DYNAMIC)
        return self._qualifier(symbol)

    def _qualifier(self, symbol: Symbol) -> Code:
        """A type or namespace name used as the target of `.`: its statics holder, or nothing."""
        if symbol.kind not in ("type", "namespace"):
            return self._dead()  # reported by the bind pass
        if symbol.kind == "type":
            self._note_type(symbol.name)
        return Code(self._type_used_as_value(symbol.name), DYNAMIC, static=symbol.holder, static_name=symbol.name)

    @staticmethod
    def _type_used_as_value(name: str) -> Fn:
        def fail(env: list[Any]) -> Any:
            raise rt.SecurityError(f"'{name}' is a type, not a value")

        return fail

    def x_TypeRef(self, node: ast.TypeRef) -> Code:
        symbol = self.bound.symbol(node)
        return Code(self._type_used_as_value(symbol.name), DYNAMIC, static=symbol.holder, static_name=symbol.name)

    # -- assignment ------------------------------------------------------------------------------------
    def x_Assign(self, node: ast.Assign, report: bool | None = None) -> Code:
        value = self.expr(node.value)
        vf = self.fn(node.value)
        op = node.op[:-1] if node.op != "=" else ""
        combine = (lambda a, b: a if a is not None else b) if op == "??" else rt.BINARY.get(op)
        if combine is not None and op != "??" and self.checked_context:
            combine = rt.CHECKED.get(op, combine)
        target = node.target
        if report is None:
            report = id(node) not in self.bound.checked  # (else the bind pass reported the findings)
        if isinstance(target, ast.Name):
            local = self.local(target)
            if local is None:
                return self._dead()  # reported by the bind pass
            slot = local.slot
            if local.boxed and op and op != "??" and not (op == "+" and value.type is STRING):
                if report:
                    self.error("expr-type", f"operator '{op}=' cannot be applied to an operand of type 'object'",
                               node.pos)
                return self._dead()
            kind = numeric_kind(local.type)  # `int` or `int?`
            if kind is not None and op and op != "??":
                converted = self.bound.conversions.get(id(node.value))  # `u += 1`: a ulong constant
                combine = self._compound(op, kind, NUMERIC_TYPES[converted] if converted else value.type, node.pos,
                                         report=report)
            elif kind is not None and numeric_kind(value.type) not in (None, kind):
                vf = self._implicit(value, kind)
            elif not op and local.known:
                vf = user_conversion(value.type, local.type, vf)
            if not op or combine is None:  # `=` (every compound operator has a combine)

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
                        env[slot] = v = combine(env[slot], vf(env))
                    except Exception as exc:
                        raise _located(exc, pos) from None
                    return v

            return Code(assign, local.type)
        if isinstance(target, ast.Index):
            obj = self.expr(target.target)
            if obj.type in (VARIABLES, HEADERS, QUERY, MATCHED):
                if report:
                    self.error("expr-type", f"'{obj.type.name}' is read-only in expressions", target.pos,
                           "use set-variable / set-header policies to change the context")
                return self._dead()
            of = obj.fn
            keys = [self.fn(a.value) for a in target.args if a.value is not None]
            pos = node.pos
            is_list = is_list_type(obj.type)
            # the element type for `bytes[0] += 1` (bind's, or the indexer's for `a[0]++`'s `a[0] += 1`)
            stored, step = self.bound.type_of(node) or index_result(obj.type, len(keys))[1], combine
            if combine is not None and op != "??" and stored is not None and stored.kind is not None:
                converted = self.bound.conversions.get(id(node.value))
                step = self._compound(op, stored.kind, NUMERIC_TYPES[converted] if converted else value.type,
                                      node.pos, report=report)

            def set_item(env: list[Any]) -> Any:
                container = of(env)
                ks = [k(env) for k in keys]
                try:
                    v = vf(env)
                    if step is not None:
                        v = step(index_gate(container, ks, is_list), v)
                    setitem_gate(container, ks, v, is_list)
                except Exception as exc:
                    raise _located(exc, pos) from None
                return v

            return Code(set_item, value.type)
        if isinstance(target, ast.Member):
            obj = self.expr(target.target)
            if obj.type in MODEL_TYPES.values() or obj.static_name:
                if report:
                    self.error("expr-type", f"'{target.name}' is read-only", target.name_pos)
                return self._dead()
            of, name, pos = obj.fn, target.name, node.pos
            if id(target) in self.bound.refused:
                return self._dead()

            def set_member(env: list[Any]) -> Any:
                o = of(env)
                v = vf(env)
                try:
                    if combine is not None:
                        v = combine(member_gate(o, name), v)
                    setattr_gate(o, name, v)
                except Exception as exc:
                    raise _located(exc, pos) from None
                return v

            return Code(set_member, value.type)
        if report:
            self.error("expr-type", "the left-hand side of an assignment must be a variable, property or indexer",
                       node.pos)
        return self._dead()

    def _compound(self, op: str, kind: NumKind, value_type: CsType, pos: ast.Pos, *, report: bool = True
                  ) -> Callable[[Any, Any], Any]:
        """`x op= y` on a numeric local: `x = (T)(x op y)` (the result is converted back to x's type)."""
        checked = self.checked_context is True
        fn = clrnumeric.operation(op, kind, value_type.kind, checked=checked) if value_type.kind is not None else None
        if fn is None and value_type.kind is not None and report:
            self.error("expr-type", f"operator '{op}=' cannot be applied to operands of type '{kind.keyword}' and "
                       f"'{value_type.name}'", pos)
        binary = fn if fn is not None else (rt.CHECKED if checked else rt.BINARY)[op]
        convert = clrnumeric.convert

        def compound(a: Any, b: Any) -> Any:
            if a is None or b is None:  # an `int?` local or operand that is null
                return None
            r = binary(a, b)
            return None if r is None else convert(r, kind, checked=checked)

        return compound

    @staticmethod
    def _implicit(value: Code, kind: NumKind) -> Fn:
        """The implicit numeric conversion of an assigned value to the variable's type (`long x = 5`)."""
        vf, implicit = value.fn, clrnumeric.implicit
        if value.const:
            converted = implicit(value.value, kind) if value.value is not None else None
            return lambda env: converted
        return lambda env: None if (v := vf(env)) is None else implicit(v, kind)

    def x_IncDec(self, node: ast.IncDec) -> Code:
        if isinstance(node.target, ast.Name):
            local = self.local(node.target)
            if local is not None and numeric_kind(local.type) is not None:
                return self._step(node, local)
            if local is not None and local.boxed:
                if id(node) not in self.bound.checked:
                    self.error("expr-type", f"operator '{node.op}' cannot be applied to an operand of type 'object'",
                           node.pos)
                return self._dead()
        delta = 1 if node.op == "++" else -1
        one = ast.Literal(1, "int", node.pos)
        assign = self.x_Assign(ast.Assign("+=" if delta > 0 else "-=", node.target, one, node.pos),
                               report=id(node) not in self.bound.checked)
        if node.prefix:
            return assign
        af = assign.fn

        def post(env: list[Any]) -> Any:
            return rt.sub(af(env), delta)

        return Code(post, assign.type)

    def _step(self, node: ast.IncDec, local: Local) -> Code:
        """`x++`/`--x` on a numeric local: the value keeps its type and wraps (`byte 255 + 1 == 0`)."""
        slot, kind, delta, pos = local.slot, numeric_kind(local.type), 1 if node.op == "++" else -1, node.pos
        assert kind is not None
        step, checked, prefix = clrnumeric.step, self.checked_context is True, node.prefix

        def incdec(env: list[Any]) -> Any:
            old = env[slot]
            if old is None:
                return None
            try:
                env[slot] = new = step(old, delta, kind, checked=checked)
            except Exception as exc:
                raise _located(exc, pos) from None
            return new if prefix else old

        return Code(incdec, local.type)

    # -- lambdas -----------------------------------------------------------------------------------------
    def x_Lambda(self, node: ast.Lambda) -> Code:
        self.needs_budget = True
        param_type = self.lambda_types[-1] if self.lambda_types else DYNAMIC
        params, _ = self.bound.signatures.get(id(node), ((), None))
        slots, conversions = [], []
        for index in range(len(node.params)):
            local = self.bound.local(node, index)
            local.type = params[index] if params else param_type if index == 0 else DYNAMIC
            slots.append(local.slot)
            if params and local.type.kind is not None:  # `Func<double, double> f`: `f(3)` passes the double 3
                conversions.append((local.slot, local.type.kind))
        if isinstance(node.body, ast.Block):
            block = self.block(node.body.body)

            def block_body(env: list[Any]) -> Any:
                return env[1] if block(env) == RETURN else None

            body: Fn = block_body
        else:
            body = self.fn(node.body)
        if conversions:
            body = _converting(conversions, body)
        captured = sorted(referenced(node.body, self.bound) & self.iteration_slots) if self.iteration_slots else None
        if captured:  # `foreach (var i in xs) fs.Add(() => i)`: each lambda sees its own `i`
            return Code(snapshot_lambda(captured, slots, body), DYNAMIC)
        return Code(_make_lambda(slots, body), DYNAMIC)

    # -- object creation ---------------------------------------------------------------------------------
    def _note_type(self, type_name: str) -> None:
        """Expressions that use regexes or the JSON/XML/LINQ types get a `Budget`: backtracking matches
        and the library's per-element loops (`limits.paced`) stop at its deadline."""
        if type_name in METERED_TYPES:
            self.needs_budget = True

    def x_New(self, node: ast.New) -> Code:
        self.allocation_sites += 1
        t = node.type
        base = strip_namespace(t.name)
        self._note_type(base)
        args = self._args(node.args)
        pos = node.pos
        created = self.bound.creations.get(id(node))
        if created is None:
            return self._dead()  # an unknown type or one without constructors: reported by the bind pass
        factory, type_ = created
        # `new Queue<T>(...)`: the library's constructors take the arguments only, never the type names
        create = _invoke(lambda env: None, lambda _o, *a, **k: factory(*a, **k), (), args, pos, static=True,
                         check=True, name="New" if type_ is STRING else "")
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
            if item.value is None:  # `{ a, b }` in a collection initializer: Add(a, b)
                out.append(_add_all([self.fn(a.value) for a in item.keys if a.value is not None]))
                continue
            value = self.fn(item.value)
            if item.kind == "member":
                if id(item) not in self.bound.refused:
                    out.append(_set_member(item.name or "", value))
            elif item.kind == "index":
                out.append(_set_index([self.fn(a.value) for a in item.keys if a.value is not None], value))
            else:
                out.append(_add_all([value]))
        return out

    def x_NewArray(self, node: ast.NewArray) -> Code:
        self.allocation_sites += 1
        elem = node.element
        is_bytes = elem is not None and elem.name in ("byte", "Byte") and elem.array == 0
        if elem is not None and not self.bound.known_type(node):
            return self._dead()
        etype = self.bound.types.get(id(node), DYNAMIC)
        type_ = STRING_ARRAY if etype is STRING else CsType(f"{elem or 'object'}[]", list, element=etype)
        if node.size is not None:
            size = self.fn(node.size)
            scalar = elem is not None and elem.array == 0 and not elem.nullable
            default = (zero_value(etype) if scalar else None) if etype.kind is not None else _VALUE_DEFAULTS.get(
                elem.name if elem is not None and scalar else "", None)  # `new long[2]` holds longs, `new char[2]` '\0's
            pos = node.pos

            def sized(env: list[Any]) -> Any:
                n = size(env)
                if not isinstance(n, int) or n < 0:
                    raise _located(rt.DotNetTypeError("array size must be a non-negative integer"), pos)
                rt.check_size(n)
                return bytearray(n) if is_bytes else [default] * n

            return Code(sized, type_)
        codes = [self.expr(i) for i in node.items or ()]
        items = [c.fn for c in codes]
        if elem is None and codes:  # `new[] { 1, 2.5 }` is a double[]
            etype = best_common_type([c.type for c in codes])
        if etype.kind is not None and (elem is None or elem.array == 0):  # `new long[] { 1, 2 }` holds longs
            items = [self._implicit(c, etype.kind) if c.type.kind not in (None, etype.kind) else c.fn for c in codes]
        if is_bytes:
            return Code(lambda env: bytearray(i(env) for i in items), type_)
        if elem is None and node.items:
            type_ = STRING_ARRAY if etype is STRING else CsType("object[]", list, element=etype)
        return Code(lambda env: [i(env) for i in items], type_)

    def x_NewRectangularArray(self, node: ast.NewRectangularArray) -> Code:
        elem = node.element
        if not self.bound.known_type(node):
            return self._dead()
        sizes = [self.fn(size) for size in node.sizes]
        etype = self.bound.types.get(id(node), DYNAMIC)
        default = zero_value(etype) if elem.array == 0 and etype.kind is not None else _VALUE_DEFAULTS.get(
            elem.name if elem.array == 0 else "", None)
        pos = node.pos

        def create(env: list[Any]) -> Any:
            dims = [size(env) for size in sizes]
            total = 1
            for d in dims:
                total *= d if isinstance(d, int) and d > 0 else 1
            rt.check_size(total)
            try:
                return RectangularArray(dims, default)
            except Exception as exc:
                raise _located(exc, pos) from None

        return Code(create, self.bound.type_of(node) or DYNAMIC)

    def x_NewAnonymous(self, node: ast.NewAnonymous) -> Code:
        fields = [(name, self.expr(value)) for name, value in node.members]
        type_ = self.bound.type_of(node) or anonymous_type([(name, code.type) for name, code in fields])
        pairs = [(name, code.fn) for name, code in fields]
        return Code(lambda env: AnonymousObject((n, f(env)) for n, f in pairs), type_)

    def x_TupleLit(self, node: ast.TupleLit) -> Code:
        """A value tuple: it can be deconstructed; System.ValueTuple is not on APIM's allow-list,
        so it has no members (`(1, 2).Item1` is a check-time error, as in APIM)."""
        codes = [self.expr(item) for item in node.items]
        fns = [c.fn for c in codes]
        tuple_type = CsType("System.ValueTuple", Tuple, closed=True, items=tuple(c.type for c in codes))
        return Code(lambda env: Tuple(*[f(env) for f in fns]), tuple_type)

    def x_TypeOf(self, node: ast.TypeOf) -> Code:
        name = str(node.type)
        return Code(lambda env: name, SYSTEM_TYPE)


# One item of an object or collection initializer, run on the new object `o`.
Initializer = Callable[[list[Any], Any], None]


def _converting(conversions: list[tuple[int, NumKind]], body: Fn) -> Fn:
    """A lambda body that first converts its arguments to the declared parameter types."""
    implicit = clrnumeric.implicit

    def converted(env: list[Any]) -> Any:
        for slot, kind in conversions:
            if (v := env[slot]) is not None:
                env[slot] = implicit(v, kind)
        return body(env)

    return converted


def _set_member(name: str, value: Fn) -> Initializer:
    return lambda env, o: setattr_gate(o, name, value(env))


def _set_index(keys: list[Fn], value: Fn) -> Initializer:
    return lambda env, o: setitem_gate(o, [k(env) for k in keys], value(env))


def _add_all(parts: list[Fn]) -> Initializer:
    return lambda env, o: add_gate(o, [p(env) for p in parts])
