"""The cache key scheme. With the default prefix ``policygate:`` the keys are::

    policygate:r:<digest>                          a response variant in Redis (string)
    policygate:g:{<api>}                           the API's purge generations (hash)
    policygate:n:<api>|<operation>|<shard>         entries stored since the last purge (32 counters)
    policygate:r:<digest>:lease                    who fills a missed variant (coalesce-across-instances)
    policygate:r:{<api>|<operation>}:<variant>     a response variant in the in-process cache
    policygate:v:<key>                             a cache-store-value entry (string)

* In Redis every response variant is keyed by its own digest, so the variants of one operation
  spread over every Redis Cluster slot (and node). The digest covers the API, the operation, their
  current *generations* and the variant description (API revision, method, the backend URL the
  request goes to (scheme, host, port, path), the selected query parameters, the vary-by headers,
  developer and groups — see `ResponseKeyParts.describe`). Hashing keeps keys short and keeps
  header values such as ``Authorization`` out of Redis key names.
* The generations hash holds field ``api`` (the API's generation) and ``op:<operation>`` (each
  operation's, created when a gateway first reads it). Purging is one script on that one key: it
  increments a generation, so every older variant key is never looked up again and ages out by its
  TTL. Readers cache generations briefly (see RedisStore). The store counters only serve the
  purge report; they are sharded so that store traffic spreads over the cluster too.
* ``<api>`` and ``<operation>`` are the API and operation ids (``-`` when absent); ``%``, ``{``,
  ``}`` and ``|`` in them are percent-encoded, so the hash tag is exactly ``{<api>}``.
* The in-process cache keeps the grouped layout ``r:{<api>|<operation>}:<variant>``: purging it
  removes the keys with that prefix from the process's own dictionary.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

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
    """All variants of one API operation: the unit of purging."""

    prefix: str
    api: str
    operation: str

    @cached_property
    def tag(self) -> str:
        return "{" + _escape(self.api) + "|" + _escape(self.operation) + "}"

    def response_key(self, digest: str) -> str:
        """The in-process cache's key of a variant."""
        return f"{self.prefix}r:{self.tag}:{digest}"

    @property
    def response_prefix(self) -> str:
        return f"{self.prefix}r:{self.tag}:"

    @property
    def generations_key(self) -> str:
        return generations_key(self.prefix, self.api)

    def count_key(self, variant_key: str) -> str:
        """The store counter that counts `variant_key`."""
        return count_key(self.prefix, self.api, self.operation, zlib.crc32(variant_key.encode()) % COUNT_SHARDS)

    def spread_key(self, digest: str, generation: str) -> str:
        """The Redis key of a variant: its own digest over API, operation, generation and variant."""
        return _spread_key(self.prefix, self.api, self.operation, digest, generation)


@lru_cache(maxsize=8192)  # made for every Redis lookup; hits ask for the same variants again and again
def _spread_key(prefix: str, api: str, operation: str, digest: str, generation: str) -> str:
    text = "\n".join((_field(api), _field(operation), generation, digest))
    return f"{prefix}r:{hashlib.blake2b(text.encode('utf-8'), digest_size=16).hexdigest()}"


@lru_cache(maxsize=4096)
def key_group(prefix: str, api: str, operation: str) -> KeyGroup:
    """The (shared, immutable) `KeyGroup` of an API operation: made once, not on every lookup."""
    return KeyGroup(prefix, api, operation)


COUNT_SHARDS = 32  # store counters per operation, spread over the cluster like the entries


def count_key(prefix: str, api: str, operation: str, shard: int) -> str:
    """One of an operation's store counters (entries stored since its last purge); no hash tag."""
    return f"{prefix}n:{_escape(api)}|{_escape(operation)}|{shard}"


def lease_key(response_key: str) -> str:
    """The cross-instance single-flight lease of a response variant (`coalesce-across-instances`)."""
    return response_key + ":lease"


def generations_key(prefix: str, api: str) -> str:
    """The hash of `api`'s generations (fields ``api``, ``op:<operation>``) and store counts (``n:<operation>``)."""
    return f"{prefix}g:{{{_escape(api)}}}"


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

    def group(self, prefix: str) -> KeyGroup:
        """The API operation this variant belongs to, under `prefix`."""
        return key_group(prefix, self.api, self.operation)

    def key(self, prefix: str) -> tuple[KeyGroup, str]:
        """(group, the in-process cache's key of this variant) under `prefix`."""
        group = self.group(prefix)
        return group, group.response_key(self.digest())
