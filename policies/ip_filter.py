"""`<ip-filter>`: allow or forbid callers by IP address or address range (IPv4 and IPv6)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.named_values import has_reference
from engine.policy import Builder, Flow, Policy, Value, constant_value
from engine.schema import Attr, Child, Enum, Scope, Section, Str, Text

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement, ValueText

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IpAddress:
    """An address; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4; ValueError when invalid."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class AddressRule:
    """One `<address>` (`low == high`) or `<address-range from to>` (inclusive)."""

    low: Value
    high: Value | None = None
    fixed: tuple[IpAddress, IpAddress] | None = None  # parsed once when both ends are constants

    @classmethod
    def of(cls, low: Value, high: Value | None = None) -> AddressRule:
        if low.is_constant and (high is None or high.is_constant):
            try:
                first = parse_ip(str(constant_value(low)))
                last = first if high is None else parse_ip(str(constant_value(high)))
                return cls(low, high, (first, last))
            except ValueError:
                pass  # reported by lint; fails at run time with a clear message
        return cls(low, high)

    def matches(self, ctx: Context, caller: IpAddress) -> bool:
        if self.fixed is not None:
            low, high = self.fixed
        else:
            low = _rule_address(self.low.get(ctx))
            high = low if self.high is None else _rule_address(self.high.get(ctx))
        if low.version != caller.version or high.version != caller.version:
            return False
        return int(low) <= int(caller) <= int(high)  # same IP version: compare as numbers


def _rule_address(value: object) -> IpAddress:
    try:
        return parse_ip(str(value or ""))
    except ValueError:
        raise PolicyRuntimeError(
            f"'{value}' is not a valid IP address", source="ip-filter", reason="ExpressionValueEvaluationFailure"
        ) from None


def denied(ip: str, reason: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(
        f"Caller IP address {ip} is not allowed. Access denied.", source="ip-filter", reason=reason, status=403
    )


@dataclass(frozen=True)
class IpFilterStep:
    action: Value
    rules: tuple[AddressRule, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        ip = ctx.request.ip_address
        try:
            caller = parse_ip(ip)
        except ValueError:
            raise PolicyRuntimeError(
                f"Failed to parse caller IP address '{ip}'.", source="ip-filter", reason="FailedToParseCallerIP",
                status=403,
            ) from None
        listed = any(rule.matches(ctx, caller) for rule in self.rules)
        if self.action.get(ctx) == "allow":
            if not listed:
                raise denied(ip, "CallerIpNotAllowed")
        elif listed:
            raise denied(ip, "CallerIpBlocked")
        return None


class IpFilter(Policy):
    """Allow (`action="allow"`) only the listed callers, or forbid (`action="forbid"`) them.

    Addresses are IPv4 or IPv6; ranges are inclusive and compare within one address family
    (an IPv4-mapped IPv6 caller address counts as IPv4). A refused caller gets 403 with reason
    `CallerIpNotAllowed` (allow list) or `CallerIpBlocked` (forbid list).
    """

    tag = "ip-filter"
    sections = Section.INBOUND
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (Attr("action", Enum("allow", "forbid"), required=True, doc="Allow or forbid the listed addresses."),)
    children = (
        Child("address", text=Text(Str(non_empty=True), required=True), doc="One IP address."),
        Child(
            "address-range",
            attributes=(
                Attr("from", Str(non_empty=True), required=True, doc="First address of the range."),
                Attr("to", Str(non_empty=True), required=True, doc="Last address of the range."),
            ),
            doc="An inclusive address range.",
        ),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        if not element.children_named("address") and not element.children_named("address-range"):
            diagnostics.error(
                "policy-missing-child", "<ip-filter> needs at least one <address> or <address-range>", element.span
            )
        for child in element.children:
            for value in _literal_addresses(child):
                try:
                    parse_ip(value.text)
                except ValueError:
                    diagnostics.error("policy-bad-value", f"'{value.text.strip()}' is not an IP address", value.span)
        for rng in element.children_named("address-range"):
            low, high = rng.get("from"), rng.get("to")
            if low is None or high is None or any(v.is_expression or has_reference(v.text) for v in (low, high)):
                continue
            try:
                first, last = parse_ip(low.text), parse_ip(high.text)
            except ValueError:
                continue
            if first.version != last.version:
                diagnostics.error("policy-bad-value", "address range mixes IPv4 and IPv6", rng.span)
            elif int(first) > int(last):
                diagnostics.error("policy-bad-value", f"address range starts after it ends ({first} > {last})", rng.span)

    def build(self, element: PolicyElement, builder: Builder) -> IpFilterStep:
        rules: list[AddressRule] = []
        for child in element.children:
            if child.tag == "address":
                rules.append(AddressRule.of(builder.text_value(child)))
            elif child.tag == "address-range":
                rules.append(AddressRule.of(builder.value(child, "from"), builder.value(child, "to")))
        return IpFilterStep(builder.value(element, "action"), tuple(rules))


def _literal_addresses(child: PolicyElement) -> list[ValueText]:
    if child.tag == "address":
        values = [child.text]
    elif child.tag == "address-range":
        values = [child.get("from"), child.get("to")]
    else:
        return []
    return [v for v in values if v is not None and not v.is_expression and not has_reference(v.text)]
