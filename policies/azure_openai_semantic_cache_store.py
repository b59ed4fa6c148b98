"""`<azure-openai-semantic-cache-store>` (schema only): store an Azure OpenAI completion in the cache for semantic lookups."""

from __future__ import annotations

from policies.llm_semantic_cache_store import LlmSemanticCacheStore


class AzureOpenaiSemanticCacheStore(LlmSemanticCacheStore):
    """Store an Azure OpenAI completion in the cache for semantic lookups.

    The Azure OpenAI form of `<llm-semantic-cache-store>`, with the same schema. Declared so
    documents using it lint; the gateway does not run it yet and refuses to load a document that
    uses it.
    """

    tag = "azure-openai-semantic-cache-store"
