"""Reading APIM backend entities: `backends:` in gateway.yaml and `backends/<id>/backendInformation.json`.

Both take the `properties` of APIM's `Microsoft.ApiManagement/service/backends` resource as written
in ARM/Bicep/APIOps (camelCase keys, ISO-8601 durations); gateway.yaml also takes a bare URL.
`read_backends` validates every entry and the pool references between them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn, Protocol

from engine.backends import MAX_POOL_MEMBERS, BackendSpec, BackendTls, BreakerRule, Credentials, PoolMember
from engine.policy import OutboundProxy

KNOWN = ("url", "protocol", "type", "pool", "circuitBreaker", "credentials", "tls", "proxy", "description", "title",
         "resourceId")
NOT_SUPPORTED = {
    "serviceFabricCluster": "Service Fabric backends exist only in Azure",
    "certificateIds": "client certificates per backend are not supported",
    "certificate": "client certificates per backend are not supported",
    "managedIdentity": "managed identity credentials per backend are not supported (use authentication-managed-identity)",
}
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")  # an RFC 6265 token
_DURATION = re.compile(
    r"P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


class EntityReader(Protocol):
    """What the configuration reader offers: located errors, URL checks, named values, warnings."""

    def fail(self, where: str, message: str) -> NoReturn: ...

    def url(self, value: object, where: str) -> str: ...

    def substitute(self, text: str, where: str) -> str: ...

    def unsupported(self, where: str, message: str) -> None:
        """A setting the gateway cannot honour: an error (gateway.yaml) or a warning (APIOps folder)."""
        ...


def read_backends(entries: Mapping[str, tuple[str, object]], reader: EntityReader) -> dict[str, BackendSpec]:
    """`{id: (where, value)}` -> validated specs; pool members must name single backends of `entries`."""
    specs = {bid: read_backend(bid, raw, where, reader) for bid, (where, raw) in entries.items()}
    for bid, spec in specs.items():
        where = entries[bid][0]
        for i, member in enumerate(spec.members):
            target = specs.get(member.backend)
            if target is None:
                reader.fail(f"{where}.pool.services[{i}].id", f"no backend '{member.backend}' is defined")
            if target.is_pool:
                reader.fail(f"{where}.pool.services[{i}].id", f"'{member.backend}' is a pool; pools cannot contain pools")
    return specs


def read_backend(bid: str, raw: object, where: str, reader: EntityReader) -> BackendSpec:
    if not isinstance(raw, dict):
        return BackendSpec(bid, url=reader.url(raw, where))
    if set(raw) == {"properties"}:
        raw, where = raw["properties"], f"{where}.properties"
        if not isinstance(raw, dict):
            reader.fail(where, f"expected a mapping, got {_kind(raw)}")
    props = _mapping(raw, where, reader)
    kind = str(props.get("type") or "Single")
    if kind.lower() not in ("single", "pool"):
        reader.fail(f"{where}.type", f"'{kind}' is not one of: Single, Pool")
    protocol = props.get("protocol", "http")
    if not isinstance(protocol, str) or protocol.lower() not in ("http", "soap"):
        reader.fail(f"{where}.protocol", f"{protocol!r} is not one of: http, soap")
    breaker = _breaker(props.get("circuitBreaker"), f"{where}.circuitBreaker", reader)
    credentials = _credentials(props.get("credentials"), f"{where}.credentials", reader)
    tls = _tls(props.get("tls"), f"{where}.tls", reader)
    proxy = _proxy(props.get("proxy"), f"{where}.proxy", reader)
    if kind.lower() == "pool" or props.get("pool") is not None:
        if breaker is not None or credentials is not None or tls is not None or proxy is not None:
            reader.fail(where, "a pool has no circuit breaker, credentials, tls or proxy of its own: set them on its members")
        members, cookie = _pool(props.get("pool"), f"{where}.pool", reader)
        return BackendSpec(bid, members=members, affinity_cookie=cookie)
    if props.get("url") is None:
        reader.fail(f"{where}.url", "is required")
    return BackendSpec(bid, url=reader.url(props["url"], f"{where}.url"), breaker=breaker, credentials=credentials,
                       tls=tls, proxy=proxy)


def _proxy(raw: object, where: str, reader: EntityReader) -> OutboundProxy | None:
    """`proxy: {url, username?, password?}` (named values allowed): the HTTP proxy to reach the backend through."""
    if raw is None:
        return None
    spec = _mapping(raw, where, reader, ("url", "username", "password"))
    values = {}
    for key in ("url", "username", "password"):
        value = spec.get(key)
        if value is not None and not isinstance(value, str):
            reader.fail(f"{where}.{key}", f"expected a string, got {_kind(value)}")
        values[key] = reader.substitute(value, f"{where}.{key}").strip() if value else ""
    if not values["url"]:
        reader.fail(f"{where}.url", "is required (http://host:port)")
    problem = OutboundProxy.url_problem(values["url"])
    if problem is not None:
        reader.fail(f"{where}.url", problem)
    if values["password"] and not values["username"]:
        reader.fail(f"{where}.username", "is required with a password")
    return OutboundProxy(values["url"], values["username"], values["password"])


def _tls(raw: object, where: str, reader: EntityReader) -> BackendTls | None:
    """`tls: {validateCertificateChain, validateCertificateName}` (both true by default); None: defaults."""
    if raw is None:
        return None
    flags = _mapping(raw, where, reader, ("validateCertificateChain", "validateCertificateName"))
    for name, value in flags.items():
        if not isinstance(value, bool):
            reader.fail(f"{where}.{name}", f"expected true or false, got {value!r}")
    tls = BackendTls(flags.get("validateCertificateChain", True), flags.get("validateCertificateName", True))
    return None if tls == BackendTls() else tls


def _mapping(raw: object, where: str, reader: EntityReader, known: tuple[str, ...] = KNOWN) -> dict[str, Any]:
    if not isinstance(raw, dict):
        reader.fail(where, f"expected a mapping, got {_kind(raw)}")
    for key in list(raw):
        if key in NOT_SUPPORTED:
            reader.unsupported(f"{where}.{key}", NOT_SUPPORTED[key])
        elif key not in known:
            reader.fail(f"{where}.{key}", f"unknown key (expected one of: {', '.join(known)})")
    return {k: v for k, v in raw.items() if k not in NOT_SUPPORTED}


def _pool(raw: object, where: str, reader: EntityReader) -> tuple[tuple[PoolMember, ...], str]:
    """(members, session-affinity cookie name or "")."""
    pool = _mapping(raw, where, reader, ("services", "sessionAffinity"))
    return _members(pool, where, reader), _affinity(pool.get("sessionAffinity"), f"{where}.sessionAffinity", reader)


def _affinity(raw: object, where: str, reader: EntityReader) -> str:
    if raw is None:
        return ""
    session = _mapping(raw, where, reader, ("sessionId",)).get("sessionId")
    spec = _mapping(session, f"{where}.sessionId", reader, ("source", "name"))
    if str(spec.get("source", "")).lower() != "cookie":
        reader.fail(f"{where}.sessionId.source", f"{spec.get('source')!r} is not supported: only Cookie is")
    name = spec.get("name")
    if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
        reader.fail(f"{where}.sessionId.name", "expected a cookie name (letters, digits and !#$%&'*+-.^_`|~)")
    return name


def _members(pool: dict[str, Any], where: str, reader: EntityReader) -> tuple[PoolMember, ...]:
    services = pool.get("services")
    if not isinstance(services, list) or not services:
        reader.fail(f"{where}.services", "expected a non-empty list of pool members")
    if len(services) > MAX_POOL_MEMBERS:
        reader.fail(f"{where}.services", f"a pool has at most {MAX_POOL_MEMBERS} members, got {len(services)}")
    members: list[PoolMember] = []
    for i, item in enumerate(services):
        at = f"{where}.services[{i}]"
        entry = _mapping(item, at, reader, ("id", "priority", "weight"))
        if not isinstance(entry.get("id"), str) or not entry["id"].strip("/"):
            reader.fail(f"{at}.id", "is required (a backend id, `/backends/<id>` or its ARM resource id)")
        member = PoolMember(member_name(entry["id"]), _small(entry.get("priority"), f"{at}.priority", 0, reader),
                            _small(entry.get("weight"), f"{at}.weight", 1, reader))
        if any(m.backend == member.backend for m in members):
            reader.fail(f"{at}.id", f"backend '{member.backend}' is already a member of this pool")
        members.append(member)
    return tuple(members)


def member_name(reference: str) -> str:
    """`/subscriptions/…/service/apim/backends/b1`, `/backends/b1` or `b1` -> `b1`."""
    return reference.rstrip("/").rsplit("/", 1)[-1]


def _small(value: object, where: str, default: int, reader: EntityReader) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        reader.fail(where, f"expected an integer from 0 to 100, got {value!r}")
    return value


def _breaker(raw: object, where: str, reader: EntityReader) -> BreakerRule | None:
    if raw is None:
        return None
    rules = _mapping(raw, where, reader, ("rules",)).get("rules")
    if not isinstance(rules, list) or len(rules) != 1:
        reader.fail(f"{where}.rules", "expected a list of exactly one rule (APIM supports one)")
    at = f"{where}.rules[0]"
    rule = _mapping(rules[0], at, reader, ("name", "failureCondition", "tripDuration", "acceptRetryAfter"))
    condition = _mapping(rule.get("failureCondition"), f"{at}.failureCondition", reader,
                         ("count", "percentage", "interval", "statusCodeRanges", "errorReasons"))
    cond_at = f"{at}.failureCondition"
    count, percentage = condition.get("count"), condition.get("percentage")
    if (count is None) == (percentage is None):
        reader.fail(cond_at, "needs exactly one of count or percentage")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10000):
        reader.fail(f"{cond_at}.count", f"expected an integer from 1 to 10000, got {count!r}")
    if percentage is not None and (isinstance(percentage, bool) or not isinstance(percentage, int)
                                   or not 1 <= percentage <= 100):
        reader.fail(f"{cond_at}.percentage", f"expected an integer from 1 to 100, got {percentage!r}")
    ranges = []
    raw_ranges = condition.get("statusCodeRanges") or []
    if not isinstance(raw_ranges, list):
        reader.fail(f"{cond_at}.statusCodeRanges", f"expected a list, got {_kind(raw_ranges)}")
    for i, item in enumerate(raw_ranges):
        entry = _mapping(item, f"{cond_at}.statusCodeRanges[{i}]", reader, ("min", "max"))
        low, high = _status_code(entry.get("min")), _status_code(entry.get("max"))
        if low is None or high is None or low > high:
            reader.fail(f"{cond_at}.statusCodeRanges[{i}]", "needs min and max status codes from 200 to 599, min <= max")
        ranges.append((low, high))
    reasons = condition.get("errorReasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, str) and r for r in reasons):
        reader.fail(f"{cond_at}.errorReasons", "expected a list of error reason strings")
    if not ranges and not reasons:
        reader.fail(cond_at, "needs statusCodeRanges or errorReasons")
    accept = rule.get("acceptRetryAfter", False)
    if not isinstance(accept, bool):
        reader.fail(f"{at}.acceptRetryAfter", f"expected true or false, got {accept!r}")
    return BreakerRule(
        name=str(rule.get("name") or ""),
        interval=duration(condition.get("interval"), f"{cond_at}.interval", reader),
        trip_duration=duration(rule.get("tripDuration"), f"{at}.tripDuration", reader),
        count=count, percentage=percentage, status_ranges=tuple(ranges), error_reasons=tuple(reasons),
        accept_retry_after=accept,
    )


def _status_code(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 200 <= value <= 599 else None


def duration(value: object, where: str, reader: EntityReader) -> float:
    """An ISO-8601 duration (`PT1M`, `PT0.5S`, `P1D`) or a number of seconds, > 0."""
    if value is None:
        reader.fail(where, "is required (an ISO-8601 duration such as PT1M)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip())
        if match is None or not any(match.groupdict().values()):
            reader.fail(where, f"{value!r} is not an ISO-8601 duration such as PT30S, PT1M or PT1H")
        parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
        seconds = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if seconds <= 0:
        reader.fail(where, f"{value!r} must be longer than zero")
    return seconds


def _credentials(raw: object, where: str, reader: EntityReader) -> Credentials | None:
    if raw is None:
        return None
    spec = _mapping(raw, where, reader, ("header", "query", "authorization"))
    authorization = None
    if spec.get("authorization") is not None:
        auth = _mapping(spec["authorization"], f"{where}.authorization", reader, ("scheme", "parameter"))
        parts = [reader.substitute(str(auth[k]), f"{where}.authorization.{k}") for k in ("scheme", "parameter")
                 if auth.get(k) is not None]
        if not parts:
            reader.fail(f"{where}.authorization", "needs scheme and parameter")
        authorization = " ".join(parts)
    found = Credentials(_values(spec.get("header"), f"{where}.header", reader),
                        _values(spec.get("query"), f"{where}.query", reader), authorization)
    return found if found != Credentials() else None


def _values(raw: object, where: str, reader: EntityReader) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        reader.fail(where, f"expected a mapping of name to list of values, got {_kind(raw)}")
    pairs = []
    for name, values in raw.items():
        items = values if isinstance(values, list) else [values]
        if not items or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in items):
            reader.fail(f"{where}.{name}", "expected a value or a list of values")
        pairs.append((str(name), tuple(reader.substitute(str(v), f"{where}.{name}") for v in items)))
    return tuple(pairs)


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)
