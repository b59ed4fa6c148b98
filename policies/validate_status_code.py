"""`<validate-status-code>` (schema only): validate response status codes against the API schema."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Enum, Int, Scope, Section, Str


class ValidateStatusCode(Policy):
    """Validate response status codes against the API schema.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-status-code"
    sections = Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("unspecified-status-code-action", Enum("ignore", "prevent", "detect"), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (
        Child(
            "status-code",
            attributes=(
                Attr("code", Int(min=100, max=599), required=True),
                Attr("action", Enum("ignore", "prevent", "detect"), required=True),
            ),
        ),
    )
    implemented = False
    unsupported_reason = "OpenAPI status code validation is not implemented yet"
