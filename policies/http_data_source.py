"""`<http-data-source>` (schema only): graphQL resolver that reads data from an HTTP endpoint."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Child, Scope, Section

# "*" accepts any element with any content (see docs/lint-rules.md)
ANY_CONTENT = Child("*")


class HttpDataSource(Policy):
    """GraphQL resolver that reads data from an HTTP endpoint.

    Declared so documents using it lint; the gateway refuses to load a document that uses it (the
    reason and the alternative are below).
    """

    tag = "http-data-source"
    sections = Section.ALL
    scopes = Scope.ALL
    children = (ANY_CONTENT,)
    implemented = False
    unsupported_reason = (
        "GraphQL resolvers need a synthetic GraphQL API, which policygate does not host; serve GraphQL "
        "from a backend and call HTTP sources with send-request"
    )
