"""`<llm-semantic-cache-store>`: cache a language-model response for semantically similar prompts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine import clock
from engine.cache.entry import CachedResponse
from engine.policy import Builder, Flow, Policy, Value, buffer_body
from engine.schema import Attr, Int, Scope, Section
from policies._semantic_cache import PENDING

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

KEPT_HEADERS = ("Content-Type",)  # a cached answer is its body; the backend's other headers are not replayed


@dataclass(frozen=True)
class SemanticCacheStoreStep:
    duration: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        pending = PENDING.pop(ctx)
        response = ctx.response
        if pending is None or response.status_code != 200:
            return None
        content_type = response.headers.get("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() == "text/event-stream":
            return None
        duration = int(self.duration.get(ctx) or 0)
        if duration <= 0:
            return None
        await buffer_body(ctx, response)
        now = clock.now()
        entry = CachedResponse(
            200, response.status_reason or "OK",
            [(name, value) for name in KEPT_HEADERS if (value := response.headers.get(name))],
            response.body.content if response.body is not None else b"", stored_at=now, expires_at=now + duration,
        )
        await pending.store.add(pending.partition, pending.vector, entry.encode(), duration)
        return None


class LlmSemanticCacheStore(Policy):
    """Store the backend's response to a prompt that `<llm-semantic-cache-lookup>` missed, for
    `duration` seconds, under that prompt's embedding. Only 200 responses that are not streamed
    (`text/event-stream`) are stored, with their body and `Content-Type`. A failing cache never
    fails the request: the store is skipped (and counted in `policygate_redis_errors_total`)."""

    tag = "llm-semantic-cache-store"
    sections = Section.OUTBOUND
    scopes = Scope.ALL
    once_per_section = True
    reads_body = False
    implemented = True
    cache_hit_resumes_after = True  # a semantic cache hit skips to outbound and resumes after the store
    attributes = (Attr("duration", Int(min=1), required=True, doc="Time to live of the entry in seconds."),)

    def build(self, element: PolicyElement, builder: Builder) -> SemanticCacheStoreStep:
        return SemanticCacheStoreStep(builder.value(element, "duration"))
