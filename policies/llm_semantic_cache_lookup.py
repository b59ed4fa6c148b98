"""`<llm-semantic-cache-lookup>` (schema only): look up a semantically similar large-language-model completion in the cache."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Child, Enum, Float, Int, Scope, Section, Str, Text


class LlmSemanticCacheLookup(Policy):
    """Look up a semantically similar large-language-model completion in the cache.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "llm-semantic-cache-lookup"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("score-threshold", Float(), required=True),
        Attr("embeddings-backend-id", Str(non_empty=True), required=True),
        Attr("embeddings-backend-auth", Enum("system-assigned"), required=True),
        Attr("ignore-system-messages", Bool(), default=False),
        Attr("max-message-count", Int(min=1)),
    )
    children = (Child("vary-by", text=Text(required=True)),)
    allowed_in_fragment = False
    implemented = False
    unsupported_reason = "semantic caching is not implemented yet; cache-lookup caches exact requests"
