"""Named values: `{{name}}` references inside attribute values and element text.

APIM replaces a reference with the named value's text before the policy is evaluated; a value
may itself be a policy expression, and references also work inside an expression's string
literals. policygate substitutes in every decoded attribute value and element text (see
docs/documents.md for why this is done per value rather than on the raw XML). Names are matched
case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from engine.model import PolicyDocument, PolicyElement, ValueText
from engine.source import Span

# APIM named-value names: letters, digits, '.', '-', '_'
REFERENCE = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")


@dataclass(frozen=True, slots=True)
class NamedValueReference:
    name: str
    span: Span


class NamedValues:
    """A case-insensitive view of the configured named values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._exact = dict(values)
        self._folded = {name.lower(): value for name, value in values.items()}

    def get(self, name: str) -> str | None:
        value = self._exact.get(name)
        return value if value is not None else self._folded.get(name.lower())

    def names(self) -> list[str]:
        return list(self._exact)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


@dataclass(frozen=True, slots=True)
class Unresolved:
    name: str
    start: int  # raw offsets of the whole `{{name}}`
    end: int


def substitute(
    text: str, offsets: list[int], values: NamedValues, *, keep_unknown: bool = False
) -> tuple[str, list[int], list[Unresolved]]:
    """Replace every known `{{name}}` in a decoded value; report (or keep) the unknown ones.

    `offsets` maps each character of `text` (plus one end entry) to its raw offset; the
    returned offsets map every substituted character to the start of its reference.
    """
    if "{{" not in text:
        return text, offsets, []
    out: list[str] = []
    out_offsets: list[int] = []
    unknown: list[Unresolved] = []
    last = 0
    for match in REFERENCE.finditer(text):
        out.append(text[last : match.start()])
        out_offsets.extend(offsets[last : match.start()])
        value = values.get(match.group(1))
        raw_start = offsets[match.start()]
        raw_end = offsets[match.end() - 1] + 1
        if value is None:
            if not keep_unknown:
                unknown.append(Unresolved(match.group(1), raw_start, raw_end))
            out.append(match.group())
            out_offsets.extend(offsets[match.start() : match.end()])
        else:
            out.append(value)
            out_offsets.extend([raw_start] * len(value))
        last = match.end()
    out.append(text[last:])
    out_offsets.extend(offsets[last:])
    return "".join(out), out_offsets, unknown


def has_reference(text: str) -> bool:
    return "{{" in text and REFERENCE.search(text) is not None


def references(value: ValueText) -> list[NamedValueReference]:
    """The `{{name}}` references left in a value (when loaded without named values)."""
    return [
        NamedValueReference(m.group(1), value.span_of(m.start(), m.end()))
        for m in REFERENCE.finditer(value.text)
    ]


def document_references(document: PolicyDocument) -> list[NamedValueReference]:
    """Every unresolved `{{name}}` reference of a document, in document order."""
    found: list[NamedValueReference] = []
    for element in _walk(document.root):
        for value in element.attributes.values():
            found.extend(references(value))
        if element.text is not None:
            found.extend(references(element.text))
    return found


def _walk(element: PolicyElement) -> Iterator[PolicyElement]:
    yield element
    for child in element.children:
        yield from _walk(child)


def reference_in_code(expression: str) -> bool:
    """True when an unresolved `{{name}}` sits in an expression's code, not inside a string.

    `@(x <= {{limit}})` cannot be type-checked before the named value is known, while
    `@("{{prefix}}" + x)` can: the reference is just text in a string literal.
    """
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch == '"':
            verbatim = i > 0 and expression[i - 1] == "@" or expression[max(0, i - 2) : i] in ("@$", "$@")
            i = _skip_string(expression, i + 1, verbatim)
        elif ch == "'":
            close = expression.find("'", i + 2 if expression[i + 1 : i + 2] == "\\" else i + 1)
            i = n if close < 0 else close + 1
        elif expression.startswith("//", i):  # a comment: the reference is not code
            close = expression.find("\n", i)
            i = n if close < 0 else close + 1
        elif expression.startswith("/*", i):
            close = expression.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif ch == "{" and REFERENCE.match(expression, i):
            return True
        else:
            i += 1
    return False


def _skip_string(text: str, i: int, verbatim: bool) -> int:
    while i < len(text):
        ch = text[i]
        if ch == "\\" and not verbatim:
            i += 2
        elif ch == '"':
            if verbatim and text[i + 1 : i + 2] == '"':
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return i
