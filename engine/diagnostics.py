"""Diagnostics: coded, located findings, collected (not raised) and rendered as text or JSON."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from engine.source import SourceFile, Span

MESSAGE_LIMIT = 500  # characters of a message or hint (they may quote what the document holds)
EXCERPT_WIDTH = 160  # characters of the source line shown under a diagnostic


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: `file:line:col: severity[code]: message`, with an optional hint."""

    code: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        return f"{self.span}: {self.severity.value}[{self.code}]: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.col, self.code)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "location": {
                "file": self.span.file,
                "line": self.span.line,
                "col": self.span.col,
                "end_line": self.span.end_line,
                "end_col": self.span.end_col,
            },
        }


class Diagnostics:
    """An ordered bag of diagnostics that phases append to; `limit` caps runaway output."""

    def __init__(self, limit: int = 1000) -> None:
        self._items: list[Diagnostic] = []
        self._seen: set[tuple[str, int, int, str, str]] = set()
        self.limit = limit

    def add(self, diagnostic: Diagnostic) -> None:
        if len(diagnostic.message) > MESSAGE_LIMIT or len(diagnostic.hint or "") > MESSAGE_LIMIT:
            diagnostic = replace(diagnostic, message=_shorten(diagnostic.message),
                                 hint=None if diagnostic.hint is None else _shorten(diagnostic.hint))
        span = diagnostic.span
        key = (span.file, span.line, span.col, diagnostic.code, diagnostic.message)
        if key in self._seen or len(self._items) >= self.limit:
            return
        self._seen.add(key)
        self._items.append(diagnostic)

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.add(Diagnostic(code, Severity.ERROR, message, span, hint))

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.add(Diagnostic(code, Severity.WARNING, message, span, hint))

    def extend(self, items: Iterable[Diagnostic]) -> None:
        for item in items:
            self.add(item)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self._items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self._items if d.is_error]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self._items, key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


def render_text(diagnostic: Diagnostic, source: SourceFile | None = None) -> str:
    """Render a diagnostic with the offending source line and a caret under the span.

    A long line is cut to a window of EXCERPT_WIDTH characters around the span (`...` marks the
    cuts), so a one-line document of megabytes still gives one short excerpt per diagnostic.
    """
    lines = [diagnostic.format()]
    span = diagnostic.span
    if source is not None:
        text = source.line_text(span.line)
        if text:
            start = max(0, min(span.col - 1 - EXCERPT_WIDTH // 4, len(text) - EXCERPT_WIDTH))
            end = start + EXCERPT_WIDTH
            shown = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
            col = span.col - start + (3 if start else 0)  # the caret column within `shown`
            gutter = f"{span.line:>5} | "
            lines.append(gutter + shown)
            width = span.end_col - span.col if span.end_line == span.line else len(shown) - col + 1
            width = max(1, min(width, max(1, len(shown) - col + 1)))
            lines.append(" " * (len(gutter) - 2) + "| " + " " * (col - 1) + "^" * width)
    if diagnostic.hint:
        lines.append(f"  hint: {diagnostic.hint}")
    return "\n".join(lines)


def _shorten(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2)
