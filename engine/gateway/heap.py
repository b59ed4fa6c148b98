"""Keep the long-lived heap out of the garbage collector's way in a serving process.

Start-up leaves about 100,000 long-lived objects (imports, compiled documents, services). Every
full collection walks all of them again: a pause of tens of milliseconds that showed as the p99 of
every target that waits on the network (docs/performance.md, "Redis on the event loop"). `freeze()`
collects once and moves what is left into the permanent generation (`gc.freeze`), so later
collections only walk what requests create.

With `--workers N` the parent freezes what it compiled before it forks: the workers' collections
then never write to the objects they inherited (a collection writes to every object it walks,
which would copy each of those memory pages into every worker), and each worker freezes what its
own start added. After a reload, `settle()` unfreezes and collects the previous state first, then
freezes the new one; a reference cycle that was in flight during the reload stays frozen (bounded
by the requests in flight at that moment).

Only the process that owns the heap calls these (`policygate serve` and its workers), never a
library or test process that embeds `GatewayServer`.
"""

from __future__ import annotations

import gc


def freeze() -> None:
    """Collect, then freeze what survives (what is already frozen stays so, untouched)."""
    gc.collect()
    gc.freeze()


def settle() -> None:
    """After a reload: unfreeze everything, collect (the replaced state goes), freeze what survives."""
    gc.unfreeze()
    freeze()
