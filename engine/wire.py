"""HTTP header framing shared by everything that sends a message: the gateway (to clients and the
backend) and the policies that call other services (send-request, send-one-way-request)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.context import Headers

HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade",
    }
)
# Header fields that are sent as one line per value instead of one comma-joined line (set-header docs).
SEPARATE_LINES = frozenset(
    {
        "user-agent", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie", "warning", "date",
        "expires", "if-modified-since", "if-unmodified-since", "last-modified", "retry-after",
    }
)


def wire_headers(headers: Headers, skip: frozenset[str] = HOP_BY_HOP) -> list[tuple[str, str]]:
    """Header lines to send: comma-joined values, except the fields that need one line per value."""
    dropped = _connection_tokens(headers) if "connection" in headers else ()
    lines: list[tuple[str, str]] = []
    for lower, (name, values) in headers.entries():
        if lower in skip or lower in dropped:
            continue
        if len(values) == 1:
            lines.append((name, values[0]))
        elif lower in SEPARATE_LINES:
            lines.extend((name, value) for value in values)
        else:
            lines.append((name, ",".join(values)))
    return lines


def encoded_headers(headers: Headers, skip: frozenset[str] = HOP_BY_HOP) -> list[tuple[bytes, bytes]]:
    """`wire_headers` as the byte pairs an ASGI server sends: names latin-1, values latin-1 (UTF-8 when
    they do not fit), CR and LF in values replaced by spaces so a value can never start a new header."""
    dropped = _connection_tokens(headers) if "connection" in headers else ()
    encoded: list[tuple[bytes, bytes]] = []
    for lower, (name, values) in headers.entries():
        if lower in skip or lower in dropped:
            continue
        raw_name = _NAMES.get(name)
        if raw_name is None:
            raw_name = _encoded_name(name)
        if len(values) == 1:
            value = values[0]  # most are printable ASCII: encoded here, without a call to _encode_value
            encoded.append((raw_name, value.encode() if value.isascii() and value.isprintable() else _encode_value(value)))
        elif lower in SEPARATE_LINES:
            for value in values:
                encoded.append((raw_name, _encode_value(value)))
        else:
            encoded.append((raw_name, _encode_value(",".join(values))))
    return encoded


_NAMES: dict[str, bytes] = {}  # header names as sent: a few dozen in practice, bounded below


def _encoded_name(name: str) -> bytes:
    raw = name.encode("latin-1", "replace")
    if len(_NAMES) < 1024:
        _NAMES[name] = raw
    return raw


def _encode_value(value: str) -> bytes:
    if "\r" in value or "\n" in value:
        value = value.replace("\r", " ").replace("\n", " ")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _connection_tokens(headers: Headers) -> frozenset[str]:
    value = headers.get("connection")
    if not value:
        return frozenset()
    return frozenset(token.strip().lower() for token in value.split(",") if token.strip())




_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKENS = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?::[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*")
_NEW_LINE = re.compile(r"[\r\n]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # HTAB is allowed in field values


def header_problem(name: str, values: Iterable[str]) -> str | None:
    """Why a header cannot be sent as it is (.NET's wording), or None.

    CR and LF would split the header into a second one (request smuggling), so, like .NET's
    HttpHeaders, they are refused rather than sent or silently replaced.
    """
    if not _TOKEN.fullmatch(name):
        return f"The header name '{name[:100]}' has an invalid format."
    for value in values:
        if _NEW_LINE.search(value):
            return f"New-line characters are not allowed in header values (header '{name}')."
        if _CONTROL.search(value):
            return f"Control characters are not allowed in header values (header '{name}')."
    return None


def first_header_problem(headers: Headers) -> str | None:
    """The first header of `headers` that cannot be sent (see `header_problem`), or None."""
    names = headers.names()
    if _TOKENS.fullmatch(":".join(names)) and not _NEW_LINE.search(values := "\t".join(
            value for _, value in headers.pairs())) and not _CONTROL.search(values):
        return None  # the common case, in three regex passes over the whole header block
    for name, values_of_name in headers.items():
        problem = header_problem(name, values_of_name)
        if problem is not None:
            return problem
    return None
