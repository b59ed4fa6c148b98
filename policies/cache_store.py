"""`<cache-store>`: store the response for the key chosen by this request's cache-lookup (apim-spec §3.2)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.cache.responses import entry_from_response, lookup_state, release_lease, set_downstream_headers
from engine.policy import Flow, Policy
from engine.schema import Attr, Bool, Int, Scope, Section

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement
    from engine.policy import Builder, Step, Value

log = logging.getLogger("policygate.cache")


class CacheStore(Policy):
    """Store the current response in the cache for `duration` seconds.

    Runs only after a `cache-lookup` missed for this request (it uses the same key and the same
    cache). Only GET responses are stored; only status 200 unless `cache-response` is true;
    responses that set cookies are never stored. On a cache hit this policy does not run. The
    response sent to the client gets the lookup's downstream `Cache-Control`.
    """

    tag = "cache-store"
    sections = Section.OUTBOUND
    scopes = Scope.ALL
    once_per_section = True
    implemented = True
    reads_body = False
    cache_hit_resumes_after = True  # a cache hit skips to outbound and resumes after cache-store
    needs_in_inbound = ("cache-lookup", "cache-store-without-lookup")
    attributes = (
        Attr("duration", Int(min=0), required=True, doc="Time-to-live of the entry, in seconds."),
        Attr("cache-response", Bool(), default=False,
             doc="Store the response whatever its status (default: only 200 OK)."),
    )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        builder.require_body(request=False, response=True)
        return CacheStoreStep(builder.value(element, "duration"), builder.value(element, "cache-response"))


class CacheStoreStep:
    """The runtime of one `<cache-store>`."""

    def __init__(self, duration: Value, cache_response: Value) -> None:
        self.duration = duration
        self.cache_response = cache_response

    async def __call__(self, ctx: Context) -> Flow | None:
        state = lookup_state(ctx)
        service = ctx.services.cache if ctx.services is not None else None
        if state is None or state.done or service is None:
            return None
        state.done = True
        data: bytes | None = None
        try:
            if self._cacheable(ctx):
                ttl = service.ttl(int(self.duration.get(ctx) or 0))
                if ttl > 0:
                    data = entry_from_response(ctx, ttl).encode()
                    if state.storable:
                        await state.store.set(state.key, data, ttl, state.group)
                    set_downstream_headers(ctx.response.headers, state, ttl)
        finally:
            if state.flight is not None and service.flights is not None:
                service.flights.publish(state.key, state.flight, data)
            await release_lease(state)
        return None

    def _cacheable(self, ctx: Context) -> bool:
        response = ctx.response
        if ctx.request.method != "GET" or "Set-Cookie" in response.headers or response.body is None:
            return False
        return response.status_code == 200 or bool(self.cache_response.get(ctx))
