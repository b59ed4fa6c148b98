"""`<validate-azure-ad-token>`: require a valid access token issued by a Microsoft Entra ID tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from engine.openid import entra_metadata_url
from engine.policy import Builder, Constant, Policy, Value
from engine.schema import Attr, Child, Scope, Section, Str, Text
from policies.validate_jwt import (
    AUDIENCES,
    FAILURE_ATTRS,
    OUTPUT_ATTR,
    REQUIRED_CLAIMS,
    TOKEN_SOURCE_ATTRS,
    ValidateJwtStep,
    check_token_source,
    common_parts,
    token_validation,
)
from policies.validate_jwt.checks import JwtFailure

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement
    from policies.validate_jwt.tokens import Token

TAG = "validate-azure-ad-token"
V1_ISSUER = "https://sts.windows.net/{tenant}/"


@dataclass(frozen=True)
class EntraMetadataUrl:
    """The tenant's OpenID configuration URL (a `Value`): `authentication-endpoint` or the configured
    `token-validation.entra-authority`, then `/<tenant-id>/v2.0/.well-known/openid-configuration`."""

    tenant: Value
    endpoint: Value

    @property
    def is_constant(self) -> bool:
        return False

    def get(self, ctx: Context) -> str:
        tenant = str(self.tenant.get(ctx) or "").strip()
        if not tenant:
            return ""
        endpoint = str(self.endpoint.get(ctx) or "").strip() or token_validation(ctx).entra_authority
        return entra_metadata_url(endpoint, tenant)


@dataclass(frozen=True)
class ValidateAzureAdTokenStep(ValidateJwtStep):
    tag: ClassVar[str] = TAG
    client_application_ids: tuple[str, ...] = ()
    backend_application_ids: tuple[str, ...] = ()

    async def check_issuer(self, ctx: Context, token: Token) -> None:
        tid = str(token.claims.get("tid") or "")
        allowed = []
        for config in await self._openid_configs(ctx, refresh=False):
            if config.issuer:
                issuer = config.issuer.replace("{tenantid}", tid)
                allowed.append(issuer)
                tenant = tenant_of(issuer)
                if tenant:
                    allowed.append(V1_ISSUER.format(tenant=tenant))
        if str(token.claims.get("iss", "")) not in allowed:
            raise JwtFailure("TokenIssuerNotAllowed")

    def check_audience(self, ctx: Context, token: Token) -> None:
        allowed = {str(v).strip() for v in (value.get(ctx) for value in self.audiences) if v and str(v).strip()}
        for app in self.backend_application_ids:
            allowed |= {app, f"api://{app}"}
        if allowed and not allowed & set(token.audiences()):
            raise JwtFailure("TokenAudienceNotAllowed")

    def check_more(self, ctx: Context, token: Token) -> None:
        client = token.claims.get("azp", token.claims.get("appid"))
        if str(client or "") not in self.client_application_ids:
            raise JwtFailure("TokenClientApplicationNotAllowed", "Client application validation failed.")


def tenant_of(issuer: str) -> str:
    """The tenant segment of an Entra issuer (`https://login.microsoftonline.com/<tenant>/v2.0`)."""
    segments = [s for s in urlsplit(issuer).path.split("/") if s]
    return segments[0] if segments and segments[0] != "{tenantid}" else ""


class ValidateAzureAdToken(Policy):
    """Require a valid access token issued by a Microsoft Entra ID tenant, with validate-jwt's checks
    and messages (source `validate-azure-ad-token`).

    The signing keys and the issuer come from the tenant's OpenID configuration,
    `<authority>/<tenant-id>/v2.0/.well-known/openid-configuration`, where the authority is
    `authentication-endpoint` or `token-validation.entra-authority` of the gateway configuration
    (default `https://login.microsoftonline.com`); it is cached and refetched on an unknown `kid`
    as for validate-jwt. The token is taken from `header-name` (default `Authorization`, with or
    without `Bearer `), `query-parameter-name` or `token-value`.

    Checks, in order: signature, lifetime (`exp` required), audience, issuer, required claims,
    client application. Choices where APIM's documentation is silent: the issuer may be the
    discovery document's v2.0 issuer (`{tenantid}` replaced by the token's `tid` for `common` or
    `organizations`) or the v1.0 issuer `https://sts.windows.net/<tenant>/`; the accepted audiences
    are the `<audience>` values plus each backend application id `X` and `api://X` (no audience
    check when both are absent); the client application is the token's `azp` (v2.0) or `appid`
    (v1.0) claim, and a token from another client fails with reason
    `TokenClientApplicationNotAllowed`, message "Client application validation failed.".
    Encrypted tokens (`<decryption-keys>`) are not supported.
    """

    tag = TAG
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("tenant-id", Str(non_empty=True), required=True,
             doc="The Entra tenant: its id, a domain, or common/organizations."),
        *TOKEN_SOURCE_ATTRS,
        Attr("authentication-endpoint", Str(), doc="The Entra authority (sovereign clouds); default from the configuration."),
        *FAILURE_ATTRS,
        OUTPUT_ATTR,
    )
    children = (
        Child("client-application-ids", children=(Child("application-id", text=Text(Str(), required=True, expr=False)),),
              max=1, doc="Client applications (`azp`/`appid`) allowed to call; at least one."),
        Child("backend-application-ids", children=(Child("application-id", text=Text(Str(), required=True, expr=False)),),
              max=1, doc="Applications the token may be issued for (accepted audiences)."),
        AUDIENCES,
        REQUIRED_CLAIMS,
        Child("decryption-keys", children=(Child("key", attributes=(Attr("certificate-id", Str(), expr=False),),
                                                  text=Text(Str())),),
              max=1, doc="Keys for encrypted tokens (not supported by policygate)."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_token_source(element, diagnostics, required=False)
        clients = element.child("client-application-ids")
        if clients is None or not clients.children_named("application-id"):
            diagnostics.error("policy-missing-child",
                              f"<{TAG}> needs <client-application-ids> with at least one <application-id>",
                              element.span)
        if element.child("decryption-keys") is not None:
            diagnostics.warning("policy-unsupported", "encrypted tokens (<decryption-keys>) are not supported",
                                element.span)

    def build(self, element: PolicyElement, builder: Builder) -> ValidateAzureAdTokenStep:
        parts: dict[str, Any] = common_parts(element, builder)
        if not any(element.get(name) is not None for name in ("header-name", "query-parameter-name", "token-value")):
            parts["header_name"] = Constant("Authorization")
        return ValidateAzureAdTokenStep(
            **parts,
            require_expiration=Constant(True),
            require_scheme=Constant(None),
            require_signed=Constant(True),
            clock_skew=Constant(0),
            keys=(),
            openid_urls=(EntraMetadataUrl(builder.value(element, "tenant-id"),
                                          builder.value(element, "authentication-endpoint")),),
            issuers=(),
            client_application_ids=_ids(element.child("client-application-ids")),
            backend_application_ids=_ids(element.child("backend-application-ids")),
        )


def _ids(parent: PolicyElement | None) -> tuple[str, ...]:
    if parent is None:
        return ()
    return tuple(app.text.text.strip() for app in parent.children_named("application-id") if app.text is not None)
