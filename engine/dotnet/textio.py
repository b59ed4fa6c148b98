"""``System.IO.StringReader`` and ``System.IO.StringWriter`` (in-memory text only)."""

from __future__ import annotations

from typing import Any

from .conversions import to_string
from .errors import ArgumentNullException
from .primitives import NEW_LINE
from .stringbuilder import StringBuilder


class StringReader:
    """Reads a string line by line or character by character."""

    dotnet_name = "System.IO.StringReader"

    def __init__(self, text: str | None) -> None:
        if text is None:
            raise ArgumentNullException("s")
        self._text = text
        self._pos = 0

    def Peek(self) -> int:
        return ord(self._text[self._pos]) if self._pos < len(self._text) else -1

    def Read(self) -> int:
        if self._pos >= len(self._text):
            return -1
        self._pos += 1
        return ord(self._text[self._pos - 1])

    def ReadLine(self) -> str | None:
        if self._pos >= len(self._text):
            return None
        text, start = self._text, self._pos
        end = start
        while end < len(text) and text[end] not in "\r\n":
            end += 1
        line = text[start:end]
        if end < len(text) and text[end] == "\r" and end + 1 < len(text) and text[end + 1] == "\n":
            end += 1
        self._pos = end + 1
        return line

    def ReadToEnd(self) -> str:
        rest = self._text[self._pos :]
        self._pos = len(self._text)
        return rest

    def Dispose(self) -> None:
        return None

    def Close(self) -> None:
        return None


class StringWriter:
    """Writes into a ``StringBuilder``; ``WriteLine`` ends lines with ``\\r\\n``."""

    dotnet_name = "System.IO.StringWriter"

    def __init__(self, builder: Any = None, provider: Any = None) -> None:
        self._builder = builder if isinstance(builder, StringBuilder) else StringBuilder()

    @property
    def NewLine(self) -> str:
        return NEW_LINE

    def Write(self, value: Any = None, *args: Any) -> None:
        if args and isinstance(value, str):
            from .strings import String

            self._builder.Append(String.Format(value, *args))
        else:
            self._builder.Append(
                "".join(str(c) for c in value) if isinstance(value, list) else to_string(value)
            )

    def WriteLine(self, value: Any = None, *args: Any) -> None:
        self.Write(value, *args)
        self._builder.Append(NEW_LINE)

    def GetStringBuilder(self) -> StringBuilder:
        return self._builder

    def Flush(self) -> None:
        return None

    def ToString(self) -> str:
        return self._builder.ToString()

    def Dispose(self) -> None:
        return None

    def Close(self) -> None:
        return None


__all__ = ["StringReader", "StringWriter"]
