"""Cached responses as one compact binary string, so a cache hit is a single GET.

Layout (little endian)::

    b"PG\\x01"                     magic + format version
    f64 stored_at, f64 expires_at  Unix seconds (expiry drives the downstream max-age)
    u16 status, u16 header count
    u16 len + reason (UTF-8)
    per header line: u16 len + name (latin-1), u32 len + value (latin-1)
    body                           the rest of the string, verbatim

Anything that does not parse (another program's value under our prefix, a truncated write, an older
format) is reported as `EntryFormatError` and treated by the caller as a miss.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAGIC = b"PG\x01"
_HEAD = struct.Struct("<ddHH")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


class EntryFormatError(ValueError):
    """The bytes are not a cached response written by this version."""


@dataclass
class CachedResponse:
    """A response as stored: status, reason, header lines (in order, repeated names allowed) and body."""

    status: int
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stored_at: float = 0.0
    expires_at: float = 0.0

    def encode(self) -> bytes:
        reason = self.reason.encode("utf-8")[:0xFFFF]
        parts = [MAGIC, _HEAD.pack(self.stored_at, self.expires_at, self.status, len(self.headers))]
        parts.append(_U16.pack(len(reason)))
        parts.append(reason)
        for name, value in self.headers:
            raw_name = name.encode("latin-1", "replace")
            raw_value = value.encode("latin-1", "replace")
            parts.append(_U16.pack(len(raw_name)))
            parts.append(raw_name)
            parts.append(_U32.pack(len(raw_value)))
            parts.append(raw_value)
        parts.append(self.body)
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> CachedResponse:
        if data[:3] != MAGIC:
            raise EntryFormatError("not a policygate cached response")
        try:
            view = memoryview(data)
            pos = 3
            stored_at, expires_at, status, count = _HEAD.unpack_from(view, pos)
            pos += _HEAD.size
            (size,) = _U16.unpack_from(view, pos)
            pos += 2
            reason = bytes(view[pos : pos + size]).decode("utf-8")
            pos += size
            headers: list[tuple[str, str]] = []
            for _ in range(count):
                (size,) = _U16.unpack_from(view, pos)
                pos += 2
                name = bytes(view[pos : pos + size]).decode("latin-1")
                pos += size
                (size,) = _U32.unpack_from(view, pos)
                pos += 4
                value = bytes(view[pos : pos + size]).decode("latin-1")
                pos += size
                headers.append((name, value))
            if pos > len(data):
                raise EntryFormatError("truncated cached response")
            body = bytes(view[pos:])
        except (struct.error, UnicodeDecodeError) as exc:
            raise EntryFormatError(f"corrupt cached response: {exc}") from None
        return cls(status, reason, headers, body, stored_at, expires_at)


# cache-store-value values: one type byte, then the value's text (UTF-8) or raw bytes.
_VALUE_TAGS: dict[type, bytes] = {str: b"s", bool: b"b", int: b"i", float: b"f", bytes: b"x"}


def encode_value(value: object) -> bytes:
    """Encode a cache-store-value value; types other than str/bool/int/float/bytes/None store their text."""
    if value is None:
        return b"n"
    tag = _VALUE_TAGS.get(type(value))
    if tag == b"x":
        return tag + value  # type: ignore[operator]
    if tag == b"b":
        return b"b1" if value else b"b0"
    if tag in (b"i", b"f"):
        return tag + repr(value).encode("ascii")
    return b"s" + str(value).encode("utf-8")


def decode_value(data: bytes) -> object:
    """Inverse of `encode_value`; raises EntryFormatError on foreign data."""
    tag, rest = data[:1], data[1:]
    try:
        if tag == b"s":
            return rest.decode("utf-8")
        if tag == b"i":
            return int(rest)
        if tag == b"f":
            return float(rest)
        if tag == b"b":
            return rest == b"1"
        if tag == b"x":
            return bytes(rest)
        if tag == b"n":
            return None
    except (ValueError, UnicodeDecodeError) as exc:
        raise EntryFormatError(f"corrupt cached value: {exc}") from None
    raise EntryFormatError("not a policygate cached value")
