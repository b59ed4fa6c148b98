"""Expression text -> `engine.expr.ast` nodes, built during parsing, with positions offset into the ValueText."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal, NoReturn, cast, overload

from engine.dotnet import utf16
from engine.expr import ast
from engine.expr.parser import ExprSyntaxError, Span, Token, parse_into

_SIMPLE_ESCAPES = {
    "'": "'", '"': '"', "\\": "\\", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n",
    "r": "\r", "t": "\t", "v": "\v",
}
_TYPE_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*|<|>|,|\[\s*(?:,\s*)*\]|\?)")


# `sizeof(T)` of the predefined value types: a compile-time constant in C#.
_SIZES = {"sbyte": 1, "byte": 1, "bool": 1, "short": 2, "ushort": 2, "char": 2, "int": 4, "uint": 4, "float": 4,
          "long": 8, "ulong": 8, "double": 8, "decimal": 16}


def _newer_than_csharp7(what: str) -> str:
    """APIM compiles policy expressions as C# 7 (docs: api-management-policy-expressions.md)."""
    return f"{what}; APIM compiles policy expressions as C# 7"


def parse_type_text(text: str) -> ast.TypeName:
    """`Dictionary<string, int[]>?` -> TypeName (the text was already validated by the lexer)."""
    tokens = [m.group(1) for m in _TYPE_TOKEN.finditer(text)]
    at = 0

    def one() -> ast.TypeName:
        nonlocal at
        name = tokens[at].replace(" ", "")
        at += 1
        args: list[ast.TypeName] = []
        if at < len(tokens) and tokens[at] == "<":
            at += 1
            while at < len(tokens) and tokens[at] != ">":
                if tokens[at] == ",":
                    at += 1
                    continue
                args.append(one())
            at += 1
        nullable = False
        array = 0
        while at < len(tokens) and (tokens[at] == "?" or tokens[at].startswith("[")):
            if tokens[at] == "?":
                nullable = True
            else:
                array += 1
            at += 1
        return ast.TypeName(name, tuple(args), array, nullable)

    return one()


def split_generic(text: str) -> tuple[str, tuple[ast.TypeName, ...]]:
    """`As<JObject>` -> ("As", (JObject,))."""
    if "<" not in text:
        return text, ()
    t = parse_type_text(text)
    return t.name, t.args


def decode_string(body: str, *, verbatim: bool) -> str:
    """Decode the contents of a C# regular (escapes) or verbatim (`""`) string literal."""
    if verbatim:
        return body.replace('""', '"')
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif nxt == "U":
            out.append(chr(int(body[i + 2:i + 10], 16)))
            i += 10
        elif nxt == "x":
            m = re.match(r"[0-9a-fA-F]{1,4}", body[i + 2:])
            if not m:
                raise ExprSyntaxError("invalid \\x escape", i)
            out.append(chr(int(m.group(0), 16)))
            i += 2 + len(m.group(0))
        else:
            raise ExprSyntaxError(f"unrecognized escape sequence '\\{nxt}'", i)
    return utf16.text("".join(out))  # "\ud83d\ude00" is one character


def _matching_brace(text: str, i: int) -> int:
    """Index of the `}` closing the interpolation hole opened at text[i] == '{'."""
    depth = 0
    j = i
    while j < len(text):
        ch = text[j]
        if ch in "\"'":
            j += 1
            while j < len(text) and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
        elif ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(text)


def _split_hole(hole: str) -> tuple[str, str | None, str | None]:
    """`expr,align:fmt` -> parts, splitting at top-level ',' and ':' only."""
    depth = 0
    j = 0
    comma = colon = -1
    while j < len(hole):
        ch = hole[j]
        if ch in "\"'":
            j += 1
            while j < len(hole) and hole[j] != ch:
                j += 2 if hole[j] == "\\" else 1
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "?" and hole[j + 1:j + 2] in (".", "?", "["):
            j += 2
            continue
        elif depth == 0 and ch == "," and comma < 0 and colon < 0:
            comma = j
        elif depth == 0 and ch == ":" and colon < 0:
            colon = j
            break
        j += 1
    end = comma if comma >= 0 else colon if colon >= 0 else len(hole)
    align = hole[comma + 1:colon if colon >= 0 else len(hole)] if comma >= 0 else None
    fmt = hole[colon + 1:] if colon >= 0 else None
    return hole[:end], align, fmt


