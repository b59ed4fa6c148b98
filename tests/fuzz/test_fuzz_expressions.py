"""Fuzz the expression parser, checker, compiler and evaluator.

Inputs: random text inside `@( )` / `@{ }`, seed expressions with random edits, and expressions
generated from a small C# grammar over the context model and the allowed .NET members. Properties:
  - `compile_expression` returns or raises `PolicyLoadError` with located diagnostics; nothing else;
  - `check_expression` (lint) never raises, and reports an error exactly when compiling fails;
  - a compiled expression evaluates against a realistic request context to a value or raises
    `ExpressionError` (or its `SecurityError`) - never another exception - within the hang guard;
  - the same expressions inside a policy document load and validate with diagnostics only.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from hypothesis import given
from hypothesis import strategies as st

from engine.diagnostics import Diagnostics, Severity
from engine.document import load_document
from engine.errors import ExpressionError, PolicyLoadError
from engine.expr import check_expression, compile_expression
from engine.validate import validate
from tests.expr.helpers import make_context
from tests.fuzz.support import EXPR_TOKENS, SEED_EXPRESSIONS, fuzz_settings, mutated, no_hang


def check(text: str) -> None:
    """The compile/check/evaluate contract for one expression text."""
    diagnostics = Diagnostics()
    with no_hang():
        check_expression(text, diagnostics)
        try:
            compiled = compile_expression(text)
        except PolicyLoadError as error:
            assert error.diagnostics, "PolicyLoadError without diagnostics"
            for diagnostic in error.diagnostics:
                assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1, diagnostic
            assert any(d.severity is Severity.ERROR for d in diagnostics), f"lint found nothing wrong in {text!r}"
            return
        assert not any(d.severity is Severity.ERROR for d in diagnostics), (text, diagnostics.sorted())
        try:
            compiled.evaluate(make_context())
        except ExpressionError as error:
            assert str(error)


# -- a small generator of C#-shaped expressions ---------------------------------------------------
LITERALS = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(f).replace("e", "E")),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(["true", "false", "null", "'a'", "'\\n'", '""', '"\\u00e9"', "1L", "2.5m", "0x1F", "int.MaxValue",
                     "long.MinValue", "double.NaN", "string.Empty", "DateTime.UtcNow", "DateTime.MinValue", "Guid.NewGuid()",
                     "TimeSpan.Zero", "new JObject()", "new JArray(1, 2)", "new string('x', 3)", "new int[] { 1, 2, 3 }"]),
)
PATHS = st.sampled_from([
    "context.Request.Method", "context.Request.Url.Path", "context.Request.Url.Query", "context.Request.Url.Host",
    "context.Request.Headers", "context.Request.IpAddress", "context.Request.MatchedParameters", "context.Request.Body",
    "context.Request.OriginalUrl", "context.Response.StatusCode", "context.Response.Headers", "context.Variables",
    "context.Subscription.Id", "context.Subscription.Key", "context.User.Email", "context.User.Groups",
    "context.Api.Name", "context.Operation.Method", "context.Product.Name", "context.LastError.Reason",
    "context.Deployment.Region", "context.RequestId", "context.Timestamp", "context.Elapsed", "context.Tracing",
    'context.Variables["s"]', 'context.Variables["n"]', 'context.Variables["nul"]', 'context.Variables["missing"]',
    'context.Request.Headers["Accept"]', 'context.Request.Url.Query["tag"]',
])
SUFFIXES = [
    ".ToString()", ".Length", ".ToUpper()", ".ToLowerInvariant()", ".Trim()", ".Substring({a})", ".Substring({a}, {b})",
    ".Split(',')", ".Contains({a})", ".StartsWith({a})", ".IndexOf({a})", ".Replace({a}, {b})", ".PadLeft({a})",
    '.GetValueOrDefault({a}, "d")', ".GetValueOrDefault({a})", "[{a}]", ".Count()", ".Any()", ".First()",
    ".FirstOrDefault()", ".Select(x => x)", ".Where(x => x != null)", ".Sum(x => 1)", ".Keys", ".Values",
    ".ContainsKey({a})", '.As<JObject>(preserveContent: true)', ".As<string>()", ".AsJwt()", ".AsBasic()",
    ".AddSeconds({a})", ".TotalSeconds", '.ToString("o")', ".Equals({a})", ".CompareTo({a})", ".GetHashCode()",
    ".Value", ".Key", ".Name", ".Claims", "?.Length", "?[{a}]",
]
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "??", "&", "|", "^", "<<", ">>"]
CALLS = [
    "Math.Max({a}, {b})", "Math.Abs({a})", "Math.Pow({a}, {b})", "Math.Round({a})", "int.Parse({a})", "long.Parse({a})",
    "double.Parse({a})", "bool.Parse({a})", "int.TryParse({a}, out var parsed)", "Convert.ToInt32({a})",
    "Convert.ToBase64String(Encoding.UTF8.GetBytes({a}))", "Convert.FromBase64String({a})", "string.Format({a}, {b})",
    'string.Join(",", {a})', "string.IsNullOrEmpty({a})", "String.Concat({a}, {b})", "Regex.IsMatch({a}, {b})",
    "Regex.Replace({a}, {b}, \"x\")", "JObject.Parse({a})", "JArray.Parse({a})", "JsonConvert.SerializeObject({a})",
    "Uri.EscapeDataString({a})", "WebUtility.UrlDecode({a})", "TimeSpan.FromMinutes({a})", "DateTime.Parse({a})",
    "new JProperty({a}, {b})", "new Uri({a})", "BitConverter.ToString(Encoding.ASCII.GetBytes({a}))",
    "Encoding.UTF8.GetString(Convert.FromBase64String({a}))", "Enumerable.Range(0, {a}).Sum()",
    "new string('x', {a})", "({a}).GetType()", "typeof(string).Name",
]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        st.tuples(children, st.sampled_from(SUFFIXES), children).map(lambda t: t[0] + t[1].format(a=t[2], b=t[2])),
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(["!", "-", "~", "(int)", "(string)", "(double)", "(bool)", "(long)", "(JObject)"]),
                  children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(st.sampled_from(CALLS), pair).map(lambda t: t[0].format(a=t[1][0], b=t[1][1])),
        children.map(lambda c: f"$\"pre {{{c}}} post\""),
    )


TERMS = st.recursive(st.one_of(LITERALS, PATHS), _combine, max_leaves=8)


@st.composite
def blocks(draw: st.DrawFn) -> str:
    """A multi-statement `@{ }` body: declarations, ifs, loops (bounded or not) and a return."""
    statements = []
    for index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["var", "if", "for", "foreach", "while", "assign", "try"]))
        term = draw(TERMS)
        if kind == "var":
            statements.append(f"var v{index} = {term};")
        elif kind == "if":
            statements.append(f"if ({term}) {{ return {draw(TERMS)}; }} else {{ var e{index} = 1; }}")
        elif kind == "for":
            bound = draw(st.sampled_from(["10", "1000000", "int.MaxValue", term]))
            statements.append(f"var s{index} = 0; for (int i{index} = 0; i{index} < {bound}; i{index}++) {{ s{index} += i{index}; }}")
        elif kind == "foreach":
            statements.append(f"foreach (var item{index} in {term}) {{ var t{index} = item{index}; }}")
        elif kind == "while":
            statements.append(f"while ({term}) {{ break; }}")
        elif kind == "assign":
            statements.append(f'context.Variables["w{index}"] = {term};')
        else:
            statements.append(f"try {{ var t{index} = {term}; }} catch (Exception ex) {{ return ex.Message; }}")
    return "@{ " + " ".join(statements) + f" return {draw(TERMS)}; }}"


EXPRESSIONS = st.one_of(TERMS.map(lambda t: f"@({t})"), blocks())


# -- the properties -------------------------------------------------------------------------------
def test_seed_expressions_compile_and_evaluate() -> None:
    """The seeds are valid expressions (so mutations start from working code)."""
    for text in SEED_EXPRESSIONS:
        compile_expression(text).evaluate(make_context())
        check(text)


@fuzz_settings(150)
@given(st.sampled_from(["@(", "@{"]), st.text(max_size=120))
def test_random_text(opening: str, body: str) -> None:
    check(opening + body + (")" if opening == "@(" else "}"))


@fuzz_settings(300)
@given(mutated(SEED_EXPRESSIONS, EXPR_TOKENS))
def test_mutated_expressions(text: str) -> None:
    check(text)


@fuzz_settings(300)
@given(EXPRESSIONS)
def test_generated_expressions(text: str) -> None:
    check(text)


@fuzz_settings(80)
@given(st.one_of(EXPRESSIONS, mutated(SEED_EXPRESSIONS, EXPR_TOKENS)))
def test_expressions_inside_documents(expression: str) -> None:
    """The loader masks expressions before XML parsing and maps spans back: any expression text is safe there."""
    text = (f"<policies><inbound><base/><set-variable name=\"v\" value={quoteattr(expression)} />"
            f"<choose><when condition={quoteattr(expression)}><set-header name=\"x\" exists-action=\"override\">"
            f"<value>{expression}</value></set-header></when></choose></inbound>"
            "<backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>")
    diagnostics = Diagnostics()
    with no_hang():
        document = load_document("expr.xml", text=text, diagnostics=diagnostics)
        if document is not None:
            validate(document, diagnostics=diagnostics, scope="api")
    for diagnostic in diagnostics.sorted():
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1, diagnostic
