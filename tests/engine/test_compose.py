"""compose(): <base/> splicing across scopes, fragment inclusion, scope/section/path annotation."""

from __future__ import annotations

import pytest

from engine.compose import EffectivePolicy, compose
from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.model import PolicyDocument
from engine.registry import PolicyRegistry

REGISTRY = PolicyRegistry([])


def doc(text: str, name: str = "d.xml") -> PolicyDocument:
    diagnostics = Diagnostics()
    document = load_document(name, text=text, registry=REGISTRY, diagnostics=diagnostics)
    assert document is not None and not diagnostics, [d.format() for d in diagnostics]
    return document


def inbound(*body: str) -> PolicyDocument:
    return doc("<policies><inbound>" + "".join(body) + "</inbound></policies>")


def ids(effective: EffectivePolicy, section: str = "inbound") -> list[str]:
    return [e.policy_id or e.tag for e in effective.policies(section)]


def p(name: str) -> str:
    return f'<set-variable id="{name}" name="v" value="1"/>'


def run(**documents: PolicyDocument | None) -> EffectivePolicy:
    diagnostics = Diagnostics()
    effective = compose(documents, diagnostics=diagnostics)
    assert not diagnostics
    return effective


class TestBase:
    def test_base_position_decides_order(self) -> None:
        glob = inbound(p("g1"), "<base/>", p("g2"))
        product = inbound("<base/>", p("p1"))
        api = inbound(p("a1"), "<base/>", p("a2"))
        operation = inbound(p("o1"), "<base/>")
        effective = run(**{"global": glob, "product": product, "api": api, "operation": operation})
        assert ids(effective) == ["o1", "a1", "g1", "g2", "p1", "a2"]

    def test_no_base_drops_parents(self) -> None:
        effective = run(**{"global": inbound(p("g")), "api": inbound(p("a"))})
        assert ids(effective) == ["a"]

    def test_missing_scope_is_skipped(self) -> None:
        effective = run(
            **{"global": inbound(p("g")), "product": None, "operation": inbound("<base/>", p("o"))}
        )
        assert ids(effective) == ["g", "o"]

    def test_missing_section_inherits_parent(self) -> None:
        glob = doc("<policies><inbound/><backend><forward-request/></backend></policies>")
        effective = run(**{"global": glob, "api": inbound(p("a"))})
        assert ids(effective, "backend") == ["forward-request"]
        assert ids(effective) == ["a"]

    def test_empty_section_does_not_inherit(self) -> None:
        glob = doc("<policies><backend><forward-request/></backend></policies>")
        api = doc("<policies><backend></backend></policies>")
        assert ids(run(**{"global": glob, "api": api}), "backend") == []

    def test_base_at_global_scope_is_a_no_op(self) -> None:
        assert ids(run(**{"global": inbound("<base/>", p("g"))})) == ["g"]

    def test_repeated_base_splices_once(self) -> None:
        effective = run(**{"global": inbound(p("g")), "api": inbound("<base/>", p("a"), "<base/>")})
        assert ids(effective) == ["g", "a"]

    def test_scope_section_and_path_are_set(self) -> None:
        glob = inbound("<choose><when condition='true'>" + p("x") + p("y") + "</when></choose>")
        api = inbound(p("a"), "<base/>", p("b"))
        effective = run(**{"global": glob, "api": api})
        first, choose, last = effective.policies("inbound")
        assert (first.scope, first.section, first.path) == ("api", "inbound", "set-variable[1]")
        assert (last.path, choose.scope, choose.path) == ("set-variable[2]", "global", "choose[1]")
        when = choose.children[0]
        assert [c.path for c in when.children] == [
            "choose[1]/when[1]/set-variable[1]",
            "choose[1]/when[1]/set-variable[2]",
        ]

    def test_documents_are_not_modified(self) -> None:
        api = inbound("<base/>", p("a"))
        run(**{"global": inbound(p("g")), "api": api})
        assert [e.tag for e in api.policies("inbound")] == ["base", "set-variable"]

    def test_rejects_unknown_scope(self) -> None:
        with pytest.raises(ValueError):
            compose({"tenant": inbound()}, diagnostics=Diagnostics())

    def test_fragment_as_scope_document_is_reported(self) -> None:
        diagnostics = Diagnostics()
        effective = compose({"global": inbound(p("g")), "api": doc("<fragment/>")}, diagnostics=diagnostics)
        assert [d.code for d in diagnostics] == ["document-kind"]
        assert ids(effective) == ["g"]


class TestFragments:
    FRAGMENT = (
        "<fragment>" + p("f1") + "<choose><when condition='true'>" + p("f2") + "</when></choose></fragment>"
    )

    def test_include_is_replaced_by_copies(self) -> None:
        fragment = doc(self.FRAGMENT)
        api = inbound(p("a"), '<include-fragment fragment-id="frag"/>', "<base/>")
        diagnostics = Diagnostics()
        effective = compose({"api": api}, fragments={"frag": fragment}, diagnostics=diagnostics)
        assert not diagnostics
        assert ids(effective) == ["a", "f1", "choose"]
        copy = effective.policies("inbound")[1]
        assert copy is not fragment.root.children[0]
        assert (copy.scope, copy.section, copy.path) == (
            "api",
            "inbound",
            "include-fragment[1]/set-variable[1]",
        )
        nested = effective.policies("inbound")[2].children[0].children[0]
        assert nested.path == "include-fragment[1]/choose[1]/when[1]/set-variable[1]"
        assert fragment.root.children[0].section == ""  # the fragment itself is untouched

    def test_include_inside_nested_policies(self) -> None:
        fragment = doc("<fragment>" + p("f") + "</fragment>")
        api = inbound("<choose><when condition='true'><include-fragment fragment-id='frag'/></when></choose>")
        effective = compose({"api": api}, fragments={"frag": fragment}, diagnostics=Diagnostics())
        when = effective.policies("inbound")[0].children[0]
        assert [c.policy_id for c in when.children] == ["f"]
        # the original choose still holds the include element
        assert api.policies("inbound")[0].children[0].children[0].tag == "include-fragment"

    def test_unknown_fragment_is_an_error_at_the_id(self) -> None:
        text = '<policies><inbound><include-fragment fragment-id="nope"/></inbound></policies>'
        diagnostics = Diagnostics()
        effective = compose({"api": doc(text)}, fragments={}, diagnostics=diagnostics)
        (diag,) = list(diagnostics)
        assert diag.code == "fragment-unknown"
        assert diag.span.col == text.index("nope") + 1
        assert ids(effective) == []

    def test_fragment_cycle_is_reported(self) -> None:
        a = doc("<fragment><include-fragment fragment-id='b'/></fragment>")
        b = doc("<fragment><include-fragment fragment-id='a'/></fragment>")
        diagnostics = Diagnostics()
        compose(
            {"api": inbound("<include-fragment fragment-id='a'/>")},
            fragments={"a": a, "b": b},
            diagnostics=diagnostics,
        )
        assert [d.code for d in diagnostics] == ["fragment-cycle"]

    def test_fragment_included_in_two_sections_gets_each_section(self) -> None:
        fragment = doc("<fragment>" + p("f") + "</fragment>")
        api = doc(
            "<policies><inbound><include-fragment fragment-id='frag'/></inbound>"
            "<outbound><include-fragment fragment-id='frag'/></outbound></policies>"
        )
        effective = compose({"api": api}, fragments={"frag": fragment}, diagnostics=Diagnostics())
        assert effective.policies("inbound")[0].section == "inbound"
        assert effective.policies("outbound")[0].section == "outbound"
