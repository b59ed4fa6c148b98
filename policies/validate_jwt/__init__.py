"""`<validate-jwt>`: require a valid JSON Web Token (signature, lifetime, audience, issuer, claims)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from engine import clock
from engine.errors import PolicyRuntimeError
from engine.named_values import has_reference
from engine.openid import DEFAULT_TOKEN_VALIDATION, TokenValidationSettings
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text
from policies._values import text_or_empty
from policies.validate_jwt.checks import ClaimRule, JwtFailure, check_claims, check_lifetime
from policies.validate_jwt.keys import OPENID_CACHE, InvalidKeyError, key_from_element
from policies.validate_jwt.tokens import (
    SUPPORTED_ALGORITHMS,
    Token,
    TokenFormatError,
    VerificationKey,
    decode,
    verify,
)

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TOKEN_SOURCES = ("header-name", "query-parameter-name", "token-value")
TOKEN_SOURCE_ATTRS = (
    Attr("header-name", Str(non_empty=True), doc="Header holding the token."),
    Attr("query-parameter-name", Str(non_empty=True), doc="Query parameter holding the token."),
    Attr("token-value", Str(), doc="The token itself (an expression; no 'Bearer ' prefix)."),
)
FAILURE_ATTRS = (
    Attr("failed-validation-httpcode", Int(min=100, max=599), default=401, doc="Status on failure."),
    Attr("failed-validation-error-message", Str(), doc="Message on failure (default: depends on the problem)."),
)
OUTPUT_ATTR = Attr("output-token-variable-name", Str(non_empty=True), expr=False, doc="Variable receiving the Jwt.")
AUDIENCES = Child("audiences", children=(Child("audience", text=Text(Str(), required=True)),), max=1,
                  doc="Accepted 'aud' values (any match).")
REQUIRED_CLAIMS = Child(
    "required-claims",
    children=(
        Child(
            "claim",
            attributes=(
                Attr("name", Str(non_empty=True), required=True, expr=False, doc="Claim name."),
                Attr("match", Enum("all", "any"), default="all", expr=False, doc="All or any value must match."),
                Attr("separator", Str(), expr=False, doc="Splits a multi-valued claim string."),
            ),
            children=(Child("value", text=Text(Str())),),
        ),
    ),
    max=1, doc="Claims the token must carry.",
)


@dataclass(frozen=True)
class KeySpec:
    """A configured `<key>`: parsed at build time when constant, else per request."""

    parsed: VerificationKey | None
    text: Value | None = None
    n: Value | None = None
    e: Value | None = None
    kid: str | None = None
    certificate_id: str = ""  # a certificate of `certificates:` (its public key)

    def resolve(self, ctx: Context) -> VerificationKey | None:
        if self.parsed is not None:
            return self.parsed
        if self.certificate_id:
            found = ctx.services.certificates.find(certificate_id=self.certificate_id) if ctx.services else None
            return VerificationKey(self.kid, public_key=found.public_key()) if found is not None else None
        values = [v.get(ctx) if v is not None else None for v in (self.text, self.n, self.e)]
        try:
            return _cached_key(*(str(v) if v is not None else None for v in values), self.kid)
        except InvalidKeyError:
            return None


@lru_cache(maxsize=256)
def _cached_key(text: str | None, n: str | None, e: str | None, kid: str | None) -> VerificationKey:
    return key_from_element(text, n, e, kid)


def jwt_value(token: Token) -> Any:
    """The `Jwt` object expressions see (`engine.dotnet.jwt.Jwt`, the type `AsJwt()` returns)."""
    from engine.dotnet.jwt import Jwt

    return Jwt(token.header, token.claims, token.raw)


def token_validation(ctx: Context) -> TokenValidationSettings:
    """The gateway's `token-validation:` settings (defaults outside a gateway)."""
    return ctx.services.token_validation if ctx.services is not None else DEFAULT_TOKEN_VALIDATION


