"""`<validate-azure-ad-token>` (schema only): validate a JSON web token issued by Microsoft Entra ID (tenant, audiences, client applications, claims)."""

from __future__ import annotations

from engine.policy import Policy
from engine.schema import Attr, Child, Enum, Int, Scope, Section, Str, Text


class ValidateAzureAdToken(Policy):
    """Validate a JSON web token issued by Microsoft Entra ID (tenant, audiences, client applications, claims).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "validate-azure-ad-token"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = (
        Attr("tenant-id", Str(non_empty=True), required=True),
        Attr("header-name", Str()),
        Attr("query-parameter-name", Str()),
        Attr("token-value", Str()),
        Attr("authentication-endpoint", Str()),
        Attr("failed-validation-httpcode", Int(min=100, max=599), default=401),
        Attr("failed-validation-error-message", Str()),
        Attr("output-token-variable-name", Str(), expr=False),
    )
    children = (
        Child("client-application-ids", children=(Child("application-id", text=Text(required=True)),)),
        Child("backend-application-ids", children=(Child("application-id", text=Text(required=True)),)),
        Child("audiences", children=(Child("audience", text=Text(required=True)),)),
        Child(
            "required-claims",
            children=(
                Child(
                    "claim",
                    attributes=(
                        Attr("name", Str(non_empty=True), required=True),
                        Attr("match", Enum("all", "any"), default="all"),
                        Attr("separator", Str()),
                    ),
                    children=(Child("value", text=Text()),),
                ),
            ),
        ),
        Child(
            "decryption-keys",
            children=(Child("key", attributes=(Attr("certificate-id", Str()),), text=Text()),),
        ),
    )
    implemented = False
    unsupported_reason = "not implemented yet; use validate-jwt with the tenant's openid-config URL"
