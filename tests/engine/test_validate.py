"""validate(): one test per rule, against a small registry declared here (stable, self-contained)."""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.model import PolicyElement
from engine.policy import Policy
from engine.registry import PolicyRegistry
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text
from engine.validate import validate, validate_document
from policies.base import Base
from policies.include_fragment import IncludeFragment


class SetThing(Policy):
    tag = "set-thing"
    attributes = (
        Attr("name", Str(non_empty=True), required=True, expr=False),
        Attr("count", Int(min=1, max=300)),
        Attr("mode", Enum("fast", "slow"), default="fast"),
        Attr("flag", Bool()),
    )
    children = (Child("value", text=Text(required=True), max=2),)
    implemented = True


class Lookup(Policy):
    tag = "lookup"
    sections = Section.INBOUND
    scopes = Scope.API | Scope.OPERATION
    allowed_in_fragment = False
    once_per_section = True
    implemented = True


class Store(Policy):
    tag = "cache-store"
    sections = Section.OUTBOUND
    needs_in_inbound = ("cache-lookup", "cache-store-without-lookup")
    implemented = True


class CacheLookup(Policy):
    tag = "cache-lookup"
    sections = Section.INBOUND
    implemented = True


class Choose(Policy):
    tag = "choose"
    children = (
        Child("when", attributes=(Attr("condition", Bool(), required=True),), policies=True, min=1),
        Child("otherwise", policies=True, max=1),
    )
    implemented = True


class Retry(Policy):
    tag = "retry"
    attributes = (Attr("count", Int(min=1, max=50), required=True),)
    contains_policies = True
    implemented = True


class Answer(Policy):
    tag = "return-response"
    ends_pipeline = True
    children = (Child("set-thing", ref="set-thing"),)
    implemented = True


class Method(Policy):
    tag = "set-method"
    text = Text(type=Enum("GET", "POST"), required=True, expr=False)
    implemented = True


class Transform(Policy):
    tag = "transform"
    children = (Child("*"),)
    unsupported_reason = "a test policy"

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        if element.get("broken") is not None:
            raise RuntimeError("bug in a policy check")


REGISTRY = PolicyRegistry(
    [
        SetThing(),
        Lookup(),
        Store(),
        CacheLookup(),
        Choose(),
        Retry(),
        Answer(),
        Method(),
        Transform(),
        Base(),
        IncludeFragment(),
    ]
)


def codes(text: str, **kwargs: object) -> list[str]:
    diagnostics = Diagnostics()
    document = load_document("v.xml", text=text, registry=REGISTRY, diagnostics=diagnostics)
    assert document is not None, [d.format() for d in diagnostics]
    validate(document, diagnostics=diagnostics, registry=REGISTRY, check_expressions=False, **kwargs)  # type: ignore[arg-type]
    return [d.code for d in diagnostics.sorted()]


def section(body: str, name: str = "inbound") -> str:
    return f"<policies><{name}>{body}</{name}></policies>"


OK = '<set-thing name="a"/>'


def test_clean_document() -> None:
    text = section(
        OK + '<set-thing name="b" count="300" mode="SLOW" flag="True" id="x"><value>1</value></set-thing>'
    )
    assert codes(text) == []


class TestElements:
    def test_unknown_element_with_suggestion(self) -> None:
        diagnostics = Diagnostics()
        document = load_document(
            "v.xml", text=section("<set-thng name='a'/>"), registry=REGISTRY, diagnostics=diagnostics
        )
        assert document is not None
        validate(document, diagnostics=diagnostics, registry=REGISTRY)
        (diag,) = list(diagnostics)
        assert diag.code == "policy-unknown-element" and diag.hint == "did you mean 'set-thing'?"

    def test_wrong_section(self) -> None:
        assert codes(section("<lookup/>", "outbound")) == ["policy-not-allowed-in-section"]

    def test_wrong_scope_only_when_scope_known(self) -> None:
        assert codes(section("<lookup/>")) == []
        assert codes(section("<lookup/>"), scope="product") == ["policy-not-allowed-in-scope"]
        assert codes(section("<lookup/>"), scope="operation") == []

    def test_once_per_section(self) -> None:
        assert codes(section("<lookup/><lookup/>")) == ["policy-repeated"]
        branches = "<choose><when condition='true'><lookup/></when><otherwise><lookup/></otherwise></choose>"
        assert codes(section(branches)) == []

    def test_unsupported_attribute_is_a_warning(self) -> None:
        class Legacy(Policy):
            tag = "legacy"
            attributes = (Attr("sf-thing", unsupported="Azure only"),)
            implemented = True

        registry = PolicyRegistry([Legacy()])
        diagnostics = Diagnostics()
        document = load_document("v.xml", text=section('<legacy sf-thing="1"/>'), registry=registry,
                                 diagnostics=diagnostics)
        assert document is not None
        validate(document, diagnostics=diagnostics, registry=registry, check_expressions=False)
        (diag,) = list(diagnostics)
        assert (diag.code, diag.severity.value) == ("policy-unsupported", "warning")
        assert "'sf-thing'" in diag.message and "(Azure only)" in diag.message

    def test_not_implemented_only_for_the_gateway(self) -> None:
        text = section("<transform/>")
        assert codes(text) == ["policy-unsupported"]  # lint warns: serve would refuse it
        diagnostics = Diagnostics()
        document = load_document("v.xml", text=text, registry=REGISTRY, diagnostics=diagnostics)
        assert document is not None
        validate_document(document, diagnostics=diagnostics, registry=REGISTRY)
        (diag,) = list(diagnostics)
        assert diag.code == "policy-not-implemented" and diag.span.line == 1

    def test_sections_inside_sections(self) -> None:
        assert codes(section("<outbound/>")) == ["document-misplaced-element"]

    def test_a_failing_custom_check_is_a_warning_not_a_crash(self) -> None:
        assert codes(section("<transform broken='1'/>")) == [
            "policy-check-failed",
            "policy-unsupported",
            "policy-unknown-attribute",
        ]


