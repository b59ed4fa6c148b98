"""Shared helpers for expression tests: a realistic synthetic request context and `run()`."""

from __future__ import annotations

import base64
import json
from typing import Any

from engine.context import (
    Api,
    Context,
    Deployment,
    Headers,
    LastError,
    MessageBody,
    Operation,
    Product,
    Request,
    Response,
    Subscription,
    Url,
    User,
)
from engine.expr import compile_expression


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


JWT = ".".join(
    [
        _b64url({"alg": "HS256", "typ": "JWT"}),
        _b64url({"sub": "user-123", "aud": "api://orders", "iss": "https://issuer.example", "name": "Bob",
                 "exp": 1893456000, "roles": ["reader", "writer"]}),
        "c2lnbmF0dXJl",
    ]
)
BODY = {"id": 42, "name": "Widget", "tags": ["a", "b"], "price": 9.5, "nested": {"k": "v"}, "active": True}


def make_context(body: bytes | None = None) -> Context:
    url = Url.parse("https://api.contoso.com/v1/orders/42?filter=active&tag=a&tag=b")
    headers = Headers(
        [
            ("Authorization", f"Bearer {JWT}"),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Accept", "text/plain"),
            ("X-Forwarded-For", "10.0.0.1, 10.0.0.2"),
        ]
    )
    request = Request(
        method="POST",
        url=url,
        original_url=url.copy(),
        headers=headers,
        body=MessageBody(json.dumps(BODY).encode() if body is None else body),
        ip_address="203.0.113.7",
        matched_parameters={"id": "42"},
    )
    response = Response(201, "Created", Headers([("Content-Type", "application/json")]), MessageBody(b'{"ok": true}'))
    return Context(
        request=request,
        response=Response(200, "OK", Headers([("X-Res", "r")]), MessageBody(b"plain text")),
        variables={"s": "hello", "n": 42, "flag": True, "empty": "", "nul": None, "resp": response,
                   "csv": "a,b,,c", "big": 3000000000, "d": 2.5},
        api=Api(id="orders-api", name="Orders", path="orders", version="v1"),
        operation=Operation(id="get-order", name="GetOrder", method="POST", url_template="/orders/{id}"),
        product=Product(id="starter", name="Starter"),
        subscription=Subscription(id="sub-1", key="key-123", name="Primary", primary_key="key-123"),
        user=User(id="u1", email="bob@example.com", first_name="Bob", last_name="Smith"),
        last_error=LastError(source="rate-limit", reason="RateLimitExceeded", message="Too many"),
        deployment=Deployment(region="West Europe", service_name="contoso-apim"),
    )


def run(expression: str, ctx: Context | None = None) -> Any:
    """Compile and evaluate; `expression` may omit the `@( )` wrapper."""
    text = expression if expression.lstrip().startswith(("@(", "@{")) else f"@({expression})"
    return compile_expression(text).evaluate(ctx if ctx is not None else make_context())
