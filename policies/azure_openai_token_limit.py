"""`<azure-openai-token-limit>` (schema only): limit Azure OpenAI token consumption per key."""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.model import PolicyElement
from engine.policy import Policy
from engine.schema import Scope, Section
from policies._token_limit import TOKEN_LIMIT_ATTRIBUTES, check_token_limit


class AzureOpenaiTokenLimit(Policy):
    """Limit Azure OpenAI token consumption per key (tokens per minute and/or a token quota).

    Declared so documents using it lint; the gateway does not run it yet and refuses to load a
    document that uses it.
    """

    tag = "azure-openai-token-limit"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes = TOKEN_LIMIT_ATTRIBUTES
    implemented = False
    unsupported_reason = "not implemented yet; rate-limit-by-key and quota-by-key can limit calls per key"

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_token_limit(element, diagnostics)
