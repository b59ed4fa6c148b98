"""Keep the long-lived heap out of the garbage collector's way in a serving process.

Start-up leaves about 100,000 long-lived objects (imports, compiled documents, services). Every
full collection walks all of them again: a pause of tens of milliseconds that showed as the p99 of
every target that waits on the network (docs/performance.md, "Redis on the event loop"). `settle()` collects
once and moves what is left into the permanent generation (`gc.freeze`), so later collections
only walk what requests create. After a reload the previous state is unfrozen and collected first,
then the new one frozen; a reference cycle that was in flight during the reload stays frozen (bounded
by the requests in flight at that moment).

Only the process that owns the heap calls it (`policygate serve` and its workers), never a library
or test process that embeds `GatewayServer`.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect everything, then freeze what survives."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
