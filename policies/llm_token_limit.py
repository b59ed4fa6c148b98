"""`<llm-token-limit>`: limit language-model token consumption per key."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from engine.policy import Builder, Policy
from engine.schema import Attr, Scope, Section
from policies._token_limit import TOKEN_LIMIT_ATTRIBUTES, TokenLimitStep, build_token_limit, check_token_limit

if TYPE_CHECKING:
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement


class LlmTokenLimit(Policy):
    """Limit language-model tokens (prompt plus completion) per key: `tokens-per-minute`, a
    `token-quota` per `token-quota-period`, or both.

    Per minute, each key has a token bucket holding `tokens-per-minute` tokens, refilled
    continuously (one minute from empty to full). The quota counts tokens in the calendar period
    containing the request (UTC; weeks start on Monday). With `estimate-prompt-tokens="true"`, and
    for every request with `"stream": true`, the prompt tokens are estimated before forwarding
    (see docs/ai-gateway.md), must fit and are taken at once; otherwise a request is admitted while
    at least one token is left. When the answer arrives, its `usage` (or, without one, an estimate)
    replaces what was taken, so a call may overdraw the bucket and the next calls wait.

    Refused: `429` `{"statusCode": 429, "message": "Token limit is exceeded. Try again in N
    seconds."}` with `Retry-After` (per-minute), or `403` "Token quota is exceeded. Quota will be
    replenished in hh:mm:ss." with `Retry-After` (quota); `context.LastError.Reason` is
    `OpenAITokenLimitExceeded` / `OpenAITokenQuotaExceeded`, and on-error runs. Counters live in the
    rate-limit store (Redis when configured: exact across gateway instances; else in-process).
    """

    tag = "llm-token-limit"
    sections = Section.INBOUND
    scopes = Scope.ALL
    attributes: ClassVar[tuple[Attr, ...]] = TOKEN_LIMIT_ATTRIBUTES
    reads_body = False  # reads the request body itself; the answer may stream
    implemented = True

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        check_token_limit(element, diagnostics)

    def build(self, element: PolicyElement, builder: Builder) -> TokenLimitStep:
        return build_token_limit(self.tag, element, builder)
