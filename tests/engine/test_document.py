"""load_document: structure, exact positions of tags/attributes/values, errors with locations."""

from __future__ import annotations

from pathlib import Path

from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.model import PolicyDocument, ValueText
from engine.policy import Policy
from engine.registry import PolicyRegistry


class _Anything(Policy):
    tag = "set-variable"


class _Body(Policy):
    tag = "set-body"
    raw_content = True


REGISTRY = PolicyRegistry([_Anything(), _Body()])


def load(text: str, **kwargs: object) -> tuple[PolicyDocument | None, Diagnostics]:
    diagnostics = Diagnostics()
    document = load_document("doc.xml", text=text, registry=REGISTRY, diagnostics=diagnostics, **kwargs)  # type: ignore[arg-type]
    return document, diagnostics


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, col) of the nth occurrence of `needle` in `text`."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def start(value: ValueText) -> tuple[int, int]:
    return value.span.line, value.span.col


class TestStructure:
    def test_sections_and_kinds(self) -> None:
        doc, diags = load(
            "<policies><inbound><set-variable name='a' value='1'/></inbound><outbound/></policies>"
        )
        assert doc is not None and not diags
        assert doc.kind == "policies"
        assert set(doc.sections) == {"inbound", "outbound"}
        assert [e.tag for e in doc.policies("inbound")] == ["set-variable"]
        assert doc.policies("inbound")[0].section == "inbound"
        assert doc.policies("backend") == []

    def test_fragment(self) -> None:
        doc, diags = load("<fragment><set-variable name='a' value='1'/></fragment>")
        assert doc is not None and doc.kind == "fragment" and not diags
        assert [e.tag for e in doc.policies("inbound")] == ["set-variable"]

    def test_single_policy_snippet(self) -> None:
        doc, diags = load("<set-variable name='a' value='1'/>")
        assert doc is not None and doc.kind == "snippet" and not diags
        assert doc.policies("inbound") == [doc.root]

    def test_unknown_root(self) -> None:
        doc, diags = load("<nonsense/>")
        assert doc is None
        assert [d.code for d in diags] == ["document-root"]

    def test_unknown_and_duplicate_sections(self) -> None:
        doc, diags = load("<policies><inbound/><inbound/><middle/></policies>")
        assert doc is not None
        assert sorted(d.code for d in diags) == ["document-duplicate-section", "document-unknown-section"]

    def test_comments_before_root_and_xml_declaration(self) -> None:
        text = '<?xml version="1.0" encoding="utf-16"?>\n<!-- note -->\n<policies><inbound/></policies>'
        doc, diags = load(text)
        assert doc is not None and not diags

    def test_reads_file_and_strips_bom(self, tmp_path: Path) -> None:
        path = tmp_path / "p.xml"
        path.write_bytes("\ufeff<fragment><set-variable name='a' value='b'/></fragment>".encode())
        diagnostics = Diagnostics()
        doc = load_document(path, registry=REGISTRY, diagnostics=diagnostics)
        assert doc is not None and doc.path == str(path)

    def test_missing_file_is_a_diagnostic(self, tmp_path: Path) -> None:
        diagnostics = Diagnostics()
        assert load_document(tmp_path / "missing.xml", registry=REGISTRY, diagnostics=diagnostics) is None
        assert [d.code for d in diagnostics] == ["document-read"]


class TestExpressionsInXml:
    def test_raw_quotes_and_generics_parse(self) -> None:
        text = (
            "<policies><inbound>\n"
            '  <set-variable name="a" value="@(context.Request.Body.As<JObject>()["x"] < 3 && "q" != "r")" />\n'
            "  <set-variable name='b'><value>@{ return new List<string>{ \"<\" }; }</value></set-variable>\n"
            "</inbound></policies>"
        )
        doc, diags = load(text)
        assert doc is not None and not diags, [d.format() for d in diags]
        first, second = doc.policies("inbound")
        assert (
            first.attributes["value"].text == '@(context.Request.Body.As<JObject>()["x"] < 3 && "q" != "r")'
        )
        assert first.attributes["value"].is_expression
        assert second.children[0].text is not None
        assert second.children[0].text.text == '@{ return new List<string>{ "<" }; }'

    def test_escaped_expression_is_decoded(self) -> None:
        text = '<set-variable name="a" value="@(&quot;a&quot; + &apos;b&apos; + (1 &lt; 2 &amp;&amp; 3 &gt; 2))"/>'
        doc, _ = load(text)
        assert doc is not None
        value = doc.root.attributes["value"]
        assert value.text == "@(\"a\" + 'b' + (1 < 2 && 3 > 2))"
        # the character after '+ ' maps back to the raw '&apos;'
        index = value.text.index("'")
        assert value.locate(index) == at(text, "&apos;")

    def test_multi_line_expression_keeps_line_breaks_and_positions(self) -> None:
        text = '<set-variable name="a"\n    value="@{\n        var x = 1;\n        return x;\n    }" />'
        doc, _ = load(text)
        assert doc is not None
        value = doc.root.attributes["value"]
        assert "\n        return x;" in value.text
        assert value.locate(value.text.index("return")) == at(text, "return")
        assert doc.root.attribute_spans["value"].line == 2
        assert start(value) == at(text, "@{")

    def test_whitespace_around_expression_is_trimmed(self) -> None:
        text = "<set-variable name='a'>\n   <value>\n      @(1)\n   </value>\n</set-variable>"
        doc, _ = load(text)
        assert doc is not None
        value = doc.root.children[0].text
        assert value is not None and value.text == "@(1)"
        assert start(value) == at(text, "@(1)")

    def test_unterminated_expression(self) -> None:
        _, diags = load('<set-variable name="a" value="@(foo(" />')
        codes = [d.code for d in diags]
        assert "expr-unterminated" in codes
        assert next(d for d in diags if d.code == "expr-unterminated").span.col == 31


