"""`<azure-openai-token-limit>`: limit Azure OpenAI token consumption per key."""

from __future__ import annotations

from policies._token_limit import LEGACY_CONSUMED, TOKEN_LIMIT_ATTRIBUTES
from policies.llm_token_limit import LlmTokenLimit


class AzureOpenaiTokenLimit(LlmTokenLimit):
    """Limit Azure OpenAI token consumption per key: the Azure OpenAI form of `<llm-token-limit>`,
    with the same behaviour. It also accepts the older attribute names `consumed-tokens-header-name`
    and `consumed-tokens-variable-name`.
    """

    tag = "azure-openai-token-limit"
    attributes = TOKEN_LIMIT_ATTRIBUTES + LEGACY_CONSUMED
