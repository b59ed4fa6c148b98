"""`<get-authorization-context>`: the access token of a credential manager connection, as an `Authorization`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.identity import TokenError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Enum, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "get-authorization-context"
FAILURE_REASON = "AuthorizationContextFailure"
JWT_IDENTITY = "identity-type 'jwt' (access policies of a connection) is not supported; use the gateway's own identity (managed)"


@dataclass(frozen=True)
class GetAuthorizationContextStep:
    provider_id: Value
    authorization_id: Value
    variable: Value
    identity_type: Value
    ignore_error: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        provider, connection = str(self.provider_id.get(ctx) or ""), str(self.authorization_id.get(ctx) or "")
        variable = str(self.variable.get(ctx) or "")
        try:
            if str(self.identity_type.get(ctx) or "managed").lower() == "jwt":
                raise TokenError(JWT_IDENTITY)
            service = ctx.services.credentials if ctx.services is not None else None
            if service is None:
                raise TokenError("no credential providers are configured (`credentials:` in the gateway configuration)")
            ctx.variables[variable] = await service.authorization(provider, connection)
        except TokenError as exc:
            if not self.ignore_error.get(ctx):
                raise PolicyRuntimeError(
                    f"Failed to get the authorization context of connection '{connection}' of provider "
                    f"'{provider}': {exc}", source=TAG, reason=FAILURE_REASON, status=500,
                ) from None
            ctx.variables[variable] = None
        return None


class GetAuthorizationContext(Policy):
    """Put the `Authorization` of a credential manager connection (`AccessToken`, `Claims`) in the
    variable `context-variable-name`, for expressions such as
    `@("Bearer " + ((Authorization)context.Variables["auth"]).AccessToken)`.

    Connections are declared in the gateway configuration (`credentials:`): `provider-id` names a
    provider (an OAuth 2.0 token endpoint with a client id and secret) and `authorization-id` one of
    its connections, which gets tokens by client credentials, a refresh token (rotated refresh tokens
    are kept in memory) or a fixed token. Tokens are cached per connection and refreshed ahead of
    expiry. `Claims` holds the fields of the token response (`token_type`, `expires_in`, `scope`,
    ...) except the access, refresh and ID tokens.

    When no token can be obtained (unknown connection, provider failure) the policy fails with
    status 500, reason `AuthorizationContextFailure` and a `context.LastError.Message` saying why;
    with `ignore-error="true"` the variable is set to null instead. `identity-type="jwt"` (a
    caller's token checked against the connection's access policy) is not supported.
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    needs_settings = ("credentials",)
    attributes = (
        Attr("provider-id", Str(non_empty=True), required=True, doc="The credential provider (`credentials.providers`)."),
        Attr("authorization-id", Str(non_empty=True), required=True, doc="The provider's connection."),
        Attr("context-variable-name", Str(non_empty=True), required=True, doc="Variable receiving the Authorization."),
        Attr("identity-type", Enum("managed", "jwt"), default="managed",
             doc="`managed`: the gateway's own access to the connection (`jwt` is not supported)."),
        Attr("identity", Str(), doc="With identity-type `jwt`: the caller's token (not supported).",
             unsupported="identity-type 'jwt' is not supported"),
        Attr("ignore-error", Bool(), default=False, doc="Set the variable to null instead of failing."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        identity_type = element.get("identity-type")
        if identity_type is not None and not identity_type.is_expression and identity_type.text.strip().lower() == "jwt":
            diagnostics.warning("policy-unsupported", JWT_IDENTITY,
                                element.attribute_spans.get("identity-type", element.span))

    def build(self, element: PolicyElement, builder: Builder) -> GetAuthorizationContextStep:
        return GetAuthorizationContextStep(
            builder.value(element, "provider-id"),
            builder.value(element, "authorization-id"),
            builder.value(element, "context-variable-name"),
            builder.value(element, "identity-type"),
            builder.value(element, "ignore-error"),
        )
