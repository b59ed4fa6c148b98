"""``System.Net.IPAddress`` (the members APIM allows) and ``AddressFamily``."""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import Any, ClassVar

from .errors import ArgumentNullException, FormatException


class AddressFamily(enum.IntEnum):
    """``System.Net.Sockets.AddressFamily`` (the two values an ``IPAddress`` can have)."""

    InterNetwork = 2
    InterNetworkV6 = 23

    def ToString(self, fmt: str | None = None) -> str:
        from .enums import EnumMembers

        return EnumMembers.ToString(self, fmt)


class IPAddress:
    """An IPv4 or IPv6 address."""

    dotnet_name = "System.Net.IPAddress"
    Loopback: ClassVar[IPAddress]  # set below the class
    IPv6Loopback: ClassVar[IPAddress]

    def __init__(self, value: Any) -> None:
        if isinstance(value, bytes | bytearray):
            self._ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(bytes(value))
        elif isinstance(value, int):
            self._ip = ipaddress.IPv4Address(int.from_bytes(value.to_bytes(4, "little"), "big"))
        else:
            self._ip = value

    @staticmethod
    def Parse(text: str | None) -> IPAddress:
        if text is None:
            raise ArgumentNullException("ipString")
        candidate = text.strip().strip("[]")
        try:
            if ":" not in candidate:
                return IPAddress(_ipv4(candidate))
            return IPAddress(ipaddress.ip_address(candidate))
        except ValueError as exc:
            raise FormatException("An invalid IP address was specified.") from exc

    @staticmethod
    def TryParse(text: str | None) -> tuple[bool, IPAddress | None]:
        try:
            return True, IPAddress.Parse(text)
        except (FormatException, ArgumentNullException):
            return False, None

    @property
    def AddressFamily(self) -> AddressFamily:
        return AddressFamily.InterNetwork if self._ip.version == 4 else AddressFamily.InterNetworkV6

    def GetAddressBytes(self) -> bytes:
        return self._ip.packed

    @staticmethod
    def IsLoopback(address: IPAddress) -> bool:
        return address._ip.is_loopback

    def Equals(self, other: Any) -> bool:
        return isinstance(other, IPAddress) and other._ip == self._ip

    def __eq__(self, other: object) -> bool:
        return self.Equals(other)

    def __hash__(self) -> int:
        return hash(self._ip)

    def ToString(self) -> str:
        return str(self._ip)

    def __repr__(self) -> str:
        return f"IPAddress({self._ip})"


_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def _ipv4(text: str) -> ipaddress.IPv4Address:
    """IPv4 text as .NET (and inet_aton) reads it: 1 to 4 parts, each decimal, hex (`0x1F`) or
    octal (`010`); the last part fills the remaining bytes (`1.2.3` is 1.2.0.3, `1` is 0.0.0.1)."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        raise ValueError(text)
    values = [int(p, 16) if p[:2] in ("0x", "0X") else int(p, 8) if p.startswith("0") and len(p) > 1 else int(p)
              for p in parts]
    *head, last = values
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        raise ValueError(text)
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


IPAddress.Loopback = IPAddress(ipaddress.ip_address("127.0.0.1"))
IPAddress.Any = IPAddress(ipaddress.ip_address("0.0.0.0"))  # type: ignore[attr-defined]  # declared, it would shadow typing.Any in the class
IPAddress.IPv6Loopback = IPAddress(ipaddress.ip_address("::1"))

__all__ = ["AddressFamily", "IPAddress"]
