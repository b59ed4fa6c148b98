"""Rate limits, quotas and concurrency limits: exact sliding windows in-process or in Redis.

Public API: `LimitService` (gateway service, `ctx.services.limits`), `Window`, `Decision`, `Mode`,
`QuotaCounter`, `QuotaDecision`, `LimitStoreUnavailable`, `Slot`.
"""

from engine.ratelimit.decisions import (
    Decision,
    LimitStoreUnavailable,
    Mode,
    QuotaCounter,
    QuotaDecision,
    Window,
)
from engine.ratelimit.service import LimitService, Slot

__all__ = [
    "Decision", "LimitService", "LimitStoreUnavailable", "Mode", "QuotaCounter", "QuotaDecision", "Slot", "Window",
]
