"""Fuzz the document loader and the validator: any text gives a document or diagnostics, never an exception.

Inputs: random text, seed policy documents with random edits (tests/fuzz/support.py), and
documents generated from the policy registry (real tags and attribute names with random values,
nested at random). Properties:
  - `load_document` and `validate` (lint mode and the gateway's strict mode, every scope) return
    normally within the hang guard, whatever the input;
  - every diagnostic has a location (line and column >= 1) and renders with its source line;
  - no document means at least one error was reported.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.diagnostics import Diagnostics, Severity, render_text
from engine.document import load_document
from engine.registry import default_registry
from engine.source import SourceFile
from engine.validate import validate, validate_document
from tests.fuzz.support import SEED_DOCUMENTS, XML_TOKENS, fuzz_settings, mutated, no_hang

REGISTRY = default_registry()
SCOPES = [None, "global", "product", "api", "operation"]
NAMED_VALUES = {"backend-url": "http://127.0.0.1:1", "jwt-signing-key": "c2VjcmV0", "tenant": "@(\"alpha\")"}


def check(text: str, scope: str | None = None, named_values: dict[str, str] | None = None) -> None:
    """Load + validate `text`; assert the loader/validator contract."""
    diagnostics = Diagnostics()
    with no_hang():
        document = load_document("fuzz.xml", text=text, named_values=named_values, registry=REGISTRY, diagnostics=diagnostics)
        if document is not None:
            validate(document, diagnostics=diagnostics, registry=REGISTRY, scope=scope)
            validate_document(document, diagnostics=Diagnostics(), registry=REGISTRY, scope=scope)
    if document is None:
        assert any(d.severity is Severity.ERROR for d in diagnostics), "no document and no error"
    source = SourceFile("fuzz.xml", text)
    for diagnostic in diagnostics.sorted():
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1, diagnostic
        assert diagnostic.code and diagnostic.message, diagnostic
        assert render_text(diagnostic, source)


# -- generated documents ---------------------------------------------------------------------------
ATTRIBUTE_VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "true", "false", "override", "internal", "external", "GET", "text/plain",
                     "2147483648", "1e9", "60", "300", "301", "@(true)", "@(1 +)", "@{ return 1; }", "@(context.Request.Method)",
                     "{{backend-url}}", "{{missing}}", "http://127.0.0.1:1/x", "/items/{id}", "a&amp;b", "&lt;x&gt;"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="<&\"\x00"), max_size=20),
)


def _attributes(tag: str, draw: st.DrawFn) -> str:
    policy = REGISTRY.get(tag)
    names = [a.name for a in getattr(policy, "attributes", ())] or ["id"]
    chosen = draw(st.lists(st.sampled_from(names + ["bogus-attribute", "id"]), max_size=4, unique=True))
    return "".join(f' {name}="{draw(ATTRIBUTE_VALUES)}"' for name in chosen)


@st.composite
def policy_elements(draw: st.DrawFn, depth: int = 0) -> str:
    tags = sorted(REGISTRY.tags())
    tag = draw(st.sampled_from(tags + ["when", "otherwise", "value", "not-a-policy"]))
    attributes = _attributes(tag, draw)
    if depth >= 2 or draw(st.booleans()):
        body = draw(st.sampled_from(["", "text", "@(context.Request.Method)", "<value>v</value>", "<![CDATA[<raw/>]]>"]))
    else:
        body = "".join(draw(st.lists(policy_elements(depth + 1), max_size=3)))
    return f"<{tag}{attributes}>{body}</{tag}>" if body or draw(st.booleans()) else f"<{tag}{attributes}/>"


@st.composite
def generated_documents(draw: st.DrawFn) -> str:
    sections = ["inbound", "backend", "outbound", "on-error"]
    if draw(st.booleans()):
        sections = draw(st.lists(st.sampled_from(sections + ["extra"]), max_size=5))
    parts = []
    for section in sections:
        children = draw(st.lists(policy_elements(), max_size=3))
        if draw(st.booleans()):
            children.insert(0, "<base />")
        parts.append(f"<{section}>{''.join(children)}</{section}>")
    root = draw(st.sampled_from(["policies", "policies", "fragment"]))
    return f"<{root}>{''.join(parts)}</{root}>"


# -- the properties -------------------------------------------------------------------------------
@fuzz_settings(100)
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    check(text)


@fuzz_settings(250)
@given(mutated(SEED_DOCUMENTS, XML_TOKENS), st.sampled_from(SCOPES), st.booleans())
def test_mutated_documents(text: str, scope: str | None, with_named_values: bool) -> None:
    check(text, scope, NAMED_VALUES if with_named_values else None)


@fuzz_settings(150)
@given(generated_documents(), st.sampled_from(SCOPES))
def test_generated_documents(text: str, scope: str | None) -> None:
    check(text, scope, NAMED_VALUES)


def test_seed_documents_load() -> None:
    """The seeds themselves are realistic: they load, and lint finds at most a few problems."""
    for text in SEED_DOCUMENTS:
        diagnostics = Diagnostics()
        assert load_document("seed.xml", text=text, named_values=NAMED_VALUES, diagnostics=diagnostics) is not None
        check(text, "api", NAMED_VALUES)


def test_doctype_is_refused_without_expanding_entities() -> None:
    """Billion laughs and external entities: one `xml-doctype` error, quickly, and no document."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    external = '<!ENTITY x SYSTEM "file:///etc/hostname">'
    for entities, reference in ((laughs, "&l9;"), (external, "&x;")):
        text = (f"<!DOCTYPE policies [{entities}]><policies><inbound><set-header name=\"x\"><value>{reference}</value>"
                "</set-header></inbound></policies>")
        diagnostics = Diagnostics()
        with no_hang(5):
            document = load_document("entities.xml", text=text, diagnostics=diagnostics)
        assert document is None
        assert [d.code for d in diagnostics.sorted()] == ["xml-doctype"]
