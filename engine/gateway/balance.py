"""Exact connection balance over `--workers N` native workers.

The parent binds one listening socket and every worker inherits it. Each worker publishes how many
connections it holds in a table in shared memory (made before the fork), and accepts a waiting
connection only while it holds no more than the least-loaded worker that is accepting; otherwise it
leaves the connection to that worker. So the workers' connection counts stay within one of each
other, whoever the clients are. The kernel's SO_REUSEPORT hash, used before, gives 64 connections
from one client to 2 workers as unevenly as 27/37 in one round in three (a keep-alive connection
stays where it landed), and resets the connections waiting in a dead worker's queue; a shared
socket keeps them for the other workers.

Liveness: when connections have waited `STALL_SECONDS` while no other worker accepted or closed
one (the least-loaded worker is busy or stuck), any worker takes them, so a connection never waits
on one worker for longer than that. A worker that stops accepting (drain, death) leaves the table (`Slot.withdraw`; the parent
does it for a dead worker), and the others no longer wait for it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import mmap
import select
import socket
from collections.abc import Callable

log = logging.getLogger("policygate.gateway")

ABSENT = -1  # a worker that is not accepting (starting, draining, dead)
RETRY_SECONDS = 0.001  # a worker that left a connection to another looks again this much later
STALL_SECONDS = 0.1  # connections waiting this long while the others make no progress: any worker takes them
PAUSE_SECONDS = 1.0  # out of file descriptors (or memory): stop accepting this long
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class ConnectionTable:
    """How many connections each of `workers` workers holds, in memory shared over fork."""

    def __init__(self, workers: int) -> None:
        self._memory = mmap.mmap(-1, 4 * workers)  # anonymous and MAP_SHARED: the forked workers see one table
        self.counts = memoryview(self._memory).cast("i")
        for index in range(workers):
            self.counts[index] = ABSENT

    def slot(self, index: int) -> Slot:
        return Slot(self.counts, index)

    def slot_left(self, index: int) -> None:
        """Worker `index` is gone (the parent saw it exit): the others stop waiting for it."""
        self.counts[index] = ABSENT


class Slot:
    """One worker's row of a ConnectionTable (only that worker writes it, and the parent after its death)."""

    __slots__ = ("counts", "index")

    def __init__(self, counts: memoryview, index: int) -> None:
        self.counts = counts
        self.index = index

    def publish(self, held: int) -> None:
        self.counts[self.index] = held

    def withdraw(self) -> None:
        self.counts[self.index] = ABSENT

    def others(self) -> tuple[int, ...]:
        return tuple(count for index, count in enumerate(self.counts) if index != self.index)

    def may_accept(self, held: int) -> bool:
        """Whether a worker holding `held` connections is (one of) the least loaded accepting ones."""
        counts, me = self.counts, self.index
        return all(count == ABSENT or held <= count for index, count in enumerate(counts) if index != me)


class BalancedAcceptor:
    """Accepts from a shared listening socket on the event loop, taking only this worker's share.

    `open_connection(sock)` starts serving an accepted, non-blocking socket; the caller reports
    each connection's end with `closed()`. Connections opened and not yet closed count as held.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, slot: Slot,
                 open_connection: Callable[[socket.socket], None]) -> None:
        self.loop = loop
        self.sock = sock
        self.slot = slot
        self.open_connection = open_connection
        self.held = 0
        self.accepting = False
        self._watching = False
        self._others_then: tuple[int, ...] = ()  # the other workers' counts when a wait for them began
        self._stuck_since = 0.0
        self._last_left = float("-inf")  # when a connection was last left to the others
        self._pending = select.poll()
        self._pending.register(sock.fileno(), select.POLLIN)

    def start(self) -> None:
        self.accepting = True
        self.slot.publish(self.held)
        self._watch()

    def stop(self) -> None:
        """No more accepts; the socket stays open for the other workers."""
        self.accepting = False
        self.slot.withdraw()
        self._unwatch()

    def closed(self) -> None:
        self.held -= 1
        if self.accepting:
            self.slot.publish(self.held)

    def _watch(self) -> None:
        if self.accepting and not self._watching:
            self.loop.add_reader(self.sock.fileno(), self._ready)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self.loop.remove_reader(self.sock.fileno())
            self._watching = False

    def _ready(self) -> None:
        while self.accepting:
            if not self.slot.may_accept(self.held) and not self._others_stuck():
                self._defer()
                return
            try:
                conn, _address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO, errno.EPERM):
                    continue  # that connection is gone; the next one may not be
                self._refused(exc)
                return
            conn.setblocking(False)
            self.held += 1
            self.slot.publish(self.held)
            self.open_connection(conn)
        self._watch()

    def _others_stuck(self) -> bool:
        """Whether connections have been waiting for STALL_SECONDS while no other worker's count changed.

        The clock starts when a connection is left to the others and restarts when one of them
        accepts or closes a connection, or when no connection was left to them for STALL_SECONDS."""
        now, others = self.loop.time(), self.slot.others()
        if others != self._others_then or now - self._last_left > STALL_SECONDS:
            self._others_then, self._stuck_since = others, now
        self._last_left = now
        return now - self._stuck_since >= STALL_SECONDS

    def _defer(self) -> None:
        """Leave the waiting connection to a less loaded worker; look again in RETRY_SECONDS."""
        self._unwatch()
        self.loop.call_later(RETRY_SECONDS, self._retry)

    def _retry(self) -> None:
        if not self.accepting:
            return
        if self._pending.poll(0):
            self._ready()  # still waiting: accept it now or leave it again
        else:  # another worker took it
            self._watch()

    def _refused(self, exc: OSError) -> None:
        if exc.errno in _RESOURCE_ERRORS:
            log.error("cannot accept connections (%s); pausing %g s", exc.strerror, PAUSE_SECONDS)
            self._unwatch()
            self.loop.call_later(PAUSE_SECONDS, self._watch)
        else:  # EINVAL: the parent stopped the listener (shutdown); the gateway is stopping
            self.stop()
