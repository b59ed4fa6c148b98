"""`<cosmosdb-data-source>` (schema only): graphQL resolver that reads data from an Azure Cosmos DB container."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Child, Scope, Section

# "*" accepts any element with any content (see docs/lint-rules.md)
ANY_CONTENT = Child("*")


class CosmosdbDataSource(Policy):
    """GraphQL resolver that reads data from an Azure Cosmos DB container.

    Declared so documents using it lint; the gateway refuses to load a document that uses it (the
    reason and the alternative are below).
    """

    tag = "cosmosdb-data-source"
    sections = Section.ALL
    scopes = Scope.ALL
    children = (ANY_CONTENT,)
    implemented = False
    unsupported_reason = (
        "policygate hosts synthetic GraphQL APIs but Cosmos DB exists only in Azure; resolve the field "
        "with <http-data-source> from an HTTP service"
    )
