"""Compose scoped documents into the effective policy: `<base/>` splicing and fragment inclusion.

APIM nests scopes: the narrowest configured document runs, and each `<base/>` in one of its
sections runs the same section of the next broader scope at that position (recursively). A
section without `<base/>` does not inherit; at global scope `<base/>` does nothing. Choices
where APIM documents nothing (see docs/documents.md):

- a scope with no document is skipped (its parent is inherited as if it were absent);
- a document without a given section inherits that section as if it held only `<base/>`;
- fragment policies are copied in place of `<include-fragment>`; their `path` is prefixed with
  the include element's path, e.g. `include-fragment[1]/choose[1]/when[2]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from engine.diagnostics import Diagnostics
from engine.model import SCOPE_NAMES, SECTION_NAMES, PolicyDocument, PolicyElement

# The two composition directives: resolved here, before any policy runs (see docs/contributing.md,
# "Composition directives"). policies/base.py and include_fragment.py only declare where they may stand.
INCLUDE_FRAGMENT = "include-fragment"
BASE = "base"
MAX_FRAGMENT_DEPTH = 8


@dataclass
class EffectivePolicy:
    """The composed pipeline: the policy elements each section runs, in order."""

    sections: dict[str, list[PolicyElement]] = field(default_factory=dict)

    def policies(self, section: str) -> list[PolicyElement]:
        return self.sections.get(section, [])


def compose(
    documents: Mapping[str, PolicyDocument | None],
    *,
    fragments: Mapping[str, PolicyDocument] | None = None,
    diagnostics: Diagnostics,
) -> EffectivePolicy:
    """Compose the documents of each scope into the effective policy.

    Args:
        documents: scope name ("global", "workspace", "product", "api", "operation") to its
            document; a missing key or None means that scope has no document. Snippet and
            fragment documents are not scoped documents and are rejected with ValueError.
        fragments: fragment id to `<fragment>` document, for `<include-fragment fragment-id>`.
        diagnostics: receives `document-kind`, `fragment-unknown` and `fragment-cycle` errors.

    Sets `scope`, `section` and `path` on every element of the given documents (idempotent:
    the same values whatever is composed with them); fragment policies are copies carrying the
    scope and section where they are included. The documents themselves are never modified
    otherwise, so one document can take part in many compositions.
    """
    unknown = set(documents) - set(SCOPE_NAMES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    chain: list[tuple[str, PolicyDocument]] = []
    for scope in SCOPE_NAMES:
        document = documents.get(scope)
        if document is None:
            continue
        if document.kind != "policies":
            diagnostics.error(
                "document-kind",
                f"the {scope} policy must be a <policies> document, not a {document.kind}",
                document.root.span,
            )
            continue
        annotate(document, scope)
        chain.append((scope, document))
    expander = _FragmentExpander(fragments or {}, diagnostics)
    effective = EffectivePolicy()
    for section in SECTION_NAMES:
        effective.sections[section] = expander.expand(_splice(chain, section), section)
    return effective


def expand_fragments(element: PolicyElement, fragments: Mapping[str, PolicyDocument],
                     diagnostics: Diagnostics) -> PolicyElement:
    """`element` with each `<include-fragment>` below it replaced by the fragment's policies (a document that
    is not composed, such as a GraphQL resolver's); unknown fragments and cycles go to `diagnostics`."""
    return _FragmentExpander(fragments, diagnostics).expand([element], element.section)[0]


def annotate(document: PolicyDocument, scope: str = "") -> None:
    """Set `scope`, `section` and APIM-style `path` on every element of a document."""
    if document.kind == "policies":
        for name, section in document.sections.items():
            _annotate_children(section.children, scope, name, "")
    else:
        _annotate_children(document.policies(""), scope, "", "")


