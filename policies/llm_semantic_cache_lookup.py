"""`<llm-semantic-cache-lookup>`: answer a language-model request from the cache when a similar prompt was answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.cache.entry import CachedResponse, EntryFormatError
from engine.context import Headers, MessageBody
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Child, Enum, Float, Int, Scope, Section, Str, Text
from policies._llm_request import request_json
from policies._semantic_cache import PENDING, PendingEntry, embed, partition_of, prompt_text

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

RISKY_THRESHOLD = 0.2  # APIM's docs: values above 0.2 may lead to mismatches


@dataclass(frozen=True)
class SemanticCacheLookupStep:
    tag: str
    threshold: Value
    backend_id: Value
    ignore_system: Value
    max_messages: Value | None
    cache_id: Value
    vary_by: tuple[Value, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        cache = getattr(ctx.services, "cache", None)
        semantic = getattr(cache, "semantic", None)
        if semantic is None:
            return None
        max_messages = int(self.max_messages.get(ctx)) if self.max_messages is not None else None
        text = prompt_text(request_json(ctx), ignore_system=bool(self.ignore_system.get(ctx)), max_messages=max_messages)
        if text is None:
            semantic.count(None, "skipped")
            self._trace(ctx, "the request is not a cacheable prompt (not JSON chat/completions, streamed, or too many messages)")
            return None
        store = semantic.store()
        vector = await embed(ctx, str(self.backend_id.get(ctx) or ""), text, self.tag)
        if vector is None:
            semantic.count(store, "error")
            self._trace(ctx, "no embedding could be had: a miss, and the response will not be stored")
            return None
        partition = partition_of(str(self.cache_id.get(ctx) or ""), ctx.api.id if ctx.api is not None else "",
                                 [str(v.get(ctx) or "") for v in self.vary_by])
        PENDING.set(ctx, PendingEntry(store, partition, vector))
        match, reachable = await store.search(partition, vector, float(self.threshold.get(ctx)))
        if match is not None:
            try:
                entry = CachedResponse.decode(match.payload)
            except EntryFormatError:
                match = None
            else:
                PENDING.pop(ctx)
                response = ctx.response
                response.status_code, response.status_reason = entry.status, entry.reason
                response.headers = Headers(entry.headers)
                response.body = MessageBody(entry.body)
                semantic.count(store, "hit")
                self._trace(ctx, f"hit at cosine distance {match.distance:.4f}; the cached response is used")
                return Flow.SKIP_TO_OUTBOUND
        semantic.count(store, "miss" if reachable else "error")
        self._trace(ctx, "miss" if reachable else "the cache could not be reached: a miss")
        return None

    def _trace(self, ctx: Context, message: str) -> None:
        if ctx.tracing:
            ctx.trace(f"Semantic cache lookup: {message}.", self.tag)


class LlmSemanticCacheLookup(Policy):
    """Embed the prompt of a chat completions, completions or Responses API request with the
    embeddings backend `embeddings-backend-id` (an entry of `backends:`; its URL is POSTed
    `{"input": "<prompt>"}` and answers OpenAI's embeddings format), then look for a cached prompt
    whose cosine distance (1 - cosine similarity) to it is at most `score-threshold`: lower is
    stricter, as in APIM's documentation (0.05 is a good start). On a hit the cached response
    answers the request: the rest of inbound and the backend are skipped and outbound resumes after
    `<llm-semantic-cache-store>`. On a miss the store saves the backend's answer.

    The cache is partitioned by `cache-id`, the API and the `vary-by` values, and lives in the
    external cache (Redis) when one is configured, else in this process. The prompt is one line per
    message (`role: text`); `ignore-system-messages` drops system and developer messages first;
    with `max-message-count`, a request with more messages than that is not cached. Streamed
    requests (`"stream": true`) are not cached. When the embeddings backend or Redis fails, the
    lookup is a miss and the request goes on to the backend (never an error).
    `embeddings-backend-auth="system-assigned"`: the gateway's identity (`identity:`) gets a token
    for `https://cognitiveservices.azure.com`; without `identity:` the call carries no credentials.
    """

    tag = "llm-semantic-cache-lookup"
    sections = Section.INBOUND
    scopes = Scope.ALL
    once_per_section = True
    reads_body = False
    implemented = True
    attributes = (
        Attr("score-threshold", Float(), required=True,
             doc="Largest cosine distance (0-1) of a cached prompt that still counts as a hit; lower is stricter."),
        Attr("embeddings-backend-id", Str(non_empty=True), required=True,
             doc="The backend (`backends:`) of the embeddings API."),
        Attr("embeddings-backend-auth", Enum("system-assigned"), required=True,
             doc="`system-assigned`: a token of the gateway's identity when `identity:` is configured."),
        Attr("ignore-system-messages", Bool(), default=False, doc="Leave system messages out of the compared prompt."),
        Attr("max-message-count", Int(min=1), doc="Requests with more messages than this are not cached."),
        Attr("cache-id", Str(), doc="Name of a separate cache (a partition of its own)."),
    )
    children = (Child("vary-by", text=Text(required=True), doc="A value the cache is partitioned by."),)
    allowed_in_fragment = False

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        threshold = element.get("score-threshold")
        if threshold is None or threshold.is_expression:
            return
        try:
            value = float(threshold.text.strip())
        except ValueError:
            return  # the schema reports it
        if not 0.0 <= value <= 1.0:
            diagnostics.error("policy-bad-value", f"score-threshold {value:g} is not between 0 and 1", threshold.span)
        elif value > RISKY_THRESHOLD:
            diagnostics.warning(
                "semantic-cache-loose-threshold",
                f"score-threshold {value:g} is a cosine distance: lower is stricter, and above {RISKY_THRESHOLD:g} "
                "unrelated prompts start to match",
                threshold.span,
                f"the APIM policy toolkit reads it as a similarity: write {1 - value:.2g} for its {value:g}",
            )

    def build(self, element: PolicyElement, builder: Builder) -> SemanticCacheLookupStep:
        builder.require_body(request=True, response=False)
        return SemanticCacheLookupStep(
            tag=self.tag,
            threshold=builder.value(element, "score-threshold"),
            backend_id=builder.value(element, "embeddings-backend-id"),
            ignore_system=builder.value(element, "ignore-system-messages"),
            max_messages=builder.value(element, "max-message-count") if element.get("max-message-count") is not None else None,
            cache_id=builder.value(element, "cache-id"),
            vary_by=tuple(builder.text_value(child) for child in element.children_named("vary-by")),
        )
