"""``System.Net.IPAddress`` (the members APIM allows) and ``AddressFamily``."""

from __future__ import annotations

import enum
import ipaddress
from typing import Any

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

    def __init__(self, value: Any) -> None:
        if isinstance(value, bytes | bytearray):
            self._ip: Any = ipaddress.ip_address(bytes(value))
        elif isinstance(value, int):
            self._ip = ipaddress.IPv4Address(int.from_bytes(value.to_bytes(4, "little"), "big"))
        else:
            self._ip = value

    @staticmethod
    def Parse(text: str | None) -> IPAddress:
        if text is None:
            raise ArgumentNullException("ipString")
        try:
            return IPAddress(ipaddress.ip_address(text.strip().strip("[]")))
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


IPAddress.Loopback = IPAddress(ipaddress.ip_address("127.0.0.1"))  # type: ignore[attr-defined]
IPAddress.Any = IPAddress(ipaddress.ip_address("0.0.0.0"))  # type: ignore[attr-defined]
IPAddress.IPv6Loopback = IPAddress(ipaddress.ip_address("::1"))  # type: ignore[attr-defined]

__all__ = ["AddressFamily", "IPAddress"]
