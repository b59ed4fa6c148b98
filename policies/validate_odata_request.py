"""`<validate-odata-request>` (schema only): validate a request to an OData API (versions, size)."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Int, Scope, Section, Str


class ValidateOdataRequest(Policy):
    """Validate a request to an OData API (versions, size).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-odata-request"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("error-variable-name", Str(), expr=False),
        Attr("default-odata-version", Str(), default="4.01"),
        Attr("min-odata-version", Str()),
        Attr("max-odata-version", Str()),
        Attr("max-size", Int(min=0)),
    )
    implemented = False
    unsupported_reason = "OData validation is not implemented yet"