class TestAttributes:
    def test_missing_required(self) -> None:
        assert codes(section("<set-thing/>")) == ["policy-missing-attribute"]

    def test_unknown_attribute(self) -> None:
        assert codes(section('<set-thing name="a" nmae="b"/>')) == ["policy-unknown-attribute"]

    def test_id_is_allowed_on_every_policy(self) -> None:
        assert codes(section('<lookup id="l"/>')) == []

    def test_bad_values(self) -> None:
        assert codes(section('<set-thing name="a" count="lots"/>')) == ["policy-bad-value"]
        assert codes(section('<set-thing name="a" count="301"/>')) == ["policy-bad-value"]
        assert codes(section('<set-thing name="a" mode="medium"/>')) == ["policy-bad-value"]
        assert codes(section('<set-thing name="a" flag="yes"/>')) == ["policy-bad-value"]
        assert codes(section('<set-thing name=""/>')) == ["policy-bad-value"]

    def test_bad_value_span_points_at_the_value(self) -> None:
        text = section('<set-thing name="a" count="301"/>')
        diagnostics = Diagnostics()
        document = load_document("v.xml", text=text, registry=REGISTRY, diagnostics=diagnostics)
        assert document is not None
        validate(document, diagnostics=diagnostics, registry=REGISTRY)
        (diag,) = list(diagnostics)
        assert diag.span.col == text.index("301") + 1 and diag.span.end_col - diag.span.col == 3
        assert "above the maximum 300" in diag.message

    def test_expression_where_not_allowed(self) -> None:
        assert codes(section('<set-thing name="@(1)"/>')) == ["policy-expression-not-allowed"]

    def test_expressions_skip_literal_checks(self) -> None:
        assert codes(section('<set-thing name="a" count="@(context.Variables.Count)"/>')) == []

    def test_named_value_references_skip_literal_checks(self) -> None:
        assert codes(section('<set-thing name="a" count="{{calls}}"/>')) == []

    def test_mixed_text_and_expression(self) -> None:
        assert codes(section('<set-thing name="a"><value>Bearer @(token)</value></set-thing>')) == [
            "expr-not-whole-value"
        ]


class TestChildrenAndText:
    def test_unknown_child(self) -> None:
        assert codes(section('<set-thing name="a"><vaule>1</vaule></set-thing>')) == ["policy-unknown-child"]

    def test_too_many_children(self) -> None:
        body = "<value>1</value>" * 3
        assert codes(section(f'<set-thing name="a">{body}</set-thing>')) == ["policy-too-many-children"]

    def test_missing_child(self) -> None:
        assert codes(section("<choose/>")) == ["policy-missing-child"]

    def test_missing_and_unexpected_text(self) -> None:
        assert codes(section('<set-thing name="a"><value/></set-thing>')) == ["policy-missing-text"]
        assert codes(section("<lookup>text</lookup>")) == ["policy-unexpected-text"]
        assert codes(section("<set-method/>")) == ["policy-missing-text"]
        assert codes(section("<set-method>PUT</set-method>")) == ["policy-bad-value"]

    def test_policies_inside_when_are_validated_in_the_section(self) -> None:
        text = section(
            "<choose><when condition='true'><lookup/></when><otherwise><nope/></otherwise></choose>",
            "outbound",
        )
        assert codes(text) == ["policy-not-allowed-in-section", "policy-unknown-element"]

    def test_child_attributes_are_checked(self) -> None:
        assert codes(section("<choose><when condition='maybe'/></choose>")) == ["policy-bad-value"]
        assert codes(section("<choose><when/></choose>")) == ["policy-missing-attribute"]

    def test_retry_children_are_policies(self) -> None:
        assert codes(section("<retry count='3'><set-thing/></retry>")) == ["policy-missing-attribute"]

    def test_ref_children_use_the_policy_schema(self) -> None:
        assert codes(section("<return-response><set-thing count='0'/></return-response>")) == [
            "policy-missing-attribute",
            "policy-bad-value",
        ]

    def test_wildcard_children_are_not_inspected(self) -> None:
        assert codes(section("<transform><any><thing deep='1'/></any></transform>")) == ["policy-unsupported"]


