"""`<llm-emit-token-metric>`: count the prompt, completion and total tokens of language-model calls
as Prometheus counters on /metrics, split by the declared dimensions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.llm.tokenizer import preload
from engine.llm.usage import Usage, on_usage
from engine.policy import Builder, Flow, Policy
from engine.schema import Attr, Child, Scope, Section, Str
from policies.emit_metric import (
    DEFAULT_DIMENSIONS,
    Dimension,
    build_dimensions,
    check_dimensions,
    default_dimension,
    labelled_counter,
)

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TOKEN_DIMENSIONS = (*DEFAULT_DIMENSIONS, "client ip")
SERIES = (
    ("policygate_llm_prompt_tokens_total", "Prompt tokens of language-model calls (<llm-emit-token-metric>).", "prompt"),
    ("policygate_llm_completion_tokens_total", "Completion tokens of language-model calls (<llm-emit-token-metric>).", "completion"),
    ("policygate_llm_total_tokens_total", "Prompt plus completion tokens of language-model calls (<llm-emit-token-metric>).", "total"),
)


def dimension_value(ctx: Context, dim: Dimension) -> str:
    if dim.value is not None:
        raw = dim.value.get(ctx)
        return "" if raw is None else str(raw)
    if dim.name.lower() == "client ip":
        return ctx.request.ip_address
    return default_dimension(ctx, dim.name)


@dataclass(frozen=True)
class EmitTokenMetricStep:
    tag: str
    namespace: str
    dimensions: tuple[Dimension, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        metrics = ctx.services.metrics if ctx.services is not None else None
        if metrics is None:
            return None
        values = (self.namespace, *(dimension_value(ctx, d) for d in self.dimensions))  # as the request arrived
        labels = ("namespace", *(d.label for d in self.dimensions))

        async def emit(_: Context, usage: Usage) -> None:
            if usage.source == "none":
                return
            for name, help_text, part in SERIES:
                counter = labelled_counter(metrics, name, help_text, labels, self.tag)
                if counter is None:
                    return
                amount = usage.prompt if part == "prompt" else usage.completion if part == "completion" else usage.total
                counter.inc(*values, amount=float(amount))

        on_usage(ctx, emit)
        return None


def dimension_child(max_dimensions: int) -> Child:
    return Child(
        "dimension",
        attributes=(
            Attr("name", Str(non_empty=True), required=True, expr=False, doc="Dimension name (a label)."),
            Attr("value", Str(), doc="Dimension value; optional only for the default dimensions."),
        ),
        min=1,
        max=max_dimensions,
        doc="A dimension (label) of the token counters.",
    )


class LlmEmitTokenMetric(Policy):
    """Count the tokens of each language-model call: the counters `policygate_llm_prompt_tokens_total`,
    `policygate_llm_completion_tokens_total` and `policygate_llm_total_tokens_total` on /metrics,
    labelled `namespace` plus one label per dimension (up to 5).

    Counts come from the answer's `usage`; a streamed answer without a usage chunk, or an answer
    without `usage`, is estimated (docs/ai-gateway.md); a call that got no backend answer, or an
    answer of 400 or more, counts nothing. A dimension without `value` must be a default one (API
    ID, Operation ID, Product ID, User ID, Subscription ID, Location, Gateway ID, Client IP), filled
    from the request. Dimension values are taken when the policy runs. All token-metric policies
    must declare the same dimensions (the first one emitted fixes the label set; others are logged
    and not emitted).
    """

    tag = "llm-emit-token-metric"
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False  # the request body is read only for estimates; the answer may stream
    implemented = True
    attributes = (Attr("namespace", Str(), default="API Management", expr=False, doc="Metric namespace (a label)."),)
    children = (dimension_child(5),)

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_dimensions(element, diagnostics, TOKEN_DIMENSIONS)

    def build(self, element: PolicyElement, builder: Builder) -> EmitTokenMetricStep:
        builder.require_body(request=True, response=False)  # for estimates
        preload()
        namespace = element.get("namespace")
        return EmitTokenMetricStep(self.tag, namespace.text if namespace is not None else "API Management",
                                   build_dimensions(element, builder))
