"""GraphQL over HTTP: the GraphQL request of an HTTP request (`GET ?query=` or a `POST` body) and the
HTTP response carrying a GraphQL response."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.context import Headers, MessageBody, Response
from engine.policy import reason_phrase

RESPONSE_MEDIA_TYPE = "application/graphql-response+json"

@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None


class RequestError(Exception):
    """The HTTP request holds no usable GraphQL request (answered 400 with this message)."""


def parse_request(method: str, query: Mapping[str, Sequence[str]], content_type: str, body: bytes) -> GraphQLRequest:
    """A `GET` with `query`, `variables` (JSON) and `operationName` parameters, or a `POST` whose body is
    `{"query", "variables", "operationName"}` JSON or (with `Content-Type: application/graphql`) the query itself."""
    if method == "GET":
        fields: dict[str, Any] = {name: values[0] for name, values in query.items() if values}
        variables = fields.get("variables")
        if variables:
            try:
                fields["variables"] = json.loads(variables)
            except ValueError:
                raise RequestError("The 'variables' parameter is not JSON.") from None
    elif content_type == "application/graphql":
        fields = {"query": body.decode("utf-8", "replace")}
    else:
        try:
            fields = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise RequestError("The request body is not a JSON GraphQL request.") from None
        if not isinstance(fields, dict):
            raise RequestError("The request body is not a JSON object.")
    text = fields.get("query")
    if not isinstance(text, str) or not text.strip():
        raise RequestError("The request has no 'query'.")
    variables = fields.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError("'variables' must be a JSON object.")
    name = fields.get("operationName")
    if name is not None and not isinstance(name, str):
        raise RequestError("'operationName' must be a string.")
    return GraphQLRequest(text, variables, name or None)


def document_error_status(accept: str) -> int:
    """The status of a response whose query did not parse or validate: 200 for `application/json`
    clients, 400 for those accepting `application/graphql-response+json` (GraphQL over HTTP)."""
    return 400 if RESPONSE_MEDIA_TYPE in accept else 200


def graphql_response(status: int, payload: object, accept: str) -> Response:
    """`payload` as JSON, typed `application/graphql-response+json` when the client accepts it."""
    media_type = RESPONSE_MEDIA_TYPE if RESPONSE_MEDIA_TYPE in accept else "application/json"
    headers = Headers([("Content-Type", f"{media_type}; charset=utf-8")])
    return Response(status, reason_phrase(status), headers, MessageBody(json.dumps(payload).encode()))
