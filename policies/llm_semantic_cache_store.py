"""`<llm-semantic-cache-store>` (schema only): store a large-language-model completion in the cache for semantic lookups."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Int, Scope, Section


class LlmSemanticCacheStore(Policy):
    """Store a large-language-model completion in the cache for semantic lookups.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "llm-semantic-cache-store"
    sections = Section.OUTBOUND
    scopes = Scope.ALL
    attributes = (Attr("duration", Int(min=1), required=True, doc="Time to live of the entry in seconds."),)
    implemented = False
    unsupported_reason = "semantic caching is not implemented yet; cache-store caches exact requests"
