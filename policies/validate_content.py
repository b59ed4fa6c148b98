"""`<validate-content>` (schema only): validate the size or content of a request or response body against a schema."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str


class ValidateContent(Policy):
    """Validate the size or content of a request or response body against a schema.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-content"
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    attributes = (
        Attr("unspecified-content-type-action", Enum("ignore", "prevent", "detect"), required=True),
        Attr("max-size", Int(min=0, max=4 * 1024 * 1024), required=True),
        Attr("size-exceeded-action", Enum("ignore", "prevent", "detect"), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (
        Child(
            "content-type-map",
            attributes=(Attr("any-content-type-value", Str()), Attr("missing-content-type-value", Str())),
            children=(
                Child("type", attributes=(Attr("from", Str()), Attr("when", Str()), Attr("to", Str()))),
            ),
        ),
        Child(
            "content",
            attributes=(
                Attr("type", Str()),
                Attr("validate-as", Enum("json", "xml", "soap"), required=True),
                Attr("schema-id", Str()),
                Attr("schema-ref", Str()),
                Attr("action", Enum("ignore", "prevent", "detect"), required=True),
                Attr("allow-additional-properties", Bool()),
                Attr("case-insensitive-property-names", Bool()),
            ),
        ),
    )
    implemented = False
    unsupported_reason = "OpenAPI content validation is not implemented yet"
