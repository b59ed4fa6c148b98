"""The caller's address behind trusted reverse proxies (`server.trusted-proxies`).

A request whose TCP peer is one of the trusted proxies carries the caller's address in a
forwarding header: `X-Forwarded-For: client, proxy1, proxy2` or RFC 7239 `Forwarded: for=client,
for=proxy1`. The chain is read from the right (the hop nearest to the gateway) and trusted hops
are skipped: the first untrusted address is the caller. Only the header named by
`server.client-ip-header` is read, because a proxy that appends to one of them passes the other
through from the caller unchanged (which would let any caller choose its address).

The same peer also tells the caller's scheme (a TLS-terminating proxy): `X-Forwarded-Proto`, or
the `proto=` of the `Forwarded` header when that is the configured header. The value nearest to the
gateway (the last one) counts, so a caller cannot choose it through a proxy that appends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from engine.context import Headers

if TYPE_CHECKING:
    from engine.gateway.settings import ServerSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
CLIENT_IP_HEADERS = ("x-forwarded-for", "forwarded")


class TrustedProxies:
    """Networks whose forwarding headers are believed; `client_address(peer, headers)` applies them."""

    __slots__ = ("networks", "header")

    def __init__(self, networks: Iterable[Network] = (), header: str = "x-forwarded-for") -> None:
        self.networks = tuple(networks)
        self.header = header.lower()

    @classmethod
    def of(cls, server: ServerSettings) -> TrustedProxies:
        return cls(server.trusted_proxies, server.client_ip_header)

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client_address(self, peer: str, headers: Headers) -> str:
        """The caller's address: `peer` unless it is a trusted proxy that forwarded a caller."""
        if not self.networks:
            return peer
        current = parse_address(peer)
        if current is None or not self.trusts(current):
            return peer
        values = headers.get_list(self.header)
        hops = forwarded_param(values, "for") if self.header == "forwarded" else _split(values)
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:  # "unknown", an obfuscated id or garbage: the last trusted hop is all we know
                break
            current = address
            if not self.trusts(address):
                break
        return str(current)

    def forwarded_scheme(self, peer: str, headers: Headers) -> str | None:
        """`http`/`https` as a trusted proxy `peer` reports the caller's request, else None."""
        if not self.networks:
            return None
        address = parse_address(peer)
        if address is None or not self.trusts(address):
            return None
        if self.header == "forwarded":
            hops = forwarded_param(headers.get_list("forwarded"), "proto")
        else:
            hops = _split(headers.get_list("x-forwarded-proto"))
        scheme = hops[-1].strip('"').lower() if hops else None
        return scheme if scheme in ("http", "https") else None


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (or single addresses) -> networks; raises ValueError naming the bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"'{value}' is not an IP address or CIDR block") from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:443`, quoted or not."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_param(values: Iterable[str], parameter: str) -> list[str]:
    """One parameter (`for`, `proto`...) of each element of RFC 7239 `Forwarded` header values, in
    order ("" for an element without it)."""
    found = []
    for element in _split(values):
        pairs = (pair.partition("=") for pair in element.split(";"))
        found.append(next((value.strip() for name, _, value in pairs if name.strip().lower() == parameter), ""))
    return found


def _split(values: Iterable[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]
