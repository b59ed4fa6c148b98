"""Token usage of a streamed (`text/event-stream`) answer, read as its events pass to the client.

A `BodyObserver` decodes the events (engine.sse) without holding the stream back: the usage is the
final chunk's `usage` (sent when the request has `stream_options.include_usage`), otherwise an
estimate: the prompt estimate plus the tokens of every `choices[].delta.content` seen (kept up to
MAX_TEXT characters; the rest is counted at 4 characters a token). The usage is delivered once the
last chunk has been sent, or the stream broke off.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from engine.context import Context
from engine.llm.tokenizer import count_text_tokens
from engine.llm.usage import MAX_DECODED, Usage, content_decoder, deliver, reported_usage
from engine.policy import observe_response_body
from engine.sse import SseDecoder

MAX_TEXT = 1024 * 1024
CHARS_PER_TOKEN = 4  # beyond MAX_TEXT


class StreamUsage:
    """Watches one streamed answer for its usage (an `engine.policy.BodyObserver`)."""

    def __init__(self, prompt_estimate: int, encoding: str = "identity") -> None:
        self.prompt_estimate = prompt_estimate
        self.inflate = content_decoder(encoding) if encoding not in ("identity", "") else None
        self.unreadable = self.inflate is None and encoding not in ("identity", "")
        self.decoded = 0
        self.decoder = SseDecoder()
        self.reported: Usage | None = None
        self.text: list[str] = []
        self.kept = 0
        self.overflow = 0

    def chunk(self, data: bytes) -> None:
        if self.unreadable:
            return
        if self.inflate is not None:
            try:
                data = self.inflate.decompress(data, max(1, MAX_DECODED - self.decoded))
            except zlib.error:
                self.unreadable = True
                return
            self.decoded += len(data)
        for event in self.decoder.feed(data):
            if event.data == "[DONE]" or not event.data.startswith("{"):
                continue
            try:
                payload: Any = json.loads(event.data)
            except ValueError:
                continue
            usage = reported_usage(payload)
            if usage is not None:
                self.reported = usage
            if isinstance(payload, dict) and payload.get("type") == "response.output_text.delta":
                if isinstance(payload.get("delta"), str):
                    self._keep(payload["delta"])  # Responses API stream
                continue
            for choice in payload.get("choices") or () if isinstance(payload, dict) else ():
                delta = choice.get("delta") if isinstance(choice, dict) else None
                content = delta.get("content") if isinstance(delta, dict) else None
                if isinstance(content, str) and content:
                    self._keep(content)

    def _keep(self, content: str) -> None:
        room = MAX_TEXT - self.kept
        if room > 0:
            self.text.append(content[:room])
            self.kept += min(room, len(content))
        self.overflow += max(0, len(content) - max(room, 0))

    async def finished(self, ctx: Context, complete: bool) -> None:
        usage = self.reported
        if usage is None:
            completion = await count_text_tokens("".join(self.text)) + -(-self.overflow // CHARS_PER_TOKEN)
            usage = Usage(self.prompt_estimate, completion, "estimate")
        await deliver(ctx, usage)


async def watch_stream(ctx: Context, prompt_estimate: int, encoding: str = "identity") -> None:
    """Deliver the usage of the streamed answer in `ctx.response` once it has been sent (a gzip or
    deflate coded stream is inflated for reading; another coding leaves the estimate)."""
    observe_response_body(ctx, StreamUsage(prompt_estimate, encoding))
