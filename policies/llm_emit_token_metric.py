"""`<llm-emit-token-metric>` (schema only): send large-language-model token consumption metrics to Application Insights."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Scope, Section, Str


class LlmEmitTokenMetric(Policy):
    """Send large-language-model token consumption metrics to Application Insights.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "llm-emit-token-metric"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (Attr("namespace", Str(), default="API Management", expr=False),)
    children = (
        Child(
            "dimension",
            attributes=(Attr("name", Str(non_empty=True), required=True), Attr("value", Str())),
        ),
    )
    implemented = False
    unsupported_reason = "not implemented yet; emit-metric can count calls"