@dataclass(frozen=True)
class ValidateJwtStep:
    """validate-jwt's checks; validate-azure-ad-token subclasses it (issuer, audience, client app)."""

    tag: ClassVar[str] = "validate-jwt"
    header_name: Value
    query_parameter_name: Value
    token_value: Value
    status: Value
    error_message: Value
    require_expiration: Value
    require_scheme: Value
    require_signed: Value
    clock_skew: Value
    output_variable: str | None
    keys: tuple[KeySpec, ...]
    openid_urls: tuple[Value, ...]
    audiences: tuple[Value, ...]
    issuers: tuple[Value, ...]
    claims: tuple[ClaimRule, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        try:
            token = await self.validate(ctx)
        except JwtFailure as failure:
            custom = self.error_message.get(ctx)
            status = self.status.get(ctx)
            raise PolicyRuntimeError(
                str(custom) if custom else failure.message,
                source=self.tag,
                reason=failure.reason,
                status=status if isinstance(status, int) else 401,
            ) from None
        if self.output_variable:
            ctx.variables[self.output_variable] = jwt_value(token)
        return None

    async def validate(self, ctx: Context) -> Token:
        raw = self.token_text(ctx)
        if not raw:
            raise JwtFailure("TokenNotPresent")
        try:
            token = decode(raw)
        except TokenFormatError:
            raise JwtFailure("JwtInvalid") from None
        if token.is_signed:
            await self.check_signature(ctx, token)
        elif bool(self.require_signed.get(ctx)):
            raise JwtFailure("TokenSignatureInvalid", "Signature validation failed. The token is not signed.")
        skew = self.clock_skew.get(ctx)
        check_lifetime(
            token.claims,
            now=clock.now(),
            skew=skew if isinstance(skew, int) else 0,
            require_expiration=bool(self.require_expiration.get(ctx)),
        )
        self.check_audience(ctx, token)
        await self.check_issuer(ctx, token)
        check_claims(token.claims, [(rule, _strings(ctx, rule.values)) for rule in self.claims])
        self.check_more(ctx, token)
        return token

    def check_more(self, ctx: Context, token: Token) -> None:
        """Checks a subclass adds after the claims (default: none)."""

    def token_text(self, ctx: Context) -> str | None:
        header = self.header_name.get(ctx)
        if header:
            value = ctx.request.headers.get(str(header))
            if value is None:
                return None
            return _strip_scheme(value.strip(), self.require_scheme.get(ctx), str(header).lower() == "authorization")
        parameter = self.query_parameter_name.get(ctx)
        if parameter:
            values = ctx.request.url.query.get(str(parameter)) or ctx.request.original_url.query.get(str(parameter))
            return values[0].strip() if values else None
        value = self.token_value.get(ctx)
        return str(value).strip() if value else None

    async def check_signature(self, ctx: Context, token: Token) -> None:
        if token.algorithm not in SUPPORTED_ALGORITHMS:
            raise JwtFailure(
                "TokenSignatureInvalid", f"Signature validation failed. Algorithm '{token.algorithm}' is not supported."
            )
        static = [key for spec in self.keys if (key := spec.resolve(ctx)) is not None]
        candidates = self._candidates(token, static + await self._openid_keys(ctx, refresh=False))
        if not candidates and self.openid_urls:
            # unknown kid: the provider may have rotated its keys (refetched at most every 5 minutes)
            candidates = self._candidates(token, static + await self._openid_keys(ctx, refresh=True))
        if not candidates:
            raise JwtFailure("TokenSignatureKeyNotFound")
        if not any(verify(token, key) for key in candidates):
            raise JwtFailure("TokenSignatureInvalid")

    @staticmethod
    def _candidates(token: Token, keys: list[VerificationKey]) -> list[VerificationKey]:
        kid = token.key_id
        usable = [k for k in keys if k.usable_for(token.algorithm)]
        if kid is None:
            return usable
        return [k for k in usable if k.kid is None or k.kid == kid]

    async def _openid_keys(self, ctx: Context, *, refresh: bool) -> list[VerificationKey]:
        keys: list[VerificationKey] = []
        for config in await self._openid_configs(ctx, refresh=refresh):
            keys.extend(config.keys)
        return keys

    async def _openid_configs(self, ctx: Context, *, refresh: bool) -> list[Any]:
        if not self.openid_urls:
            return []
        client = ctx.services.http if ctx.services is not None else None
        settings = token_validation(ctx)
        configs = []
        for url_value in self.openid_urls:
            url = str(url_value.get(ctx) or "")
            if url and client is not None:
                config = await OPENID_CACHE.get(url, client, refresh=refresh, settings=settings)
                if config is not None:
                    configs.append(config)
        return configs

    def check_audience(self, ctx: Context, token: Token) -> None:
        allowed = _strings(ctx, self.audiences)
        if allowed and not set(allowed) & set(token.audiences()):
            raise JwtFailure("TokenAudienceNotAllowed")

    async def check_issuer(self, ctx: Context, token: Token) -> None:
        allowed = _strings(ctx, self.issuers)
        if not allowed:
            allowed = [c.issuer for c in await self._openid_configs(ctx, refresh=False) if c.issuer]
        if allowed and str(token.claims.get("iss", "")) not in allowed:
            raise JwtFailure("TokenIssuerNotAllowed")


def _strings(ctx: Context, values: Sequence[Value]) -> list[str]:
    return [str(v).strip() for v in (value.get(ctx) for value in values) if v is not None and str(v).strip()]


def _strip_scheme(value: str, required: object, is_authorization: bool) -> str | None:
    scheme, _, rest = value.partition(" ")
    if required and is_authorization:
        if not rest or scheme.lower() != str(required).strip().lower():
            return None
        return rest.strip() or None
    if rest and scheme.lower() == "bearer":
        return rest.strip() or None
    return value or None


class ValidateJwt(Policy):
    """Require a valid JWT from a header, a query parameter or an expression.

    Checks the signature (HS256/384/512 with base64 `<key>` secrets; RS*/PS*/ES* with `n`/`e`
    keys, PEM certificates or public keys, or keys from `<openid-config url>` discovery documents,
    cached for an hour and refetched at most every five minutes when a `kid` is unknown), the
    lifetime (`exp`/`nbf` with `clock-skew` seconds), audiences, issuers and required claims.
    Failures use APIM's reasons (TokenNotPresent, JwtInvalid, TokenSignatureInvalid,
    TokenSignatureKeyNotFound, TokenExpired, TokenAudienceNotAllowed, TokenIssuerNotAllowed,
    TokenClaimNotFound, TokenClaimValueNotAllowed) and `failed-validation-httpcode` (401).
    `<key certificate-id>` uses the public key of a certificate declared in the gateway
    configuration (`certificates:`). Encrypted tokens (`<decryption-keys>`) are not supported.
    """

    tag = "validate-jwt"
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    settings_refs = (("issuer-signing-keys/key@certificate-id", "certificates"),)
    attributes = (
        *TOKEN_SOURCE_ATTRS,
        *FAILURE_ATTRS,
        Attr("require-expiration-time", Bool(), default=True, doc="Refuse tokens without 'exp'."),
        Attr("require-scheme", Str(), doc="Authorization scheme required before the token, e.g. Bearer."),
        Attr("require-signed-tokens", Bool(), default=True, doc="Refuse unsigned tokens."),
        Attr("clock-skew", Int(min=0), default=0, doc="Tolerance in seconds for exp/nbf."),
        OUTPUT_ATTR,
    )
    children = (
        Child("openid-config", attributes=(Attr("url", Str(non_empty=True), required=True, doc="Metadata URL."),),
              doc="OpenID Connect discovery document supplying signing keys and the issuer."),
        Child(
            "issuer-signing-keys",
            children=(
                Child(
                    "key",
                    attributes=(
                        Attr("id", Str(), expr=False, doc="Matched against the token's kid."),
                        Attr("certificate-id", Str(), expr=False,
                             doc="A certificate of the gateway configuration (`certificates:`): its public key."),
                        Attr("n", Str(), doc="RSA modulus (base64url)."),
                        Attr("e", Str(), doc="RSA exponent (base64url)."),
                    ),
                    text=Text(Str(), doc="Base64 secret, or PEM certificate/public key."),
                ),
            ),
            max=1, doc="Keys that may have signed the token.",
        ),
        Child("decryption-keys", children=(Child("key", attributes=(Attr("id", Str(), expr=False),
                                                                      Attr("certificate-id", Str(), expr=False)),
                                                  text=Text(Str())),),
              max=1, doc="Keys for encrypted tokens (not supported by policygate)."),
        AUDIENCES,
        Child("issuers", children=(Child("issuer", text=Text(Str(), required=True)),), max=1,
              doc="Accepted 'iss' values."),
        REQUIRED_CLAIMS,
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_token_source(element, diagnostics, required=True)
        keys = element.child("issuer-signing-keys")
        for key in keys.children_named("key") if keys is not None else []:
            if key.get("certificate-id") is not None:
                continue  # a certificate of the gateway configuration (`settings_refs`, checked at load)
            literal = [v for v in (key.text, key.get("n"), key.get("e")) if v is not None]
            if any(v.is_expression or has_reference(v.text) for v in literal):
                continue  # checked at run time / once named values are known
            try:
                key_from_element(*_key_texts(key), None)
            except InvalidKeyError as exc:
                diagnostics.error("policy-bad-value", f"<key>: {exc}", key.span)

    def build(self, element: PolicyElement, builder: Builder) -> ValidateJwtStep:
        keys: list[KeySpec] = []
        keys_element = element.child("issuer-signing-keys")
        for key in keys_element.children_named("key") if keys_element is not None else []:
            kid_value = key.get("id")
            kid = kid_value.text.strip() if kid_value is not None else None
            certificate = key.get("certificate-id")
            if certificate is not None:
                keys.append(KeySpec(None, kid=kid, certificate_id=certificate.text.strip()))
                continue
            text = builder.text_value(key) if key.text is not None else None
            n = builder.value(key, "n") if key.get("n") is not None else None
            e = builder.value(key, "e") if key.get("e") is not None else None
            literal = [v for v in (key.text, key.get("n"), key.get("e")) if v is not None]
            if not any(v.is_expression for v in literal):
                keys.append(KeySpec(key_from_element(*_key_texts(key), kid), kid=kid))
            else:
                keys.append(KeySpec(None, text, n, e, kid))
        return ValidateJwtStep(
            **common_parts(element, builder),
            require_expiration=builder.value(element, "require-expiration-time"),
            require_scheme=builder.value(element, "require-scheme"),
            require_signed=builder.value(element, "require-signed-tokens"),
            clock_skew=builder.value(element, "clock-skew"),
            keys=tuple(keys),
            openid_urls=tuple(builder.value(c, "url") for c in element.children_named("openid-config")),
            issuers=texts_of(builder, element.child("issuers"), "issuer"),
        )


def check_token_source(element: PolicyElement, diagnostics: Diagnostics, *, required: bool) -> None:
    """At most one of header-name, query-parameter-name, token-value (exactly one when `required`)."""
    given = [name for name in TOKEN_SOURCES if element.get(name) is not None]
    if not given and required:
        diagnostics.error(
            "policy-missing-attribute",
            f"<{element.tag}> needs one of header-name, query-parameter-name or token-value",
            element.span,
        )
    elif len(given) > 1:
        diagnostics.error(
            "policy-conflicting-attributes",
            f"<{element.tag}> takes only one of header-name, query-parameter-name, token-value (got {', '.join(given)})",
            element.attribute_spans.get(given[1], element.span),
        )


def common_parts(element: PolicyElement, builder: Builder) -> dict[str, Any]:
    """The step fields validate-jwt and validate-azure-ad-token declare alike (token source, failure,
    output variable, audiences, required claims)."""
    output = element.get("output-token-variable-name")
    return {
        "header_name": builder.value(element, "header-name"),
        "query_parameter_name": builder.value(element, "query-parameter-name"),
        "token_value": builder.value(element, "token-value"),
        "status": builder.value(element, "failed-validation-httpcode"),
        "error_message": builder.value(element, "failed-validation-error-message"),
        "output_variable": output.text.strip() if output is not None else None,
        "audiences": texts_of(builder, element.child("audiences"), "audience"),
        "claims": _claims(builder, element.child("required-claims")),
    }


def texts_of(builder: Builder, parent: PolicyElement | None, tag: str) -> tuple[Value, ...]:
    if parent is None:
        return ()
    return tuple(text_or_empty(builder, child) for child in parent.children_named(tag))


def _claims(builder: Builder, parent: PolicyElement | None) -> tuple[ClaimRule, ...]:
    rules = []
    for claim in parent.children_named("claim") if parent is not None else []:
        name = claim.get("name")
        match = claim.get("match")
        separator = claim.get("separator")
        rules.append(
            ClaimRule(
                name=name.text.strip() if name is not None else "",
                match_all=match is None or match.text.strip().lower() != "any",
                separator=separator.text if separator is not None and separator.text else None,
                values=texts_of(builder, claim, "value"),
            )
        )
    return tuple(rules)


def _key_texts(key: PolicyElement) -> tuple[str | None, str | None, str | None]:
    """The literal text, `n` and `e` of a `<key>`."""
    n, e = key.get("n"), key.get("e")
    return (key.text.text if key.text is not None else None, n.text if n is not None else None,
            e.text if e is not None else None)
