"""Request routing: API by URL path prefix, operation by method + URL template (precompiled).

Templates follow APIM: `/pets/{id}` (one segment), `/files/{*path}` (the rest of the path),
`/*` (any path), and query parts `/search?q={term}` (the parameter must be present). Literal
templates win over parameterised ones, longer literal prefixes over shorter ones.

An API answers only the URL schemes it lists (APIM's `protocols`): a request over another scheme
is not routed to it (no match, so a 404), and never falls through to an API with a shorter path.

A router remembers the operations it found for the last `ROUTE_CACHE_SIZE` (scheme, method, path)
requests, so a path asked for again skips the prefix walk and the template matching (unless an
operation's template names query parameters: then the query decides too, and nothing is kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

from engine.gateway.settings import DEFAULT_PROTOCOLS

T = TypeVar("T")
_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_.-]*)\}")


class TemplateError(ValueError):
    """A URL template that cannot be compiled."""


@dataclass(frozen=True)
class CompiledTemplate:
    template: str
    literal_path: str | None  # set when the path has no parameters (dict lookup)
    pattern: re.Pattern[str] | None
    path_params: tuple[str, ...]
    query_params: tuple[tuple[str, str], ...]  # (query name, parameter name)
    specificity: tuple[int, int]

    def match(self, path: str, query: dict[str, list[str]]) -> dict[str, str] | None:
        if self.literal_path is not None:
            if path != self.literal_path and path.rstrip("/") != self.literal_path.rstrip("/"):
                return None
            params: dict[str, str] = {}
        else:
            assert self.pattern is not None
            found = self.pattern.fullmatch(path)
            if found is None:
                return None
            params = ({name: unquote(value) for name, value in zip(self.path_params, found.groups(), strict=True)}
                      if self.path_params else {})
        for query_name, param in self.query_params:
            values = query.get(query_name)
            if not values:
                return None
            params[param] = values[0]
        return params


def compile_template(template: str) -> CompiledTemplate:
    """Compile an operation URL template; raises TemplateError with a readable reason."""
    path, _, query = template.partition("?")
    if not path.startswith("/"):
        path = "/" + path
    query_params: list[tuple[str, str]] = []
    for part in filter(None, query.split("&")):
        name, eq, value = part.partition("=")
        found = _PARAM.fullmatch(value) if eq else None
        if not name or found is None or found.group(1):
            raise TemplateError(f"query part '{part}' must look like name={{param}}")
        query_params.append((name, found.group(2)))
    if path in ("/*", "/{*}"):
        return CompiledTemplate(template, None, re.compile(r"/.*|"), (), tuple(query_params), (0, 0))
    names: list[str] = []
    regex = []
    position = 0
    literal = 0
    for found in _PARAM.finditer(path):
        chunk = path[position : found.start()]
        if "{" in chunk or "}" in chunk:
            raise TemplateError(f"malformed parameter in '{template}'")
        regex.append(re.escape(chunk))
        literal += len(chunk)
        name = found.group(2)
        if name in names:
            raise TemplateError(f"parameter '{{{name}}}' appears twice in '{template}'")
        names.append(name)
        if found.group(1):
            if found.end() != len(path):
                raise TemplateError(f"wildcard '{{*{name}}}' must be the last part of '{template}'")
            regex.append("(.*)")
        else:
            regex.append("([^/]+)")
        position = found.end()
    tail = path[position:]
    if "{" in tail or "}" in tail:
        raise TemplateError(f"malformed parameter in '{template}'")
    if tail.endswith("/*"):
        regex.append(re.escape(tail[:-1]) + ".*")
        literal += len(tail) - 1
        names_tuple = tuple(names)
        return CompiledTemplate(template, None, re.compile("".join(regex)), names_tuple, tuple(query_params), (literal, -len(names) - 1))
    regex.append(re.escape(tail))
    literal += len(tail)
    if not names:
        return CompiledTemplate(template, path, None, (), tuple(query_params), (literal + 1000, len(query_params)))
    regex.append("/?")
    return CompiledTemplate(template, None, re.compile("".join(regex)), tuple(names), tuple(query_params), (literal, -len(names)))


@dataclass(slots=True)
class Match(Generic[T]):  # made for every request: a plain slotted class is 3x faster to build than a frozen one
    api: object
    operation: T
    relative_path: str  # the path after the API suffix: "" (the API's own URL) or starting with "/"
    params: dict[str, str]


class ApiRoutes(Generic[T]):
    """The operations of one API, grouped by method and ordered most specific first."""

    def __init__(self, operations: Iterable[tuple[str, str, T]]) -> None:
        by_method: dict[str, list[tuple[CompiledTemplate, T]]] = {}
        for method, template, operation in operations:
            by_method.setdefault(method.upper(), []).append((compile_template(template), operation))
        wildcard = by_method.pop("*", [])
        self._by_method: dict[str, list[tuple[CompiledTemplate, T]]] = {}
        for method, entries in by_method.items():
            self._by_method[method] = sorted(entries + wildcard, key=lambda e: e[0].specificity, reverse=True)
        self._wildcard = sorted(wildcard, key=lambda e: e[0].specificity, reverse=True)
        self.by_query = any(template.query_params for entries in by_method.values() for template, _ in entries) or any(
            template.query_params for template, _ in wildcard)  # a template names query parameters

    def find(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[T, dict[str, str]] | None:
        for template, operation in self._by_method.get(method, self._wildcard):
            params = template.match(path, query)
            if params is not None:
                return operation, params
        return None


_REVISION = re.compile(r";rev=([^/;]+)")
ROUTE_CACHE_SIZE = 1024  # (scheme, method, path) keys; emptied when full, so hostile paths cannot grow it


@dataclass(frozen=True)
class _ApiEntry(Generic[T]):
    api: object
    routes: ApiRoutes[T]
    schemes: frozenset[str]  # the URL schemes the API answers (its `protocols`)


class Router(Generic[T]):
    """Maps (scheme, method, path, query) to (api, operation, params); APIs are chosen by longest path prefix.

    Several revisions may share a path: the current one answers `/<path>/...`, any revision
    answers `/<path>;rev=<revision>/...` (APIM's revision URL).
    """

    def __init__(self) -> None:
        self._apis: dict[str, _ApiEntry[T]] = {}
        self._revisions: dict[tuple[str, str], _ApiEntry[T]] = {}
        self._found: dict[tuple[str, str, str], tuple[object, T, str, dict[str, str]]] | None = {}  # route cache

    def add_api(self, path: str, api: object, operations: Iterable[tuple[str, str, T]], *,
                revision: str | None = None, current: bool = True,
                protocols: Iterable[str] = DEFAULT_PROTOCOLS) -> None:
        entry = _ApiEntry(api, ApiRoutes(operations), frozenset(p.lower() for p in protocols))
        self._found = {} if self._found is not None and not entry.routes.by_query else None
        if current:
            self._apis[path.strip("/")] = entry
        if revision is not None:
            self._revisions[(path.strip("/"), revision)] = entry

    def route(self, scheme: str, method: str, path: str, query: dict[str, list[str]]) -> Match[T] | None:
        """The operation for a request that arrived over `scheme` ("http" or "https"), or None."""
        found = self._found
        if found is None:
            return self._route(scheme, method, path, query)
        key = (scheme, method, path)
        hit = found.get(key)
        if hit is not None:
            return Match(hit[0], hit[1], hit[2], dict(hit[3]) if hit[3] else {})
        match = self._route(scheme, method, path, query)
        if match is not None:
            if len(found) >= ROUTE_CACHE_SIZE:
                found.clear()
            found[key] = (match.api, match.operation, match.relative_path, dict(match.params))
        return match

    def _route(self, scheme: str, method: str, path: str, query: dict[str, list[str]]) -> Match[T] | None:
        trimmed = path.lstrip("/")
        if ";rev=" in trimmed:
            return self._route_revision(scheme, method, trimmed, query)
        candidate = trimmed.rstrip("/")
        while True:
            entry = self._apis.get(candidate)
            if entry is not None:
                return _find(entry, scheme, method, trimmed[len(candidate):], query)
            if not candidate:
                return None
            cut = candidate.rfind("/")
            candidate = candidate[:cut] if cut >= 0 else ""

    def _route_revision(self, scheme: str, method: str, trimmed: str, query: dict[str, list[str]]) -> Match[T] | None:
        """`<api path>;rev=<revision>/<operation path>`: that revision of exactly that API."""
        marker = _REVISION.search(trimmed)
        if marker is None:
            return None
        entry = self._revisions.get((trimmed[: marker.start()].strip("/"), marker.group(1)))
        if entry is None:
            return None
        return _find(entry, scheme, method, trimmed[marker.end():], query)


def _find(entry: _ApiEntry[T], scheme: str, method: str, rest: str, query: dict[str, list[str]]) -> Match[T] | None:
    """The operation for `rest`, the request path after the API suffix ("" at the API's own URL)."""
    if scheme not in entry.schemes:  # the API is not offered over this scheme
        return None
    relative = "/" + rest.lstrip("/")
    found = entry.routes.find(method, relative, query)
    # forwarded as sent: the API's own URL adds nothing to the service URL, `<api>/` adds "/"
    return Match(entry.api, found[0], relative if rest else "", found[1]) if found is not None else None
