"""Event loggers of `log-to-eventhub`, declared under `loggers:` in the gateway configuration.

A logger is a sink plus a bounded in-memory queue. `EventLogger.log` never waits: it puts the
event on the queue, or, when the queue is full (the sink is slow or down), drops it and counts
the drop. One background task per logger and worker process takes what is queued, in batches,
and writes it to the sink; a batch the sink could not take (Redis unreachable, a full disk) is
tried again, with growing pauses, for up to `retry-for-ms`, while new events keep queuing:

* `redis-stream`: `XADD <stream> MAXLEN ~ <max-length> * ...`, one pipelined round trip per batch
  on the event loop's own Redis connection (`engine.redis_loop`; a Redis Cluster goes through a
  thread, `engine.redis_dispatcher`); the stream stays bounded by Redis's approximate trimming.
* `file`: one JSON object per line, appended (a thread writes, so a slow disk never blocks requests).
* `stdout`: one JSON object per line on the gateway's standard output.

Every event carries the logger id, the time, the message and the partition id/key it was sent
with. Messages longer than `MAX_MESSAGE_BYTES` are truncated, as APIM truncates Event Hubs events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from redis.exceptions import ResponseError

from engine.errors import ConfigError
from engine.metrics import Metrics

log = logging.getLogger("policygate.loggers")

KINDS = ("redis-stream", "file", "stdout")
MAX_MESSAGE_BYTES = 204_000  # APIM truncates larger messages (docs: "200 KB"; the policy toolkit: 204,000 bytes)
DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_MAX_LENGTH = 100_000
BATCH = 128  # events per write
CLOSE_TIMEOUT = 5.0  # seconds queued events may take to be written when the gateway stops
DEFAULT_RETRY_MS = 30_000
FIRST_PAUSE, LONGEST_PAUSE = 0.1, 5.0  # seconds between tries of a failed batch (doubling)
KEYS = {
    "redis-stream": ("type", "redis", "stream", "max-length", "queue-size", "timeout-ms", "retry-for-ms"),
    "file": ("type", "path", "queue-size", "retry-for-ms"),
    "stdout": ("type", "queue-size", "retry-for-ms"),
}
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class LoggerSettings:
    """One entry of `loggers:`."""

    id: str
    kind: str  # one of KINDS
    queue_size: int = DEFAULT_QUEUE_SIZE
    redis: str = ""  # redis-stream: Redis URL or StackExchange.Redis string
    stream: str = ""  # redis-stream: the stream key (default `policygate:events:<id>`)
    max_length: int = DEFAULT_MAX_LENGTH  # redis-stream: MAXLEN ~ bound
    timeout: float = 2.0  # redis-stream: seconds Redis may stay silent before a write fails
    retry_for: float = DEFAULT_RETRY_MS / 1000  # seconds a failed batch is tried again before it is lost
    path: Path | None = None  # file: the JSON-lines file


def parse_loggers(value: object, *, where: str, base_dir: Path,
                  environ: Mapping[str, str] | None = None) -> dict[str, LoggerSettings]:
    """Validate `loggers:` (id -> mapping); raises ConfigError naming `where` and the key."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of logger ids to loggers")
    env = os.environ if environ is None else environ
    loggers = {}
    for logger_id, spec in value.items():
        at = f"{where}.{logger_id}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a mapping with type: one of {', '.join(KINDS)}")
        kind = spec.get("type")
        if kind not in KINDS:
            raise ConfigError(f"{at}.type: expected one of {', '.join(KINDS)}, got {kind!r}")
        for key in spec:
            if key not in KEYS[kind]:
                raise ConfigError(f"{at}.{key}: unknown key for type {kind} (expected one of: {', '.join(KEYS[kind])})")
        settings = LoggerSettings(str(logger_id), kind, queue_size=_int(spec, "queue-size", at, DEFAULT_QUEUE_SIZE),
                                  retry_for=_int(spec, "retry-for-ms", at, DEFAULT_RETRY_MS, minimum=0) / 1000)
        if kind == "redis-stream":
            settings = _redis_stream(settings, spec, at, env)
        elif kind == "file":
            settings = _file(settings, spec, at, base_dir)
        loggers[settings.id] = settings
    return loggers


