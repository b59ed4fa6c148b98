"""`<jsonp>` (schema only): wrap JSON responses for JSONP cross-domain calls from JavaScript browser clients."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Scope, Section, Str


class Jsonp(Policy):
    """Wrap JSON responses for JSONP cross-domain calls from JavaScript browser clients.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "jsonp"
    sections = Section.OUTBOUND
    scopes = Scope.ALL
    attributes = (Attr("callback-parameter-name", Str(non_empty=True), required=True),)
    implemented = False
    unsupported_reason = "not implemented yet"
