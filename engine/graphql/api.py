"""A GraphQL API at run time: its schema (when known), its checked queries and, when synthetic, its executor.

Routing calls `enter(ctx)` for each request to a GraphQL API: `GRAPHQL_API.get(ctx)` then gives policies
(validate-graphql-request) the API's schema and query cache, and a synthetic API's executor takes the place
of the backend call (`SYNTHETIC_BACKEND`).
"""

from __future__ import annotations

from graphql import GraphQLSchema

from engine.backends import SYNTHETIC_BACKEND
from engine.context import Context, Slot
from engine.graphql.executor import SyntheticGraphQL
from engine.graphql.queries import Queries


class GraphQLApi:
    def __init__(self, schema: GraphQLSchema | None, executor: SyntheticGraphQL | None = None) -> None:
        self.schema = schema
        self.queries = executor.queries if executor is not None else Queries(schema)
        self.executor = executor

    def enter(self, ctx: Context) -> None:
        """The request was routed to this API."""
        GRAPHQL_API.set(ctx, self)
        if self.executor is not None:
            SYNTHETIC_BACKEND.set(ctx, self.executor)


GRAPHQL_API: Slot[GraphQLApi] = Slot("graphql.api")

__all__ = ["GRAPHQL_API", "GraphQLApi"]
