"""`<validate-parameters>` (schema only): validate request parameters against the API schema."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Enum, Scope, Section, Str

ACTIONS = ("ignore", "prevent", "detect")


def _parameter_group(tag: str) -> Child:
    """`<headers>`, `<query>` or `<path>`: overrides for one kind of parameter."""
    return Child(
        tag,
        attributes=(
            Attr("specified-parameter-action", Enum(*ACTIONS)),
            Attr("unspecified-parameter-action", Enum(*ACTIONS)),
        ),
        children=(
            Child(
                "parameter",
                attributes=(
                    Attr("name", Str(), required=True),
                    Attr("action", Enum(*ACTIONS), required=True),
                ),
            ),
        ),
        max=1,
    )


class ValidateParameters(Policy):
    """Validate request header, query and path parameters against the API schema.

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-parameters"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("specified-parameter-action", Enum(*ACTIONS), required=True),
        Attr("unspecified-parameter-action", Enum(*ACTIONS), required=True),
        Attr("errors-variable-name", Str(), expr=False),
    )
    children = (_parameter_group("headers"), _parameter_group("query"), _parameter_group("path"))
    implemented = False
    unsupported_reason = "OpenAPI parameter validation is not implemented yet"