def _number(text: str, pos: ast.Pos) -> ast.Literal:
    raw = text.replace("_", "")
    lower = raw.lower()
    if lower.startswith(("0x", "0b")):
        digits = lower[2:].rstrip("ul")
        suffix = lower[2 + len(digits):]
        value = int(digits, 16 if lower[1] == "x" else 2)
    else:
        digits = lower.rstrip("ul")
        suffix = lower[len(digits):]
        value = int(digits)
    if "l" in suffix:
        kind = "ulong" if "u" in suffix else "long"
    elif "u" in suffix:
        kind = "uint" if value <= 0xFFFFFFFF else "ulong"
    else:
        kind = "int" if value <= 0x7FFFFFFF else "uint" if value <= 0xFFFFFFFF else "long"
    if kind == "long" and value > 0x7FFFFFFFFFFFFFFF:
        kind = "ulong"
    return ast.Literal(value, kind, pos)


def _real(text: str, pos: ast.Pos) -> ast.Literal:
    raw = text.replace("_", "")
    suffix = raw[-1].lower() if raw[-1].isalpha() and raw[-1].lower() in "fdm" else ""
    digits = raw[:-1] if suffix else raw
    if suffix == "m":
        return ast.Literal(Decimal(digits), "decimal", pos)
    return ast.Literal(float(digits), "float" if suffix == "f" else "double", pos)


# What a rule method receives: the already built results of its sub-rules (ast nodes, or the tuples
# below), its Tokens, and None for an absent optional part; the grammar fixes which is where.
Children = list[Any]
_Label = tuple[str, ast.Expr | None]  # a `case x:` / `default:` label, until switch_section sorts them out
_Param = tuple[ast.TypeName, str, ast.Expr | None]  # a local function's (type, name, default value)
_AnonMember = tuple[str, ast.Expr]  # `new { Name = value }`


def _tok_pos(base: int, tok: Token) -> ast.Pos:
    start = base + (tok.start_pos or 0)
    return (start, start + len(tok))


