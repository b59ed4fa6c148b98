"""``System.Text.StringBuilder``."""

from __future__ import annotations

from typing import Any

from .conversions import to_string
from .errors import ArgumentOutOfRangeException, IndexOutOfRangeException
from .limits import check_length
from .primitives import NEW_LINE, Char


class StringBuilder:
    """A mutable string; ``Append*`` return the builder for chaining."""

    dotnet_name = "System.Text.StringBuilder"

    def __init__(self, value: Any = None, capacity: Any = None, *_: Any) -> None:
        self._parts: list[str] = []
        self._length = 0
        if isinstance(value, str):
            if isinstance(capacity, int) and not isinstance(capacity, bool) and _:
                value = value[capacity : capacity + _[0]]
            self._add(str(value))

    def _add(self, piece: str) -> None:
        """Append ``piece``; the total length is checked before the builder grows."""
        check_length(self._length + len(piece), "a StringBuilder")
        self._parts.append(piece)
        self._length += len(piece)

    def _set(self, text: str) -> None:
        self._parts = [text] if text else []
        self._length = len(text)

    def _text(self) -> str:
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def Length(self) -> int:
        return self._length

    @Length.setter
    def Length(self, value: int) -> None:
        if value < 0:
            raise ArgumentOutOfRangeException("value", "Length cannot be less than zero.")
        check_length(value, "a StringBuilder")
        text = self._text()
        self._set(text[:value].ljust(value, "\0"))

    @property
    def Capacity(self) -> int:
        return max(16, self.Length)

    def Append(self, value: Any = None, repeat: Any = None, count: Any = None) -> StringBuilder:
        if isinstance(value, Char) and isinstance(repeat, int):
            if repeat < 0:
                raise ArgumentOutOfRangeException("repeatCount", "Count cannot be less than zero.")
            check_length(self._length + repeat, "a StringBuilder")
            self._add(str(value) * repeat)
        elif isinstance(value, list) and value and all(isinstance(c, Char) for c in value):
            chars = value if repeat is None else value[repeat : repeat + count]
            self._add("".join(chars))
        elif isinstance(value, str) and isinstance(repeat, int) and isinstance(count, int):
            self._add(value[repeat : repeat + count])
        else:
            self._add(to_string(value))
        return self

    def AppendLine(self, value: Any = None) -> StringBuilder:
        self._add(to_string(value) + NEW_LINE)
        return self

    def AppendFormat(self, fmt: Any, *args: Any) -> StringBuilder:
        from .strings import String

        self._add(String.Format(fmt, *args))
        return self

    def AppendJoin(self, separator: Any, *values: Any) -> StringBuilder:
        from .strings import String

        self._add(String.Join(separator, *values))
        return self

    def Insert(self, index: int, value: Any, count: int = 1) -> StringBuilder:
        text = self._text()
        if index < 0 or index > len(text):
            raise ArgumentOutOfRangeException(
                "index",
                "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            )
        piece = to_string(value)
        check_length(len(text) + len(piece) * max(count, 0), "a StringBuilder")
        self._set(text[:index] + piece * count + text[index:])
        return self

    def Remove(self, start: int, length: int) -> StringBuilder:
        text = self._text()
        if start < 0 or length < 0 or start + length > len(text):
            raise ArgumentOutOfRangeException(
                "length",
                "Index was out of range. Must be non-negative and less than or equal to the size of the collection.",
            )
        self._set(text[:start] + text[start + length :])
        return self

    def Replace(
        self, old: Any, new: Any, start: int | None = None, count: int | None = None
    ) -> StringBuilder:
        text = self._text()
        new_s = "" if new is None else str(new)
        if len(new_s) > len(str(old)) and str(old):
            check_length(len(text) + text.count(str(old)) * (len(new_s) - len(str(old))), "a StringBuilder")
        if start is None:
            self._set(text.replace(str(old), new_s))
        else:
            end = start + (count or 0)
            self._set(text[:start] + text[start:end].replace(str(old), new_s) + text[end:])
        return self

    def Clear(self) -> StringBuilder:
        self._set("")
        return self

    def ToString(self, start: int | None = None, length: int | None = None) -> str:
        text = self._text()
        if start is None:
            return text
        if start < 0 or length is None or length < 0 or start + length > len(text):
            raise ArgumentOutOfRangeException(
                "length", "Index and length must refer to a location within the string."
            )
        return text[start : start + length]

    def Equals(self, other: Any) -> bool:
        return isinstance(other, StringBuilder) and other._text() == self._text()

    def __getitem__(self, index: int) -> Char:
        text = self._text()
        if not 0 <= index < len(text):
            raise IndexOutOfRangeException()
        return Char(text[index])

    def __setitem__(self, index: int, value: str) -> None:
        text = self._text()
        if not 0 <= index < len(text):
            raise IndexOutOfRangeException()
        self._set(text[:index] + str(value) + text[index + 1 :])

    def __str__(self) -> str:
        return self._text()


__all__ = ["StringBuilder"]