class TestPositions:
    TEXT = (
        "<policies>\n"
        "  <inbound>\n"
        '    <set-variable name="greeting"\n'
        '                  value="Hello &amp;\n'
        "  world\" id='x' />\n"
        "  </inbound>\n"
        "</policies>\n"
    )

    def test_tag_and_attribute_name_spans(self) -> None:
        doc, _ = load(self.TEXT)
        assert doc is not None
        element = doc.policies("inbound")[0]
        assert (element.span.line, element.span.col) == at(self.TEXT, "set-variable")
        assert element.span.end_col - element.span.col == len("set-variable")
        span = element.attribute_spans["value"]
        assert (span.line, span.col) == at(self.TEXT, "value=")
        assert (element.attribute_spans["id"].line, element.attribute_spans["id"].col) == at(self.TEXT, "id=")

    def test_attribute_value_is_normalised_but_maps_to_raw_offsets(self) -> None:
        doc, _ = load(self.TEXT)
        assert doc is not None
        value = doc.policies("inbound")[0].attributes["value"]
        assert value.text == "Hello &   world"  # entity decoded, newline -> space
        assert start(value) == at(self.TEXT, "Hello")
        assert value.locate(value.text.index("&")) == at(self.TEXT, "&amp;")
        assert value.locate(value.text.index("world")) == at(self.TEXT, "world")
        span = value.span_of(value.text.index("world"), len(value.text))
        assert (span.line, span.col, span.end_col - span.col) == (*at(self.TEXT, "world"), 5)

    def test_crlf_documents(self) -> None:
        text = self.TEXT.replace("\n", "\r\n")
        doc, diags = load(text)
        assert doc is not None and not diags
        value = doc.policies("inbound")[0].attributes["value"]
        assert value.text == "Hello &   world"
        assert value.locate(value.text.index("world")) == at(text, "world")

    def test_text_content_with_cdata_and_comment(self) -> None:
        text = "<set-variable name='a'><value>one<!-- c --><![CDATA[<two>]]>&lt;3</value></set-variable>"
        doc, _ = load(text)
        assert doc is not None
        value = doc.root.children[0].text
        assert value is not None and value.text == "one<two><3"
        assert value.locate(value.text.index("<two>")) == at(text, "<two>")
        assert value.locate(len(value.text) - 2) == at(text, "&lt;")

    def test_non_ascii_columns_are_characters(self) -> None:
        text = "<set-variable name='é' value='ünïcode' />"
        doc, _ = load(text)
        assert doc is not None
        assert start(doc.root.attributes["value"]) == at(text, "ünïcode")


class TestXmlErrors:
    def test_syntax_error_location(self) -> None:
        text = "<policies>\n  <inbound>\n    <set-variable name=a />\n  </inbound>\n</policies>"
        doc, diags = load(text)
        assert doc is None
        (diag,) = list(diags)
        assert diag.code == "xml-syntax"
        assert (diag.span.line, diag.span.col) == (3, 24)

    def test_two_roots(self) -> None:
        doc, diags = load("<fragment/><fragment/>")
        assert doc is None
        assert "more than one root element" in next(iter(diags)).message

    def test_doctype_is_refused(self) -> None:
        text = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><fragment>&e;</fragment>'
        doc, diags = load(text)
        assert doc is None
        assert [d.code for d in diags] == ["xml-doctype"]

    def test_undefined_entity(self) -> None:
        doc, diags = load("<fragment><set-variable name='a' value='&nbsp;'/></fragment>")
        assert doc is None
        assert [d.code for d in diags] == ["xml-syntax"]

    def test_comment_with_double_hyphen(self) -> None:
        doc, diags = load("<!-- a -- b -->\n<fragment/>")
        assert doc is None and next(iter(diags)).span.line == 1


class TestBodies:
    def test_markup_inside_set_body_is_its_text(self) -> None:
        text = (
            "<fragment><set-body template='liquid'>\n"
            '  {% assign v = 1 %}\n  <message a="{{ v }}"><data/></message>\n</set-body></fragment>'
        )
        doc, diags = load(text)
        assert doc is not None and not diags
        body = doc.root.children[0]
        assert body.children == []
        assert body.text is not None
        assert body.text.text == '\n  {% assign v = 1 %}\n  <message a="{{ v }}"><data/></message>\n'
        assert body.text.locate(body.text.text.index("<message")) == at(text, "<message")


def test_doctype_inside_a_body_is_just_text() -> None:
    text = "<!-- c -->\n<fragment><set-body><![CDATA[<!DOCTYPE html><html/>]]></set-body></fragment>"
    doc, diags = load(text)
    assert doc is not None and not diags
    body = doc.root.children[0].text
    assert body is not None and body.text == "<!DOCTYPE html><html/>"


def test_policies_attributes() -> None:
    _, diags = load(
        '<policies xmlns:xsl="http://www.w3.org/1999/XSL/Transform" a="1" b="2"><inbound/></policies>'
    )
    assert [(d.code, d.span.col) for d in diags] == [("document-attribute", 60), ("document-attribute", 66)]


def test_nesting_limit() -> None:
    text = "<fragment>" + "<a>" * 300 + "</a>" * 300 + "</fragment>"
    doc, diags = load(text)
    assert doc is None
    assert [d.message for d in diags] == ["elements are nested too deeply (the limit is 256 levels)"]
