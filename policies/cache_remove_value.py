"""`<cache-remove-value>`: delete a value stored by cache-store-value (apim-spec §3.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.cache.keys import value_key
from engine.policy import Flow, Policy, constant_value
from engine.schema import Attr, Enum, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement
    from engine.policy import Builder, Step, Value

CACHING_TYPES = ("prefer-external", "external", "internal")


class CacheRemoveValue(Policy):
    """Remove the value stored under `key`; a missing key or an unreachable cache is not an error."""

    tag = "cache-remove-value"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("key", Str(non_empty=True), required=True, doc="The cache key."),
        Attr("caching-type", Enum(*CACHING_TYPES), default="prefer-external", expr=False,
             doc="internal, external (Redis) or prefer-external."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        return CacheRemoveValueStep(
            key=builder.value(element, "key"),
            caching_type=str(constant_value(builder.value(element, "caching-type")) or "prefer-external"),
        )


class CacheRemoveValueStep:
    def __init__(self, *, key: Value, caching_type: str) -> None:
        self.key = key
        self.caching_type = caching_type

    async def __call__(self, ctx: Context) -> Flow | None:
        service = ctx.services.cache if ctx.services is not None else None
        store = service.store(self.caching_type) if service is not None else None
        if service is not None and store is not None:
            await store.delete(value_key(service.prefix, str(self.key.get(ctx))))
        return None
