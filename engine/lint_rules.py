"""The stable diagnostic codes of loading, validation and lint, with one-line descriptions.

docs/lint-rules.md documents each code at length; a test keeps the two in step. Expression
codes (`expr-syntax`, `expr-type`, ...) come from engine.expr and are documented in
docs/expressions.md.
"""

from __future__ import annotations

RULES: dict[str, str] = {
    # reading and XML
    "document-read": "The file cannot be read or is not UTF-8.",
    "document-too-large": "The document is larger than the loader accepts.",
    "xml-doctype": "DOCTYPE declarations are not allowed.",
    "xml-syntax": "The document is not well-formed XML (after masking expressions).",
    "expr-unterminated": "An @( or @{ expression is never closed.",
    # document structure
    "document-root": "The root element is not <policies>, <fragment> or a policy.",
    "document-unknown-section": "<policies> contains something other than a section.",
    "document-duplicate-section": "A section appears twice.",
    "document-section-order": "Sections are not in the order inbound, backend, outbound, on-error.",
    "document-attribute": "<policies> has attributes.",
    "document-kind": "Composition was given a fragment or snippet as a scope's policy.",
    "document-misplaced-element": "A section, <policies> or <fragment> element sits inside a section.",
    # named values
    "named-value-unknown": "A {{name}} reference names no configured named value.",
    # policies
    "policy-unknown-element": "The element is not an APIM policy.",
    "policy-not-allowed-in-section": "The policy is not allowed in this section.",
    "policy-not-allowed-in-scope": "The policy is not allowed at this scope.",
    "policy-not-allowed-in-fragment": "The policy is not supported inside a policy fragment.",
    "policy-not-implemented": "The gateway does not run this policy yet.",
    "policy-unsupported": "Valid APIM that the gateway cannot run (an element, attribute or child); lint warns.",
    "policy-repeated": "A once-per-section policy appears again.",
    "policy-unknown-attribute": "The element has no such attribute.",
    "policy-missing-attribute": "A required attribute is missing.",
    "policy-bad-value": "A literal value has the wrong type, is not an allowed choice, or is out of range.",
    "policy-expression-not-allowed": "The attribute or text does not accept policy expressions.",
    "policy-unknown-child": "The child element is not allowed inside this element.",
    "policy-missing-child": "A required child element is missing.",
    "policy-too-many-children": "A child element appears more often than allowed.",
    "policy-missing-text": "The element needs a text value.",
    "policy-unexpected-text": "The element does not take text content.",
    "policy-unreachable": "The policy follows return-response or mock-response and never runs.",
    "policy-check-failed": "A policy's own check raised an internal error.",
    "expr-not-whole-value": "An expression is mixed with literal text (APIM treats the value as text).",
    "expr-check-failed": "The expression checker raised an internal error.",
    "cache-store-without-lookup": "cache-store has no cache-lookup that could pair with it.",
    # base and fragments
    "base-misplaced": "<base/> is not a direct child of a section.",
    "base-repeated": "<base/> appears more than once in a section.",
    "fragment-section": "A fragment contains a section element.",
    "fragment-base": "A fragment contains <base/>.",
    "fragment-nested-include": "A fragment includes another fragment.",
    "fragment-empty": "A fragment contains no policies.",
    "fragment-unknown": "include-fragment names a fragment that does not exist.",
    "fragment-cycle": "Fragments include each other in a cycle.",
    # gateway configuration (policygate check)
    "config-yaml": "The configuration file is not valid YAML.",
    "config-invalid": "A configuration key, value, file reference or connection setting is invalid.",
    "config-ignored": "Something in an APIOps folder that the gateway does not use.",
}
