"""Redis key names of the limiter: namespaced by a prefix, hash-tagged per decision group.

    <prefix>rl:{<tag>}:<name>:<period ms>:l    sliding-window log (sorted set)
    <prefix>rl:{<tag>}:<name>:<period ms>:m    its running total and member sequence (hash)
    <prefix>q:{<tag>}:<name>                   a quota counter of one period (string)
    <prefix>cc:{<key>}                         concurrency leases (sorted set)
    <prefix>tk:{<key>}:b                       token bucket of a token limit (hash)
    <prefix>tk:{<key>}:q:<period>              token quota counter of one period (string)

All keys of one decision share `{<tag>}`, so a multi-key script runs on one Redis Cluster node.
`%`, `{` and `}` in tags are percent-encoded so the hash tag is exactly what it looks like; tags
longer than 200 characters are replaced by `%h:` + their BLAKE2b digest. An encoded tag only has
`%` in `%25`, `%7B` or `%7D`, so no raw tag can name a hashed one: a caller who sends the digest
of someone else's long key as its own key gets a different Redis key.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

DEFAULT_PREFIX = "policygate:"
MAX_TAG = 200
HASHED = "%h:"  # marks a hashed tag; never the start of an encoded raw tag


def escape_tag(tag: str) -> str:
    escaped = tag.replace("%", "%25").replace("{", "%7B").replace("}", "%7D") or "-"
    if len(escaped) > MAX_TAG:
        return HASHED + hashlib.blake2b(tag.encode(), digest_size=16).hexdigest()
    return escaped


@lru_cache(maxsize=8192)  # made for every decision; the same counters come back request after request
def window_keys(prefix: str, tag: str, name: str, period_ms: int) -> tuple[str, str]:
    base = f"{prefix}rl:{{{escape_tag(tag)}}}:{escape_tag(name)}:{period_ms}"
    return base + ":l", base + ":m"


def quota_key(prefix: str, tag: str, name: str) -> str:
    return f"{prefix}q:{{{escape_tag(tag)}}}:{escape_tag(name)}"


def slots_key(prefix: str, key: str) -> str:
    return f"{prefix}cc:{{{escape_tag(key)}}}"


def token_keys(prefix: str, key: str, period: str) -> tuple[str, str]:
    base = f"{prefix}tk:{{{escape_tag(key)}}}"
    return base + ":b", f"{base}:q:{escape_tag(period)}"
