"""HTTP header framing shared by everything that sends a message: the gateway (to clients and the
backend) and the policies that call other services (send-request, send-one-way-request)."""

from __future__ import annotations

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


def wire_headers(headers: Headers, skip: frozenset[str] = HOP_BY_HOP) -> Iterable[tuple[str, str]]:
    """Header lines to send: comma-joined values, except the fields that need one line per value."""
    dropped = _connection_tokens(headers)
    for name, values in headers.items():
        lower = name.lower()
        if lower in skip or lower in dropped:
            continue
        if len(values) == 1 or lower in SEPARATE_LINES:
            for value in values:
                yield name, value
        else:
            yield name, ",".join(values)


def _connection_tokens(headers: Headers) -> frozenset[str]:
    value = headers.get("connection")
    if not value:
        return frozenset()
    return frozenset(token.strip().lower() for token in value.split(",") if token.strip())


