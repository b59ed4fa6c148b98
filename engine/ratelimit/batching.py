"""Automatic pipelining: decisions started in the same event-loop turn share one Redis round trip.

Each decision is still exactly one EVALSHA command. A decision made while no other is in flight is
sent at once, exactly as without batching; decisions that arrive while round trips are in flight
are queued and sent together on the next loop turn, in one non-transactional pipeline (one write,
one read) — which is what limits throughput when the gateway's CPU, not Redis, is the bottleneck. Redis Cluster clients are not batched
(their commands go straight to the owning node).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

MAX_BATCH = 256


class Script(Protocol):
    sha: str
    source: str

    async def run(self, client: Any, keys: Sequence[str], args: Sequence[object]) -> Any: ...


Pending = tuple[Script, Sequence[str], Sequence[object], "asyncio.Future[Any]"]


class Batcher:
    """Collects script calls for one loop turn and sends them as one pipeline."""

    def __init__(self, client: Any, in_flight: asyncio.Semaphore, *, enabled: bool = True) -> None:
        self.client = client
        self.in_flight = in_flight
        self.enabled = enabled
        self._queue: list[Pending] = []
        self._busy = 0  # round trips in flight
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, script: Script, keys: Sequence[str], args: Sequence[object]) -> Any:
        if not self.enabled or (self._busy == 0 and not self._queue):
            # Nothing else in flight: send at once (no added latency for a lone request).
            self._busy += 1
            try:
                async with self.in_flight:
                    return await self._single(script, keys, args)
            finally:
                self._busy -= 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queue:
            loop.call_soon(self._flush)
        self._queue.append((script, keys, args, future))
        return await future

    def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[Pending]) -> None:
        live = [item for item in batch if not item[3].done()]  # callers that timed out are skipped
        if not live:
            return
        self._busy += 1
        try:
            async with self.in_flight:
                if len(live) == 1:
                    script, keys, args, future = live[0]
                    _settle(future, result=await self._single(script, keys, args))
                    return
                results = await self._pipeline(live)
            for (script, keys, args, future), result in zip(live, results, strict=True):
                if isinstance(result, NoScriptError):
                    result = await script.run(self.client, keys, args)  # EVAL, re-caching the script
                if isinstance(result, BaseException):
                    _settle(future, error=result)
                else:
                    _settle(future, result=result)
        except Exception as exc:
            for *_, future in live:
                _settle(future, error=exc)
        finally:
            self._busy -= 1

    async def _single(self, script: Script, keys: Sequence[str], args: Sequence[object]) -> Any:
        try:
            return await script.run(self.client, keys, args)
        except RedisConnectionError:
            # A pooled connection that died with a Redis restart fails at once; redis-py has now
            # dropped it, so one retry on a fresh connection (still within the caller's timeout).
            return await script.run(self.client, keys, args)

    async def _pipeline(self, batch: list[Pending]) -> list[Any]:
        for attempt in (1, 2):
            pipe = self.client.pipeline(transaction=False)
            for script, keys, args, _ in batch:
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            try:
                return list(await pipe.execute(raise_on_error=False))
            except RedisConnectionError:
                if attempt == 2:
                    raise
            finally:
                await pipe.reset()
        raise AssertionError("unreachable")


def _settle(future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
