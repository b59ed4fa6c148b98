"""`<cache-lookup>`: answer GET requests from the response cache (apim-spec §3.1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.cache.entry import EntryFormatError
from engine.cache.keys import KeyGroup
from engine.cache.redis_store import RedisStore
from engine.cache.responses import (
    LOOKUP_STATE,
    DecodedEntries,
    LookupState,
    VariantKeys,
    apply_entry,
    effective_downstream,
    lookup_state,
    release_lease,
    strip_request_cache_headers,
)
from engine.context import Slot
from engine.policy import Flow, Policy, at_end_of_pipeline, constant_value
from engine.redis_dispatcher import PENDING, Rider
from engine.schema import Attr, Bool, Child, Enum, Scope, Section, Str, Text

if TYPE_CHECKING:
    from engine.cache.service import CacheService
    from engine.cache.stores import Store
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement
    from engine.policy import Builder, Step, Value
    from engine.ratelimit.service import LimitService

log = logging.getLogger("policygate.cache")

CACHING_TYPES = ("prefer-external", "external", "internal")


def _names(element: PolicyElement, tag: str, split: bool) -> list[str]:
    names: list[str] = []
    for child in element.children_named(tag):
        text = child.text.text if child.text is not None else ""
        parts = text.split(";") if split else [text]
        names.extend(part.strip() for part in parts if part.strip())
    return names


class CacheLookup(Policy):
    """Look the request up in the response cache; on a hit, answer from the cache.

    Only GET requests are looked up. Requests with an `Authorization` header are neither looked up
    nor stored unless `allow-private-response-caching` is true. A hit skips the rest of inbound and
    the backend and resumes outbound after `cache-store`; a miss removes the request's cache headers
    (Cache-Control, Pragma, If-*) so the backend sends a full response, which `cache-store` then
    stores. The key varies by API, operation, path, query (all parameters unless
    `vary-by-query-parameter` names some), the `vary-by-header` values and, when asked, the
    developer and their groups. See docs/caching.md.
    """

    tag = "cache-lookup"
    sections = Section.INBOUND
    scopes = Scope.ALL
    allowed_in_fragment = False
    once_per_section = True
    implemented = True
    reads_body = False
    attributes = (
        Attr("vary-by-developer", Bool(), default=False, doc="Cache separately per developer (subscription owner)."),
        Attr("vary-by-developer-groups", Bool(), default=False, doc="Cache separately per set of developer groups."),
        Attr("caching-type", Enum(*CACHING_TYPES), default="prefer-external", expr=False,
             doc="internal, external (Redis) or prefer-external (external when configured)."),
        Attr("downstream-caching-type", Enum("none", "private", "public"), default="none",
             doc="Cache-Control for clients: none (no-store), private or public."),
        Attr("must-revalidate", Bool(), default=True, doc="Add must-revalidate when downstream caching is on."),
        Attr("allow-private-response-caching", Bool(), default=False,
             doc="Also cache requests that carry an Authorization header."),
    )
    children = (
        Child("vary-by-header", text=Text(Str(non_empty=True), required=True, expr=False),
              doc="A request header whose value selects the cached variant (repeatable)."),
        Child("vary-by-query-parameter", text=Text(Str(non_empty=True), required=True, expr=False),
              doc="Query parameter(s), ';'-separated, that select the variant; '*' or none listed = all."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        private = element.get("allow-private-response-caching")
        if private is not None and private.text.strip().lower() == "true":
            headers = {h.lower() for h in _names(element, "vary-by-header", split=False)}
            by_developer = element.get("vary-by-developer")
            varied = by_developer is not None and by_developer.text.strip().lower() != "false"
            if "authorization" not in headers and not varied:
                diagnostics.warning(
                    "cache-private-not-varied",
                    "allow-private-response-caching is true but responses do not vary by Authorization",
                    private.span,
                    "add <vary-by-header>Authorization</vary-by-header> or vary-by-developer=\"true\"",
                )

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        return CacheLookupStep(
            caching_type=str(constant_value(builder.value(element, "caching-type")) or "prefer-external"),
            by_developer=builder.value(element, "vary-by-developer"),
            by_groups=builder.value(element, "vary-by-developer-groups"),
            downstream=builder.value(element, "downstream-caching-type"),
            must_revalidate=builder.value(element, "must-revalidate"),
            allow_private=builder.value(element, "allow-private-response-caching"),
            headers=_names(element, "vary-by-header", split=False),
            query_names=_names(element, "vary-by-query-parameter", split=True),
        )


class CacheLookupStep:
    """The runtime of one `<cache-lookup>`."""

    def __init__(
        self, *, caching_type: str, by_developer: Value, by_groups: Value, downstream: Value,
        must_revalidate: Value, allow_private: Value, headers: list[str], query_names: list[str],
    ) -> None:
        self.caching_type = caching_type
        self.by_developer = by_developer
        self.by_groups = by_groups
        self.downstream = downstream
        self.must_revalidate = must_revalidate
        self.allow_private = allow_private
        self.headers = headers
        self.query_names = query_names
        self.variants = VariantKeys(headers, query_names)
        self.entries = DecodedEntries()

    def _lookup(self, ctx: Context) -> tuple[CacheService, Store, bool, bool] | None:
        """(cache service, store, vary by developer, vary by groups) when this request is looked up."""
        service = ctx.services.cache if ctx.services is not None else None
        if service is None or ctx.request.method != "GET":
            return None
        if "Authorization" in ctx.request.headers and not self.allow_private.get(ctx):
            return None
        store = service.store(self.caching_type)
        if store is None:
            return None
        return service, store, bool(self.by_developer.get(ctx)), bool(self.by_groups.get(ctx))

    def read_ahead(self, ctx: Context, limits: LimitService) -> Rider | None:
        """This lookup's GET, to ride in the Redis round trip of the rate-limit decision that runs
        right before it (the builder linked the two steps: nothing runs between them, so the request
        the key is made of is the one the lookup sees). None when it cannot ride: not looked up, not
        the limiter's Redis, generations not cached, breaker not closed. The lookup uses the reply
        (`ReadAhead`); a refused request never reaches the lookup and the reply is dropped."""
        looked_up = self._lookup(ctx)
        if looked_up is None:
            return None
        service, store, by_developer, by_groups = looked_up
        if not isinstance(store, RedisStore) or service.settings is None or not limits.carries_reads_for(service.settings):
            return None
        group, variant = self.variants.of(ctx, service.prefix, by_developer=by_developer, by_groups=by_groups)
        key = store.known_key(group, variant)
        if key is None:
            return None
        rider = Rider("GET", key)
        READ_AHEAD.set(ctx, ReadAhead(self, by_developer, by_groups, group, variant, key, rider))
        return rider

    async def __call__(self, ctx: Context) -> Flow | None:
        ahead = READ_AHEAD.pop(ctx)
        looked_up = self._lookup(ctx)
        if looked_up is None:
            return None
        service, store, by_developer, by_groups = looked_up
        key: str | None
        outcome = PENDING
        if ahead is not None and ahead.lookup is self and (ahead.by_developer, ahead.by_groups) == (by_developer, by_groups):
            group, variant, key, outcome = ahead.group, ahead.variant, ahead.key, ahead.rider.outcome
        else:
            group, variant = self.variants.of(ctx, service.prefix, by_developer=by_developer, by_groups=by_groups)
            key = await store.response_key(group, variant)
        personal = by_developer or by_groups or "Authorization" in ctx.request.headers
        downstream = effective_downstream(str(self.downstream.get(ctx) or "none"), personal=personal)
        state = LookupState(store, group, key or group.response_key(variant), downstream,
                            bool(self.must_revalidate.get(ctx)), tuple(self.headers))
        LOOKUP_STATE.set(ctx, state)
        if key is None:  # the store cannot be asked: a miss that is not stored; coalesced followers
            state.storable = False  # still get the leader's response, which shields the backend
            data, reachable = None, False
        elif outcome is PENDING or isinstance(outcome, BaseException):  # not read ahead, or that failed: ask
            data, reachable = await store.fetch(key)
        else:  # read in the rate-limit decision's round trip
            data, reachable = (outcome if isinstance(outcome, bytes) else None), True
        if data is None and service.flights is not None:
            leader, flight = service.flights.join(state.key, ctx)
            if leader:
                state.flight = flight
                at_end_of_pipeline(ctx, release_flight)
                if service.across_instances and key is not None and isinstance(store, RedisStore):
                    state.lease, data = await store.lead_or_wait(key, service.flights.timeout)
                    if data is not None:  # another gateway filled it: this process's followers get it too
                        service.flights.publish(key, flight, data)
            else:
                data = await service.flights.wait(flight)
        if data is not None:
            try:
                entry = self.entries.decode(state.key, data)
            except EntryFormatError as exc:
                log.warning("ignoring unreadable cache entry %s: %s", key, exc)
            else:
                service.count(store, "hit")
                apply_entry(ctx, entry, state)
                state.hit = state.done = True
                if ctx.tracing:
                    ctx.trace("Cache lookup resulted in a hit; the cached response is used.", "cache-lookup")
                return Flow.SKIP_TO_OUTBOUND
        service.count(store, "miss" if reachable else "error")
        strip_request_cache_headers(ctx.request.headers)
        if ctx.tracing:
            ctx.trace("Cache lookup resulted in a miss; request cache headers were removed.", "cache-lookup")
        return None


@dataclass(slots=True)
class ReadAhead:
    """A lookup's GET sent in the round trip of the rate-limit decision before it, and its key."""

    lookup: CacheLookupStep
    by_developer: bool
    by_groups: bool
    group: KeyGroup
    variant: str
    key: str
    rider: Rider


READ_AHEAD: Slot[ReadAhead] = Slot("cache.read-ahead")


def forget_read_ahead(ctx: Context) -> None:
    """Drop a read made ahead for a lookup that did not run after it (a rate-limit step linked to a
    lookup calls this first, so a lookup only ever uses the read of the decision just before it)."""
    READ_AHEAD.pop(ctx)


async def release_flight(ctx: Context) -> None:
    """End of the leader's request: wake its followers if cache-store did not (any failure, a skipped store)."""
    state = lookup_state(ctx)
    service = ctx.services.cache if ctx.services is not None else None
    flights = service.flights if service is not None else None
    if state is not None and state.flight is not None and flights is not None:
        flights.publish(state.key, state.flight, None)
    await release_lease(state)


class ReadsAhead:
    """A rate-limit or quota step whose decision can carry the Redis read of the cache lookup right after it."""

    lookup: CacheLookupStep | None = None

    def followed_by(self, step: object) -> None:
        """Called by the builder with the step that runs right after this one in the same sequence."""
        if isinstance(step, CacheLookupStep):
            self.lookup = step

    def forget_read_ahead(self, ctx: Context) -> None:
        if self.lookup is not None:
            forget_read_ahead(ctx)
