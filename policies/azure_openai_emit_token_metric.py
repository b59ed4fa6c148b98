"""`<azure-openai-emit-token-metric>`: count Azure OpenAI token consumption on /metrics."""

from __future__ import annotations

from policies.llm_emit_token_metric import LlmEmitTokenMetric, dimension_child


class AzureOpenaiEmitTokenMetric(LlmEmitTokenMetric):
    """Count the tokens of each Azure OpenAI call: the Azure OpenAI form of `<llm-emit-token-metric>`,
    with the same counters and behaviour, and up to 10 dimensions.
    """

    tag = "azure-openai-emit-token-metric"
    children = (dimension_child(10),)
