"""`<authentication-managed-identity>`: authenticate to the backend with a token for the gateway's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.identity import TokenError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context, Headers
    from engine.model import PolicyElement

TAG = "authentication-managed-identity"
FAILURE_REASON = "ManagedIdentityTokenFailure"
PUBLIC_MESSAGE = "Internal server error"


async def identity_token(ctx: Context, resource: str, client_id: str) -> str:
    """A token for `resource` from the gateway's provider (`identity:`), as `client_id` or the default
    identity; raises TokenError (also when no provider is configured)."""
    service = ctx.services.identity if ctx.services is not None else None
    if service is None:
        raise TokenError("no token provider is configured (`identity:` in the gateway configuration)")
    cache = ctx.services.cache if ctx.services is not None else None
    token: str = await service.token(resource, client_id, cache.external if cache is not None else None)
    return token


@dataclass(frozen=True)
class AuthenticationManagedIdentityStep:
    resource: Value
    client_id: Value
    variable: str
    ignore_error: Value

    async def apply(self, ctx: Context, headers: Headers) -> None:
        """Put the token in the variable, or else in `headers` (the backend request or a send-request's)."""
        token = await self.token(ctx)
        if self.variable:
            ctx.variables[self.variable] = token
        else:
            headers.set("Authorization", f"Bearer {token}")

    async def token(self, ctx: Context) -> str:
        resource = str(self.resource.get(ctx) or "")
        try:
            return await identity_token(ctx, resource, str(self.client_id.get(ctx) or ""))
        except TokenError as exc:
            if self.ignore_error.get(ctx):
                return ""
            raise PolicyRuntimeError(
                f"Failed to obtain a managed identity token for resource '{resource}': {exc}",
                source=TAG, reason=FAILURE_REASON, status=500, public_message=PUBLIC_MESSAGE,
            ) from None

    async def __call__(self, ctx: Context) -> Flow | None:
        await self.apply(ctx, ctx.request.headers)
        return None


class AuthenticationManagedIdentity(Policy):
    """Get an access token for `resource` from the gateway's token provider (`identity:` in the
    configuration: Azure IMDS, workload identity, OAuth 2.0 client credentials or a static token)
    and set `Authorization: Bearer <token>` on the backend request, or, with
    `output-token-variable-name`, only store the token in that variable. Tokens are cached per
    (provider, resource, client-id) until shortly before they expire and refreshed ahead of expiry.

    When no token can be obtained the policy fails (on-error runs; reason
    `ManagedIdentityTokenFailure`, status 500; `context.LastError.Message` says why) unless
    `ignore-error` is true: then the token is the empty string, as in the APIM policy toolkit
    (`Authorization: Bearer ` or an empty variable). Also works as a child of `<send-request>`,
    where it authenticates that request instead.
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    needs_settings = ("identity",)
    attributes = (
        Attr("resource", Str(non_empty=True), required=True,
             doc="The target API's App ID URI or client id (the token audience; OAuth 2.0 scope `<resource>/.default`)."),
        Attr("client-id", Str(), doc="A user-assigned identity's client id (default: the provider's identity)."),
        Attr("output-token-variable-name", Str(), expr=False,
             doc="Store the token in this variable instead of setting `Authorization`."),
        Attr("ignore-error", Bool(), default=False, doc="Carry on with an empty token when none is obtained."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> AuthenticationManagedIdentityStep:
        variable = element.get("output-token-variable-name")
        return AuthenticationManagedIdentityStep(
            builder.value(element, "resource"),
            builder.value(element, "client-id"),
            variable.text.strip() if variable is not None else "",
            builder.value(element, "ignore-error"),
        )
