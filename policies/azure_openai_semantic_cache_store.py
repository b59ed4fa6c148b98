"""`<azure-openai-semantic-cache-store>`: store an Azure OpenAI completion in the cache for semantic lookups."""

from __future__ import annotations

from policies.llm_semantic_cache_store import LlmSemanticCacheStore


class AzureOpenaiSemanticCacheStore(LlmSemanticCacheStore):
    """Store an Azure OpenAI completion in the cache for semantic lookups.

    The Azure OpenAI form of `<llm-semantic-cache-store>`: the same schema and behaviour.
    """

    tag = "azure-openai-semantic-cache-store"
