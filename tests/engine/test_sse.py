"""engine.sse: the incremental event-stream decoder, fed the way a body observer sees a stream."""

from __future__ import annotations

import json

from engine.sse import SseDecoder, SseEvent

COMPLETION = (
    b'data: {"choices":[{"delta":{"content":"Hel"}}],"usage":null}\n\n'
    b": keep-alive\n\n"
    b'data: {"choices":[{"delta":{"content":"lo"}}],"usage":null}\r\n\r\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n'
    b"data: [DONE]\n\n"
)


def decode_in_pieces(data: bytes, size: int, decoder: SseDecoder | None = None) -> list[SseEvent]:
    decoder = decoder or SseDecoder()
    events: list[SseEvent] = []
    for start in range(0, len(data), size):
        events += decoder.feed(data[start:start + size])
    return events


def test_events_are_the_same_however_the_stream_is_cut() -> None:
    whole = decode_in_pieces(COMPLETION, len(COMPLETION))
    assert [e.data for e in whole][-1] == "[DONE]"
    assert json.loads(whole[2].data)["usage"]["total_tokens"] == 7
    for size in (1, 2, 3, 7, 64):  # CR LF pairs and UTF-8 sequences split between chunks
        assert decode_in_pieces(COMPLETION, size) == whole


def test_fields_follow_the_whatwg_rules() -> None:
    text = "\ufeffevent: delta\nid: 7\ndata: line 1\ndata:line 2\nretry: 100\nunknown\n\ndata: é\r\rdata\n\n".encode()
    events = decode_in_pieces(text, 1)
    assert events == [SseEvent("line 1\nline 2", "delta", "7"), SseEvent("é", "message", "7"), SseEvent("", "message", "7")]


def test_an_unfinished_event_is_kept_until_its_blank_line() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b'data: {"a":') == []
    assert decoder.feed(b"1}\n") == []
    assert decoder.feed(b"\n") == [SseEvent('{"a":1}')]


def test_an_oversized_event_is_dropped_and_memory_stays_bounded() -> None:
    decoder = SseDecoder(max_event_bytes=100)
    assert decoder.feed(b"data: " + b"x" * 80 + b"\ndata: " + b"y" * 80 + b"\n\n") == []
    assert decoder.feed(b"data: " + b"z" * 500) == []  # a line that does not end is not kept
    assert len(decoder._partial) == 0
    assert decoder.feed(b"z" * 500 + b"\n\ndata: ok\n\n") == [SseEvent("ok")]
    assert decoder.dropped == 2
