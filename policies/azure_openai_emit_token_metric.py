"""`<azure-openai-emit-token-metric>` (schema only): send Azure OpenAI token consumption metrics to Application Insights."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Scope, Section, Str


class AzureOpenaiEmitTokenMetric(Policy):
    """Send Azure OpenAI token consumption metrics to Application Insights.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "azure-openai-emit-token-metric"
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
