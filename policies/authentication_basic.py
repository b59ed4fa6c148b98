"""`<authentication-basic>`: authenticate to the backend with HTTP Basic credentials."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context, Headers
    from engine.model import PolicyElement


def basic_authorization(username: str, password: str) -> str:
    """The `Authorization` header value for Basic credentials (UTF-8, base64)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


@dataclass(frozen=True)
class AuthenticationBasicStep:
    username: Value
    password: Value

    def apply(self, ctx: Context, headers: Headers) -> None:
        """Set Authorization on `headers` (the backend request, or a send-request's request)."""
        username = str(self.username.get(ctx) or "")
        password = str(self.password.get(ctx) or "")
        headers.set("Authorization", basic_authorization(username, password))

    async def __call__(self, ctx: Context) -> Flow | None:
        self.apply(ctx, ctx.request.headers)
        return None


class AuthenticationBasic(Policy):
    """Set the backend request's `Authorization` header to HTTP Basic credentials.

    Any `Authorization` header from the caller is replaced. Also works as a child of
    `<send-request>`, where it authenticates that request instead.
    """

    tag = "authentication-basic"
    sections = Section.INBOUND
    scopes = Scope.GLOBAL | Scope.WORKSPACE | Scope.PRODUCT | Scope.API | Scope.OPERATION
    reads_body = False
    implemented = True
    attributes = (
        Attr("username", Str(), required=True, doc="User name."),
        Attr("password", Str(), required=True, doc="Password."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> AuthenticationBasicStep:
        return AuthenticationBasicStep(builder.value(element, "username"), builder.value(element, "password"))
