"""The GraphQL request of an HTTP request (GraphQL over HTTP): `GET ?query=` or a `POST` body."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


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
