"""The token usage of one language-model call, found once per request and handed to every policy
that asked for it (`on_usage`).

Where the numbers come from, in order:
- the response's `usage` object (`prompt_tokens`, `completion_tokens`) when the backend sent JSON
  with one (a 2xx answer; an answer of 400 or more consumed nothing), gzip or deflate coded or not;
- a streamed answer (`text/event-stream`): its final `usage` chunk (`stream_options.include_usage`),
  otherwise an estimate: the prompt estimate plus the tokens of the streamed `delta.content` text
  (engine.llm.stream);
- otherwise (a 2xx JSON answer without usage) the prompt estimate plus the tokens of the answer's
  `choices[].message.content`; an answer that is not JSON is not read (the prompt estimate).
No backend answer (a policy answered, the request failed, or a cache lookup hit) means no usage:
`Usage.none()`.

Usage is resolved at the start of outbound, so outbound policies see variables set from it; a
streamed answer is resolved when its last chunk has been sent.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from engine.context import Context, Slot
from engine.llm.tokenizer import count_text_tokens, estimate_prompt_tokens
from engine.policy import at_end_of_pipeline, at_start_of_outbound, buffer_body

log = logging.getLogger("policygate.llm")

UsageCallback = Callable[[Context, "Usage"], Awaitable[None]]
MAX_DECODED = 64 * 1024 * 1024  # a compressed answer is read for its usage up to this size


@dataclass(frozen=True)
class Usage:
    """Tokens one call consumed; `source` is `response` (reported), `estimate` or `none`."""

    prompt: int
    completion: int
    source: str

    @property
    def total(self) -> int:
        return self.prompt + self.completion

    @classmethod
    def none(cls) -> Usage:
        return cls(0, 0, "none")


@dataclass
class _State:
    callbacks: list[UsageCallback] = field(default_factory=list)
    parsed: bool = False
    body: Any = None
    prompt_estimate: int | None = None
    resolved: bool = False


_STATE: Slot[_State] = Slot("llm.usage", _State)


def request_json(ctx: Context) -> Any:
    """The request body as parsed JSON (None when absent or not JSON), parsed once per request."""
    state = _STATE.ensure(ctx)
    if not state.parsed:
        state.parsed = True
        body = ctx.request.body
        if body is not None and body.content:
            try:
                state.body = json.loads(body.content)
            except (ValueError, UnicodeDecodeError):
                state.body = None
    return state.body


def is_stream_request(ctx: Context) -> bool:
    """True when the request asks for a streamed answer (`"stream": true`)."""
    body = request_json(ctx)
    return isinstance(body, dict) and body.get("stream") is True


async def prompt_estimate(ctx: Context) -> int:
    """The estimated prompt tokens of this request (engine.llm.tokenizer), computed once."""
    state = _STATE.ensure(ctx)
    if state.prompt_estimate is None:
        body = ctx.request.body
        state.prompt_estimate = await estimate_prompt_tokens(request_json(ctx), len(body) if body is not None else 0)
    return state.prompt_estimate


def on_usage(ctx: Context, callback: UsageCallback) -> None:
    """Call `callback(ctx, usage)` once this request's usage is known (exactly once per callback)."""
    state = _STATE.ensure(ctx)
    state.callbacks.append(callback)
    if len(state.callbacks) == 1:
        at_start_of_outbound(ctx, _resolve)
        at_end_of_pipeline(ctx, _no_outbound)


async def _no_outbound(ctx: Context) -> None:
    """Outbound never ran (a policy answered, or the request failed before it): nothing was consumed."""
    state = _STATE.ensure(ctx)
    if not state.resolved:
        state.resolved = True
        await deliver(ctx, Usage.none())


async def _resolve(ctx: Context) -> None:
    state = _STATE.ensure(ctx)
    if state.resolved:
        return
    state.resolved = True
    response = ctx.response
    if ctx.exchange.skipped_to_outbound or response.status_code >= 400:
        await deliver(ctx, Usage.none())
        return
    content_type = (response.headers.get("Content-Type") or "").lower()
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if content_type.startswith("text/event-stream"):
        from engine.llm.stream import watch_stream

        await watch_stream(ctx, await prompt_estimate(ctx), encoding)
        return
    if not _is_json(content_type):  # not a model's answer: nothing to read (and never buffer it)
        await deliver(ctx, Usage(await prompt_estimate(ctx), 0, "estimate"))
        return
    await buffer_body(ctx, response)
    content = decoded(response.body.content if response.body is not None else b"", encoding)
    await deliver(ctx, await usage_of_answer(ctx, content))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip()
    return media == "application/json" or media.endswith("+json")


def decoded(content: bytes, encoding: str) -> bytes:
    """The body without its `Content-Encoding` (gzip, deflate), at most MAX_DECODED bytes; b"" when it
    cannot be decoded (an unknown coding such as br, corrupt data)."""
    if encoding in ("identity", ""):
        return content
    decoder = content_decoder(encoding)
    if decoder is None:
        return b""
    try:
        return bytes(decoder.decompress(content, MAX_DECODED))
    except zlib.error:
        return b""


def content_decoder(encoding: str) -> Any:
    """A zlib decompressor for `gzip` / `deflate` (zlib-wrapped or raw), None for other codings."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Deflate()
    return None


class _Deflate:
    """HTTP `deflate`: zlib-wrapped as the RFC says, or raw as some servers send it."""

    def __init__(self) -> None:
        self._inner: Any = None

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        if self._inner is None:
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS)
        return bytes(self._inner.decompress(data, max_length))


async def usage_of_answer(ctx: Context, content: bytes) -> Usage:
    """Usage of a complete (not streamed) answer: reported, else estimated."""
    try:
        answer = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        answer = None
    reported = reported_usage(answer)
    if reported is not None:
        return reported
    text = ""
    if isinstance(answer, dict) and isinstance(answer.get("choices"), list):
        text = "".join(c["message"]["content"] for c in answer["choices"]
                       if isinstance(c, dict) and isinstance(c.get("message"), dict)
                       and isinstance(c["message"].get("content"), str))
    return Usage(await prompt_estimate(ctx), await count_text_tokens(text), "estimate")


def reported_usage(payload: Any) -> Usage | None:
    """The usage a response or stream event reports, when it has integer token counts: `usage` with
    `prompt_tokens` / `completion_tokens` (chat completions, embeddings: prompt and total only) or
    `input_tokens` / `output_tokens` (Responses API, where a stream's `response.completed` event
    carries it in `response.usage`)."""
    if not isinstance(payload, dict):
        return None
    usage = payload.get("usage")
    if not isinstance(usage, dict) and isinstance(payload.get("response"), dict):
        usage = payload["response"].get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = _count(usage, "prompt_tokens", "input_tokens")
    if prompt is None:
        return None
    completion = _count(usage, "completion_tokens", "output_tokens")
    if completion is None:
        total = _count(usage, "total_tokens")
        completion = total - prompt if total is not None and total >= prompt else 0
    return Usage(max(prompt, 0), max(completion, 0), "response")


def _count(usage: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = usage.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


async def deliver(ctx: Context, usage: Usage) -> None:
    """Hand `usage` to every registered callback; a failing one is logged."""
    for callback in _STATE.ensure(ctx).callbacks:
        try:
            await callback(ctx, usage)
        except Exception:
            log.exception("token usage callback %r failed", callback)