def _annotate_children(elements: list[PolicyElement], scope: str, section: str, prefix: str) -> None:
    counts: dict[str, int] = {}
    for element in elements:
        counts[element.tag] = counts.get(element.tag, 0) + 1
        element.path = f"{prefix}{element.tag}[{counts[element.tag]}]"
        element.scope = scope
        element.section = section
        _annotate_children(element.children, scope, section, element.path + "/")


def _splice(chain: list[tuple[str, PolicyDocument]], section: str) -> list[PolicyElement]:
    """The section of the narrowest scope with each top-level `<base/>` replaced by its parent's."""
    if not chain:
        return []
    parent = chain[:-1]
    _, document = chain[-1]
    element = document.sections.get(section)
    if element is None:
        return _splice(parent, section)  # a missing section behaves like <base/> alone
    result: list[PolicyElement] = []
    based = False
    for child in element.children:
        if child.tag == BASE:
            if not based:  # a repeated <base/> is a lint error; run the parent once
                result.extend(_splice(parent, section))
                based = True
            continue
        result.append(child)
    return result


class _FragmentExpander:
    def __init__(self, fragments: Mapping[str, PolicyDocument], diagnostics: Diagnostics) -> None:
        self.fragments = fragments
        self.diagnostics = diagnostics

    def expand(
        self, elements: list[PolicyElement], section: str, active: tuple[str, ...] = ()
    ) -> list[PolicyElement]:
        if not any(_mentions_fragment(e) for e in elements):
            return elements
        result: list[PolicyElement] = []
        for element in elements:
            if element.tag == INCLUDE_FRAGMENT:
                result.extend(self._include(element, section, active))
            elif _mentions_fragment(element):
                result.append(replace(element, children=self.expand(element.children, section, active)))
            else:
                result.append(element)
        return result

    def _include(self, element: PolicyElement, section: str, active: tuple[str, ...]) -> list[PolicyElement]:
        value = element.get("fragment-id")
        if value is None:
            return []  # validation reports the missing attribute
        fragment_id = value.text.strip()
        fragment = self._find(fragment_id)
        if fragment is None:
            self.diagnostics.error(
                "fragment-unknown",
                f"policy fragment '{fragment_id}' does not exist",
                value.span,
                hint=_known(self.fragments),
            )
            return []
        if fragment_id in active or len(active) >= MAX_FRAGMENT_DEPTH:
            self.diagnostics.error(
                "fragment-cycle", f"policy fragment '{fragment_id}' includes itself", value.span
            )
            return []
        copies = [
            _copy(policy, element.scope, section, element.path + "/")
            for policy in fragment.policies(section)
            if policy.tag != BASE
        ]
        _renumber(copies, element.path + "/")
        return self.expand(copies, section, (*active, fragment_id))

    def _find(self, fragment_id: str) -> PolicyDocument | None:
        fragment = self.fragments.get(fragment_id)
        if fragment is None:
            lowered = fragment_id.lower()
            fragment = next((d for k, d in self.fragments.items() if k.lower() == lowered), None)
        return fragment


def _known(fragments: Mapping[str, PolicyDocument]) -> str | None:
    if not fragments:
        return "no policy fragments are configured"
    names = sorted(fragments)
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return f"known fragments: {shown}"


def _mentions_fragment(element: PolicyElement) -> bool:
    return element.tag == INCLUDE_FRAGMENT or any(_mentions_fragment(c) for c in element.children)


def _copy(element: PolicyElement, scope: str, section: str, prefix: str) -> PolicyElement:
    return replace(
        element,
        scope=scope,
        section=section,
        attributes=dict(element.attributes),
        attribute_spans=dict(element.attribute_spans),
        children=[_copy(c, scope, section, prefix) for c in element.children],
    )


def _renumber(elements: list[PolicyElement], prefix: str) -> None:
    counts: dict[str, int] = {}
    for element in elements:
        counts[element.tag] = counts.get(element.tag, 0) + 1
        element.path = f"{prefix}{element.tag}[{counts[element.tag]}]"
        _renumber(element.children, element.path + "/")
