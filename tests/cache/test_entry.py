"""The binary cached-response format and cache-store-value encoding."""

from __future__ import annotations

import pytest

from engine.cache.entry import CachedResponse, EntryFormatError, decode_value, encode_value


def test_round_trip_keeps_status_reason_repeated_headers_and_body() -> None:
    entry = CachedResponse(
        203, "Non-Authoritative", [("Content-Type", "application/json"), ("X-A", "1"), ("X-A", "2")],
        b'{"ok":true}\x00\xff', stored_at=1000.5, expires_at=1060.5,
    )
    back = CachedResponse.decode(entry.encode())
    assert back == entry


def test_nul_in_a_header_cannot_shift_the_pairs() -> None:
    back = CachedResponse.decode(CachedResponse(200, "OK", [("X-A", "a\0b"), ("X-B", "")]).encode())
    assert back.headers == [("X-A", "ab"), ("X-B", "")]


def test_empty_body_and_no_headers() -> None:
    assert CachedResponse.decode(CachedResponse(204).encode()) == CachedResponse(204)


@pytest.mark.parametrize("data", [b"", b"hello", b"PG\x01\x00\x00", CachedResponse(200, "OK", [("A", "b" * 50)]).encode()[:-20]])
def test_foreign_or_truncated_data_is_rejected(data: bytes) -> None:
    with pytest.raises(EntryFormatError):
        CachedResponse.decode(data)


@pytest.mark.parametrize("value", ["text ü", "", 42, -7, 2.5, True, False, None, b"\x00raw"])
def test_values_keep_their_type(value: object) -> None:
    back = decode_value(encode_value(value))
    assert back == value and type(back) is type(value)


def test_other_values_are_stored_as_text() -> None:
    assert decode_value(encode_value(["a", 1])) == "['a', 1]"


@pytest.mark.parametrize("data", [b"", b"?x", b"inope", b"s\xff"])
def test_unreadable_values(data: bytes) -> None:
    with pytest.raises(EntryFormatError):
        decode_value(data)
