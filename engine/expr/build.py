"""Lark parse tree -> `engine.expr.ast` nodes, with positions offset into the ValueText."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal, NoReturn, cast, overload

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import VisitError
from lark.tree import Meta

from engine.dotnet import utf16
from engine.expr import ast
from engine.expr.parser import ExprSyntaxError, parse

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


@v_args(meta=True)
class Builder(Transformer[Token, ast.Expr | ast.Block]):
    """Build AST nodes; `base` is the offset of the parsed text inside the ValueText."""

    def __init__(self, base: int = 0) -> None:
        super().__init__()
        self.base = base

    def _p(self, meta: Meta) -> ast.Pos:
        if getattr(meta, "empty", True):
            return (self.base, self.base)
        return (self.base + meta.start_pos, self.base + meta.end_pos)

    # -- start symbols ---------------------------------------------------------------------------
    def expression(self, meta: Meta, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def block(self, meta: Meta, c: Children) -> ast.Block:
        return ast.Block(tuple(c), self._p(meta))

    # -- statements ------------------------------------------------------------------------------
    def block_stmt(self, meta: Meta, c: Children) -> ast.Block:
        return ast.Block(tuple(c), self._p(meta))

    def deconstruct(self, meta: Meta, c: Children) -> ast.Deconstruct:
        names = tuple(n.strip() for n in str(c[0]).strip()[3:].strip()[1:-1].split(","))
        return ast.Deconstruct(names, c[2], self._p(meta))

    def tuple_lit(self, meta: Meta, c: Children) -> ast.TupleLit:
        return ast.TupleLit(tuple(c), self._p(meta))

    def local_decl(self, meta: Meta, c: Children) -> ast.LocalDecl:
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
        return ast.LocalDecl(type_, tuple(declarators), self._p(meta))

    def declarator(self, meta: Meta, c: Children) -> ast.Declarator:
        name, _assign, value = c
        return ast.Declarator(str(name), value, self._p(meta))

    def for_init(self, meta: Meta, c: Children) -> ast.LocalDecl | tuple[ast.Expr, ...]:
        return cast("ast.LocalDecl | tuple[ast.Expr, ...]", c[0])

    def expr_list(self, meta: Meta, c: Children) -> tuple[ast.Expr, ...]:
        return tuple(c)

    def catch_clause(self, meta: Meta, c: Children) -> ast.Catch:
        type_, name, filter_, body = c
        return ast.Catch(type_, str(name) if name is not None else None, body, self._p(meta), filter_)

    def catch_filter(self, meta: Meta, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def switch_section(self, meta: Meta, c: Children) -> ast.SwitchSection:
        labels = tuple(x[1] for x in c if isinstance(x, tuple) and x and x[0] == "label")
        body = tuple(x for x in c if not (isinstance(x, tuple) and x and x[0] == "label"))
        return ast.SwitchSection(labels, body)

    def case_label(self, meta: Meta, c: Children) -> _Label:
        return ("label", c[0])

    def default_label(self, meta: Meta, c: Children) -> _Label:
        return ("label", None)

    def if_stmt(self, meta: Meta, c: Children) -> ast.If:
        return ast.If(c[0], c[1], c[2] if len(c) > 2 else None, self._p(meta))

    def foreach_stmt(self, meta: Meta, c: Children) -> ast.Foreach:
        return ast.Foreach(c[0], str(c[1]), c[2], c[3], self._p(meta))

    def while_stmt(self, meta: Meta, c: Children) -> ast.While:
        return ast.While(c[0], c[1], False, self._p(meta))

    def do_stmt(self, meta: Meta, c: Children) -> ast.While:
        return ast.While(c[1], c[0], True, self._p(meta))

    def for_stmt(self, meta: Meta, c: Children) -> ast.For:
        init, cond, step, body = c
        return ast.For(init, cond, step or (), body, self._p(meta))

    def expr_stmt(self, meta: Meta, c: Children) -> ast.ExprStmt:
        return ast.ExprStmt(c[0], self._p(meta))

    def return_stmt(self, meta: Meta, c: Children) -> ast.Return:
        return ast.Return(c[0], self._p(meta))

    def throw_stmt(self, meta: Meta, c: Children) -> ast.Throw:
        return ast.Throw(c[0], self._p(meta))

    def break_stmt(self, meta: Meta, c: Children) -> ast.Jump:
        return ast.Jump("break", self._p(meta))

    def continue_stmt(self, meta: Meta, c: Children) -> ast.Jump:
        return ast.Jump("continue", self._p(meta))

    def try_stmt(self, meta: Meta, c: Children) -> ast.Try:
        body, *rest = c
        final = rest.pop() if rest else None
        return ast.Try(body, tuple(rest), final, self._p(meta))

    def switch_stmt(self, meta: Meta, c: Children) -> ast.Switch:
        return ast.Switch(c[0], tuple(c[1:]), self._p(meta))

    def empty_stmt(self, meta: Meta, c: Children) -> ast.Block:
        return ast.Block((), self._p(meta))

    def checked_stmt(self, meta: Meta, c: Children) -> ast.Block:
        return cast(ast.Block, c[0])

    def using_stmt(self, meta: Meta, c: Children) -> ast.Using:
        return ast.Using(c[0], c[1], self._p(meta))

    def local_function(self, meta: Meta, c: Children) -> ast.LocalFunction:
        returns = c[0] if isinstance(c[0], ast.TypeName) else None
        rest = c[1:] if isinstance(c[0], ast.TypeName) else c
        name, *params, body = rest
        if isinstance(body, ast.Expr):  # `int F(int x) => x * 2;`
            stmt = ast.Return(body, body.pos) if returns is not None else ast.ExprStmt(body, body.pos)
            body = ast.Block((stmt,), body.pos)
        return ast.LocalFunction(returns, str(name), tuple(p for p in params if p is not None), body, self._p(meta))

    def arrow_body(self, meta: Meta, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def sizeof(self, meta: Meta, c: Children) -> ast.Literal:
        size = _SIZES.get(str(c[0]))
        if size is None:
            raise ExprSyntaxError(f"sizeof({c[0]}) needs unsafe code", self._p(meta)[0])
        return ast.Literal(size, "int", self._p(meta))

    def param(self, meta: Meta, c: Children) -> _Param:
        return (c[0], str(c[1]), c[3] if len(c) > 3 else None)  # (type, name, default value or None)

    # -- types -----------------------------------------------------------------------------------
    def _suffix(self, c: Children) -> int:
        return sum(1 + str(t).count(",") for t in c if isinstance(t, Token) and t.type == "ARRAY_SUFFIX")

    def named_type(self, meta: Meta, c: Children) -> ast.TypeName:
        return ast.TypeName(str(c[0]), (), self._suffix(c[1:]))

    def nullable_named_type(self, meta: Meta, c: Children) -> ast.TypeName:
        return ast.TypeName(str(c[0])[:-1], (), self._suffix(c[1:]), True)

    def qualified_type(self, meta: Meta, c: Children) -> ast.TypeName:
        names = [str(t) for t in c if not (isinstance(t, Token) and t.type == "ARRAY_SUFFIX")]
        return ast.TypeName(".".join(names).replace(" ", ""), (), self._suffix(c))

    def generic_type(self, meta: Meta, c: Children) -> ast.TypeName:
        t = parse_type_text(str(c[0]))
        return ast.TypeName(t.name, t.args, self._suffix(c[1:]))

    def predef_type(self, meta: Meta, c: Children) -> ast.TypeName:
        nullable = any(isinstance(t, Token) and t.type == "NULLABLE" for t in c[1:])
        return ast.TypeName(c[0], (), self._suffix(c[1:]), nullable)

    def predef(self, meta: Meta, c: Children) -> str:
        return str(c[0])

    def type(self, meta: Meta, c: Children) -> ast.TypeName:
        return cast(ast.TypeName, c[0])

    # -- expressions -----------------------------------------------------------------------------
    def assign(self, meta: Meta, c: Children) -> ast.Assign:
        if str(c[1]) == "??=":
            raise ExprSyntaxError(_newer_than_csharp7("'??=' is C# 8"), self.base + c[1].start_pos,
                                  "write `x = x ?? y`")
        return ast.Assign(str(c[1]), c[0], c[2], self._p(meta))

    def lambda_(self, meta: Meta, c: Children) -> ast.Lambda:
        return ast.Lambda(c[0], c[1], self._p(meta))

    def lambda_params(self, meta: Meta, c: Children) -> tuple[str, ...]:
        tok = str(c[0])
        if not tok.startswith("("):
            return (tok,)
        inner = tok.strip()[1:-1].strip()
        return tuple(p.split()[-1] for p in inner.split(",")) if inner else ()

    def ternary(self, meta: Meta, c: Children) -> ast.Ternary:
        return ast.Ternary(c[0], c[1], c[2], self._p(meta))

    def coalesce_op(self, meta: Meta, c: Children) -> ast.Binary:
        return ast.Binary("??", c[0], c[1], self._p(meta))

    def or_op(self, meta: Meta, c: Children) -> ast.Binary:
        return ast.Binary("||", c[0], c[1], self._p(meta))

    def and_op(self, meta: Meta, c: Children) -> ast.Binary:
        return ast.Binary("&&", c[0], c[1], self._p(meta))

    def binary(self, meta: Meta, c: Children) -> ast.Binary:
        return ast.Binary(str(c[1]), c[0], c[2], self._p(meta))

    def is_type(self, meta: Meta, c: Children) -> ast.IsType:
        return ast.IsType(c[0], c[1], None, False, self._p(meta))

    def is_pattern(self, meta: Meta, c: Children) -> ast.IsType:
        return ast.IsType(c[0], c[1], str(c[2]), False, self._p(meta))

    def is_null(self, meta: Meta, c: Children) -> ast.IsType:
        return ast.IsType(c[0], None, None, False, self._p(meta))

    def is_not_null(self, meta: Meta, c: Children) -> NoReturn:
        raise ExprSyntaxError(_newer_than_csharp7("'is not null' is C# 9"), self._p(meta)[0],
                              "write `x != null` or `!(x is null)`")

    def as_type(self, meta: Meta, c: Children) -> ast.AsType:
        return ast.AsType(c[0], c[1], self._p(meta))

    def unary_op(self, meta: Meta, c: Children) -> ast.Unary:
        return ast.Unary(str(c[0]), c[1], self._p(meta))

    def cast(self, meta: Meta, c: Children) -> ast.Cast:
        return ast.Cast(parse_type_text(str(c[0]).strip()[1:-1]), c[1], self._p(meta))

    def pre_incdec(self, meta: Meta, c: Children) -> ast.IncDec:
        return ast.IncDec(str(c[0]), c[1], True, self._p(meta))

    def post_incdec(self, meta: Meta, c: Children) -> ast.IncDec:
        return ast.IncDec(str(c[1]), c[0], False, self._p(meta))

    def _member(self, meta: Meta, c: Children, conditional: bool) -> ast.Member:
        tok = c[1]
        name, args = split_generic(str(tok))
        return ast.Member(c[0], name, args, conditional, self._p(meta), _tok_pos(self.base, tok))

    def member(self, meta: Meta, c: Children) -> ast.Member:
        return self._member(meta, c, False)

    def cond_member(self, meta: Meta, c: Children) -> ast.Member:
        return self._member(meta, c, True)

    def member_name(self, meta: Meta, c: Children) -> Token:
        return cast(Token, c[0])

    def index(self, meta: Meta, c: Children) -> ast.Index:
        return ast.Index(c[0], c[1], False, self._p(meta))

    def cond_index(self, meta: Meta, c: Children) -> ast.Index:
        return ast.Index(c[0], c[1], True, self._p(meta))

    def call(self, meta: Meta, c: Children) -> ast.Call:
        return ast.Call(c[0], c[1] or (), self._p(meta))

    def arglist(self, meta: Meta, c: Children) -> tuple[ast.Arg, ...]:
        return tuple(a if isinstance(a, ast.Arg) else ast.Arg(a, pos=a.pos) for a in c)

    def named_arg(self, meta: Meta, c: Children) -> ast.Arg:
        return ast.Arg(c[1], name=str(c[0]), pos=self._p(meta))

    def out_arg(self, meta: Meta, c: Children) -> ast.Arg:
        return ast.Arg(None, out=str(c[0]), pos=self._p(meta))

    def ref_arg(self, meta: Meta, c: Children) -> ast.Arg:
        return ast.Arg(ast.Name(str(c[0]), (), self._p(meta)), out=str(c[0]), pos=self._p(meta))

    def out_decl_arg(self, meta: Meta, c: Children) -> ast.Arg:
        return ast.Arg(None, out=str(c[1]), out_type=c[0], pos=self._p(meta))

    def name(self, meta: Meta, c: Children) -> ast.Name:
        ident, args = split_generic(str(c[0]))
        return ast.Name(ident, args, self._p(meta))

    def type_ref(self, meta: Meta, c: Children) -> ast.TypeRef:
        return ast.TypeRef(ast.TypeName(c[0]), self._p(meta))

    def typeof(self, meta: Meta, c: Children) -> ast.TypeOf:
        return ast.TypeOf(c[0], self._p(meta))

    def checked(self, meta: Meta, c: Children) -> ast.Checked:
        return ast.Checked(c[0], True, self._p(meta))

    def unchecked(self, meta: Meta, c: Children) -> ast.Checked:
        return ast.Checked(c[0], False, self._p(meta))

    def default_of(self, meta: Meta, c: Children) -> ast.DefaultOf:
        return ast.DefaultOf(c[-1], self._p(meta))

    def nameof(self, meta: Meta, c: Children) -> ast.Literal:
        target = c[0]
        name = target.name if isinstance(target, ast.Member) else getattr(target, "ident", "")
        return ast.Literal(name, "string", self._p(meta))

    def new_expr(self, meta: Meta, c: Children) -> ast.Expr:
        return cast(ast.Expr, c[0])

    def new_object(self, meta: Meta, c: Children) -> ast.New:
        if len(c) == 2:
            return ast.New(c[0], (), c[1], self._p(meta))
        return ast.New(c[0], c[1] or (), c[2], self._p(meta))

    def new_array_sized(self, meta: Meta, c: Children) -> ast.NewArray:
        return ast.NewArray(c[0], c[1], None, self._p(meta))

    def new_array_rectangular(self, meta: Meta, c: Children) -> ast.NewRectangularArray:
        return ast.NewRectangularArray(c[0], tuple(c[1:]), self._p(meta))

    def new_array(self, meta: Meta, c: Children) -> ast.NewArray:
        elem = c[0]
        rank = self._suffix(c[1:-1])
        element = ast.TypeName(elem.name, elem.args, elem.array + rank - 1, elem.nullable)
        return ast.NewArray(element, None, c[-1], self._p(meta))

    def new_implicit_array(self, meta: Meta, c: Children) -> ast.NewArray:
        return ast.NewArray(None, None, c[-1], self._p(meta))

    def new_anonymous(self, meta: Meta, c: Children) -> ast.NewAnonymous:
        return ast.NewAnonymous(c[0], self._p(meta))

    def initializer(self, meta: Meta, c: Children) -> tuple[ast.Init, ...]:
        return tuple(x for x in c if x is not None)

    def init_member(self, meta: Meta, c: Children) -> ast.Init:
        return ast.Init("member", str(c[0]), (), c[2], self._p(meta))

    def init_index(self, meta: Meta, c: Children) -> ast.Init:
        return ast.Init("index", None, c[0], c[2], self._p(meta))

    def init_element(self, meta: Meta, c: Children) -> ast.Init:
        return ast.Init("element", None, (), c[0], self._p(meta))

    def init_add(self, meta: Meta, c: Children) -> ast.Init:
        return ast.Init("add", None, c[0], None, self._p(meta))

    def array_init(self, meta: Meta, c: Children) -> tuple[ast.Expr, ...]:
        return tuple(x for x in c if x is not None)

    def anon_init(self, meta: Meta, c: Children) -> tuple[_AnonMember, ...]:
        return tuple(x for x in c if x is not None)

    def anon_named(self, meta: Meta, c: Children) -> _AnonMember:
        return (str(c[0]), c[2])

    def anon_projection(self, meta: Meta, c: Children) -> _AnonMember:
        value = c[0]
        if isinstance(value, ast.Member):
            return (value.name, value)
        if isinstance(value, ast.Name):
            return (value.ident, value)
        raise ExprSyntaxError("an anonymous type member needs a name: write `Name = value`", value.pos[0])

    # -- literals --------------------------------------------------------------------------------
    def int_lit(self, meta: Meta, c: Children) -> ast.Literal:
        return _number(str(c[0]), self._p(meta))

    def real_lit(self, meta: Meta, c: Children) -> ast.Literal:
        return _real(str(c[0]), self._p(meta))

    def string_lit(self, meta: Meta, c: Children) -> ast.Literal:
        tok = c[0]
        try:
            return ast.Literal(decode_string(str(tok)[1:-1], verbatim=False), "string", self._p(meta))
        except ExprSyntaxError as exc:
            raise ExprSyntaxError(exc.message, self.base + tok.start_pos + 1 + exc.offset) from None

    def verbatim_lit(self, meta: Meta, c: Children) -> ast.Literal:
        return ast.Literal(decode_string(str(c[0])[2:-1], verbatim=True), "string", self._p(meta))

    def char_lit(self, meta: Meta, c: Children) -> ast.Literal:
        from engine.dotnet.primitives import Char

        text = decode_string(str(c[0])[1:-1], verbatim=False)
        return ast.Literal(Char(text), "char", self._p(meta))

    def true_lit(self, meta: Meta, c: Children) -> ast.Literal:
        return ast.Literal(True, "bool", self._p(meta))

    def false_lit(self, meta: Meta, c: Children) -> ast.Literal:
        return ast.Literal(False, "bool", self._p(meta))

    def null_lit(self, meta: Meta, c: Children) -> ast.Literal:
        return ast.Literal(None, "null", self._p(meta))

    def interp_lit(self, meta: Meta, c: Children) -> ast.Interpolated:
        return self._interpolated(c[0], 2, verbatim=False, meta=meta)

    def interp_verbatim_lit(self, meta: Meta, c: Children) -> ast.Interpolated:
        if str(c[0]).startswith("@$"):
            raise ExprSyntaxError(_newer_than_csharp7("'@$\"...\"' is C# 8"), self.base + c[0].start_pos,
                                  "write `$@\"...\"`")
        return self._interpolated(c[0], 3, verbatim=True, meta=meta)

    def _interpolated(self, tok: Token, prefix: int, *, verbatim: bool, meta: Meta) -> ast.Interpolated:
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
        return ast.Interpolated(tuple(parts), self._p(meta))


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
    try:
        tree: Tree[Token] = parse(text, start)
    except ExprSyntaxError as exc:
        raise ExprSyntaxError(exc.message, exc.offset + base, exc.hint) from None
    try:
        return Builder(base).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExprSyntaxError):
            raise exc.orig_exc from None  # raised by a Builder method: offset is already absolute
        raise
