"""`<redirect-content-urls>` (schema only): rewrite backend URLs in the body so they point at the gateway (and back on requests)."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Scope, Section


class RedirectContentUrls(Policy):
    """Rewrite backend URLs in the body so they point at the gateway (and back on requests).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "redirect-content-urls"
    sections = Section.INBOUND | Section.OUTBOUND
    scopes = Scope.ALL
    implemented = False
    unsupported_reason = "not implemented yet; rewrite URLs in the body with find-and-replace"
