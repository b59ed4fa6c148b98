"""Cached responses as one compact binary string, so a cache hit is a single GET.

Layout (little endian)::

    b"PG\\x02"                     magic + format version
    f64 stored_at, f64 expires_at  Unix seconds (expiry drives the downstream max-age)
    u16 status, u16 reason length, u32 header block length
    reason                         UTF-8
    header block                   latin-1 "name\\0value\\0name\\0value..." (NUL cannot occur in HTTP headers)
    body                           the rest of the string, verbatim

Anything that does not parse (another program's value under our prefix, a truncated write, an older
format) is reported as `EntryFormatError` and treated by the caller as a miss.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

MAGIC = b"PG\x02"
_HEAD = struct.Struct("<ddHHI")


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
        fields = (part.replace("\0", "") for name, value in self.headers for part in (name, value))
        block = "\0".join(fields).encode("latin-1", "replace")
        head = _HEAD.pack(self.stored_at, self.expires_at, self.status, len(reason), len(block))
        return b"".join((MAGIC, head, reason, block, self.body))

    @classmethod
    def decode(cls, data: bytes) -> CachedResponse:
        if data[:3] != MAGIC:
            raise EntryFormatError("not a policygate cached response")
        try:
            stored_at, expires_at, status, reason_size, block_size = _HEAD.unpack_from(data, 3)
            pos = 3 + _HEAD.size
            reason = data[pos : pos + reason_size].decode("utf-8")
            pos += reason_size
            end = pos + block_size
            if end > len(data):
                raise EntryFormatError("truncated cached response")
            fields = data[pos:end].decode("latin-1").split("\0") if block_size else []
        except (struct.error, UnicodeDecodeError) as exc:
            raise EntryFormatError(f"corrupt cached response: {exc}") from None
        if len(fields) % 2:
            raise EntryFormatError("corrupt cached response: unpaired header")
        pairs = iter(fields)
        return cls(status, reason, list(zip(pairs, pairs, strict=True)), data[end:], stored_at, expires_at)


# cache-store-value values: one type byte, then the value's text (UTF-8) or raw bytes.
_VALUE_TAGS: dict[type, bytes] = {str: b"s", bool: b"b", int: b"i", float: b"f", bytes: b"x"}


def encode_value(value: object) -> bytes:
    """Encode a cache-store-value value; types other than str/bool/int/float/bytes/None store their text."""
    if value is None:
        return b"n"
    tag = _VALUE_TAGS.get(type(value))
    if tag == b"x" and isinstance(value, bytes):
        return tag + value
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
