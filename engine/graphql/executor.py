"""Execute a GraphQL request of a synthetic GraphQL API (graphql-core, asynchronous execution).

`SyntheticGraphQL(schema, resolvers)` is what the gateway runs where `forward-request` would call a
backend (docs/apiops.md, "GraphQL APIs"). Fields with a resolver run its policy steps on a resolver
context (the request's context with its own response and `context.GraphQL`); the final response body,
read as JSON (or text when it is not JSON), is the field's value. Sibling fields resolve concurrently
(graphql-core gathers their awaitables); a failing resolver makes its field null and adds an entry
with the field's `path` to `errors` while the other fields keep their values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
)

from engine.context import Context, GraphQL, Response
from engine.errors import PolicyRuntimeError
from engine.graphql.queries import Queries
from engine.graphql.request import RequestError, document_error_status, graphql_response, parse_request
from engine.policy import ForwardOptions, Step, buffer_body, run_steps

log = logging.getLogger("policygate.graphql")
MAX_REQUEST_BYTES = 1024 * 1024  # a GraphQL request larger than this is refused (413)


class SyntheticGraphQL:
    """A synthetic GraphQL API's executor: `await executor(ctx)` answers the request in `ctx.response`."""

    def __init__(self, schema: GraphQLSchema, resolvers: Mapping[tuple[str, str], Sequence[Step]]) -> None:
        self.schema = schema
        self.queries = Queries(schema)  # shared with validate-graphql-request (engine/graphql/api.py)
        for (type_name, field_name), steps in resolvers.items():
            field = schema.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]  # checked on load
            field.resolve = _resolver(tuple(steps))

    async def __call__(self, ctx: Context, options: ForwardOptions | None = None) -> None:
        """forward-request of a synthetic API: execute the request (`options` do not apply: no backend call)."""
        accept = ctx.request.headers.get("accept") or ""
        try:
            result = await self.execute(ctx)
        except _Refused as refused:
            status = refused.status or document_error_status(accept)
            ctx.response = graphql_response(status, {"errors": refused.errors}, accept)
            return
        ctx.response = graphql_response(200, result.formatted, accept)

    async def execute(self, ctx: Context) -> ExecutionResult:
        request = ctx.request
        await buffer_body(ctx, request)
        body = request.body.content if request.body is not None else b""
        if len(body) > MAX_REQUEST_BYTES:
            raise _Refused(413, [{"message": f"The GraphQL request is larger than {MAX_REQUEST_BYTES} bytes."}])
        media_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        try:
            query = parse_request(request.method, request.url.query, media_type, body)
        except RequestError as exc:
            raise _Refused(400, [{"message": str(exc)}]) from None
        document = self.checked(query.query)
        operation = get_operation_ast(document, query.operation_name)
        if isinstance(operation, OperationDefinitionNode):
            if operation.operation is OperationType.SUBSCRIPTION:
                raise _Refused(400, [{"message": "Subscriptions are not supported by policygate."}])
            if operation.operation is OperationType.MUTATION and request.method == "GET":
                raise _Refused(405, [{"message": "A mutation cannot be sent with GET; use POST."}])
        result = execute(self.schema, document, context_value=ctx, variable_values=query.variables,
                         operation_name=query.operation_name)
        return await result if isawaitable(result) else result


    def checked(self, text: str) -> DocumentNode:
        """The parsed query, valid against the schema (raises _Refused); parsed and validated once per
        distinct query (engine/graphql/queries.py)."""
        checked = self.queries.get(text)
        if checked.errors or checked.document is None:
            raise _Refused(0, checked.errors)  # status by the client's Accept
        return checked.document


class _Refused(Exception):
    """The request is answered with `status` (0: that of a query that does not parse or validate) and
    these errors, without executing anything."""

    def __init__(self, status: int, errors: list[Any]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors


def _resolver(steps: tuple[Step, ...]) -> Any:
    async def resolve(parent: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        ctx: Context = info.context
        scoped = ctx.nested(GraphQL(parent, arguments))  # one RequestId for all
        try:
            await run_steps(steps, scoped)
        except PolicyRuntimeError as error:
            raise GraphQLError(_public(error), extensions={"code": error.reason or "ResolverFailure"}) from None
        return field_value(scoped.response)

    return resolve


def field_value(response: Response) -> Any:
    """A resolver's value: its final response body read as JSON (the text when it is not JSON)."""
    content = response.body.content if response.body is not None else b""
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return content.decode("utf-8", "replace")


PUBLIC_REASONS = {
    "Timeout": "The data source did not answer in time.",
    "BackendConnectionFailure": "The data source could not be reached.",
}


def _public(error: PolicyRuntimeError) -> str:
    """What the caller may read about a resolver's failure: never hosts, paths or internal details (the
    log has them)."""
    if error.public_message:
        return error.public_message
    if error.status < 500 or error.reason == "DataSourceError":  # client errors and data-source statuses
        return error.message
    log.warning("resolver %s failed (%s): %s", error.path or "", error.reason, error.message)
    return PUBLIC_REASONS.get(error.reason, "Internal server error")


__all__ = ["SyntheticGraphQL", "field_value"]
