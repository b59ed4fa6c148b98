"""`<proxy>` (schema only): route the request forwarded to the backend through an HTTP proxy."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Scope, Section, Str


class Proxy(Policy):
    """Route the request forwarded to the backend through an HTTP proxy.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "proxy"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("url", Str(non_empty=True), required=True),
        Attr("username", Str()),
        Attr("password", Str()),
    )
    implemented = False
    unsupported_reason = "outbound HTTP proxies are not implemented yet"
