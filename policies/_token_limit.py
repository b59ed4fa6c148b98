"""Shared schema of `azure-openai-token-limit` and `llm-token-limit` (same attributes, same rules)."""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.model import PolicyElement
from engine.schema import Attr, Bool, Enum, Int, Str

TOKEN_LIMIT_ATTRIBUTES = (
    Attr("counter-key", Str(non_empty=True), required=True, doc="Key the token limit is tracked by."),
    Attr("tokens-per-minute", Int(min=0), doc="Prompt plus completion tokens allowed per minute."),
    Attr("token-quota", Int(min=0), doc="Tokens allowed per quota period."),
    Attr("token-quota-period", Enum("Hourly", "Daily", "Weekly", "Monthly", "Yearly"), doc="Quota period."),
    Attr("estimate-prompt-tokens", Bool(), doc="Count prompt tokens locally instead of from the response."),
    Attr("retry-after-header-name", Str(), expr=False),
    Attr("retry-after-variable-name", Str(), expr=False),
    Attr("remaining-tokens-header-name", Str(), expr=False),
    Attr("remaining-tokens-variable-name", Str(), expr=False),
    Attr("remaining-quota-tokens-header-name", Str(), expr=False),
    Attr("remaining-quota-tokens-variable-name", Str(), expr=False),
    Attr("tokens-consumed-header-name", Str(), expr=False),
    Attr("tokens-consumed-variable-name", Str(), expr=False),
)


def check_token_limit(element: PolicyElement, diagnostics: Diagnostics) -> None:
    """A limit needs tokens-per-minute or token-quota; a quota needs its period."""
    if element.get("tokens-per-minute") is None and element.get("token-quota") is None:
        diagnostics.error(
            "policy-missing-attribute",
            f"<{element.tag}> requires 'tokens-per-minute' or 'token-quota'",
            element.span,
        )
    if element.get("token-quota") is not None and element.get("token-quota-period") is None:
        diagnostics.error(
            "policy-missing-attribute",
            f"<{element.tag}> requires 'token-quota-period' with 'token-quota'",
            element.attribute_spans.get("token-quota", element.span),
        )
