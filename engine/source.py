"""Source files and source positions (1-based line and column, measured on the raw text)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, file: str, line: int, col: int, length: int = 1) -> Span:
        return cls(file, line, col, line, col + max(length, 1))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class SourceFile:
    """The raw text of one document and a line index for offset -> (line, col)."""

    path: str
    text: str
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, col) of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def offset(self, line: int, col: int) -> int:
        """Return the 0-based offset of a 1-based (line, col)."""
        line = max(1, min(line, len(self._starts)))
        return self._starts[line - 1] + col - 1

    def span(self, start: int, end: int) -> Span:
        """Span for the half-open offset range [start, end)."""
        line, col = self.position(start)
        end_line, end_col = self.position(max(end, start + 1))
        return Span(self.path, line, col, end_line, end_col)

    def line_text(self, line: int) -> str:
        if not 1 <= line <= len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self._starts[line] - 1 if line < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r")
