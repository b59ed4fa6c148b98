"""`<validate-graphql-request>` (schema only): validate and authorize a GraphQL request (size, depth, complexity, field rules)."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Enum, Int, Scope, Section, Str


class ValidateGraphqlRequest(Policy):
    """Validate and authorize a GraphQL request (size, depth, complexity, field rules).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-graphql-request"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("error-variable-name", Str(), expr=False),
        Attr("max-size", Int(min=0, max=100 * 1024), required=True),
        Attr("max-depth", Int(min=1), default=6),
        Attr("max-total-depth", Int(min=1)),
        Attr("max-complexity", Int(min=1)),
    )
    children = (
        Child(
            "authorize",
            children=(
                Child(
                    "rule",
                    attributes=(
                        Attr("path", Str(non_empty=True), required=True),
                        Attr("action", Enum("allow", "remove", "reject", "ignore"), required=True),
                    ),
                ),
            ),
        ),
    )
    implemented = False
    unsupported_reason = "GraphQL APIs are not supported"
