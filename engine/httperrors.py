"""Failures of outgoing HTTP calls, described as .NET's HttpClient describes them.

The gateway's backend client and the policies that call other services (send-request,
send-one-way-request) use aiohttp; its exception texts (`Cannot connect to host 127.0.0.1:9 ssl:default
[Connect call failed ('127.0.0.1', 9)]`) are Python internals that must not reach a caller or
`context.LastError.Message`. `http_failure_message(exc, host, port)` gives the message APIM's
gateway (.NET `HttpRequestException` / `SocketException`) would show instead; the original is
logged at debug level for operators.
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl

log = logging.getLogger("policygate.http")

REFUSED = "No connection could be made because the target machine actively refused it."
NO_HOST = "No such host is known."
TIMED_OUT = ("A connection attempt failed because the connected party did not properly respond after a period "
             "of time, or established connection failed because connected host has failed to respond.")
RESET = "An existing connection was forcibly closed by the remote host."
UNREACHABLE = "A socket operation was attempted to an unreachable host."
NETWORK_UNREACHABLE = "A socket operation was attempted to an unreachable network."
SSL_FAILED = "The SSL connection could not be established, see inner exception."
ENDED = "The response ended prematurely."
INVALID_RESPONSE = "The server returned an invalid or unrecognized response."
INVALID_URI = "An invalid request URI was provided."
SEND_FAILED = "An error occurred while sending the request."



class HttpClientError(Exception):
    """A failure of the gateway's own HTTP/1.1 client (engine/gateway/http1.py)."""


class EndedPrematurely(HttpClientError):
    """The connection closed before the whole response arrived."""


class InvalidResponse(HttpClientError):
    """The backend's bytes are not an HTTP/1.1 response."""


class SendFailed(HttpClientError):
    """The request (its streamed body) could not be sent."""


_BY_ERRNO = {
    errno.ECONNREFUSED: REFUSED,
    errno.ETIMEDOUT: TIMED_OUT,
    errno.ECONNRESET: RESET,
    errno.ECONNABORTED: RESET,
    errno.EPIPE: RESET,
    errno.EHOSTUNREACH: UNREACHABLE,
    errno.ENETUNREACH: NETWORK_UNREACHABLE,
}
_NAMES_THE_HOST = frozenset({REFUSED, NO_HOST, TIMED_OUT, UNREACHABLE, NETWORK_UNREACHABLE})


def http_failure_message(exc: BaseException, host: str = "", port: int | None = None) -> str:
    """The .NET-style text for a failed HTTP exchange, with `(host:port)` as .NET appends it."""
    log.debug("HTTP call to %s:%s failed: %r", host, port, exc)
    message = _message(exc)
    if host and message in _NAMES_THE_HOST:
        return f"{message} ({host}:{port})" if port else f"{message} ({host})"
    return message


def _message(exc: BaseException) -> str:
    import aiohttp

    if isinstance(exc, (aiohttp.ClientSSLError, ssl.SSLError)):
        return SSL_FAILED
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(exc, socket.gaierror):
        return NO_HOST
    cause = getattr(exc, "os_error", None) or exc
    if isinstance(cause, socket.gaierror):
        return NO_HOST
    if isinstance(cause, OSError) and cause.errno in _BY_ERRNO:
        return _BY_ERRNO[cause.errno]
    if isinstance(exc, (ConnectionResetError, aiohttp.ClientConnectionResetError)):
        return RESET
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, EndedPrematurely)):
        return ENDED
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return INVALID_URI
    if isinstance(exc, (aiohttp.ClientResponseError, InvalidResponse)):
        return INVALID_RESPONSE
    return SEND_FAILED
