"""The bind pass on its own: names, scopes, slots and written types, before any code is emitted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from engine.diagnostics import Diagnostics
from engine.expr import ast, check_expression
from engine.expr.bind import FIRST_SLOT, Bindings, bind
from engine.expr.build import build
from engine.expr.cstypes import INT, LONG, STRING, STRING_ARRAY, UINT
from engine.expr.expression import analyse, as_value_text

HOSTILE = Path(__file__).with_name("hostile_expressions.txt")


def bound(text: str) -> tuple[ast.Node, Bindings]:
    tree = build(text[2:-1], "expression" if text.startswith("@(") else "block")
    return tree, bind(tree)


def names(node: ast.Node) -> list[ast.Name]:
    """Every Name node under `node`, in source order."""
    found: list[ast.Name] = []

    def walk(value: object) -> None:
        if isinstance(value, ast.Name):
            found.append(value)
        if isinstance(value, tuple):
            for item in value:
                walk(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, ast.TypeName):
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name))

    walk(node)
    return sorted(found, key=lambda n: n.pos)


def test_locals_get_slots_in_declaration_order_and_names_resolve_to_them() -> None:
    tree, b = bound("@{ string s = \"a\"; var n = s.Length; foreach (var c in s) { n++; } return n; }")
    assert b.problems == []
    assert b.nslots == FIRST_SLOT + 3
    kinds = [(n.ident, b.symbol(n).kind, b.symbol(n).local.slot if b.symbol(n).local else None) for n in names(tree)]
    assert kinds == [("s", "local", 3), ("s", "local", 3), ("n", "local", 4), ("n", "local", 4)]
    s_local = b.symbol(names(tree)[0]).local
    assert s_local is not None and s_local.type is STRING  # a declared type is resolved by the bind pass


def test_qualified_names_bind_to_types_and_namespaces() -> None:
    tree, b = bound("@(System.Text.Encoding.UTF8.GetBytes(context.Request.Method))")
    call = tree
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Member)
    utf8 = call.func.target
    assert isinstance(utf8, ast.Member)
    encoding = utf8.target
    assert isinstance(encoding, ast.Member) and isinstance(encoding.target, ast.Member)
    assert b.symbol(encoding.target).kind == "namespace" and b.symbol(encoding.target).name == "System.Text"
    assert b.symbol(encoding).kind == "type" and b.symbol(encoding).holder is not None
    assert [b.symbol(n).kind for n in names(tree)] == ["namespace", "context"]


def test_problems_are_found_without_emitting_code() -> None:
    _, b = bound("@{ var x = 1; var x = 2; int y = (Foo)x.__class__; return z + Frobnicate(1); }")
    assert [(code, message) for code, message, _, _ in b.problems] == [
        ("expr-type", "a local variable named 'x' is already defined in this scope"),
        ("expr-security", "'__class__' is not accessible from policy expressions"),
        ("expr-unknown-name", "the type 'Foo' is not available in policy expressions"),
        ("expr-unknown-name", "the name 'z' does not exist in the current context"),
        ("expr-unknown-name", "the name 'Frobnicate' does not exist in the current context"),
    ]


def test_lambda_parameters_and_local_functions_have_their_own_slots() -> None:
    tree, b = bound("@{ int Twice(int v) { return v * 2; } var xs = new[] { 1, 2 }; "
                    "return xs.Select(x => Twice(x)).Sum(); }")
    assert b.problems == []
    assert isinstance(tree, ast.Block)
    [function] = [s for s in tree.body if isinstance(s, ast.LocalFunction)]
    assert b.function_slots[id(function)] == (FIRST_SLOT, FIRST_SLOT + 1)  # `v`
    kinds = {n.ident: b.symbol(n).kind for n in names(tree)}
    assert kinds == {"v": "local", "xs": "local", "Twice": "function", "x": "local"}


def test_lint_reports_names_everywhere_in_source_order() -> None:
    bag = Diagnostics()
    check_expression("@(context.Request.Foo(nope) + (Bar)context.Variables[\"v\"])", bag)
    assert [(d.code, d.span.col) for d in bag] == [
        ("expr-unknown-member", 19), ("expr-unknown-name", 23), ("expr-unknown-name", 31)]


def test_static_members_and_methods_bind_to_their_holder() -> None:
    tree, b = bound('@(Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Empty)) + DateTime.UtcNow.Year)')
    assert b.problems == []
    assert isinstance(tree, ast.Binary) and isinstance(tree.left, ast.Call)
    convert = tree.left.func
    utf8 = tree.left.args[0].value.func.target  # type: ignore[union-attr]
    assert b.symbol(convert).kind == "method" and b.symbol(convert).member.__name__ == "ToBase64String"
    assert b.symbol(utf8).kind == "static" and b.symbol(utf8).name == "UTF8"


def test_unknown_static_members_are_reported_by_the_bind_pass() -> None:
    _, b = bound("@(Convert.ToBase64Strin(x) + string.Emptyy + Math.pi + System.Text.Foo())")
    assert [(code, message, hint) for code, message, _, hint in b.problems] == [
        ("expr-unknown-member", "'Convert' has no method 'ToBase64Strin'", "did you mean 'ToBase64String'?"),
        ("expr-unknown-name", "the name 'x' does not exist in the current context", None),
        ("expr-unknown-member", "'string' has no member 'Emptyy'", "did you mean 'Empty'?"),
        ("expr-unknown-member", "'Math' has no member 'pi'", "members of .NET types start with an upper-case letter"),
        ("expr-unknown-name", "'System.Text.Foo' is not available", None),
    ]


def test_written_types_are_resolved_by_the_bind_pass() -> None:
    tree, b = bound("@{ long Half(long v) { return v / 2; } var l = new List<string>(); "
                    "try { return (int)Half(3L); } catch (FormatException e) { return default(DateTime); } }")
    assert b.problems == []
    assert isinstance(tree, ast.Block)
    function, decl, attempt = tree.body
    assert isinstance(decl, ast.LocalDecl) and isinstance(decl.declarators[0].value, ast.New)
    assert isinstance(attempt, ast.Try)
    assert b.types[id(function)].name == "long"
    factory, created = b.creations[id(decl.declarators[0].value)]
    assert created.name == "List<string>" and created.element is STRING and factory([]) == []
    assert b.exceptions[id(attempt.catches[0])].__name__ == "FormatException"
    [returned] = attempt.body.body
    assert isinstance(returned, ast.Return) and isinstance(returned.value, ast.Cast)
    assert b.types[id(returned.value)].name == "int"


def test_emit_reports_no_names() -> None:
    """Every unknown name is the bind pass's finding: the emitter reads its tables."""
    texts = [line.strip() for line in HOSTILE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    texts += ["@(nope.Length + context.Nope)", "@{ foreach (var c in cs) { d += c; } return e; }",
              "@(xs.Where(x => x > y).Select(z => z + w))", "@(new Foo(a) { B = b })", "@(Enum.TryParse(s, out q))"]
    for text in texts:
        compiler, _, problems = analyse(as_value_text(text if text.startswith("@") else f"@({text})"))
        assert compiler is not None, text
        assert all(code != "expr-unknown-name" for code, _, _, _ in compiler.problems), text
        names = [p for p in problems if p.code == "expr-unknown-name"]
        assert len(names) == sum(code == "expr-unknown-name" for code, _, _, _ in compiler.bound.problems), text


def test_constants_are_folded_by_the_bind_pass_like_csc() -> None:
    tree, b = bound("@(checked(-2147483648 + (1u + 1) * 0) + unchecked(2147483647 + 1) + 1L)")
    assert b.problems == []
    folded = b.constant(tree)
    assert folded is not None and folded.type is LONG and folded.value == -2147483648 + -2147483648 + 1
    assert isinstance(tree, ast.Binary) and isinstance(tree.left, ast.Binary)
    assert b.constant(tree.left.right) == b.constant(tree.left.right.expr)  # unchecked(...) is its operand
    product = tree.left.left.expr.right  # (1u + 1) * 0: the int 1 converts to uint beside a uint constant
    assert b.constant(product.left).type is UINT and b.constant(product).type is UINT
    assert b.constant(tree.left.left.expr.left).type is INT  # -2147483648 is an int
    tree, b = bound("@(2147483647 + 1 + (1 / 0) + x)")
    assert [(code, message) for code, message, _, _ in b.problems] == [
        ("expr-constant", "the operation overflows at compile time in checked mode"),
        ("expr-constant", "division by constant zero"),
        ("expr-unknown-name", "the name 'x' does not exist in the current context"),
    ]


def test_every_constant_is_the_bind_passs() -> None:
    """Static constants, numeric casts of constants, `default(T)` and hole-free interpolations."""
    tree, b = bound('@(int.MaxValue - (byte)255 - default(long) + $"".Length)')
    assert b.problems == []
    assert isinstance(tree, ast.Binary) and isinstance(tree.left, ast.Binary) and isinstance(tree.left.left, ast.Binary)
    maximum, cast = tree.left.left.left, tree.left.left.right
    assert (b.constant(cast).type.name, b.constant(cast).value) == ("byte", 255)
    assert (b.constant(maximum).type, b.constant(maximum).value) == (INT, 2147483647)
    assert b.constant(tree.left.left).type is INT and b.constant(tree.left.left).value == 2147483647 - 255
    assert b.constant(tree.left).type is LONG and b.constant(tree.left.right).value == 0
    assert b.constant(tree) is None  # `.Length` of a value: typed by the emitter
    _, b = bound("@(int.MaxValue + 1 + (short)70000 + unchecked((short)70000))")
    assert [message for _, message, _, _ in b.problems] == [
        "the operation overflows at compile time in checked mode", "constant value '70000' cannot be converted to a 'short'",
    ]
    _, b = bound("@(new string[0].Any(string.IsNullOrEmpty))")  # a method group is not a constant
    assert len(b.constants) == 1  # only the `0`


def test_properties_of_the_context_surface_are_resolved_by_the_bind_pass() -> None:
    tree, b = bound("@(context.Request.Url.Host + context.Request.Nope + context.Api.Select + s.Length)")
    assert isinstance(tree, ast.Binary) and isinstance(tree.left, ast.Binary) and isinstance(tree.left.left, ast.Binary)
    host = tree.left.left.left
    assert isinstance(host, ast.Member)
    assert b.members[id(host)] is not None and b.value_types[id(host)] is STRING
    assert b.members[id(tree.left.left.right)] is None and b.members[id(tree.left.right)] is None
    assert id(tree.right) not in b.members  # a member of a value of unknown type: the emitter's
    assert [(code, message, hint) for code, message, _, hint in b.problems] == [
        ("expr-unknown-member", "'IRequest' has no member 'Nope'", None),
        ("expr-unknown-member", "'IApi' has no member 'Select'", "'Select' is an extension method of sequences (IEnumerable<T>)"),
        ("expr-unknown-name", "the name 's' does not exist in the current context", None),
    ]


def test_context_values_keep_their_type_through_locals_and_casts() -> None:
    _, b = bound('@{ var r = context.Request; IResponse s = context.Response; '
                 'return r.Nope + s.Nope + ((IResponse)context.Variables["x"]).Nope + (r as IRequest).Nope; }')
    assert [message for _, message, _, _ in b.problems] == [
        "'IRequest' has no member 'Nope'", "'IResponse' has no member 'Nope'", "'IResponse' has no member 'Nope'",
        "'IRequest' has no member 'Nope'",
    ]
    _, _, problems = analyse(as_value_text("@(context.Request?.Url?.Host + context.Nope.Foo)"))
    assert [p.message for p in problems] == ["'IContext' has no member 'Nope'"]  # once, though `+` emits it twice


def test_calls_and_indexers_of_the_context_surface_are_typed_by_the_bind_pass() -> None:
    """Declared methods (arity, `<T>`, result type) and the declared indexer `Item`."""
    tree, b = bound('@(context.Variables.GetValueOrDefault<int>("n") + context.Request.Headers["a"].Length)')
    assert isinstance(tree, ast.Binary) and isinstance(tree.left, ast.Call) and isinstance(tree.right, ast.Member)
    assert b.value_types[id(tree.left)] is INT and b.members[id(tree.left.func)] is not None
    index = tree.right.target
    assert b.value_types[id(index)] is STRING_ARRAY and b.members[id(index)] is not None
    assert b.problems == []
    _, b = bound('@(context.Request.Headers.GetValueOrDefault<string>("a", "b", "c") + context.Request.Url.Host() + '
                 'context.Request.Url.Nope() + context.Request.Headers.foo() + context.Request.Headers.Count())')
    assert [(code, message) for code, message, _, _ in b.problems] == [
        ("expr-arity", "'IReadOnlyDictionary<string, string[]>.GetValueOrDefault' takes 1 to 2 argument(s), 3 given"),
        ("expr-arity", "'IReadOnlyDictionary<string, string[]>.GetValueOrDefault' is not generic"),
        ("expr-type", "'IUrl.Host' is a property, not a method"),
        ("expr-unknown-member", "'IUrl' has no member 'Nope'"),
        ("expr-unknown-member", "'IReadOnlyDictionary<string, string[]>' has no member 'foo'"),
    ]  # `Headers.Count()` is LINQ's: the emitter's
    compiler, _, problems = analyse(as_value_text("@(context.Request.Headers.ContainsKey())"))
    assert compiler is not None and compiler.problems == []  # the emitter reports nothing of its own
    assert [p.message for p in problems] == ["'IReadOnlyDictionary<string, string[]>.ContainsKey' takes 1 argument(s), 0 given"]


def test_emit_compiles_each_node_once() -> None:
    """String concatenation and inline sources reuse an operand's code: nothing is reported twice."""
    text = '@{ string F() { return "x"; } return "a" + F().Lenght + "b" + (F().Lenght + 1); }'
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None
    assert compiler.problems == []  # F(): typed by the bind pass, which reports both
    assert [p.message for p in problems] == ["'string' has no member 'Lenght'"] * 2


def test_members_of_built_in_and_library_values_are_resolved_by_the_bind_pass() -> None:
    """Strings, arrays, numbers and library classes: members, arity and result types (`resolve.py`)."""
    text = ('@{ var s = "a,b".Trim(); var t = DateTime.UtcNow; return s.Lenght + s.Substring() + '
            's.Split(\',\')[0].ToUpper().Lenght + t.Yearr + "x".Length() + JObject.Parse("{}").Nope(); }')
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None and compiler.problems == []  # all of them are the bind pass's
    assert [(p.code, p.message) for p in problems] == [
        ("expr-unknown-member", "'string' has no member 'Lenght'"),
        ("expr-arity", "'string.Substring' takes 1 to 2 argument(s), 0 given"),
        ("expr-unknown-member", "'string' has no member 'Lenght'"),
        ("expr-unknown-member", "'DateTime' has no member 'Yearr'"),
        ("expr-type", "'string.Length' is a property, not a method"),
        ("expr-unknown-member", "'JObject' has no member 'Nope'"),
    ]
    tree, b = bound('@("a".Split(\',\')[0].Length + int.Parse("1"))')
    assert isinstance(tree, ast.Binary) and isinstance(tree.left, ast.Member)
    assert b.value_types[id(tree.left)] is INT and b.value_types[id(tree.right)] is INT
    assert b.resolved[id(tree.left)].how == "builtin"


def test_lambda_parameters_foreach_variables_and_boxed_values_are_typed_by_the_bind_pass() -> None:
    text = ('@{ foreach (var g in context.User.Groups) { if (g.Nope == "") { return 1; } } '
            'var v = context.Variables["x"]; object o = 1; '
            'return context.User.Groups.Where(h => h.Nme != "").Count() + v * 2 + (o < 1 ? 1 : 0); }')
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None
    assert [(p.code, p.message) for p in problems] == [
        ("expr-unknown-member", "'IGroup' has no member 'Nope'"),
        ("expr-unknown-member", "'IGroup' has no member 'Nme'"),
        ("expr-type", "operator '*' cannot be applied to operands of type 'object' and 'int'"),
        ("expr-type", "operator '<' cannot be applied to operands of type 'object' and 'int'"),
    ]
    assert compiler.problems == []  # the operators on `object` operands too (`var v` of an `object`, `object o`)
    _, b = bound('@(context.Variables["x"] == (object)1 && context.Variables.GetValueOrDefault("y") != null)')
    assert len(b.boxed) == 3  # the index, the cast and GetValueOrDefault without <T>


def test_operators_on_typed_operands_are_typed_by_the_bind_pass() -> None:
    """Numeric promotion, `?:` widening and string concatenation: what follows is resolved by bind."""
    text = '@{ var n = "a".Length * 2L; return (n > 1 ? n : 2.5).Foo + ("a" + n).Lenght + (-n).Bar; }'
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None and compiler.problems == []
    assert [p.message for p in problems] == [
        "'double' has no member 'Foo'", "'string' has no member 'Lenght'", "'long' has no member 'Bar'",
    ]


def test_conditions_and_void_values_of_typed_expressions_are_checked_by_the_bind_pass() -> None:
    text = '@{ if ("a".Length) { return 1; } var x = context.Trace("a"); return "b".Length > 0 ? 1 : 2; }'
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None and compiler.problems == []
    assert [p.message for p in problems] == [
        "cannot implicitly convert type 'int' to 'bool'", "cannot assign void to an implicitly-typed variable",
    ]
    _, b = bound('@(context.Trace("a"))')
    assert [message for _, message, _, _ in b.problems] == ["the expression has no value (it calls a void method)"]


def test_operators_on_typed_operands_are_checked_by_the_bind_pass() -> None:
    text = ('@{ return ("a".Length - true) + (context.Variables["x"] + 1) + (new int[0] + 1) + '
            '("a".Trim() < "b") + (!"a".Length) + (-context.Variables["y"]) + ((decimal)"a".Length + 1.5); }')
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None and compiler.problems == []
    assert [p.message for p in problems] == [
        "operator '-' cannot be applied to operands of type 'int' and 'bool'",
        "operator '+' cannot be applied to operands of type 'object' and 'int'",
        "operator '+' cannot be applied to operands of type 'int[]' and 'int'",
        "operator '<' cannot be applied to operands of type 'string'",
        "operator '!' cannot be applied to an operand of type 'int'",
        "operator '-' cannot be applied to an operand of type 'object'",
        "operator '+' cannot be applied to operands of type 'decimal' and 'double'",
    ]


def test_assignments_deconstruction_and_tuples_are_checked_by_the_bind_pass() -> None:
    text = ('@{ object o = 1; o++; o += 1; int n = 1; n += 1.5m; context.Variables["a"] = 1; '
            'context.Request.Method = "GET"; var (a, b, c) = (1, "x"); if (n = 3) { } return (1, 2).Item1 + -o; }')
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None and compiler.problems == []
    assert [p.message for p in problems] == [
        "operator '++' cannot be applied to an operand of type 'object'",
        "operator '+=' cannot be applied to an operand of type 'object'",
        "cannot implicitly convert type 'decimal' to 'int'",
        "'IReadOnlyDictionary<string, object>' is read-only in expressions",
        "'Method' is read-only",
        "cannot deconstruct a tuple of 2 elements into 3 variables",
        "cannot implicitly convert type 'int' to 'bool'",
        "'System.ValueTuple' has no member 'Item1'",
        "operator '-' cannot be applied to an operand of type 'object'",
    ]


def test_static_call_arity_and_declared_only_properties_are_checked_by_the_bind_pass() -> None:
    text = '@(Convert.ToBase64String() + Math.Max(1) + string.Type + "a".Type + JObject.Parse("{}").Type)'
    compiler, _, problems = analyse(as_value_text(text))
    assert compiler is not None and compiler.problems == []
    assert [(p.code, p.message) for p in problems] == [
        ("expr-arity", "'Convert.ToBase64String' takes 1 to 4 argument(s), 0 given"),
        ("expr-arity", "'Math.Max' takes 2 argument(s), 1 given"),
        ("expr-security", "'Type' is not accessible from policy expressions"),
        ("expr-security", "'Type' is not accessible from policy expressions"),
    ]


def test_lint_is_parse_and_bind_only() -> None:
    """`check_expression` runs no emit pass: method groups, `var` locals of `object` values, local
    functions' results, `new object[]`, anonymous types, `x++` on the context and `Equals(...)`
    are typed and checked by the bind pass, so compiling finds nothing lint did not."""
    cases = {
        "@(string.IsNullOrEmpty)": ["'string.IsNullOrEmpty' is a method: call it with ()"],
        '@(new[] { "a" }.Any(string.IsNullOrEmpty.Length))': ["'string.IsNullOrEmpty' is a method: call it with ()"],
        '@{ Func<string, bool> f = string.IsNullOrEmpty; return new[] { "a" }.Count(f) + new[] { "" }.Count(string.IsNullOrEmpty); }': [],
        '@{ var v = context.Variables["x"]; v++; return v * 2; }': [
            "operator '++' cannot be applied to an operand of type 'object'",
            "operator '*' cannot be applied to operands of type 'object' and 'int'"],
        '@{ int F(int x) { return x; } return F(1).Lenght + G(); string G() { return ""; } }': [
            "'int' has no member 'Lenght'"],
        '@{ var a = new object[] { 1, "a" }; var o = new { A = "x", B = a }; return o.A.Lenght + o.C + o.B.Length; }': [
            "'string' has no member 'Lenght'", "'<anonymous type>' has no member 'C'"],
        '@{ Func<int, string> f = x => { var y = x * 2; return y.ToString().Lenght; }; return f(4); }': [
            "'string' has no member 'Lenght'"],
        "@(new int[2, 2].Lenght)": ["'int[,]' has no member 'Lenght'"],
        '@{ context.Variables["a"]++; return Equals(1); }': [
            "'IReadOnlyDictionary<string, object>' is read-only in expressions", "'object.Equals' takes 2 argument(s), 1 given"],
        '@{ var d = DayOfWeek.Monday; return Enum.TryParse("Monday", out d); }': [],  # TEnum: d's type
    }
    for text, expected in cases.items():
        compiler, _, problems = analyse(as_value_text(text))
        assert compiler is not None and compiler.problems == [], text  # the emitter reports nothing of its own
        linted = Diagnostics()
        check_expression(text, linted)
        assert [d.message for d in linted] == [p.message for p in problems] == expected, text
