"""`<validate-headers>` (schema only): validate response headers against the API schema."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Enum, Scope, Section, Str


class ValidateHeaders(Policy):
    """Validate response headers against the API schema.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-headers"
    sections = Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("specified-header-action", Enum("ignore", "prevent", "detect"), required=True),
        Attr("unspecified-header-action", Enum("ignore", "prevent", "detect"), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (
        Child(
            "header",
            attributes=(
                Attr("name", Str(), required=True),
                Attr("action", Enum("ignore", "prevent", "detect"), required=True),
            ),
        ),
    )
    implemented = False
    unsupported_reason = "OpenAPI header validation is not implemented yet"
