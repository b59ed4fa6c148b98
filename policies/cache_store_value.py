"""`<cache-store-value>`: store a value in the cache under a key (apim-spec §3.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.cache.entry import encode_value
from engine.cache.keys import value_key
from engine.policy import Flow, Policy, constant_value
from engine.schema import Attr, AttrType, Enum, Int, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement
    from engine.policy import Builder, Step, Value

CACHING_TYPES = ("prefer-external", "external", "internal")


class CacheStoreValue(Policy):
    """Store `value` under `key` for `duration` seconds.

    Strings, integers, floats, booleans and null keep their type; any other value is stored as its
    text. A cache that cannot be reached makes this a no-op (the request continues).
    """

    tag = "cache-store-value"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("key", Str(non_empty=True), required=True, doc="The cache key."),
        Attr("value", AttrType(), required=True, doc="The value to store (any type; see above)."),
        Attr("duration", Int(min=0), required=True, doc="Time-to-live in seconds."),
        Attr("caching-type", Enum(*CACHING_TYPES), default="prefer-external", expr=False,
             doc="internal, external (Redis) or prefer-external."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        return CacheStoreValueStep(
            key=builder.value(element, "key"),
            value=builder.value(element, "value"),
            duration=builder.value(element, "duration"),
            caching_type=str(constant_value(builder.value(element, "caching-type")) or "prefer-external"),
        )


class CacheStoreValueStep:
    def __init__(self, *, key: Value, value: Value, duration: Value, caching_type: str) -> None:
        self.key = key
        self.value = value
        self.duration = duration
        self.caching_type = caching_type

    async def __call__(self, ctx: Context) -> Flow | None:
        service = ctx.services.cache if ctx.services is not None else None
        store = service.store(self.caching_type) if service is not None else None
        if service is None or store is None:
            return None
        key = value_key(service.prefix, str(self.key.get(ctx)))
        value = self.value.get(ctx)
        ttl = service.ttl(int(self.duration.get(ctx) or 0))
        if ttl > 0:
            await store.set(key, encode_value(value), ttl)
        return None
