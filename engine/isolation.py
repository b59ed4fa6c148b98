"""Killable helper processes for work that cannot be interrupted in-process (libxslt transforms).

A `WorkerPool` runs a Python script in up to `size` separate processes. The script reads framed
requests on stdin and writes one framed reply per request on stdout; it imports nothing of
policygate (so it runs the same installed or not) and sets its own resource limits. A call that outlives its deadline kills its worker, so runaway
work never keeps running beside the gateway, and the next call starts a fresh process. A worker
that dies (its memory limit) or answers garbage fails the call with `WorkerFailed`.

Frame: 8 bytes (JSON header length, payload length; big-endian), the JSON header, the payload.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import struct
import sys
from pathlib import Path
from typing import Any

FRAME = struct.Struct(">II")
MAX_HEADER = 1 << 20  # bytes of JSON header a reply may carry


class WorkerFailed(Exception):
    """The worker process died or broke the protocol."""


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def exchange(self, header: dict[str, Any], payload: bytes, max_reply: int) -> tuple[dict[str, Any], bytes]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        data = json.dumps(header).encode()
        try:
            stdin.write(FRAME.pack(len(data), len(payload)) + data + payload)
            await stdin.drain()
            header_length, payload_length = FRAME.unpack(await stdout.readexactly(FRAME.size))
            if header_length > MAX_HEADER or payload_length > max_reply:
                raise WorkerFailed("the worker's reply is larger than allowed")
            reply = json.loads(await stdout.readexactly(header_length))
            body = await stdout.readexactly(payload_length)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            raise WorkerFailed("the worker stopped") from exc
        if not isinstance(reply, dict):
            raise WorkerFailed("the worker's reply is not an object")
        return reply, body

    def kill(self) -> None:
        if self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass


class WorkerPool:
    """Up to `size` processes running `script` (with `args`) for the event loop that made the pool."""

    def __init__(self, script: Path, args: tuple[str, ...], size: int, max_reply: int) -> None:
        self.script, self.args, self.max_reply = script, args, max_reply
        self.loop = asyncio.get_running_loop()
        self.owner = os.getpid()
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Worker] = []
        self._reaping: set[asyncio.Task[int]] = set()
        self.closed = False

    async def call(self, header: dict[str, Any], payload: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """Send one request and return the reply; TimeoutError after `timeout` seconds in all
        (waiting for a free worker included), WorkerFailed when the worker died."""
        async with asyncio.timeout(timeout), self._slots:
            while self._idle and self._idle[-1].process.returncode is not None:
                self._discard(self._idle.pop())  # died while idle (killed from outside)
            worker = self._idle.pop() if self._idle else await self._spawn()
            try:
                reply = await worker.exchange(header, payload, self.max_reply)
            except BaseException:  # deadline, cancellation or a dead worker: never reuse it
                self._discard(worker)
                raise
            if self.closed:
                self._discard(worker)
            else:
                self._idle.append(worker)
            return reply

    async def _spawn(self) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-P", str(self.script), *self.args,  # -P: the script's folder is not on sys.path
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        return _Worker(process)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        reaper = self.loop.create_task(worker.process.wait())  # no zombie left behind
        self._reaping.add(reaper)
        reaper.add_done_callback(self._reaping.discard)

    async def close(self) -> None:
        """Stop the idle workers now and the busy ones when their call ends."""
        self.closed = True
        while self._idle:
            self._discard(self._idle.pop())
        if self._reaping:
            await asyncio.wait(set(self._reaping))

    def abandon(self) -> None:
        """Stop every idle worker of a pool whose event loop is gone (only in the process that made it)."""
        if os.getpid() != self.owner:
            return
        for worker in self._idle:
            try:
                os.kill(worker.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._idle.clear()


_pools: dict[tuple[Path, tuple[str, ...]], WorkerPool] = {}


def worker_pool(script: Path, args: tuple[str, ...], *, size: int, max_reply: int) -> WorkerPool:
    """The pool of `script` for the running event loop (made on first use, replaced on a new loop)."""
    key = (script, args)
    pool = _pools.get(key)
    if pool is None or pool.closed or pool.loop is not asyncio.get_running_loop():
        if pool is not None:
            pool.abandon()
        pool = _pools[key] = WorkerPool(script, args, size, max_reply)
    return pool


async def close_worker_pools() -> None:
    """Stop the helper processes of the running event loop (at gateway shutdown)."""
    loop = asyncio.get_running_loop()
    for key, pool in list(_pools.items()):
        if pool.loop is loop:
            del _pools[key]
            await pool.close()


os.register_at_fork(after_in_child=_pools.clear)  # a forked gateway worker starts its own helpers
