"""`<azure-openai-semantic-cache-lookup>` (schema only): look up a semantically similar Azure OpenAI completion in the cache."""

from __future__ import annotations

from policies.llm_semantic_cache_lookup import LlmSemanticCacheLookup


class AzureOpenaiSemanticCacheLookup(LlmSemanticCacheLookup):
    """Look up a semantically similar Azure OpenAI completion in the cache.

    The Azure OpenAI form of `<llm-semantic-cache-lookup>`, with the same schema. Declared so
    documents using it lint; the gateway does not run it yet and refuses to load a document that
    uses it.
    """

    tag = "azure-openai-semantic-cache-lookup"
