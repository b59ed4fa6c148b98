"""`azure-openai-token-limit` and `llm-token-limit`: one implementation (same attributes, same rules).

Inbound decides against the key's token bucket (`tokens-per-minute`) and quota counter (`token-quota`
per `token-quota-period`) in one call of the limit service (engine.ratelimit.tokens: one Redis
script call, or in-process without Redis). With `estimate-prompt-tokens="true"`, or for a streamed
request, the estimated prompt tokens must fit and are taken at once; otherwise the request is
admitted while at least one token is left. Once the answer's usage is known (engine.llm.usage) the
difference between what was taken and what the answer used is added (or given back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine import clock
from engine.errors import PolicyRuntimeError
from engine.llm.tokenizer import preload
from engine.llm.usage import Usage, is_stream_request, on_usage, prompt_estimate
from engine.policy import Builder, Flow, Value
from engine.ratelimit.decisions import LimitStoreUnavailable, Mode
from engine.ratelimit.policy_support import (
    at_end,
    first_count,
    limits,
    seconds,
    store_unavailable,
)
from engine.ratelimit.quota_period import format_timespan
from engine.ratelimit.tokens import PERIODS, TokenBudget, TokenDecision, calendar_period
from engine.schema import Attr, Bool, Enum, Int, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

LIMIT_REASON = "OpenAITokenLimitExceeded"
QUOTA_REASON = "OpenAITokenQuotaExceeded"


def _name(name: str, doc: str) -> Attr:
    return Attr(name, Str(non_empty=True), expr=False, doc=doc)


TOKEN_LIMIT_ATTRIBUTES = (
    Attr("counter-key", Str(non_empty=True), required=True, doc="Key the token limit is tracked by (usually an expression)."),
    Attr("tokens-per-minute", Int(min=0), doc="Prompt plus completion tokens allowed per minute (a token bucket refilled continuously)."),
    Attr("token-quota", Int(min=0), doc="Tokens allowed per `token-quota-period`."),
    Attr("token-quota-period", Enum(*PERIODS), doc="The quota's calendar period in UTC (weeks start on Monday)."),
    Attr("estimate-prompt-tokens", Bool(), required=True, doc="`true`: estimate the prompt tokens before forwarding and refuse a prompt that does not fit; `false`: count only the usage the answer reports."),
    _name("retry-after-header-name", "Response header carrying the seconds to wait when refused (default `Retry-After`)."),
    _name("retry-after-variable-name", "Variable receiving the seconds to wait when refused."),
    _name("remaining-tokens-header-name", "Response header with the tokens left in the per-minute allowance."),
    _name("remaining-tokens-variable-name", "Variable with the tokens left in the per-minute allowance."),
    _name("remaining-quota-tokens-header-name", "Response header with the tokens left in the quota period."),
    _name("remaining-quota-tokens-variable-name", "Variable with the tokens left in the quota period."),
    _name("tokens-consumed-header-name", "Response header with the prompt plus completion tokens of this call."),
    _name("tokens-consumed-variable-name", "Variable with the estimated prompt tokens (or 0) until the answer arrives, then its reported total."),
)
# azure-openai-token-limit before 2025 named the consumed-token pair the other way round.
LEGACY_CONSUMED = (
    _name("consumed-tokens-header-name", "Older name of `tokens-consumed-header-name`."),
    _name("consumed-tokens-variable-name", "Older name of `tokens-consumed-variable-name`."),
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


@dataclass(frozen=True)
class Names:
    """The optional header and variable names."""

    retry_after_header: str
    retry_after_variable: str | None
    remaining_header: str | None
    remaining_variable: str | None
    remaining_quota_header: str | None
    remaining_quota_variable: str | None
    consumed_header: str | None
    consumed_variable: str | None

    @classmethod
    def of(cls, element: PolicyElement) -> Names:
        def text(*names: str) -> str | None:
            for name in names:
                value = element.get(name)
                if value is not None and value.text.strip():
                    return value.text.strip()
            return None

        return cls(
            retry_after_header=text("retry-after-header-name") or "Retry-After",
            retry_after_variable=text("retry-after-variable-name"),
            remaining_header=text("remaining-tokens-header-name"),
            remaining_variable=text("remaining-tokens-variable-name"),
            remaining_quota_header=text("remaining-quota-tokens-header-name"),
            remaining_quota_variable=text("remaining-quota-tokens-variable-name"),
            consumed_header=text("tokens-consumed-header-name", "consumed-tokens-header-name"),
            consumed_variable=text("tokens-consumed-variable-name", "consumed-tokens-variable-name"),
        )


@dataclass
class _Call:
    """One admitted request's bookkeeping until its usage is known."""

    budget: TokenBudget
    taken: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenLimitStep:
    tag: str
    counter_key: Value
    tokens_per_minute: Value | None
    token_quota: Value | None
    quota_period: Value | None
    estimate: Value
    names: Names

    async def __call__(self, ctx: Context) -> Flow | None:
        key = str(self.counter_key.get(ctx) or "")
        if not first_count(ctx, "token-limit", key):
            return None  # this request was already decided on by this key at another scope
        budget = self._budget(ctx, key)
        taken = await prompt_estimate(ctx) if self.estimate.get(ctx) is True or is_stream_request(ctx) else 0
        service = limits(ctx)
        try:
            decision = await service.tokens(budget, taken, Mode.ACQUIRE if taken > 0 else Mode.CHECK)
        except LimitStoreUnavailable:
            raise store_unavailable(self.tag) from None
        if not decision.allowed:
            service.throttled(self.tag)
            raise self._refusal(ctx, budget, decision)
        call = _Call(budget, taken)
        self._record(ctx, call, decision, taken)

        async def send_headers(final: Context) -> None:  # as they are once the usage is known
            for name, value in call.headers.items():
                final.response.headers.set(name, value)

        at_end(ctx, send_headers)

        async def account(final: Context, usage: Usage) -> None:
            await self._account(final, call, usage)

        on_usage(ctx, account)
        return None

    def _budget(self, ctx: Context, key: str) -> TokenBudget:
        tpm = self.tokens_per_minute.get(ctx) if self.tokens_per_minute is not None else None
        quota = self.token_quota.get(ctx) if self.token_quota is not None else None
        if quota is None:
            return TokenBudget(key, None if tpm is None else int(tpm), None)
        period = str(self.quota_period.get(ctx)) if self.quota_period is not None else ""
        try:
            label, ends_in = calendar_period(clock.now(), period)
        except ValueError as exc:
            raise PolicyRuntimeError(str(exc), source=self.tag, reason="InvalidTokenQuotaPeriod", status=500) from None
        return TokenBudget(key, None if tpm is None else int(tpm), int(quota), label, ends_in + 60.0)

    def _record(self, ctx: Context, call: _Call, decision: TokenDecision, consumed: int) -> None:
        names, headers = self.names, call.headers
        if decision.remaining_tokens is not None:
            if names.remaining_variable:
                ctx.variables[names.remaining_variable] = decision.remaining_tokens
            if names.remaining_header:
                headers[names.remaining_header] = str(decision.remaining_tokens)
        if decision.quota_used is not None and call.budget.quota is not None:
            left = max(0, call.budget.quota - decision.quota_used)
            if names.remaining_quota_variable:
                ctx.variables[names.remaining_quota_variable] = left
            if names.remaining_quota_header:
                headers[names.remaining_quota_header] = str(left)
        if names.consumed_variable:
            ctx.variables[names.consumed_variable] = consumed

    async def _account(self, ctx: Context, call: _Call, usage: Usage) -> None:
        """Add what the answer used beyond what was taken at inbound (or give back the excess)."""
        used = usage.total
        decision: TokenDecision | None = None
        if used != call.taken:
            try:
                decision = await limits(ctx).tokens(call.budget, used - call.taken, Mode.ADD)
            except LimitStoreUnavailable:
                pass  # failure-mode closed: nothing to count into; the next request gets 503
        if decision is not None:
            self._record(ctx, call, decision, used)
        elif self.names.consumed_variable:
            ctx.variables[self.names.consumed_variable] = used
        if self.names.consumed_header and usage.source != "none":
            call.headers[self.names.consumed_header] = str(used)

    def _refusal(self, ctx: Context, budget: TokenBudget, decision: TokenDecision) -> PolicyRuntimeError:
        names = self.names
        headers: dict[str, str] = {}
        if decision.blocked == "quota":
            wait = seconds(max(0.0, budget.quota_expires_in - 60.0))
            message = f"Token quota is exceeded. Quota will be replenished in {format_timespan(wait)}."
            status, reason = 403, QUOTA_REASON
            if names.remaining_quota_variable:
                ctx.variables[names.remaining_quota_variable] = 0
            if names.remaining_quota_header:
                headers[names.remaining_quota_header] = "0"
        else:
            wait = seconds(decision.retry_after)
            message = f"Token limit is exceeded. Try again in {wait} seconds."
            status, reason = 429, LIMIT_REASON
            if names.remaining_variable:
                ctx.variables[names.remaining_variable] = decision.remaining_tokens or 0
            if names.remaining_header:
                headers[names.remaining_header] = str(decision.remaining_tokens or 0)
        headers[names.retry_after_header] = str(wait)
        if names.retry_after_variable:
            ctx.variables[names.retry_after_variable] = wait
        error = PolicyRuntimeError(message, source=self.tag, reason=reason, status=status, headers=headers)
        error.public_message = message
        return error


def build_token_limit(tag: str, element: PolicyElement, builder: Builder) -> TokenLimitStep:
    """The runtime step of either twin."""
    builder.require_body(request=True, response=False)  # the prompt; the answer is read when it arrives
    preload()  # the tokenizer loads in the background while the gateway starts

    def optional(name: str) -> Value | None:
        return builder.value(element, name) if element.get(name) is not None else None

    return TokenLimitStep(
        tag=tag,
        counter_key=builder.value(element, "counter-key"),
        tokens_per_minute=optional("tokens-per-minute"),
        token_quota=optional("token-quota"),
        quota_period=optional("token-quota-period"),
        estimate=builder.value(element, "estimate-prompt-tokens"),
        names=Names.of(element),
    )
