"""What running xsl-transform in its helper processes costs, beside libxslt on a thread.

Run:  python -m tests.perf.bench_xslt

The order stylesheet of tests/policies/test_xsl_transform.py on a 50-item order (about 400 bytes):
per transform, the round trip through the transform processes (`engine.isolation.WorkerPool`,
as the policy calls it) and the same compiled stylesheet applied on a thread of the default
executor (how the policy ran before it moved to processes). Wall time per call, best of 3 x 2,000.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from lxml import etree

from engine.isolation import close_worker_pools, worker_pool
from policies._xslt_worker import compile_sheet
from policies.xsl_transform import MAX_OUTPUT, MEMORY, WORKER_SCRIPT, WORKERS
from tests.policies.test_xsl_transform import SHEET

BODY = b'<order id="3">' + b"<item/>" * 50 + b"</order>"
CALLS = 2000


async def per_call(call: Callable[[], Awaitable[object]]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(CALLS):
            await call()
        best = min(best, (time.perf_counter() - started) / CALLS)
    return best * 1e6


async def main() -> None:
    pool = worker_pool(WORKER_SCRIPT, (str(MEMORY), str(MAX_OUTPUT)), size=WORKERS, max_reply=MAX_OUTPUT)
    request = {"sheet": SHEET, "parameters": {"greeting": "hi"}}
    sheet = compile_sheet(SHEET)

    def on_thread() -> bytes:
        return bytes(sheet(etree.fromstring(BODY).getroottree(), greeting=etree.XSLT.strparam("hi")))

    await pool.call(request, BODY, 30)  # start the process
    process = await per_call(lambda: pool.call(request, BODY, 30))
    thread = await per_call(lambda: asyncio.to_thread(on_thread))
    await close_worker_pools()
    print(f"transform process: {process:7.1f} us per call")
    print(f"thread:            {thread:7.1f} us per call")


if __name__ == "__main__":
    asyncio.run(main())
