"""Response caching between cache-lookup and cache-store: keys from a request, entries from a response.

The `LOOKUP_STATE` slot carries a `LookupState` from the lookup (inbound) to the store (outbound).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine import clock
from engine.cache.entry import CachedResponse, EntryFormatError
from engine.cache.keys import NO_ID, KeyGroup, ResponseKeyParts
from engine.context import Context, Headers, MessageBody, Slot

if TYPE_CHECKING:
    import asyncio

    from engine.cache.stores import Store

LOOKUP_STATE: Slot[LookupState] = Slot("cache.lookup")

# Removed from the forwarded request on a miss so the backend sends a complete 200 response.
REQUEST_CACHE_HEADERS = ("Cache-Control", "Pragma", "If-Modified-Since", "If-None-Match", "If-Range",
                         "If-Unmodified-Since", "If-Match")
# Connection-level or recomputed headers are not part of a stored entry.
NOT_STORED_HEADERS = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "content-length", "date", "age", "cache-control",
})


@dataclass
class LookupState:
    """What cache-lookup decided for this request; read by cache-store."""

    store: Store
    group: KeyGroup
    key: str
    downstream: str  # none | private | public
    must_revalidate: bool
    vary: tuple[str, ...] = ()  # vary-by-header names, announced downstream in `Vary`
    flight: asyncio.Future[bytes | None] | None = None
    lease: str | None = None  # token of the cross-instance lease this request holds
    hit: bool = False
    done: bool = False  # cache-store already ran (or must not run)
    storable: bool = True  # False when the store could not be asked: followers still get the entry


def select_query(query: dict[str, list[str]], names: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The query parameters a key varies by: all of them when `names` is empty or has `*`."""
    if not names or "*" in names:
        return sorted((name, list(values)) for name, values in query.items())
    return [(name, list(query[name])) for name in sorted(set(names)) if name in query]


def developer_of(ctx: Context) -> str:
    """Who owns the request's subscription: the user id, else the subscription id, else anonymous."""
    if ctx.user is not None and ctx.user.id:
        return "user:" + ctx.user.id
    if ctx.subscription is not None and ctx.subscription.id:
        return "subscription:" + ctx.subscription.id
    return "anonymous"


def groups_of(ctx: Context) -> list[str]:
    return sorted({g.id for g in ctx.user.groups}) if ctx.user is not None else []


def key_parts(
    ctx: Context,
    *,
    headers: Sequence[str],
    query_names: Sequence[str],
    by_developer: bool,
    by_groups: bool,
) -> ResponseKeyParts:
    """Describe the request variant that a cached response belongs to.

    The URL is the backend URL the request will be forwarded to as it stands now (after any
    `set-backend-service` that ran before the lookup), like APIM's key.
    """
    api = ctx.api.id or ctx.api.name if ctx.api is not None else ""
    operation = ctx.operation.id or ctx.operation.name if ctx.operation is not None else ""
    request = ctx.request
    return ResponseKeyParts(
        api=api or NO_ID,
        operation=operation or NO_ID,
        revision=ctx.api.revision if ctx.api is not None else "",
        method=request.method,
        path=request.url.path,
        backend=f"{request.url.scheme}://{request.url.host.lower()}:{request.url.port}",
        query=select_query(request.url.query, query_names),
        headers=[(name, request.headers.get_list(name)) for name in headers],
        developer=developer_of(ctx) if by_developer else None,
        groups=groups_of(ctx) if by_groups else None,
    )


class VariantKeys:
    """The (group, variant digest) of one `cache-lookup`'s requests, remembered per distinct input.

    Building the key description and hashing it cost more than the rest of a cache hit; requests
    for the same variant have the same inputs, so the digest is computed once per variant (at most
    `size` remembered; then the memory starts over).
    """

    __slots__ = ("headers", "query_names", "size", "_known")

    def __init__(self, headers: Sequence[str], query_names: Sequence[str], size: int = 1024) -> None:
        self.headers = tuple(headers)
        self.query_names = tuple(query_names)
        self.size = size
        self._known: dict[tuple[object, ...], tuple[KeyGroup, str]] = {}

    def of(self, ctx: Context, prefix: str, *, by_developer: bool, by_groups: bool) -> tuple[KeyGroup, str]:
        api, operation, request = ctx.api, ctx.operation, ctx.request
        url, query = request.url, request.url.query
        inputs = (  # everything `key_parts` reads
            prefix,
            (api.id, api.name, api.revision) if api is not None else None,
            (operation.id, operation.name) if operation is not None else None,
            request.method, url.scheme, url.host, url.port, url.path,
            tuple((name, tuple(values)) for name, values in query.items()) if query else (),
            tuple(tuple(request.headers.get_list(name)) for name in self.headers) if self.headers else (),
            developer_of(ctx) if by_developer else None,
            tuple(groups_of(ctx)) if by_groups else None,
        )
        known = self._known.get(inputs)
        if known is None:
            parts = key_parts(ctx, headers=self.headers, query_names=self.query_names, by_developer=by_developer,
                              by_groups=by_groups)
            known = parts.group(prefix), parts.digest()
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[inputs] = known
        return known