class Builder:
    """Builds AST nodes during parsing (`parser.parse_into`): one method per grammar rule or alias,
    called with the node's position in the ValueText and its children; `base` is the offset of the
    parsed text inside the ValueText."""

    def __init__(self, base: int = 0) -> None:
        self.base = base

    def reduce(self, name: str, span: Span, children: Children) -> Any:
        base = self.base
        pos = (base, base) if span is None else (base + span[0], base + span[1])
        return getattr(self, name)(pos, children)

    # -- start symbols ---------------------------------------------------------------------------
    def expression(self, pos: ast.Pos, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def block(self, pos: ast.Pos, c: Children) -> ast.Block:
        return ast.Block(tuple(c), pos)

    # -- statements ------------------------------------------------------------------------------
    def block_stmt(self, pos: ast.Pos, c: Children) -> ast.Block:
        return ast.Block(tuple(c), pos)

    def deconstruct(self, pos: ast.Pos, c: Children) -> ast.Deconstruct:
        names = tuple(n.strip() for n in str(c[0]).strip()[3:].strip()[1:-1].split(","))
        return ast.Deconstruct(names, c[2], pos)

    def tuple_lit(self, pos: ast.Pos, c: Children) -> ast.TupleLit:
        return ast.TupleLit(tuple(c), pos)

    def local_decl(self, pos: ast.Pos, c: Children) -> ast.LocalDecl:
        type_, declarators = c[1], c[2:]  # c[0]: `const` (a constant local is a local never assigned)
        if type_.array:  # `int[] a = { 1, 2 };`: an array initializer takes the declared element type
            element = ast.TypeName(type_.name, type_.args, type_.array - 1, type_.nullable)
            declarators = [d if not isinstance(d.value, tuple) else
                           ast.Declarator(d.name, ast.NewArray(element, None, d.value, d.pos), d.pos)
                           for d in declarators]
        for d in declarators:
            if isinstance(d.value, tuple):
                raise ExprSyntaxError("an array initializer needs an array type: write `int[] a = { 1, 2 }`",
                                      d.pos[0])
        return ast.LocalDecl(type_, tuple(declarators), pos, const=c[0] is not None)

    def declarator(self, pos: ast.Pos, c: Children) -> ast.Declarator:
        name, _assign, value = c
        return ast.Declarator(str(name), value, pos)

    def for_init(self, pos: ast.Pos, c: Children) -> ast.LocalDecl | tuple[ast.Expr, ...]:
        return cast("ast.LocalDecl | tuple[ast.Expr, ...]", c[0])

    def expr_list(self, pos: ast.Pos, c: Children) -> tuple[ast.Expr, ...]:
        return tuple(c)

    def catch_clause(self, pos: ast.Pos, c: Children) -> ast.Catch:
        type_, name, filter_, body = c
        return ast.Catch(type_, str(name) if name is not None else None, body, pos, filter_)

    def catch_filter(self, pos: ast.Pos, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def switch_section(self, pos: ast.Pos, c: Children) -> ast.SwitchSection:
        labels = tuple(x[1] for x in c if isinstance(x, tuple) and x and x[0] == "label")
        body = tuple(x for x in c if not (isinstance(x, tuple) and x and x[0] == "label"))
        return ast.SwitchSection(labels, body)

    def case_label(self, pos: ast.Pos, c: Children) -> _Label:
        return ("label", c[0])

    def default_label(self, pos: ast.Pos, c: Children) -> _Label:
        return ("label", None)

    def if_stmt(self, pos: ast.Pos, c: Children) -> ast.If:
        return ast.If(c[0], c[1], c[2] if len(c) > 2 else None, pos)

    def foreach_stmt(self, pos: ast.Pos, c: Children) -> ast.Foreach:
        return ast.Foreach(c[0], str(c[1]), c[2], c[3], pos)

    def while_stmt(self, pos: ast.Pos, c: Children) -> ast.While:
        return ast.While(c[0], c[1], False, pos)

    def do_stmt(self, pos: ast.Pos, c: Children) -> ast.While:
        return ast.While(c[1], c[0], True, pos)

    def for_stmt(self, pos: ast.Pos, c: Children) -> ast.For:
        init, cond, step, body = c
        return ast.For(init, cond, step or (), body, pos)

    def expr_stmt(self, pos: ast.Pos, c: Children) -> ast.ExprStmt:
        return ast.ExprStmt(c[0], pos)

    def return_stmt(self, pos: ast.Pos, c: Children) -> ast.Return:
        return ast.Return(c[0], pos)

    def throw_stmt(self, pos: ast.Pos, c: Children) -> ast.Throw:
        return ast.Throw(c[0], pos)

    def break_stmt(self, pos: ast.Pos, c: Children) -> ast.Jump:
        return ast.Jump("break", pos)

    def continue_stmt(self, pos: ast.Pos, c: Children) -> ast.Jump:
        return ast.Jump("continue", pos)

    def try_stmt(self, pos: ast.Pos, c: Children) -> ast.Try:
        body, *rest = c
        final = rest.pop() if rest else None
        return ast.Try(body, tuple(rest), final, pos)

    def switch_stmt(self, pos: ast.Pos, c: Children) -> ast.Switch:
        return ast.Switch(c[0], tuple(c[1:]), pos)

    def empty_stmt(self, pos: ast.Pos, c: Children) -> ast.Block:
        return ast.Block((), pos)

    def checked_stmt(self, pos: ast.Pos, c: Children) -> ast.CheckedBlock:
        return ast.CheckedBlock(cast(ast.Block, c[0]), True, pos)

    def unchecked_stmt(self, pos: ast.Pos, c: Children) -> ast.CheckedBlock:
        return ast.CheckedBlock(cast(ast.Block, c[0]), False, pos)

    def using_stmt(self, pos: ast.Pos, c: Children) -> ast.Using:
        return ast.Using(c[0], c[1], pos)

    def local_function(self, pos: ast.Pos, c: Children) -> ast.LocalFunction:
        returns = c[0] if isinstance(c[0], ast.TypeName) else None
        rest = c[1:] if isinstance(c[0], ast.TypeName) else c
        name, *params, body = rest
        if isinstance(body, ast.Expr):  # `int F(int x) => x * 2;`
            stmt = ast.Return(body, body.pos) if returns is not None else ast.ExprStmt(body, body.pos)
            body = ast.Block((stmt,), body.pos)
        return ast.LocalFunction(returns, str(name), tuple(p for p in params if p is not None), body, pos)

    def arrow_body(self, pos: ast.Pos, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def sizeof(self, pos: ast.Pos, c: Children) -> ast.Literal:
        size = _SIZES.get(str(c[0]))
        if size is None:
            raise ExprSyntaxError(f"sizeof({c[0]}) needs unsafe code", pos[0])
        return ast.Literal(size, "int", pos)

    def param(self, pos: ast.Pos, c: Children) -> _Param:
        return (c[0], str(c[1]), c[3] if len(c) > 3 else None)  # (type, name, default value or None)

    # -- types -----------------------------------------------------------------------------------
    def _suffix(self, c: Children) -> int:
        return sum(1 + str(t).count(",") for t in c if isinstance(t, Token) and t.type == "ARRAY_SUFFIX")

    def named_type(self, pos: ast.Pos, c: Children) -> ast.TypeName:
        return ast.TypeName(str(c[0]), (), self._suffix(c[1:]))

    def nullable_named_type(self, pos: ast.Pos, c: Children) -> ast.TypeName:
        return ast.TypeName(str(c[0])[:-1], (), self._suffix(c[1:]), True)

    def qualified_type(self, pos: ast.Pos, c: Children) -> ast.TypeName:
        names = [str(t) for t in c if not (isinstance(t, Token) and t.type == "ARRAY_SUFFIX")]
        return ast.TypeName(".".join(names).replace(" ", ""), (), self._suffix(c))

    def generic_type(self, pos: ast.Pos, c: Children) -> ast.TypeName:
        t = parse_type_text(str(c[0]))
        return ast.TypeName(t.name, t.args, self._suffix(c[1:]))

    def predef_type(self, pos: ast.Pos, c: Children) -> ast.TypeName:
        nullable = any(isinstance(t, Token) and t.type == "NULLABLE" for t in c[1:])
        return ast.TypeName(c[0], (), self._suffix(c[1:]), nullable)

    def predef(self, pos: ast.Pos, c: Children) -> str:
        return str(c[0])

    def type(self, pos: ast.Pos, c: Children) -> ast.TypeName:
        return cast(ast.TypeName, c[0])

    # -- expressions -----------------------------------------------------------------------------
    def assign(self, pos: ast.Pos, c: Children) -> ast.Assign:
        if str(c[1]) == "??=":
            raise ExprSyntaxError(_newer_than_csharp7("'??=' is C# 8"), self.base + c[1].start_pos,
                                  "write `x = x ?? y`")
        return ast.Assign(str(c[1]), c[0], c[2], pos)

    def lambda_(self, pos: ast.Pos, c: Children) -> ast.Lambda:
        return ast.Lambda(c[0], c[1], pos)

    def lambda_params(self, pos: ast.Pos, c: Children) -> tuple[str, ...]:
        tok = str(c[0])
        if not tok.startswith("("):
            return (tok,)
        inner = tok.strip()[1:-1].strip()
        return tuple(p.split()[-1] for p in inner.split(",")) if inner else ()

    def ternary(self, pos: ast.Pos, c: Children) -> ast.Ternary:
        return ast.Ternary(c[0], c[1], c[2], pos)

    def coalesce_op(self, pos: ast.Pos, c: Children) -> ast.Binary:
        return ast.Binary("??", c[0], c[1], pos)

    def or_op(self, pos: ast.Pos, c: Children) -> ast.Binary:
        return ast.Binary("||", c[0], c[1], pos)

    def and_op(self, pos: ast.Pos, c: Children) -> ast.Binary:
        return ast.Binary("&&", c[0], c[1], pos)

    def binary(self, pos: ast.Pos, c: Children) -> ast.Binary:
        return ast.Binary(str(c[1]), c[0], c[2], pos)

    def is_type(self, pos: ast.Pos, c: Children) -> ast.IsType:
        return ast.IsType(c[0], c[1], None, False, pos)

    def is_pattern(self, pos: ast.Pos, c: Children) -> ast.IsType:
        return ast.IsType(c[0], c[1], str(c[2]), False, pos)

    def is_null(self, pos: ast.Pos, c: Children) -> ast.IsType:
        return ast.IsType(c[0], None, None, False, pos)

    def is_not_null(self, pos: ast.Pos, c: Children) -> NoReturn:
        raise ExprSyntaxError(_newer_than_csharp7("'is not null' is C# 9"), pos[0],
                              "write `x != null` or `!(x is null)`")

    def as_type(self, pos: ast.Pos, c: Children) -> ast.AsType:
        return ast.AsType(c[0], c[1], pos)

    def unary_op(self, pos: ast.Pos, c: Children) -> ast.Unary:
        return ast.Unary(str(c[0]), c[1], pos)

    def cast(self, pos: ast.Pos, c: Children) -> ast.Cast:
        return ast.Cast(parse_type_text(str(c[0]).strip()[1:-1]), c[1], pos)

    def pre_incdec(self, pos: ast.Pos, c: Children) -> ast.IncDec:
        return ast.IncDec(str(c[0]), c[1], True, pos)

    def post_incdec(self, pos: ast.Pos, c: Children) -> ast.IncDec:
        return ast.IncDec(str(c[1]), c[0], False, pos)

    def _member(self, pos: ast.Pos, c: Children, conditional: bool) -> ast.Member:
        tok = c[1]
        name, args = split_generic(str(tok))
        return ast.Member(c[0], name, args, conditional, pos, _tok_pos(self.base, tok))

    def member(self, pos: ast.Pos, c: Children) -> ast.Member:
        return self._member(pos, c, False)

    def cond_member(self, pos: ast.Pos, c: Children) -> ast.Member:
        return self._member(pos, c, True)

    def member_name(self, pos: ast.Pos, c: Children) -> Token:
        return cast(Token, c[0])

    def index(self, pos: ast.Pos, c: Children) -> ast.Index:
        return ast.Index(c[0], c[1], False, pos)

    def cond_index(self, pos: ast.Pos, c: Children) -> ast.Index:
        return ast.Index(c[0], c[1], True, pos)

    def call(self, pos: ast.Pos, c: Children) -> ast.Call:
        return ast.Call(c[0], c[1] or (), pos)

    def arglist(self, pos: ast.Pos, c: Children) -> tuple[ast.Arg, ...]:
        return tuple(a if isinstance(a, ast.Arg) else ast.Arg(a, pos=a.pos) for a in c)

    def named_arg(self, pos: ast.Pos, c: Children) -> ast.Arg:
        return ast.Arg(c[1], name=str(c[0]), pos=pos)

    def out_arg(self, pos: ast.Pos, c: Children) -> ast.Arg:
        return ast.Arg(None, out=str(c[0]), pos=pos)

    def ref_arg(self, pos: ast.Pos, c: Children) -> ast.Arg:
        return ast.Arg(ast.Name(str(c[0]), (), pos), out=str(c[0]), pos=pos)

    def out_decl_arg(self, pos: ast.Pos, c: Children) -> ast.Arg:
        return ast.Arg(None, out=str(c[1]), out_type=c[0], pos=pos)

    def name(self, pos: ast.Pos, c: Children) -> ast.Name:
        ident, args = split_generic(str(c[0]))
        return ast.Name(ident, args, pos)

    def type_ref(self, pos: ast.Pos, c: Children) -> ast.TypeRef:
        return ast.TypeRef(ast.TypeName(c[0]), pos)

    def typeof(self, pos: ast.Pos, c: Children) -> ast.TypeOf:
        return ast.TypeOf(c[0], pos)

    def checked(self, pos: ast.Pos, c: Children) -> ast.Checked:
        return ast.Checked(c[0], True, pos)

    def unchecked(self, pos: ast.Pos, c: Children) -> ast.Checked:
        return ast.Checked(c[0], False, pos)

    def default_of(self, pos: ast.Pos, c: Children) -> ast.DefaultOf:
        return ast.DefaultOf(c[-1], pos)

    def nameof(self, pos: ast.Pos, c: Children) -> ast.Literal:
        target = c[0]
        name = target.name if isinstance(target, ast.Member) else getattr(target, "ident", "")
        return ast.Literal(name, "string", pos)

    def new_expr(self, pos: ast.Pos, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def new_object(self, pos: ast.Pos, c: Children) -> ast.New:
        if len(c) == 2:
            return ast.New(c[0], (), c[1], pos)
        return ast.New(c[0], c[1] or (), c[2], pos)

    def new_array_sized(self, pos: ast.Pos, c: Children) -> ast.NewArray:
        elem = c[0]
        if len(c) > 2:  # `new int[2][]`: an array of int[] (jagged)
            elem = ast.TypeName(elem.name, elem.args, elem.array + self._suffix(c[2:]), elem.nullable)
        return ast.NewArray(elem, c[1], None, pos)

    def new_array_rectangular(self, pos: ast.Pos, c: Children) -> ast.NewRectangularArray:
        return ast.NewRectangularArray(c[0], tuple(c[1:]), pos)

    def new_array(self, pos: ast.Pos, c: Children) -> ast.NewArray:
        elem = c[0]
        rank = self._suffix(c[1:-1])
        element = ast.TypeName(elem.name, elem.args, elem.array + rank - 1, elem.nullable)
        return ast.NewArray(element, None, c[-1], pos)

    def new_implicit_array(self, pos: ast.Pos, c: Children) -> ast.NewArray:
        return ast.NewArray(None, None, c[-1], pos)

    def new_anonymous(self, pos: ast.Pos, c: Children) -> ast.NewAnonymous:
        return ast.NewAnonymous(c[0], pos)

    def initializer(self, pos: ast.Pos, c: Children) -> tuple[ast.Init, ...]:
        return tuple(x for x in c if x is not None)

    def init_member(self, pos: ast.Pos, c: Children) -> ast.Init:
        return ast.Init("member", str(c[0]), (), c[2], pos)

    def init_index(self, pos: ast.Pos, c: Children) -> ast.Init:
        return ast.Init("index", None, c[0], c[2], pos)

    def init_element(self, pos: ast.Pos, c: Children) -> ast.Init:
        return ast.Init("element", None, (), c[0], pos)

    def init_lambda(self, pos: ast.Pos, c: Children) -> ast.Init:
        """`new List<Func<int, int>> { x => x + 1 }`: a lambda element."""
        return ast.Init("element", None, (), self.lambda_(pos, c), pos)

    def init_add(self, pos: ast.Pos, c: Children) -> ast.Init:
        return ast.Init("add", None, c[0], None, pos)

    def array_init(self, pos: ast.Pos, c: Children) -> tuple[ast.Expr, ...]:
        return tuple(x for x in c if x is not None)

    def anon_init(self, pos: ast.Pos, c: Children) -> tuple[_AnonMember, ...]:
        return tuple(x for x in c if x is not None)

    def anon_named(self, pos: ast.Pos, c: Children) -> _AnonMember:
        return (str(c[0]), c[2])

    def anon_projection(self, pos: ast.Pos, c: Children) -> _AnonMember:
        value = c[0]
        if isinstance(value, ast.Member):
            return (value.name, value)
        if isinstance(value, ast.Name):
            return (value.ident, value)
        raise ExprSyntaxError("an anonymous type member needs a name: write `Name = value`", value.pos[0])

    # -- literals --------------------------------------------------------------------------------
    def int_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        return _number(str(c[0]), pos)

    def real_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        return _real(str(c[0]), pos)

    def string_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        tok = c[0]
        try:
            return ast.Literal(decode_string(str(tok)[1:-1], verbatim=False), "string", pos)
        except ExprSyntaxError as exc:
            raise ExprSyntaxError(exc.message, self.base + tok.start_pos + 1 + exc.offset) from None

    def verbatim_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        return ast.Literal(decode_string(str(c[0])[2:-1], verbatim=True), "string", pos)

    def char_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        from engine.dotnet.primitives import Char

        text = decode_string(str(c[0])[1:-1], verbatim=False)
        return ast.Literal(Char(text), "char", pos)

    def true_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        return ast.Literal(True, "bool", pos)

    def false_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        return ast.Literal(False, "bool", pos)

    def null_lit(self, pos: ast.Pos, c: Children) -> ast.Literal:
        return ast.Literal(None, "null", pos)

    def interp_lit(self, pos: ast.Pos, c: Children) -> ast.Interpolated:
        return self._interpolated(c[0], 2, verbatim=False, pos=pos)

    def interp_verbatim_lit(self, pos: ast.Pos, c: Children) -> ast.Interpolated:
        if str(c[0]).startswith("@$"):
            raise ExprSyntaxError(_newer_than_csharp7("'@$\"...\"' is C# 8"), self.base + c[0].start_pos,
                                  "write `$@\"...\"`")
        return self._interpolated(c[0], 3, verbatim=True, pos=pos)

    def _interpolated(self, tok: Token, prefix: int, *, verbatim: bool, pos: ast.Pos) -> ast.Interpolated:
        text = str(tok)
        body = text[prefix:-1]
        body_at = self.base + (tok.start_pos or 0) + prefix
        parts: list[str | ast.Hole] = []
        chunk: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch in "{}" and body[i + 1:i + 2] == ch:
                chunk.append(ch)
                i += 2
                continue
            if ch == "{":
                end = _matching_brace(body, i)
                hole = body[i + 1:end]
                expr_text, align, fmt = _split_hole(hole)
                if chunk:
                    parts.append(decode_string("".join(chunk), verbatim=verbatim))
                    chunk = []
                if not expr_text.strip():
                    raise ExprSyntaxError("empty interpolation hole", body_at + i)
                expr = build(expr_text, "expression", body_at + i + 1)
                try:
                    alignment = int(align.strip()) if align else 0
                except ValueError:
                    raise ExprSyntaxError("interpolation alignment must be an integer", body_at + i) from None
                parts.append(ast.Hole(expr, alignment, fmt))
                i = end + 1
                continue
            if ch == "\\" and not verbatim:
                chunk.append(body[i:i + 2])
                i += 2
                continue
            if ch == "}":
                raise ExprSyntaxError("a '}' in an interpolated string must be written '}}'", body_at + i)
            chunk.append(ch)
            i += 1
        if chunk:
            parts.append(decode_string("".join(chunk), verbatim=verbatim))
        return ast.Interpolated(tuple(parts), pos)


@overload
def build(text: str, start: Literal["expression"], base: int = 0) -> ast.Expr: ...


@overload
def build(text: str, start: Literal["block"], base: int = 0) -> ast.Block: ...


@overload
def build(text: str, start: str, base: int = 0) -> ast.Expr | ast.Block: ...


def build(text: str, start: str, base: int = 0) -> ast.Expr | ast.Block:
    """Parse `text` and build its AST; positions are offset by `base`.

    Raises ExprSyntaxError whose `offset` is absolute (includes `base`).
    """
    return cast("ast.Expr | ast.Block", parse_into(text, start, Builder(base), base))
