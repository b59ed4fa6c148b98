"""An incremental server-sent-events decoder (the WHATWG `text/event-stream` rules).

Feed it the bytes of a streamed body as they pass (e.g. from a `engine.policy.BodyObserver`); it
returns the events completed so far and keeps the partial rest. Memory is bounded: an event larger
than `max_event_bytes` is dropped whole (`dropped` counts them) instead of growing the buffer.

    decoder = SseDecoder()
    for event in decoder.feed(chunk):
        if event.data != "[DONE]":
            payload = json.loads(event.data)
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EVENT_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event: its `data` lines joined with newlines."""

    data: str
    event: str = "message"
    id: str | None = None


class SseDecoder:
    """Turns chunks of an event stream into `SseEvent`s; one decoder per stream."""

    __slots__ = ("_partial", "_data", "_size", "_event", "_id", "_overflow", "_skip_line", "_started", "max_event_bytes", "dropped")

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self.dropped = 0
        self._partial = b""  # an unfinished line
        self._data: list[str] = []
        self._size = 0
        self._event = ""
        self._id: str | None = None
        self._overflow = False
        self._skip_line = False  # the next line is the tail of one too long to keep
        self._started = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events that `chunk` completes, in order."""
        text = self._partial + chunk
        if not self._started and text:
            if len(text) < 3 and b"\xef\xbb\xbf".startswith(text):
                self._partial = text
                return []
            self._started = True
            text = text.removeprefix(b"\xef\xbb\xbf")
        hold_cr = text.endswith(b"\r")  # a CR LF pair may be split between two chunks
        if hold_cr:
            text = text[:-1]
        lines = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        rest = lines.pop() + (b"\r" if hold_cr else b"")
        if lines and self._skip_line:
            lines[0], self._skip_line = b"-", False  # the end of the dropped line: ignored like an unknown field
        if len(rest) > self.max_event_bytes:  # a line that does not end: drop it, and its event
            rest, self._overflow, self._skip_line = b"", True, True
        self._partial = rest
        events: list[SseEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: bytes) -> SseEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None  # a comment (keep-alive)
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._size += len(value) + 1
            if self._size > self.max_event_bytes:
                self._overflow = True
            if not self._overflow:
                self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            self._id = value.decode("utf-8", "replace")
        return None  # `retry` and unknown fields are ignored

    def _dispatch(self) -> SseEvent | None:
        data, overflow, event = self._data, self._overflow, self._event
        self._data, self._size, self._overflow, self._event = [], 0, False, ""
        if overflow:
            self.dropped += 1
            return None
        if not data:
            return None
        return SseEvent("\n".join(data), event or "message", self._id)
