"""Optional structured access log: one JSON object per request, one line each (stderr by default)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from engine.context import Context


class AccessLog:
    """Writes `{"time", "request_id", "method", "url", "status", "duration_ms", ...}` lines."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def write(self, ctx: Context, status: int, elapsed: float, api: str, operation: str) -> None:
        record: dict[str, object] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": str(ctx.request_id),
            "client_ip": ctx.request.ip_address,
            "method": ctx.request.method,
            "url": str(ctx.request.original_url),
            "api": api,
            "operation": operation,
            "product": ctx.product.id if ctx.product else "",
            "subscription": ctx.subscription.id if ctx.subscription else "",
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
        }
        if ctx.exchange.peer_address and ctx.exchange.peer_address != ctx.request.ip_address:
            record["proxy_ip"] = ctx.exchange.peer_address  # client_ip came from a trusted proxy's header
        if ctx.last_error is not None:
            record["error"] = {"source": ctx.last_error.source, "reason": ctx.last_error.reason,
                               "message": ctx.last_error.message}
        stream = self.stream or sys.stderr
        stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        stream.flush()
