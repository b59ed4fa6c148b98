"""The gateway's `Builder`: turns validated policy elements into runtime steps and typed values.

Constants are parsed once by their schema type; `@(...)`/`@{...}` values are compiled once per configuration
by the shared `engine.expr.cache.ExpressionCache` and coerced by the attribute type per request. Problems are
collected as diagnostics (all of them, with locations) and raised together by `finish()`.

Body buffering: the gateway streams request and response bodies unless something needs them.
A policy is stream-safe when its class sets `reads_body = False`; any other policy, any
expression that reads a body, or a policy calling `builder.require_body()` makes the pipeline
buffer.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.diagnostics import Diagnostics
from engine.errors import ExpressionError, PolicyLoadError
from engine.expr.cache import ExpressionCache
from engine.gateway.pipeline import LocatedStep, Pipeline
from engine.model import PolicyElement, ValueText
from engine.policy import Constant, Policy, Step
from engine.schema import REQUIRED, Attr, AttrType, Child, Str, Text

if TYPE_CHECKING:
    from engine.context import Context
    from engine.registry import PolicyRegistry

_NO_DECL: tuple[dict[str, Attr], Text | None] = ({}, None)


class Expression:
    """A compiled policy expression, evaluated per request and coerced by the attribute type."""

    __slots__ = ("compiled", "type", "label", "span")
    is_constant = False

    def __init__(self, compiled: Any, type_: AttrType | None, label: str, span: Any) -> None:
        self.compiled = compiled
        self.type = type_
        self.label = label
        self.span = span

    def get(self, ctx: Context) -> object:
        result = self.compiled.evaluate(ctx)
        if ctx.exchange.observer is not None:
            ctx.exchange.observer.expression_evaluated(self.span, result, ctx)
        if self.type is None:
            return result
        if isinstance(self.type, Str) and result is not None and not isinstance(result, str):
            result = _dotnet_string(result)  # C#: an object in a string attribute becomes its ToString()
        try:
            return self.type.coerce(result)
        except (ValueError, TypeError) as exc:
            raise ExpressionError(f"{self.label}: {exc}", self.span) from None

    @property
    def uses_body(self) -> bool:
        return bool(getattr(self.compiled, "uses_body", True))

    def __repr__(self) -> str:
        return f"Expression({getattr(self.compiled, 'source', '?')!r})"


def _dotnet_string(value: object) -> str:
    from engine.dotnet.conversions import to_string

    return to_string(value)


class PipelineBuilder:
    """Implements engine.policy.Builder for one effective pipeline (or one fragment)."""

    def __init__(
        self, registry: PolicyRegistry, diagnostics: Diagnostics | None = None, expressions: ExpressionCache | None = None
    ) -> None:
        self.registry = registry
        self.diagnostics = diagnostics if diagnostics is not None else Diagnostics()
        self.expressions = expressions if expressions is not None else ExpressionCache()
        self.needs_request_body = False
        self.needs_response_body = False
        # id(element) -> (element, attributes, text); holding the element keeps its id unique.
        self._decls: dict[int, tuple[PolicyElement, dict[str, Attr], Text | None]] = {}

    # -- the Builder protocol ----------------------------------------------------------------
    def steps(self, elements: Sequence[PolicyElement]) -> list[Step]:
        built: list[LocatedStep] = []
        for element in elements:
            step = self._build(element)
            if step is not None:
                built.append(LocatedStep(step, element, self.registry.get(element.tag)))
        for before, after in itertools.pairwise(built):
            followed_by = getattr(before.step, "followed_by", None)
            if followed_by is not None:
                followed_by(after.step)
        return list(built)

    def value(self, element: PolicyElement, name: str) -> Constant | Expression:
        attrs, _ = self._decl(element)
        decl = attrs.get(name)
        raw = element.get(name)
        if raw is None:
            default = None if decl is None or decl.default is REQUIRED else decl.default
            if isinstance(default, str) and decl is not None and not isinstance(decl.type, Str):
                default = decl.type.parse(default)
            return Constant(default)
        return self._value(raw, decl.type if decl else None, decl.expr if decl else True, f"attribute '{name}'")

    def text_value(self, element: PolicyElement) -> Constant | Expression:
        _, text = self._decl(element)
        if element.text is None:
            return Constant(None)
        return self._value(element.text, text.type if text else None, text.expr if text else True, f"<{element.tag}>")

    def require_body(self, *, request: bool = True, response: bool = True) -> None:
        """Ask the gateway to buffer the request and/or response body for this pipeline."""
        self.needs_request_body |= request
        self.needs_response_body |= response

    def error(self, code: str, message: str, element: PolicyElement, hint: str | None = None) -> None:
        """Report a build-time problem located at `element`."""
        self.diagnostics.error(code, message, element.span, hint)

    # -- pipelines -----------------------------------------------------------------------------
    def pipeline(self, sections: Mapping[str, Sequence[PolicyElement]]) -> Pipeline:
        """Build the four sections; call `finish()` afterwards to raise collected problems."""
        return Pipeline(
            inbound=self.steps(sections.get("inbound", ())),
            backend=self.steps(sections.get("backend", ())),
            outbound=self.steps(sections.get("outbound", ())),
            on_error=self.steps(sections.get("on-error", ())),
            needs_request_body=self.needs_request_body,
            needs_response_body=self.needs_response_body,
        )

    def finish(self) -> None:
        if self.diagnostics.has_errors:
            raise PolicyLoadError(self.diagnostics.sorted())

    # -- internals -----------------------------------------------------------------------------
    def _build(self, element: PolicyElement) -> Step | None:
        policy = self.registry.get(element.tag)
        if policy is None:
            self.diagnostics.error("policy-unknown-element", f"unknown policy <{element.tag}>", element.span)
            return None
        if not policy.implemented:
            self.diagnostics.error(
                "gateway-not-implemented",
                f"<{element.tag}> is recognised by lint but not implemented by the gateway",
                element.span,
                "remove it or run the document with `policygate lint` only",
            )
            return None
        if policy.reads_body:
            self.require_body()
        self._declare(element, policy.attributes, policy.text, policy.children)
        try:
            return policy.build(element, self)
        except PolicyLoadError as exc:
            self.diagnostics.extend(exc.diagnostics)
        except Exception as exc:  # a policy's build bug must still point at the document
            self.diagnostics.error("gateway-build", f"<{element.tag}> could not be built: {exc}", element.span)
        return None

    def _decl(self, element: PolicyElement) -> tuple[dict[str, Attr], Text | None]:
        """The schema of an element: recorded while building, else the registered policy's own."""
        entry = self._decls.get(id(element))
        if entry is None or entry[0] is not element:
            policy = self.registry.get(element.tag)
            if policy is None:
                return _NO_DECL
            self._declare(element, policy.attributes, policy.text, policy.children)
            entry = self._decls[id(element)]
        return entry[1], entry[2]

    def _declare(
        self, element: PolicyElement, attributes: Sequence[Attr], text: Text | None, children: Sequence[Child]
    ) -> None:
        self._decls[id(element)] = (element, {a.name: a for a in attributes}, text)
        by_tag = {c.tag: c for c in children}
        for child in element.children:
            decl = by_tag.get(child.tag)
            if decl is None:
                continue
            if decl.ref is not None and (ref := self.registry.get(decl.ref)) is not None:
                self._declare(child, ref.attributes, ref.text, ref.children)
            else:
                self._declare(child, decl.attributes, decl.text, () if decl.policies else decl.children)

    def _value(self, raw: ValueText, type_: AttrType | None, expr_allowed: bool, label: str) -> Constant | Expression:
        if raw.is_expression and expr_allowed:
            try:
                # Strings are converted here with .NET's ToString rules (Guid, DateTime, double...).
                compiled = self.expressions.compile(raw, result=None if isinstance(type_, Str) else type_)
            except PolicyLoadError as exc:
                self.diagnostics.extend(exc.diagnostics)
                return Constant(None)
            expression = Expression(compiled, type_, label, raw.span)
            if expression.uses_body:
                self.require_body()
            return expression
        if type_ is None:
            return Constant(raw.text)
        try:
            return Constant(type_.parse(raw.text))
        except ValueError as exc:
            self.diagnostics.error("policy-invalid-value", f"{label}: {exc}", raw.span)
            return Constant(None)


def build_steps(registry: PolicyRegistry, elements: Sequence[PolicyElement]) -> tuple[list[Step], PipelineBuilder]:
    """Build a flat list of policies (a fragment, a test) and raise collected diagnostics."""
    builder = PipelineBuilder(registry)
    steps = builder.steps(elements)
    builder.finish()
    return steps, builder


__all__ = ["Constant", "Expression", "PipelineBuilder", "Policy", "build_steps"]
