"""validate-jwt's checks after the signature: lifetime and required claims, and its failure type."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.policy import Value

# Reason -> default message (the caller sees failed-validation-error-message when it is set).
MESSAGES = {
    "TokenNotPresent": "JWT not present.",
    "JwtInvalid": "Invalid JWT.",
    "TokenSignatureInvalid": "Signature validation failed.",
    "TokenSignatureKeyNotFound": "Signature validation failed. Unable to match key.",
    "TokenExpired": "Lifetime validation failed. The token is expired.",
    "TokenAudienceNotAllowed": "Audience validation failed.",
    "TokenIssuerNotAllowed": "Issuer validation failed.",
}


class JwtFailure(Exception):
    """A validation failure: APIM reason + the message when no custom message is configured."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES.get(reason, "Invalid JWT."))
        self.reason = reason
        self.message = message or MESSAGES.get(reason, "Invalid JWT.")


@dataclass(frozen=True)
class ClaimRule:
    name: str
    match_all: bool
    separator: str | None
    values: tuple[Value, ...]


def claim_values(value: Any) -> list[str]:
    """A claim as a list of strings (arrays flattened, objects as JSON, booleans lower-case)."""
    if isinstance(value, list):
        return [v for item in value for v in claim_values(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, dict):
        return [json.dumps(value, separators=(",", ":"))]
    return [str(value)]


def check_lifetime(claims: dict[str, Any], *, now: float, skew: int, require_expiration: bool) -> None:
    exp = claims.get("exp")
    if exp is None:
        if require_expiration:
            raise JwtFailure("JwtInvalid", "Lifetime validation failed. The token is missing an Expiration Time.")
    elif not isinstance(exp, int | float) or isinstance(exp, bool):
        raise JwtFailure("JwtInvalid")
    elif exp + skew < now:
        raise JwtFailure("TokenExpired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and nbf - skew > now:
        raise JwtFailure("JwtInvalid", "Lifetime validation failed. The token is not yet valid.")


def check_claims(claims: dict[str, Any], rules: Sequence[tuple[ClaimRule, list[str]]]) -> None:
    """`rules`: each rule with its evaluated allowed values."""
    missing = [rule.name for rule, _ in rules if rule.name not in claims]
    if missing:
        raise JwtFailure(
            "TokenClaimNotFound", f"JWT token is missing the following claims: {', '.join(missing)}. Access denied."
        )
    for rule, allowed in rules:
        if not allowed:
            continue
        actual = claim_values(claims[rule.name])
        if rule.separator:
            actual = [part for value in actual for part in value.split(rule.separator)]
        present = [value in actual for value in allowed]
        if not (all(present) if rule.match_all else any(present)):
            raise JwtFailure(
                "TokenClaimValueNotAllowed", f"JWT token claim '{rule.name}' value is not allowed. Access denied."
            )
