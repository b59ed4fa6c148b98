"""``System.Guid``."""

from __future__ import annotations

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
    """A 128-bit identifier; ``ToString()`` is lowercase ``D`` format, bytes are .NET's mixed-endian."""

    dotnet_name = "System.Guid"
    json_token_type = "Guid"
    formattable = True
    __slots__ = ("_uuid",)

    def __init__(self, value: Any = None) -> None:
        if value is None:
            self._uuid = uuid.UUID(int=0)
        elif isinstance(value, uuid.UUID):
            self._uuid = value
        elif isinstance(value, bytes | bytearray):
            if len(value) != 16:
                raise ArgumentException("Byte array for Guid must be exactly 16 bytes long.", "b")
            self._uuid = uuid.UUID(bytes_le=bytes(value))
        elif isinstance(value, str):
            self._uuid = _parse(value)
        else:
            raise ArgumentException("Invalid Guid value.", "g")

    @classmethod
    def default(cls) -> Guid:
        return cls()

    @staticmethod
    def NewGuid() -> Guid:
        return Guid(uuid.uuid4())

    @static_property
    def Empty() -> Guid:  # noqa: N802
        return Guid()

    @staticmethod
    def Parse(s: str | None, provider: Any = None) -> Guid:
        if s is None:
            raise ArgumentNullException("input")
        return Guid(_parse(s))

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
        return Guid(_parse(s))

    @staticmethod
    def TryParseExact(s: str | None, fmt: str | None) -> tuple[bool, Guid]:
        try:
            return True, Guid.ParseExact(s, fmt or "")
        except (FormatException, ArgumentNullException):
            return False, Guid()

    def ToByteArray(self) -> bytes:
        return self._uuid.bytes_le

    def ToString(self, fmt: Any = None, provider: Any = None) -> str:
        f = (fmt or "D") if isinstance(fmt, str) else "D"
        h = self._uuid.hex
        d = str(self._uuid)
        if f in ("D", "d"):
            return d
        if f in ("N", "n"):
            return h
        if f in ("B", "b"):
            return "{" + d + "}"
        if f in ("P", "p"):
            return "(" + d + ")"
        if f in ("X", "x"):
            tail = ",".join(f"0x{h[i : i + 2]}" for i in range(16, 32, 2))
            return "{" + f"0x{h[:8]},0x{h[8:12]},0x{h[12:16]},{{{tail}}}" + "}"
        raise FormatException('Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".')

    def to_json_text(self) -> str:
        return self.ToString()

    def Equals(self, other: Any) -> bool:
        return isinstance(other, Guid) and other._uuid == self._uuid

    def CompareTo(self, other: Any) -> int:
        if other is None:
            return 1
        a, b = self._uuid.bytes_le, other._uuid.bytes_le
        ka = (
            int.from_bytes(a[0:4], "little"),
            int.from_bytes(a[4:6], "little"),
            int.from_bytes(a[6:8], "little"),
            a[8:],
        )
        kb = (
            int.from_bytes(b[0:4], "little"),
            int.from_bytes(b[4:6], "little"),
            int.from_bytes(b[6:8], "little"),
            b[8:],
        )
        return (ka > kb) - (ka < kb)

    def GetHashCode(self) -> int:
        b = self._uuid.bytes_le
        a = int.from_bytes(b[0:4], "little", signed=True)
        s1 = int.from_bytes(b[4:6], "little")
        s2 = int.from_bytes(b[6:8], "little")
        tail = int.from_bytes(b[12:16], "big", signed=False)
        h = (a ^ ((s1 << 16) | s2) ^ ((b[10] << 24) | b[15]) ^ tail) & 0xFFFFFFFF
        return h - 2**32 if h >= 2**31 else h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Guid) and other._uuid == self._uuid

    def __hash__(self) -> int:
        return hash(self._uuid)

    def __repr__(self) -> str:
        return f"Guid({self._uuid})"


def _parse(s: str) -> uuid.UUID:
    text = s.strip()
    for pattern in _FORMATS.values():
        if pattern.fullmatch(text):
            return uuid.UUID(text.strip("{}()"))
    m = _X_FORMAT.fullmatch(text.replace(" ", ""))
    if m:
        a, b, c, rest = m.groups()
        tail = "".join(f"{int(x, 16):02x}" for x in rest.split(","))
        return uuid.UUID(f"{int(a, 16):08x}{int(b, 16):04x}{int(c, 16):04x}{tail}")
    raise FormatException("Unrecognized Guid format.")


__all__ = ["Guid"]
