"""What llm-semantic-cache-lookup and -store share: the prompt text, its partition, its embedding.

The lookup leaves a `PendingEntry` (store, partition, prompt vector) for the store when it missed;
the store saves the response under that vector. Nothing is left on a hit, when the request is not
cacheable, or when the embeddings backend failed, so the store then does nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.context import Slot
from engine.semantic.index import Vector, unit_vector
from policies._llm_request import messages_of
from policies._service_call import ServiceCallError, backend_url, post_json

if TYPE_CHECKING:
    from engine.context import Context
    from engine.semantic.stores import SemanticStore

log = logging.getLogger("policygate.semantic_cache")

EMBEDDINGS_TIMEOUT = 10.0  # seconds for the embeddings backend's answer
SYSTEM_ROLES = ("system", "developer")  # what ignore-system-messages removes (developer: the o1+ name of system)


@dataclass(frozen=True)
class PendingEntry:
    store: SemanticStore
    partition: str
    vector: Vector


PENDING: Slot[PendingEntry] = Slot("semantic_cache.pending")


def prompt_text(body: Any, *, ignore_system: bool, max_messages: int | None) -> str | None:
    """The text embedded for a chat completions, completions or Responses API request body.

    One line per message, `role: text`, after removing system (and developer) messages when
    `ignore_system`. None: not cacheable (not such a request, a streamed one, no text, or more than
    `max_messages` messages left).
    """
    messages = messages_of(body)
    if messages is None or body.get("stream") is True:
        return None
    if ignore_system:
        messages = [(role, text) for role, text in messages if role not in SYSTEM_ROLES]
    if max_messages is not None and len(messages) > max_messages:
        return None
    text = "\n".join(f"{role}: {content}" for role, content in messages if content)
    return text or None


def partition_of(cache_id: str, api_id: str, vary_by: Sequence[str]) -> str:
    """The digest naming a partition: cache-id, the API and the vary-by values (order matters)."""
    text = "\0".join((cache_id, api_id, *vary_by))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


async def embed(ctx: Context, backend_id: str, text: str, source: str) -> Vector | None:
    """The unit embedding of `text` from the embeddings backend; None (logged) when it cannot be had."""
    try:
        status, answer = await post_json(ctx, backend_url(ctx, backend_id), {"input": text},
                                         source=source, timeout=EMBEDDINGS_TIMEOUT)
    except ServiceCallError as exc:
        log.warning("%s: embeddings backend '%s' failed: %s", source, backend_id, exc)
        return None
    vector = None
    if status == 200 and isinstance(answer, dict):
        data = answer.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            vector = unit_vector(data[0].get("embedding"))
    if vector is None:
        log.warning("%s: embeddings backend '%s' answered %s without a usable embedding", source, backend_id, status)
    return vector
