"""``System.Guid``."""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

from .errors import ArgumentException, ArgumentNullException, FormatException
from .primitives import static_property

_FORMATS = {
    "N": re.compile(r"[0-9a-fA-F]{32}"),
    "D": re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    "B": re.compile(r"\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}"),
    "P": re.compile(r"\([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\)"),
}
_X_FORMAT = re.compile(
    r"\{0[xX]([0-9a-fA-F]{1,8}),0[xX]([0-9a-fA-F]{1,4}),0[xX]([0-9a-fA-F]{1,4}),"
    r"\{((?:0[xX][0-9a-fA-F]{1,2},){7}0[xX][0-9a-fA-F]{1,2})\}\}"
)


class Guid:
    """A 128-bit identifier held as one int (the 32 hex digits of its ``N`` form, so ints order as
    .NET's ``CompareTo``); ``ToString()`` is lowercase ``D`` format, bytes are .NET's mixed-endian."""

    dotnet_name = "System.Guid"
    json_token_type = "Guid"
    formattable = True
    __slots__ = ("_int", "_text")

    def __init__(self, value: Any = None, *parts: Any) -> None:
        self._text: str | None = None
        if parts:
            self._int = _from_parts(value, parts)
        elif value is None:
            self._int = 0
        elif isinstance(value, uuid.UUID):
            self._int = value.int
        elif isinstance(value, bytes | bytearray):
            if len(value) != 16:
                raise ArgumentException("Byte array for Guid must be exactly 16 bytes long.", "b")
            self._int = int.from_bytes(_swap_le(bytes(value)), "big")
        elif isinstance(value, str):
            self._int = _parse(value)
        else:
            raise ArgumentException("Invalid Guid value.", "g")

    @classmethod
    def from_int(cls, value: int) -> Guid:
        guid = cls.__new__(cls)
        guid._int = value
        guid._text = None
        return guid

    @classmethod
    def default(cls) -> Guid:
        return cls()

    @staticmethod
    def NewGuid() -> Guid:
        """A version-4 (random) Guid: 122 random bits, as uuid4 makes them without building a UUID."""
        n = int.from_bytes(os.urandom(16), "big")
        return Guid.from_int((n & _V4_KEEP) | _V4_SET)

    @static_property
    def Empty() -> Guid:  # noqa: N802
        return Guid()

    @staticmethod
    def Parse(s: str | None, provider: Any = None) -> Guid:
        if s is None:
            raise ArgumentNullException("input")
        return Guid.from_int(_parse(s))

    @staticmethod
    def TryParse(s: str | None, *args: Any) -> tuple[bool, Guid]:
        try:
            return True, Guid.Parse(s)
        except (FormatException, ArgumentNullException):
            return False, Guid()

    @staticmethod
    def ParseExact(s: str | None, fmt: str) -> Guid:
        if s is None:
            raise ArgumentNullException("input")
        pattern = _FORMATS.get(fmt.upper())
        if pattern is None or not pattern.fullmatch(s.strip()):
            raise FormatException("Unrecognized Guid format.")
        return Guid.from_int(_parse(s))

    @staticmethod
    def TryParseExact(s: str | None, fmt: str | None) -> tuple[bool, Guid]:
        try:
            return True, Guid.ParseExact(s, fmt or "")
        except (FormatException, ArgumentNullException):
            return False, Guid()

    def ToByteArray(self) -> bytes:
        return _swap_le(self._int.to_bytes(16, "big"))

    def ToString(self, fmt: Any = None, provider: Any = None) -> str:
        d = self._text
        if d is None:
            h = f"{self._int:032x}"
            d = self._text = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if fmt is None or fmt in ("D", "d", "") or not isinstance(fmt, str):
            return d
        if fmt in ("N", "n"):
            return d.replace("-", "")
        if fmt in ("B", "b"):
            return "{" + d + "}"
        if fmt in ("P", "p"):
            return "(" + d + ")"
        if fmt in ("X", "x"):
            h = f"{self._int:032x}"
            tail = ",".join(f"0x{h[i : i + 2]}" for i in range(16, 32, 2))
            return "{" + f"0x{h[:8]},0x{h[8:12]},0x{h[12:16]},{{{tail}}}" + "}"
        raise FormatException('Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".')

    def to_json_text(self) -> str:
        return self.ToString()

    def Equals(self, other: Any) -> bool:
        return isinstance(other, Guid) and other._int == self._int

    def CompareTo(self, other: Any) -> int:
        if other is None:
            return 1
        a, b = self._int, other._int if isinstance(other, Guid) else _compare_error(other)
        return (a > b) - (a < b)

    def GetHashCode(self) -> int:
        """.NET Core: the XOR of the four little-endian Int32s of ``ToByteArray()``."""
        b = self.ToByteArray()
        h = (int.from_bytes(b[0:4], "little") ^ int.from_bytes(b[4:8], "little")
             ^ int.from_bytes(b[8:12], "little") ^ int.from_bytes(b[12:16], "little"))
        return h - 2**32 if h >= 2**31 else h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Guid) and other._int == self._int

    def __hash__(self) -> int:
        return hash(self._int)

    def __repr__(self) -> str:
        return f"Guid({self.ToString()})"


_V4_KEEP = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)  # uuid4: version nibble 4, variant bits 10
_V4_SET = (0x4 << 76) | (0x2 << 62)


def _compare_error(other: Any) -> int:
    raise ArgumentException("Object must be of type GUID.", "value")


def _swap_le(b: bytes) -> bytes:
    """Big-endian (display order) bytes <-> .NET's byte order (first three fields little-endian)."""
    return b[3::-1] + b[5:3:-1] + b[7:5:-1] + b[8:]


def _from_parts(a: Any, parts: tuple[Any, ...]) -> int:
    """``new Guid(int a, short b, short c, byte[] d)`` and ``new Guid(int, short, short, byte x 8)``."""
    if len(parts) == 3:
        b, c, d = parts
        if d is None:
            raise ArgumentNullException("d")
        tail = bytes(int(x) for x in d)
        if len(tail) != 8:
            raise ArgumentException("Byte array for Guid must be exactly 8 bytes long.", "d")
    elif len(parts) == 10:
        b, c, *rest = parts
        tail = bytes(int(x) & 0xFF for x in rest)
    else:
        raise ArgumentException("Invalid Guid value.", "g")
    head = ((int(a) & 0xFFFFFFFF) << 32) | ((int(b) & 0xFFFF) << 16) | (int(c) & 0xFFFF)
    return (head << 64) | int.from_bytes(tail, "big")


def _parse(s: str) -> int:
    text = s.strip()
    if len(text) == 36 and _FORMATS["D"].fullmatch(text):  # the common D form: no loop, no UUID
        return int(text.replace("-", ""), 16)
    for pattern in _FORMATS.values():
        if pattern.fullmatch(text):
            return int(text.strip("{}()").replace("-", ""), 16)
    m = _X_FORMAT.fullmatch(text.replace(" ", ""))
    if m:
        a, b, c, rest = m.groups()
        tail = "".join(f"{int(x, 16):02x}" for x in rest.split(","))
        return int(f"{int(a, 16):08x}{int(b, 16):04x}{int(c, 16):04x}{tail}", 16)
    raise FormatException("Unrecognized Guid format.")


__all__ = ["Guid"]
