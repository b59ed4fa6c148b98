"""Named values: substitution per value, positions, unknown names, Liquid bodies."""

from __future__ import annotations

import pytest

from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.model import PolicyDocument, PolicyElement
from engine.named_values import document_references, reference_in_code
from engine.policy import Policy
from engine.registry import PolicyRegistry


class _SetBody(Policy):
    tag = "set-body"
    raw_content = True

    def keeps_unknown_named_values(self, element: PolicyElement) -> bool:
        template = element.get("template")
        return template is not None and template.text == "liquid"


REGISTRY = PolicyRegistry([_SetBody()])


def load(text: str, values: dict[str, str] | None) -> tuple[PolicyDocument, Diagnostics]:
    diagnostics = Diagnostics()
    document = load_document(
        "nv.xml", text=text, named_values=values, registry=REGISTRY, diagnostics=diagnostics
    )
    assert document is not None
    return document, diagnostics


def test_substituted_in_attributes_and_text() -> None:
    doc, diags = load(
        "<fragment><x a='https://{{host}}/v{{ver}}'>{{host}}</x></fragment>", {"host": "h.io", "ver": "2"}
    )
    assert not diags
    element = doc.root.children[0]
    assert element.attributes["a"].text == "https://h.io/v2"
    assert element.text is not None and element.text.text == "h.io"


def test_names_are_case_insensitive() -> None:
    doc, diags = load("<fragment><x a='{{HOST}}'/></fragment>", {"host": "h.io"})
    assert not diags and doc.root.children[0].attributes["a"].text == "h.io"


def test_value_with_markup_characters_stays_text() -> None:
    doc, diags = load("<fragment><x a='{{v}}'/></fragment>", {"v": '<b a="1">&amp;'})
    assert not diags and doc.root.children[0].attributes["a"].text == '<b a="1">&amp;'


def test_named_value_holding_an_expression_becomes_an_expression() -> None:
    doc, _ = load("<fragment><x a='{{now}}'/></fragment>", {"now": "@(DateTime.UtcNow.ToString())"})
    value = doc.root.children[0].attributes["a"]
    assert value.is_expression and value.text == "@(DateTime.UtcNow.ToString())"


def test_reference_inside_expression_string() -> None:
    doc, _ = load('<fragment><x a="@(&quot;{{p}}&quot; + 1)"/></fragment>', {"p": "pre"})
    assert doc.root.children[0].attributes["a"].text == '@("pre" + 1)'


def test_substituted_characters_map_to_the_reference() -> None:
    text = "<fragment><x a='ab{{long-name}}cd'/></fragment>"
    doc, _ = load(text, {"long-name": "XYZ"})
    value = doc.root.children[0].attributes["a"]
    assert value.text == "abXYZcd"
    col = text.index("{{") + 1
    assert value.locate(2) == (1, col) and value.locate(4) == (1, col)
    assert value.locate(5) == (1, text.index("cd") + 1)


def test_unknown_name_is_an_error_at_the_reference() -> None:
    text = "<fragment>\n  <x a='pre{{missing}}'/></fragment>"
    doc, diags = load(text, {})
    (diag,) = list(diags)
    assert diag.code == "named-value-unknown" and "missing" in diag.message
    assert (diag.span.line, diag.span.col, diag.span.end_col) == (2, 12, 23)
    assert doc.root.children[0].attributes["a"].text == "pre{{missing}}"


def test_without_named_values_references_are_kept_and_listed() -> None:
    text = "<fragment><x a='{{one}}'><y>{{two}} and {{three}}</y></x></fragment>"
    doc, diags = load(text, None)
    assert not diags
    refs = document_references(doc)
    assert [r.name for r in refs] == ["one", "two", "three"]
    assert refs[1].span.col == text.index("{{two}}") + 1


def test_liquid_body_keeps_unknown_references() -> None:
    text = (
        "<fragment><set-body template='liquid'>{{body.name}} {{env}} {{ x | Upcase }}</set-body></fragment>"
    )
    doc, diags = load(text, {"env": "prod"})
    assert not diags
    body = doc.root.children[0].text
    assert body is not None and body.text == "{{body.name}} prod {{ x | Upcase }}"


def test_plain_body_reports_unknown_references() -> None:
    _, diags = load("<fragment><set-body>{{body.name}}</set-body></fragment>", {})
    assert [d.code for d in diags] == ["named-value-unknown"]


@pytest.mark.parametrize(
    ("expression", "in_code"),
    [
        ("@(x <= {{limit}})", True),
        ('@("{{prefix}}" + x)', False),
        ('@($"{{CookiePrefix}}-{x}")', False),
        ('@(@"a "" {{v}}" + y)', False),
        ("@('{' + {{v}})", True),
        ('@("\\"{{v}}")', False),
        ("@(x)", False),
        ("@{ // the limit comes from {{limit}}\n return x; }", False),
        ("@(x /* {{limit}} */ + 1)", False),
        ("@{ // {{a}}\n return {{b}}; }", True),
    ],
)
def test_reference_in_code(expression: str, in_code: bool) -> None:
    assert reference_in_code(expression) is in_code