class DecodedEntries:
    """Decoded cached responses by key, reused while the stored bytes stay the same.

    A hit would otherwise decode the same entry again for every request. Only entries up to
    `max_bytes` are kept (a decoded entry holds a copy of its body), at most `size` of them.
    """

    __slots__ = ("size", "max_bytes", "_known")

    def __init__(self, size: int = 256, max_bytes: int = 64 * 1024) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._known: dict[str, tuple[bytes, CachedResponse]] = {}

    def decode(self, key: str, data: bytes) -> CachedResponse:
        """`CachedResponse.decode(data)`; raises EntryFormatError likewise."""
        known = self._known.get(key)
        if known is not None and (known[0] is data or known[0] == data):
            return known[1]
        try:
            entry = CachedResponse.decode(data)
        except EntryFormatError:
            self._known.pop(key, None)
            raise
        if len(data) <= self.max_bytes:
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[key] = (data, entry)
        return entry


def strip_request_cache_headers(headers: Headers) -> None:
    for name in REQUEST_CACHE_HEADERS:
        headers.remove(name)


def cache_control(downstream: str, must_revalidate: bool, max_age: float) -> str:
    """The Cache-Control sent to the client for a cached (or just stored) response.

    none → ``no-store``; private/public → ``private|public, max-age=N`` (+ ``, must-revalidate``).
    """
    if downstream not in ("private", "public"):
        return "no-store"
    value = f"{downstream}, max-age={max(0, int(max_age))}"
    return value + ", must-revalidate" if must_revalidate else value


def effective_downstream(downstream: str, *, personal: bool) -> str:
    """`public` becomes `private` for responses that belong to one caller (per developer or group,
    or a request with Authorization): a shared downstream cache must not hand them to others."""
    return "private" if downstream == "public" and personal else downstream


def set_downstream_headers(headers: Headers, state: LookupState, max_age: float) -> None:
    """Cache-Control per downstream-caching-type; with downstream caching on, `Vary` names the
    vary-by-header headers so downstream caches keep the same variants apart."""
    headers.set("Cache-Control", cache_control(state.downstream, state.must_revalidate, max_age))
    if state.downstream == "none" or not state.vary:
        return
    names = [v.strip() for value in headers.get_list("Vary") for v in value.split(",") if v.strip()]
    known = {n.lower() for n in names}
    names += [n for n in state.vary if n.lower() not in known]
    headers.set("Vary", ", ".join(names))


def entry_from_response(ctx: Context, ttl: float, now: float | None = None) -> CachedResponse:
    response = ctx.response
    stored_at = clock.now() if now is None else now
    headers = [(n, v) for n, v in response.headers.pairs() if n.lower() not in NOT_STORED_HEADERS]
    body = response.body.content if response.body is not None else b""
    return CachedResponse(response.status_code, response.status_reason, headers, body, stored_at, stored_at + ttl)


def apply_entry(ctx: Context, entry: CachedResponse, state: LookupState, now: float | None = None) -> None:
    """Make `entry` the response, with Age and the downstream Cache-Control."""
    now = clock.now() if now is None else now
    headers = Headers(entry.headers)
    headers.set("Age", str(max(0, int(now - entry.stored_at))))
    set_downstream_headers(headers, state, entry.expires_at - now)
    response = ctx.response
    response.status_code = entry.status
    response.status_reason = entry.reason
    response.headers = headers
    response.body = MessageBody(entry.body)


async def release_lease(state: LookupState | None) -> None:
    """Give up the request's cross-instance lease (once), so that waiting gateways stop waiting."""
    from engine.cache.redis_store import RedisStore

    if state is not None and state.lease is not None and isinstance(state.store, RedisStore):
        token, state.lease = state.lease, None
        await state.store.release_lease(state.key, token)


def lookup_state(ctx: Context) -> LookupState | None:
    return LOOKUP_STATE.get(ctx)
