"""The cache key scheme: namespaced, hash-tagged so every variant of one API/operation shares a slot.

With the default prefix ``policygate:`` the keys are::

    policygate:r:{<api>|<operation>}:<digest>     one cached response variant (string)
    policygate:i:{<api>|<operation>}              index of the variants above (sorted set, score = expiry ms)
    policygate:o:{<api>}                          operations of an API that have an index (set)
    policygate:v:<key>                            a cache-store-value entry (string)

* ``<api>`` and ``<operation>`` are the API and operation ids (``-`` when absent); ``{``, ``}``
  and ``|`` in them are percent-encoded so the Redis Cluster hash tag is exactly ``{<api>|<operation>}``
  and all variants of one operation, plus their index, live in one cluster slot.
* ``<digest>`` is a BLAKE2b-128 hex digest of the variant description (API revision, method, the
  backend URL the request goes to (scheme, host, port, path), the selected query parameters, the vary-by headers, developer and groups — see
  `ResponseKeyParts.describe`). Hashing keeps keys short and keeps header values such as
  ``Authorization`` out of Redis key names.
* Purging an operation reads its index and deletes every listed variant; purging an API walks the
  ``o:`` set to find its operations. Expired members are pruned from the index on every store.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

DEFAULT_PREFIX = "policygate:"
NO_ID = "-"


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("{", "%7B").replace("}", "%7D").replace("|", "%7C") or NO_ID


_SPECIAL = re.compile(r"[\\\n=&,]")


def _field(part: str) -> str:
    # Separators inside the variant description are escaped so distinct inputs never collide.
    return _SPECIAL.sub(lambda m: "\\" + m.group(), part) if _SPECIAL.search(part) else part


def _pairs(items: list[tuple[str, list[str]]], *, lower: bool) -> str:
    # An absent name ("a") differs from a present empty value ("a=").
    parts = []
    for name, values in items:
        key = _field(name.lower() if lower else name)
        parts.append(f"{key}={','.join(map(_field, values))}" if values else key)
    return "&".join(parts)


def check_prefix(prefix: str) -> str:
    """Validate a key prefix (no hash-tag braces, printable); return it."""
    if "{" in prefix or "}" in prefix:
        raise ValueError("must not contain '{' or '}' (they would change the Redis Cluster hash slot)")
    if any(ch.isspace() for ch in prefix):
        raise ValueError("must not contain white space")
    return prefix


@dataclass(frozen=True)
class KeyGroup:
    """All variants of one API operation: the unit of purging and of cluster placement."""

    prefix: str
    api: str
    operation: str

    @property
    def tag(self) -> str:
        return "{" + _escape(self.api) + "|" + _escape(self.operation) + "}"

    @property
    def index_key(self) -> str:
        return f"{self.prefix}i:{self.tag}"

    @property
    def operations_key(self) -> str:
        return operations_key(self.prefix, self.api)

    def response_key(self, digest: str) -> str:
        return f"{self.prefix}r:{self.tag}:{digest}"

    @property
    def response_prefix(self) -> str:
        return f"{self.prefix}r:{self.tag}:"


def operations_key(prefix: str, api: str) -> str:
    """The set of operation ids of `api` that have cached responses."""
    return f"{prefix}o:{{{_escape(api)}}}"


def api_response_prefix(prefix: str, api: str) -> str:
    """The common start of every response key of `api` (all its operations)."""
    return f"{prefix}r:{{{_escape(api)}|"


def value_key(prefix: str, key: str) -> str:
    """The stored key of a cache-store-value / cache-lookup-value entry."""
    return f"{prefix}v:{key}"


@dataclass
class ResponseKeyParts:
    """What a cached response varies by; `describe()` is the canonical text that gets hashed."""

    api: str
    operation: str
    revision: str = ""
    method: str = "GET"
    path: str = "/"
    query: list[tuple[str, list[str]]] = field(default_factory=list)
    headers: list[tuple[str, list[str]]] = field(default_factory=list)
    developer: str | None = None
    groups: list[str] | None = None
    backend: str = ""  # scheme://host:port the request is forwarded to; `path` is appended to it

    def describe(self) -> str:
        lines = [f"rev={_field(self.revision)}", f"{self.method} {_field(self.backend)}{_field(self.path)}"]
        lines.append("q:" + _pairs(self.query, lower=False))
        lines.append("h:" + _pairs(self.headers, lower=True))
        if self.developer is not None:
            lines.append(f"dev={_field(self.developer)}")
        if self.groups is not None:
            lines.append("groups=" + ",".join(_field(g) for g in sorted(self.groups)))
        return "\n".join(lines)

    def digest(self) -> str:
        return hashlib.blake2b(self.describe().encode("utf-8"), digest_size=16).hexdigest()

    def key(self, prefix: str) -> tuple[KeyGroup, str]:
        """(group, full response key) under `prefix`."""
        group = KeyGroup(prefix, self.api, self.operation)
        return group, group.response_key(self.digest())
