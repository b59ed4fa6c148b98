"""`<cache-lookup-value>`: read a value stored by cache-store-value into a context variable (apim-spec §3.3)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.cache.entry import EntryFormatError, decode_value
from engine.cache.keys import value_key
from engine.policy import Flow, Policy, constant_value
from engine.schema import Attr, Enum, Scope, Section, Str

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement
    from engine.policy import Builder, Step, Value

log = logging.getLogger("policygate.cache")

CACHING_TYPES = ("prefer-external", "external", "internal")


class CacheLookupValue(Policy):
    """Look `key` up in the value cache and assign the value to `variable-name`.

    On a miss (or when the cache cannot be reached) the variable gets `default-value` when that
    attribute is present, and is left unset otherwise.
    """

    tag = "cache-lookup-value"
    sections = Section.ALL
    scopes = Scope.ALL
    implemented = True
    reads_body = False
    attributes = (
        Attr("key", Str(non_empty=True), required=True, doc="The cache key."),
        Attr("variable-name", Str(non_empty=True), required=True, expr=False, doc="Variable that receives the value."),
        Attr("default-value", Str(), doc="Assigned on a miss; without it a miss leaves the variable unset."),
        Attr("caching-type", Enum(*CACHING_TYPES), default="prefer-external", expr=False,
             doc="internal, external (Redis) or prefer-external."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        default = builder.value(element, "default-value") if element.get("default-value") is not None else None
        return CacheLookupValueStep(
            key=builder.value(element, "key"),
            variable=str(constant_value(builder.value(element, "variable-name"))),
            default=default,
            caching_type=str(constant_value(builder.value(element, "caching-type")) or "prefer-external"),
        )


class CacheLookupValueStep:
    def __init__(self, *, key: Value, variable: str, default: Value | None, caching_type: str) -> None:
        self.key = key
        self.variable = variable
        self.default = default
        self.caching_type = caching_type

    async def __call__(self, ctx: Context) -> Flow | None:
        service = ctx.services.cache if ctx.services is not None else None
        store = service.store(self.caching_type) if service is not None else None
        data: bytes | None = None
        if service is not None and store is not None:
            data, reachable = await store.fetch(value_key(service.prefix, str(self.key.get(ctx))))
            service.count(store, "hit" if data is not None else ("miss" if reachable else "error"))
        if data is not None:
            try:
                ctx.variables[self.variable] = decode_value(data)
                return None
            except EntryFormatError as exc:
                log.warning("ignoring unreadable cached value for variable %s: %s", self.variable, exc)
        if self.default is not None:
            ctx.variables[self.variable] = self.default.get(ctx)
        return None