def _redis_stream(settings: LoggerSettings, spec: dict[str, Any], at: str, env: Mapping[str, str]) -> LoggerSettings:
    from engine.cache.connection import RedisSettings, RedisSettingsError

    text = spec.get("redis")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{at}.redis: expected a Redis URL (e.g. redis://127.0.0.1:6379/0)")
    missing = [name for name in _ENV_VAR.findall(text) if name not in env]
    if missing:
        raise ConfigError(f"{at}.redis: environment variable {missing[0]} is not set")
    text = _ENV_VAR.sub(lambda m: env[m.group(1)], text)
    try:
        RedisSettings.parse(text)
    except RedisSettingsError as exc:
        raise ConfigError(f"{at}.redis: {exc}") from None
    stream = spec.get("stream", f"policygate:events:{settings.id}")
    if not isinstance(stream, str) or not stream:
        raise ConfigError(f"{at}.stream: expected a stream key")
    timeout_ms = _int(spec, "timeout-ms", at, int(settings.timeout * 1000))
    return replace(settings, redis=text, stream=stream, timeout=timeout_ms / 1000.0,
                   max_length=_int(spec, "max-length", at, DEFAULT_MAX_LENGTH))


def _file(settings: LoggerSettings, spec: dict[str, Any], at: str, base_dir: Path) -> LoggerSettings:
    text = spec.get("path")
    if not isinstance(text, str) or not text:
        raise ConfigError(f"{at}.path: expected the path of a JSON-lines file")
    path = Path(text) if Path(text).is_absolute() else base_dir / text
    if not path.parent.is_dir():
        raise ConfigError(f"{at}.path: folder not found: {path.parent}")
    return replace(settings, path=path)


def _int(spec: dict[str, Any], key: str, at: str, default: int, minimum: int = 1) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ConfigError(f"{at}.{key}: expected {expected}, got {value!r}")
    return value


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    logger: str
    time: str  # ISO 8601, UTC
    message: str
    partition_id: str | None = None
    partition_key: str | None = None

    def fields(self) -> dict[str, str]:
        """The event as flat string fields (a Redis stream entry; JSON lines add nothing else)."""
        out = {"logger": self.logger, "time": self.time, "message": self.message}
        if self.partition_id is not None:
            out["partition-id"] = self.partition_id
        if self.partition_key is not None:
            out["partition-key"] = self.partition_key
        return out


def truncate(message: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    """`message` cut to at most `limit` UTF-8 bytes (never inside a character)."""
    data = message.encode("utf-8")
    return message if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


class Sink(Protocol):
    async def write(self, events: list[Event]) -> None:
        """Write the batch; raises `RefusedBatch` when trying again cannot help, any other
        exception when it may (the sink is unreachable or full)."""
        ...

    async def close(self) -> None: ...


class RefusedBatch(Exception):
    """The sink answered that it will not take this batch (a Redis error reply such as WRONGTYPE)."""


class RedisStreamSink:
    """XADD with `MAXLEN ~`, one round trip per batch: on the event loop's own connection for a
    standalone Redis (engine.redis_loop), through a thread for a cluster (engine.redis_dispatcher)."""

    def __init__(self, settings: LoggerSettings) -> None:
        from engine.cache.connection import RedisSettings
        from engine.redis_loop import open_dispatcher

        redis = replace(RedisSettings.parse(settings.redis).with_timeouts(timeout=settings.timeout),
                        client_name=f"policygate-logger-{settings.id}")
        self.settings = settings
        self.dispatcher = open_dispatcher(redis, name=f"policygate-logger-{settings.id}")

    async def write(self, events: list[Event]) -> None:
        s = self.settings
        commands = []
        for event in events:
            fields = [item for pair in event.fields().items() for item in pair]
            commands.append(("XADD", s.stream, "MAXLEN", "~", s.max_length, "*", *fields))
        try:
            await self.dispatcher.commands(commands)
        except ResponseError as exc:
            raise RefusedBatch(str(exc)) from None

    async def close(self) -> None:
        await self.dispatcher.close()


class JsonLinesSink:
    """One JSON object per line, appended to a file (or written to stdout), from a thread."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    async def write(self, events: list[Event]) -> None:
        text = "".join(json.dumps(event.fields(), ensure_ascii=False) + "\n" for event in events)
        await asyncio.to_thread(self._append, text)

    def _append(self, text: str) -> None:
        if self.path is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        with self.path.open("a", encoding="utf-8") as file:  # opened per batch: rotation by renaming just works
            file.write(text)

    async def close(self) -> None:
        return None


def create_sink(settings: LoggerSettings) -> Sink:
    if settings.kind == "redis-stream":
        return RedisStreamSink(settings)
    return JsonLinesSink(settings.path if settings.kind == "file" else None)


# -- loggers --------------------------------------------------------------------------------------


class EventLogger:
    """One logger: a bounded queue in front of its sink, drained by a background task."""

    def __init__(self, settings: LoggerSettings, metrics: LoggerMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.sink: Sink | None = None
        self._queue: asyncio.Queue[Event] | None = None
        self._task: asyncio.Task[None] | None = None
        self._last_warning = 0.0

    def start(self) -> None:
        """Create the sink and its writer task (in the event loop that will log)."""
        if self._task is None:
            self.sink = create_sink(self.settings)
            self._queue = asyncio.Queue(self.settings.queue_size)
            self._task = asyncio.get_running_loop().create_task(self._drain(), name=f"logger-{self.settings.id}")

    def log(self, message: str, partition_id: str | None = None, partition_key: str | None = None) -> bool:
        """Queue one event without waiting; False when it was dropped (queue full)."""
        self.start()
        assert self._queue is not None
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        event = Event(self.settings.id, now, truncate(message), partition_id, partition_key)
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.metrics.events.inc(self.settings.id, "dropped")
            self._warn("queue full (%d events): events are dropped", self.settings.queue_size)
            return False
        self.metrics.queued.set(self.settings.id, value=self._queue.qsize())
        return True

    async def _drain(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    queue.task_done()
                self.metrics.queued.set(self.settings.id, value=queue.qsize())

    async def _write(self, batch: list[Event]) -> None:
        """Write one batch, trying again while the sink is unreachable, for up to `retry_for` seconds."""
        assert self.sink is not None
        give_up, pause = time.monotonic() + self.settings.retry_for, FIRST_PAUSE
        while True:
            try:
                await self.sink.write(batch)
                self.metrics.events.inc(self.settings.id, "sent", amount=len(batch))
                return
            except asyncio.CancelledError:
                self.metrics.events.inc(self.settings.id, "failed", amount=len(batch))
                raise
            except Exception as exc:
                if isinstance(exc, RefusedBatch) or time.monotonic() + pause > give_up:
                    self.metrics.events.inc(self.settings.id, "failed", amount=len(batch))
                    self._warn("writing %d events failed, they are lost: %s", len(batch), exc)
                    return
                self._warn("writing %d events failed, trying again: %s", len(batch), exc)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    def _warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 10.0:  # at most one warning per logger every 10 s
            self._last_warning = now
            log.warning("logger %s: " + message, self.settings.id, *args)

    async def close(self) -> None:
        """Write what is queued (for up to CLOSE_TIMEOUT s), then stop."""
        if self._task is None:
            return
        assert self._queue is not None and self.sink is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), CLOSE_TIMEOUT)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.sink.close()
        self._task = None


@dataclass
class LoggerMetrics:
    registry: Metrics

    def __post_init__(self) -> None:
        self.events = self.registry.counter(
            "policygate_logger_events_total",
            "log-to-eventhub events by logger and outcome (sent; dropped: queue full; failed: the sink refused the "
            "batch or stayed unreachable for retry-for-ms).",
            ("logger", "outcome"))
        self.queued = self.registry.gauge("policygate_logger_queue_events", "Events waiting to be written, by logger.",
                                          ("logger",))


class LoggerService:
    """`ctx.services.loggers`: the loggers of `loggers:` by id."""

    def __init__(self, settings: Mapping[str, LoggerSettings], metrics: Metrics) -> None:
        self.settings = dict(settings)
        self.metrics = LoggerMetrics(metrics)
        self.loggers = {lid: EventLogger(s, self.metrics) for lid, s in settings.items()}

    def get(self, logger_id: str) -> EventLogger | None:
        return self.loggers.get(logger_id)

    async def start(self) -> None:
        for logger in self.loggers.values():
            logger.start()

    async def close(self) -> None:
        for logger in self.loggers.values():
            try:
                await logger.close()
            except Exception as exc:  # closing must not mask shutdown
                log.warning("closing logger %s failed: %s", logger.settings.id, exc)


def logger_service(settings: Mapping[str, LoggerSettings], metrics: Metrics) -> LoggerService | None:
    """The service of `loggers:`, or None when none is declared."""
    return LoggerService(settings, metrics) if settings else None
