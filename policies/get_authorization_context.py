"""`<get-authorization-context>`: the access token of a credential manager connection, as an `Authorization`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from engine.errors import PolicyRuntimeError
from engine.identity import TokenError
from engine.policy import Builder, Constant, Flow, Policy, Value
from engine.schema import Attr, Bool, Enum, Scope, Section, Str
from policies.validate_azure_ad_token import EntraMetadataUrl, ValidateAzureAdTokenStep
from policies.validate_jwt.checks import JwtFailure
from policies.validate_jwt.tokens import Token, TokenFormatError, decode

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "get-authorization-context"
FAILURE_REASON = "AuthorizationContextFailure"
AUDIENCE = "https://azure-api.net/authorization-manager"  # the audience APIM requires of the identity token


@dataclass(frozen=True)
class UnverifiedTenant:
    """The `tid` claim of the identity token, read before its signature is checked: it only chooses
    which tenant's keys check the signature (and the issuer check binds the token to that tenant)."""

    identity: Value

    @property
    def is_constant(self) -> bool:
        return False

    def get(self, ctx: Context) -> str:
        try:
            tenant = decode(str(self.identity.get(ctx) or "").strip()).claims.get("tid")
        except TokenFormatError:
            return ""
        return tenant if isinstance(tenant, str) and "/" not in tenant else ""


@dataclass(frozen=True)
class IdentityTokenCheck(ValidateAzureAdTokenStep):
    """validate-azure-ad-token's checks of the `identity` token (signature by the tenant's keys,
    lifetime, audience, issuer), without a client application rule: the access policy decides."""

    tag: ClassVar[str] = TAG

    def check_more(self, ctx: Context, token: Token) -> None:
        return None

    @classmethod
    def of(cls, identity: Value) -> IdentityTokenCheck:
        none = Constant(None)
        return cls(header_name=none, query_parameter_name=none, token_value=identity, status=none, error_message=none,
                   require_expiration=Constant(True), require_scheme=none, require_signed=Constant(True),
                   clock_skew=Constant(0), output_variable=None, keys=(),
                   openid_urls=(EntraMetadataUrl(UnverifiedTenant(identity), Constant("")),),
                   audiences=(Constant(AUDIENCE),), issuers=(), claims=())

    async def caller(self, ctx: Context) -> tuple[str, str]:
        """(tenant id, object id) of a valid identity token; raises TokenError."""
        try:
            token = await self.validate(ctx)
        except JwtFailure as failure:
            raise TokenError(f"the identity token is not valid: {failure.message}") from None
        tenant, oid = token.claims.get("tid"), token.claims.get("oid")
        if not isinstance(tenant, str) or not isinstance(oid, str) or not tenant or not oid:
            raise TokenError("the identity token has no tid and oid claims")
        if "scp" in token.claims:  # delegated permissions: a user's token, not a service principal's
            raise TokenError(f"the identity token is a delegated (user) token (it has an scp claim); only app-only "
                             f"tokens, requested with the scope {AUDIENCE}/.default, are accepted")
        return tenant, oid


@dataclass(frozen=True)
class GetAuthorizationContextStep:
    provider_id: Value
    authorization_id: Value
    variable: Value
    identity_type: Value
    identity: IdentityTokenCheck
    ignore_error: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        provider, connection = str(self.provider_id.get(ctx) or ""), str(self.authorization_id.get(ctx) or "")
        variable = str(self.variable.get(ctx) or "")
        try:
            service = ctx.services.credentials if ctx.services is not None else None
            if service is None:
                raise TokenError("no credential providers are configured (`credentials:` in the gateway configuration)")
            caller = None
            if str(self.identity_type.get(ctx) or "managed").strip().lower() == "jwt":
                caller = await self.identity.caller(ctx)
            ctx.variables[variable] = await service.authorization(provider, connection, caller)
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

    With `identity-type="managed"` (the default) the gateway asks with its own identity, which every
    connection allows. With `identity-type="jwt"`, `identity` is a caller's Microsoft Entra token: it
    must be signed by its tenant's keys (found as for validate-azure-ad-token, from
    `token-validation.entra-authority`), unexpired, issued by that tenant for the audience
    `https://azure-api.net/authorization-manager`, and its `tid` and `oid` must be one of the
    connection's `access-policies` (`{tenant-id, object-id}` entries in the configuration). As in
    APIM, only app-only tokens (a service principal's, requested with the scope
    `https://azure-api.net/authorization-manager/.default`) are accepted: a delegated token, one
    with an `scp` claim, is refused.

    When no token can be obtained (unknown connection, provider failure, an identity token that is
    not valid or not allowed) the policy fails with status 500, reason `AuthorizationContextFailure`
    and a `context.LastError.Message` saying why; with `ignore-error="true"` the variable is set to
    null instead.
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
             doc="`managed`: the gateway's own access; `jwt`: the caller's token in `identity`, checked against the connection's access policies."),
        Attr("identity", Str(), doc="With identity-type `jwt`: the caller's Microsoft Entra token (without `Bearer `)."),
        Attr("ignore-error", Bool(), default=False, doc="Set the variable to null instead of failing."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        identity_type = element.get("identity-type")
        if identity_type is not None and not identity_type.is_expression and identity_type.text.strip().lower() == "jwt" \
                and element.get("identity") is None:
            diagnostics.error("policy-missing-attribute", "identity-type 'jwt' needs the identity attribute (the caller's token)",
                              element.attribute_spans.get("identity-type", element.span))

    def build(self, element: PolicyElement, builder: Builder) -> GetAuthorizationContextStep:
        return GetAuthorizationContextStep(
            builder.value(element, "provider-id"),
            builder.value(element, "authorization-id"),
            builder.value(element, "context-variable-name"),
            builder.value(element, "identity-type"),
            IdentityTokenCheck.of(builder.value(element, "identity")),
            builder.value(element, "ignore-error"),
        )
