"""What the five limit policies share: the service lookup, once-per-request counting, the 429/403/503
errors with their headers, and response headers written when the response is final."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from engine.context import Slot
from engine.errors import PolicyRuntimeError
from engine.policy import at_end_of_pipeline
from engine.ratelimit.decisions import Decision
from engine.ratelimit.service import LimitService

if TYPE_CHECKING:
    from engine.context import Context

COUNTED: Slot[set[tuple[str, object]]] = Slot("ratelimit.counted", set)  # counters this request incremented
_default: LimitService | None = None


def limits(ctx: Context) -> LimitService:
    """The gateway's LimitService, or one in-process service shared by contexts without services."""
    service = ctx.services.limits if ctx.services is not None else None
    if isinstance(service, LimitService):
        return service
    global _default
    if _default is None:
        _default = LimitService()
    return _default


def first_count(ctx: Context, kind: str, key: object) -> bool:
    """True the first time this request counts `key` of `kind` (APIM: once per request per key)."""
    counted = COUNTED.ensure(ctx)
    marker = (kind, key)
    if marker in counted:
        return False
    counted.add(marker)
    return True


def at_end(ctx: Context, callback: Callable[[Context], Awaitable[None]]) -> None:
    """Run `callback` when the response is final (the gateway pipeline's end-of-pipeline hook)."""
    at_end_of_pipeline(ctx, callback)


def seconds(value: float) -> int:
    """Whole seconds for headers and messages, rounded up, at least 1 while something is pending."""
    return max(1, math.ceil(value - 1e-9)) if value > 0 else 0


def standard_headers(decision: Decision) -> dict[str, str]:
    """IETF draft `RateLimit-*` headers for a decision."""
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(seconds(decision.reset)),
    }


def add_response_headers(ctx: Context, headers: dict[str, str]) -> None:
    """Set `headers` on whatever response the caller finally gets."""
    if not headers:
        return

    async def apply(final: Context) -> None:
        for name, value in headers.items():
            final.response.headers.set(name, value)

    at_end(ctx, apply)


def rate_limit_exceeded(source: str, retry_after: float, headers: dict[str, str]) -> PolicyRuntimeError:
    """APIM's RateLimitExceeded: 429, `Retry-After`, body "Rate limit is exceeded. Try again in N seconds."."""
    error = PolicyRuntimeError("Rate limit is exceeded", source=source, reason="RateLimitExceeded", status=429, headers=headers)
    error.public_message = f"Rate limit is exceeded. Try again in {seconds(retry_after)} seconds."
    return error


def quota_exceeded(source: str, message: str, headers: dict[str, str]) -> PolicyRuntimeError:
    """APIM's QuotaExceeded: 403 with `Retry-After` (seconds until the period renews)."""
    return PolicyRuntimeError(message, source=source, reason="QuotaExceeded", status=403, headers=headers)


def store_unavailable(source: str) -> PolicyRuntimeError:
    """failure-mode closed and the counter store is down: 503."""
    return PolicyRuntimeError(
        "Rate limit store is unavailable", source=source, reason="RateLimitStoreUnavailable", status=503
    )


def concurrency_exceeded(source: str) -> PolicyRuntimeError:
    return PolicyRuntimeError("Too many concurrent requests", source=source, reason="ConcurrencyLimitExceeded", status=429)
