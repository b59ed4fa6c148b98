"""GraphQL queries parsed, validated and analysed once per distinct text (a bounded cache per API).

`Queries(schema).get(text)` is a `CheckedQuery`: the parsed document (or None), its syntax and schema
validation errors (GraphQL `{"message", "locations"}` objects), and, on demand, every field selection
with its parent type and its path from the operation's root type (`fields`), which is what
`validate-graphql-request` authorizes. Clients repeat the same few queries and parsing plus validating
costs far more than the rest of a request, so the last CACHE_SIZE distinct queries are kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    validate,
)

CACHE_SIZE = 256  # distinct queries kept per API
MAX_CACHED_QUERY = 16 * 1024  # longer queries are checked each time (bounds the cache's memory)
MAX_TOKENS = 20_000  # the parser stops past this many tokens (a bound on hostile documents)
DEFAULT_ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
META_TYPES = {"__schema": "__Schema", "__type": "__Type"}


@dataclass(frozen=True, slots=True)
class FieldUse:
    """One field selection of a query: `path` is the root type's name, then field names (no aliases)."""

    node: FieldNode
    type_name: str  # the type the field belongs to ("" when unknown: no schema)
    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def depth(self) -> int:
        return len(self.path) - 1


class QueryProblem(Exception):
    """The query cannot be analysed (a fragment that is unknown or spreads itself, without a schema)."""


class CheckedQuery:
    """A query's document and errors; `fields` is computed on first use (and kept with the query)."""

    __slots__ = ("document", "errors", "schema", "__dict__")

    def __init__(self, document: DocumentNode | None, errors: list[dict[str, Any]], schema: GraphQLSchema | None) -> None:
        self.document = document
        self.errors = errors
        self.schema = schema

    @cached_property
    def fields(self) -> tuple[FieldUse, ...] | QueryProblem:
        """Every field selection of every operation, fragments expanded (or the problem that prevents it)."""
        assert self.document is not None
        fragments = {d.name.value: d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)}
        found: list[FieldUse] = []
        try:
            for operation in self.document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    root = self._root(operation.operation.value)
                    _walk(self.schema, operation.selection_set, root, (root,), fragments, frozenset(), found)
        except QueryProblem as problem:
            return problem
        return tuple(found)

    def _root(self, kind: str) -> str:
        if self.schema is not None:
            root = self.schema.get_root_type(OperationType(kind))
            if root is not None:
                return root.name
        return DEFAULT_ROOTS[kind]


class Queries:
    """The checked queries of one schema (None: syntax only), the last CACHE_SIZE distinct texts kept."""

    def __init__(self, schema: GraphQLSchema | None) -> None:
        self.schema = schema
        self._cache: LRUCache[str, CheckedQuery] = LRUCache(CACHE_SIZE)
        self._lock = threading.Lock()  # worker threads (Granian) may share a state

    def get(self, text: str) -> CheckedQuery:
        with self._lock:
            known = self._cache.get(text)
        if known is not None:
            return known
        try:
            document: DocumentNode | None = parse(text, max_tokens=MAX_TOKENS)
            assert document is not None
            errors = [dict(e.formatted) for e in validate(self.schema, document)] if self.schema is not None else []
        except GraphQLError as error:
            document, errors = None, [dict(error.formatted)]
        checked = CheckedQuery(document, errors, self.schema)
        if len(text) <= MAX_CACHED_QUERY:
            with self._lock:
                self._cache[text] = checked
        return checked


def _walk(schema: GraphQLSchema | None, selection_set: SelectionSetNode | None, type_name: str,
          path: tuple[str, ...], fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str],
          found: list[FieldUse]) -> None:
    for selection in selection_set.selections if selection_set is not None else ():
        if isinstance(selection, FieldNode):
            name = selection.name.value
            found.append(FieldUse(selection, type_name, (*path, name)))
            if selection.selection_set is not None:
                _walk(schema, selection.selection_set, _field_type(schema, type_name, name),
                      (*path, name), fragments, seen, found)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else type_name
            _walk(schema, selection.selection_set, condition if schema is not None else type_name,
                  path, fragments, seen, found)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                raise QueryProblem(f"Fragment '{name}' is unknown or spreads itself.")
            fragment = fragments[name]
            condition = fragment.type_condition.name.value if schema is not None else type_name
            _walk(schema, fragment.selection_set, condition, path, fragments, seen | {name}, found)


def _field_type(schema: GraphQLSchema | None, type_name: str, field_name: str) -> str:
    """The name of the type `type_name.field_name` returns ("" when the schema does not say)."""
    if field_name in META_TYPES:
        return META_TYPES[field_name]
    parent = schema.get_type(type_name) if schema is not None and type_name else None
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) and field_name in parent.fields:
        return str(get_named_type(parent.fields[field_name].type).name)
    return ""


__all__ = ["CheckedQuery", "FieldUse", "Queries", "QueryProblem"]