class TestBaseAndFlow:
    def test_repeated_base(self) -> None:
        assert codes(section("<base/>" + OK + "<base/>")) == ["base-repeated"]

    def test_base_inside_a_policy(self) -> None:
        assert codes(section("<choose><when condition='true'><base/></when></choose>")) == ["base-misplaced"]

    def test_base_with_children_or_attributes(self) -> None:
        assert codes(section("<base x='1'/>")) == ["policy-unknown-attribute"]
        assert codes(section("<base><lookup/></base>")) == ["policy-unknown-child"]

    def test_unreachable_after_return_response(self) -> None:
        assert codes(section("<return-response/>" + OK + OK)) == ["policy-unreachable"]
        assert codes(section(OK + "<return-response/>")) == []

    def test_cache_store_without_lookup(self) -> None:
        store = "<outbound><cache-store/></outbound>"
        assert codes(f"<policies><inbound/>{store}</policies>") == ["cache-store-without-lookup"]
        assert codes(f"<policies><inbound><cache-lookup/></inbound>{store}</policies>") == []
        assert codes(f"<policies><inbound><base/></inbound>{store}</policies>") == []
        include = "<include-fragment fragment-id='lookups'/>"
        assert codes(f"<policies><inbound>{include}</inbound>{store}</policies>") == []


class TestFragments:
    def test_fragment_rules(self) -> None:
        assert codes("<fragment><inbound/></fragment>") == ["fragment-section"]
        assert codes("<fragment><base/></fragment>") == ["fragment-base"]
        assert codes("<fragment><include-fragment fragment-id='x'/></fragment>") == [
            "fragment-nested-include"
        ]
        assert codes("<fragment><lookup/></fragment>") == ["policy-not-allowed-in-fragment"]
        assert codes("<fragment/>") == ["fragment-empty"]

    def test_fragment_policies_have_no_section_yet(self) -> None:
        assert codes("<fragment><cache-store/>" + OK + "</fragment>") == []

    def test_include_fragment_needs_an_id(self) -> None:
        assert codes(section("<include-fragment/>")) == ["policy-missing-attribute"]
        assert codes(section("<include-fragment fragment-id='@(x)'/>")) == ["policy-expression-not-allowed"]

    def test_snippet_is_validated_without_section(self) -> None:
        assert codes("<lookup nope='1'/>") == ["policy-unknown-attribute"]


class TestDeclaredCrossFieldRules:
    """Rules of the schema-only policies declared in policies/ (real registry)."""

    @staticmethod
    def real_codes(text: str) -> list[str]:
        diagnostics = Diagnostics()
        document = load_document("r.xml", text=text, diagnostics=diagnostics)
        assert document is not None
        validate(document, diagnostics=diagnostics, check_expressions=False)
        return [d.code for d in diagnostics.sorted() if d.code != "policy-unsupported"]  # the gateway cannot run them

    def test_token_limits(self) -> None:
        for tag in ("llm-token-limit", "azure-openai-token-limit"):
            ok = 'estimate-prompt-tokens="false"'
            assert self.real_codes(section(f'<{tag} counter-key="k" tokens-per-minute="10" {ok} />')) == []
            assert self.real_codes(section(f'<{tag} counter-key="k" tokens-per-minute="10" />')) == [
                "policy-missing-attribute"
            ]
            assert self.real_codes(section(f'<{tag} counter-key="k" {ok} />')) == ["policy-missing-attribute"]
            assert self.real_codes(section(f'<{tag} counter-key="k" token-quota="9" {ok} />')) == [
                "policy-missing-attribute"
            ]

    def test_one_of_attributes(self) -> None:
        assert self.real_codes(section('<authentication-certificate certificate-id="c" />')) == []
        assert self.real_codes(section("<authentication-certificate />")) == ["policy-missing-attribute"]
        bus = "<send-service-bus-message {}><payload>x</payload></send-service-bus-message>"
        assert self.real_codes(section(bus.format('topic-name="t"'))) == []
        assert self.real_codes(section(bus.format(""))) == ["policy-missing-attribute"]
