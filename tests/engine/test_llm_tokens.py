"""engine.llm: the usage a response reports (chat completions, embeddings, Responses API), coded
bodies, and the prompt estimate of each request shape (o200k_base, OpenAI's chat counting rule)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from engine.llm.tokenizer import estimate_prompt_tokens
from engine.llm.usage import Usage, decoded, reported_usage


@pytest.mark.parametrize(("payload", "usage"), [
    ({"usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}, Usage(7, 3, "response")),
    ({"usage": {"prompt_tokens": 7, "total_tokens": 7}}, Usage(7, 0, "response")),  # embeddings
    ({"usage": {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}}, Usage(7, 3, "response")),
    ({"type": "response.completed", "response": {"usage": {"input_tokens": 2, "output_tokens": 1}}}, Usage(2, 1, "response")),
    ({"usage": None}, None),  # a stream chunk before the last
    ({"usage": {"prompt_tokens": "7"}}, None),
    ({"usage": {"prompt_tokens": True, "completion_tokens": 1}}, None),
    ([1, 2], None),
])
def test_reported_usage(payload: object, usage: Usage | None) -> None:
    assert reported_usage(payload) == usage


def test_coded_bodies_are_decoded_for_reading() -> None:
    body = b'{"usage": {}}'
    assert decoded(gzip.compress(body), "gzip") == body
    assert decoded(zlib.compress(body), "deflate") == body
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded(raw.compress(body) + raw.flush(), "deflate") == body  # raw deflate, as some servers send
    assert decoded(body, "br") == b"" and decoded(b"not gzip", "gzip") == b""


@pytest.mark.parametrize(("body", "tokens"), [
    ({"messages": [{"role": "user", "content": "one two three four five"}]}, 3 + 3 + 1 + 5),
    ({"messages": [{"role": "user", "name": "ann", "content": [{"type": "text", "text": "one two"},
                                                              {"type": "image_url", "image_url": {"url": "x"}}]}]},
     3 + 3 + 1 + (1 + 1) + 2 + 1200),
    ({"instructions": "Be brief.", "input": [{"role": "user", "content": [{"type": "input_text", "text": "one two"}]}]},
     3 + (3 + 3) + (3 + 1 + 2)),  # Responses API: instructions count as one more message
    ({"input": ["one two", "three"]}, 3),  # embeddings
    ({"input": [[1, 2, 3]]}, 3),  # token arrays count their length
    ({"prompt": "one two three"}, 3),  # completions
    ({"something": "else"}, 0),
    ("not an object", 0),
])
async def test_prompt_estimate(body: object, tokens: int) -> None:
    assert await estimate_prompt_tokens(body) == tokens
    assert await estimate_prompt_tokens(body, size=1 << 20) == tokens  # counted on a worker thread
