"""Validate a loaded document against the policy declarations (one validator for lint and gateway).

Every check appends to a Diagnostics bag and carries on, so one document reports all of its
problems. Codes are listed in docs/lint-rules.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.compose import BASE, INCLUDE_FRAGMENT
from engine.diagnostics import Diagnostics
from engine.expr import check_expression
from engine.expr.cache import ExpressionCache
from engine.model import SECTION_NAMES, PolicyDocument, PolicyElement, ValueText
from engine.named_values import has_reference, reference_in_code
from engine.policy import Policy
from engine.registry import PolicyRegistry
from engine.schema import Attr, AttrType, Child, Scope, Section, Text

ANY = "*"  # a Child with this tag accepts any element and does not look inside it
_ID = Attr("id", expr=False, doc="Reported as context.LastError.PolicyId when the policy fails.")


def validate(
    document: PolicyDocument,
    *,
    diagnostics: Diagnostics,
    registry: PolicyRegistry | None = None,
    scope: str | None = None,
    require_implemented: bool = False,
    check_expressions: bool = True,
    expressions: ExpressionCache | None = None,
) -> None:
    """Check `document` against the registry's declarations.

    Args:
        scope: "global", "workspace", "product", "api" or "operation" when known: enables the
            per-policy scope rules (`policy-not-allowed-in-scope`).
        require_implemented: the gateway sets this: a policy that is only declared (not run by
            the gateway) is then an error (`policy-not-implemented`).
        check_expressions: compile-check every expression.
        expressions: the configuration's expression cache (the gateway compiles each once).
    """
    if registry is None:
        from engine.registry import default_registry

        registry = default_registry()
    check = (expressions.check if expressions is not None else check_expression) if check_expressions else None
    checker = _Validator(registry, diagnostics, scope, require_implemented, check)
    checker.document(document)


@dataclass
class _Block:
    """Where a list of policies sits: its section (if known) and whether inside a fragment."""

    section: str | None
    in_fragment: bool
    top_level: bool
    # once-per-section bookkeeping, per list: exclusive <when> branches may each hold one
    counts: dict[str, int] = field(default_factory=dict)


class _Validator:
    def __init__(
        self,
        registry: PolicyRegistry,
        diagnostics: Diagnostics,
        scope: str | None,
        require_implemented: bool,
        check_expression: Callable[[ValueText, Diagnostics], None] | None,
    ) -> None:
        self.registry = registry
        self.diagnostics = diagnostics
        self.scope = scope
        self.require_implemented = require_implemented
        self.check_expression = check_expression

    # ---- documents -----------------------------------------------------------------------

    def document(self, document: PolicyDocument) -> None:
        if document.kind == "policies":
            for name in SECTION_NAMES:
                section = document.sections.get(name)
                if section is None:
                    continue
                self._no_attributes(section)
                self._no_text(section, f"section <{name}>")
                self.block(section.children, _Block(name, in_fragment=False, top_level=True))
            self._outbound_without_inbound_partner(document)
        elif document.kind == "fragment":
            self._no_attributes(document.root)
            self._no_text(document.root, "<fragment>")
            if not document.root.children:
                self.diagnostics.warning(
                    "fragment-empty", "the fragment contains no policies", document.root.span
                )
            self.block(document.root.children, _Block(None, in_fragment=True, top_level=True))
        else:
            self.block([document.root], _Block(None, in_fragment=False, top_level=True))

    def _outbound_without_inbound_partner(self, document: PolicyDocument) -> None:
        """An outbound policy declaring `needs_in_inbound` warns when inbound cannot contain its partner."""
        inbound_tags: set[str] | None = None
        reported: set[str] = set()
        for element in _walk_all(document.policies("outbound")):
            policy = self.registry.get(element.tag)
            if policy is None or policy.needs_in_inbound is None or element.tag in reported:
                continue
            partner, code = policy.needs_in_inbound
            if inbound_tags is None:
                inbound_tags = {e.tag for e in _walk_all(document.policies("inbound"))}
            if inbound_tags & {partner, BASE, INCLUDE_FRAGMENT}:
                continue  # the partner is here, or possibly inherited through <base/> or from a fragment
            reported.add(element.tag)
            self.diagnostics.warning(
                code,
                f"{element.tag} does nothing without a {partner} in inbound",
                element.span,
                hint=f"add <{partner}> to inbound, or keep <base/> there to inherit one",
            )

    # ---- policy lists ----------------------------------------------------------------------

    def block(self, elements: list[PolicyElement], where: _Block) -> None:
        ended_by: PolicyElement | None = None
        reported_unreachable = False
        for element in elements:
            if ended_by is not None and not reported_unreachable:
                self.diagnostics.warning(
                    "policy-unreachable",
                    f"<{element.tag}> never runs: <{ended_by.tag}> on line {ended_by.span.line} ends the pipeline",
                    element.span,
                )
                reported_unreachable = True
            self.policy(element, where)
            declared = self.registry.get(element.tag)
            if declared is not None and declared.ends_pipeline:
                ended_by = element

    def policy(self, element: PolicyElement, where: _Block) -> None:
        if element.tag in SECTION_NAMES or element.tag in ("policies", "fragment"):
            self._misplaced_structure(element, where)
            return
        policy = self.registry.get(element.tag)
        if policy is None:
            self.diagnostics.error(
                "policy-unknown-element",
                f"unknown policy <{element.tag}>",
                element.span,
                hint=_did_you_mean(element.tag, self.registry.tags()),
            )
            return
        self._placement(element, policy, where)
        self.element(element, policy.attributes, policy.children, policy.text, policy=policy, where=where)
        self._custom_check(policy, element)

    def _misplaced_structure(self, element: PolicyElement, where: _Block) -> None:
        if where.in_fragment and element.tag in SECTION_NAMES and where.top_level:
            self.diagnostics.error(
                "fragment-section",
                f"a policy fragment cannot contain sections (<{element.tag}>)",
                element.span,
                hint="list the policies directly inside <fragment>",
            )
        else:
            self.diagnostics.error(
                "document-misplaced-element",
                f"<{element.tag}> is not allowed here",
                element.span,
                hint="sections are direct children of <policies>; <policies> and <fragment> are document roots",
            )

    def _placement(self, element: PolicyElement, policy: Policy, where: _Block) -> None:
        tag = element.tag
        if tag == BASE:
            self._base(element, where)
        elif where.in_fragment and not policy.allowed_in_fragment:
            if tag == INCLUDE_FRAGMENT:
                self.diagnostics.error(
                    "fragment-nested-include",
                    "a policy fragment cannot include another fragment",
                    element.span,
                )
            else:
                self.diagnostics.error(
                    "policy-not-allowed-in-fragment",
                    f"<{tag}> is not supported inside a policy fragment",
                    element.span,
                )
        if where.section is not None and Section.from_name(where.section) not in policy.sections:
            self.diagnostics.error(
                "policy-not-allowed-in-section",
                f"<{tag}> is not allowed in the {where.section} section",
                element.span,
                hint=f"<{tag}> is allowed in: {', '.join(policy.sections.names())}",
            )
        scope = self.scope or element.scope
        if scope and Scope.from_name(scope) not in policy.scopes:
            allowed = [(s.name or "").lower() for s in Scope if s in policy.scopes and s.name != "ALL"]
            self.diagnostics.error(
                "policy-not-allowed-in-scope",
                f"<{tag}> is not allowed at {scope} scope",
                element.span,
                hint=f"<{tag}> is allowed at: {', '.join(allowed)}",
            )
        if policy.once_per_section and tag != BASE and where.section is not None:
            where.counts[tag] = where.counts.get(tag, 0) + 1
            if where.counts[tag] == 2:
                self.diagnostics.error(
                    "policy-repeated", f"<{tag}> can be used only once per section", element.span
                )
        if self.require_implemented and not policy.implemented:
            self.diagnostics.error(
                "policy-not-implemented",
                f"<{tag}> cannot run on the policygate gateway: {policy.unsupported_reason or 'not implemented yet'}",
                element.span,
            )
        elif not policy.implemented:
            reason = policy.unsupported_reason or "not implemented yet"
            self.diagnostics.warning(
                "policy-unsupported",
                f"the policygate gateway cannot run <{tag}> ({reason}); `policygate serve` refuses this document",
                element.span,
            )

    def _base(self, element: PolicyElement, where: _Block) -> None:
        if where.in_fragment:
            self.diagnostics.error("fragment-base", "a policy fragment cannot contain <base/>", element.span)
            return
        if not where.top_level:
            self.diagnostics.error(
                "base-misplaced",
                "<base/> must be a direct child of a section",
                element.span,
                hint="move it out of the enclosing policy",
            )
            return
        where.counts[BASE] = where.counts.get(BASE, 0) + 1
        if where.counts[BASE] > 1:
            self.diagnostics.error(
                "base-repeated", "<base/> appears more than once in this section", element.span
            )

    def _custom_check(self, policy: Policy, element: PolicyElement) -> None:
        try:
            policy.check(element, self.diagnostics)
        except Exception as exc:  # a bug in a policy's own rule: reported (lint fails), not a traceback
            self.diagnostics.error(
                "policy-check-failed", f"internal error checking <{element.tag}>: {exc!r}", element.span
            )

    # ---- one element against its declaration ----------------------------------------------

    def element(
        self,
        element: PolicyElement,
        attributes: tuple[Attr, ...],
        children: tuple[Child, ...],
        text: Text | None,
        *,
        policy: Policy | None,
        where: _Block,
    ) -> None:
        self.attributes(element, attributes + (_ID,) if policy is not None else attributes)
        if policy is not None and policy.contains_policies:
            self.block(element.children, _Block(where.section, where.in_fragment, False))
        else:
            self.children(element, children, where)
        if text is not None:
            self.text(element, text)
        else:
            self._no_text(element, f"<{element.tag}>")

    def attributes(self, element: PolicyElement, declared: tuple[Attr, ...]) -> None:
        by_name = {a.name: a for a in declared}
        for name, value in element.attributes.items():
            attr = by_name.get(name)
            if attr is None:
                if name == "xmlns" or name.startswith("xmlns:"):
                    continue
                self.diagnostics.error(
                    "policy-unknown-attribute",
                    f"<{element.tag}> has no attribute '{name}'",
                    element.attribute_spans.get(name, element.span),
                    hint=_did_you_mean(name, [a.name for a in declared]),
                )
                continue
            self.value(element, value, attr.type, attr.expr, f"attribute '{name}'")
            if attr.unsupported:
                self.diagnostics.warning(
                    "policy-unsupported",
                    f"attribute '{name}' of <{element.tag}> is ignored by the policygate gateway ({attr.unsupported})",
                    element.attribute_spans.get(name, element.span),
                )
        for attr in declared:
            if attr.required and attr.name not in element.attributes:
                self.diagnostics.error(
                    "policy-missing-attribute",
                    f"<{element.tag}> requires attribute '{attr.name}'",
                    element.span,
                )

    def text(self, element: PolicyElement, declared: Text) -> None:
        value = element.text
        if value is None or not value.text.strip():
            if declared.required and not element.children:
                self.diagnostics.error(
                    "policy-missing-text", f"<{element.tag}> needs a value as its text", element.span
                )
            return
        self.value(element, value, declared.type, declared.expr, "text")

    def value(self, element: PolicyElement, value: ValueText, type_: AttrType, expr: bool, what: str) -> None:
        if value.is_expression:
            if not expr:
                self.diagnostics.error(
                    "policy-expression-not-allowed",
                    f"{what} of <{element.tag}> does not accept policy expressions",
                    value.span_of(0, 2),
                )
            elif self.check_expression is not None and not reference_in_code(value.text):
                self._expression(element, value)  # unless a named value decides what the code is
            return
        if has_reference(value.text):
            return  # a named value decides at deployment
        index = _mixed_expression_index(value.text)
        if index >= 0:
            self.diagnostics.warning(
                "expr-not-whole-value",
                f"{what} of <{element.tag}> mixes text with an expression; APIM treats it as plain text",
                value.span_of(index, index + 2),
                hint='an expression must be the whole value: @("text" + ...)',
            )
            return
        try:
            type_.parse(value.text)
        except ValueError as exc:
            self.diagnostics.error(
                "policy-bad-value",
                f"{what} of <{element.tag}>: {exc}",
                value.span if value.text else element.span,
            )

    def _expression(self, element: PolicyElement, value: ValueText) -> None:
        assert self.check_expression is not None
        try:
            self.check_expression(value, self.diagnostics)
        except Exception as exc:  # a checker bug: reported (lint fails), not a traceback
            self.diagnostics.error(
                "expr-check-failed", f"internal error checking an expression: {exc!r}", value.span_of(0, 2)
            )

    def children(self, element: PolicyElement, declared: tuple[Child, ...], where: _Block) -> None:
        by_tag = {c.tag: c for c in declared}
        wildcard = by_tag.get(ANY)
        counts: dict[str, int] = {}
        for child in element.children:
            decl = by_tag.get(child.tag, wildcard)
            if decl is None:
                expected = [c.tag for c in declared if c.tag != ANY]
                self.diagnostics.error(
                    "policy-unknown-child",
                    f"<{child.tag}> is not allowed inside <{element.tag}>",
                    child.span,
                    hint=(f"<{element.tag}> may contain: " + ", ".join(f"<{t}>" for t in expected))
                    if expected
                    else f"<{element.tag}> has no child elements",
                )
                continue
            if decl.tag == ANY:
                continue
            counts[child.tag] = counts.get(child.tag, 0) + 1
            if decl.max is not None and counts[child.tag] == decl.max + 1:
                self.diagnostics.error(
                    "policy-too-many-children",
                    f"<{element.tag}> allows at most {decl.max} <{child.tag}>",
                    child.span,
                )
            self._child(child, decl, where)
        for decl in declared:
            if decl.tag != ANY and counts.get(decl.tag, 0) < decl.min:
                self.diagnostics.error(
                    "policy-missing-child",
                    f"<{element.tag}> needs at least {decl.min} <{decl.tag}>",
                    element.span,
                )

    def _child(self, child: PolicyElement, decl: Child, where: _Block) -> None:
        if decl.ref is not None:
            policy = self.registry.get(decl.ref)
            if policy is None:
                return  # the referenced policy is not registered: nothing to check against
            self.element(child, policy.attributes, policy.children, policy.text, policy=policy, where=where)
            self._custom_check(policy, child)
            return
        self.attributes(child, decl.attributes)
        if decl.policies:
            self.block(child.children, _Block(where.section, where.in_fragment, False))
        else:
            self.children(child, decl.children, where)
        if decl.text is not None:
            self.text(child, decl.text)
        else:
            self._no_text(child, f"<{child.tag}>")

    # ---- small shared checks ---------------------------------------------------------------

    def _no_attributes(self, element: PolicyElement) -> None:
        for name, span in element.attribute_spans.items():
            if name == "xmlns" or name.startswith("xmlns:"):
                continue
            self.diagnostics.error(
                "policy-unknown-attribute", f"<{element.tag}> takes no attributes ('{name}')", span
            )

    def _no_text(self, element: PolicyElement, what: str) -> None:
        if element.text is not None and element.text.text.strip():
            value = element.text
            lead = len(value.text) - len(value.text.lstrip())
            self.diagnostics.error(
                "policy-unexpected-text", f"{what} does not take text content", value.span_of(lead, lead + 1)
            )


def _mixed_expression_index(text: str) -> int:
    for marker in ("@(", "@{"):
        index = text.find(marker)
        if index >= 0:
            return index
    return -1


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _walk_all(elements: list[PolicyElement]) -> Iterable[PolicyElement]:
    for element in elements:
        yield element
        yield from _walk_all(element.children)


def validate_document(
    document: PolicyDocument,
    *,
    diagnostics: Diagnostics,
    registry: PolicyRegistry | None = None,
    scope: str | None = None,
    require_implemented: bool = True,
) -> None:
    """The gateway's entry point: `validate` that also refuses policies the gateway cannot run."""
    validate(
        document,
        diagnostics=diagnostics,
        registry=registry,
        scope=scope,
        require_implemented=require_implemented,
    )
