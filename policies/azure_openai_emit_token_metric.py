"""`<azure-openai-emit-token-metric>` (schema only): send Azure OpenAI token consumption metrics to Application Insights."""

from __future__ import annotations

from policies.llm_emit_token_metric import LlmEmitTokenMetric


class AzureOpenaiEmitTokenMetric(LlmEmitTokenMetric):
    """Send Azure OpenAI token consumption metrics to Application Insights.

    The Azure OpenAI form of `<llm-emit-token-metric>`, with the same schema. Declared so
    documents using it lint; the gateway does not run it yet and refuses to load a document that
    uses it.
    """

    tag = "azure-openai-emit-token-metric"
