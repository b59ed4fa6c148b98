"""`<azure-openai-semantic-cache-lookup>`: look up a semantically similar Azure OpenAI completion in the cache."""

from __future__ import annotations

from policies.llm_semantic_cache_lookup import LlmSemanticCacheLookup


class AzureOpenaiSemanticCacheLookup(LlmSemanticCacheLookup):
    """Look up a semantically similar Azure OpenAI completion in the cache.

    The Azure OpenAI form of `<llm-semantic-cache-lookup>`: the same schema and behaviour.
    """

    tag = "azure-openai-semantic-cache-lookup"
