"""A synthetic GraphQL API's schema: SDL read from a file into a graphql-core schema."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
)

from engine.errors import ConfigError
from engine.source import Span


def load_schema(path: Path) -> GraphQLSchema:
    """The schema of `path`; raises ConfigError `file:line:col: invalid GraphQL schema: ...`."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return parse_schema(text, str(path))


def parse_schema(text: str, where: str) -> GraphQLSchema:
    """The schema the SDL `text` describes (`where` names it in errors)."""
    try:
        return build_schema(text)
    except GraphQLError as error:
        location = error.locations[0] if error.locations else None
        if location is None:
            raise ConfigError(f"{where}: invalid GraphQL schema: {error.message}") from None
        raise ConfigError(f"{where}:{location.line}:{location.column}: invalid GraphQL schema: {error.message}",
                          span=Span.point(where, location.line, location.column)) from None
    except TypeError as error:  # graphql-core reports some schema mistakes (an unknown type) this way
        raise ConfigError(f"{where}: invalid GraphQL schema: {error}") from None


def resolver_field(schema: GraphQLSchema, path: str) -> tuple[str, str]:
    """(type, field) of a resolver's `Type/field` (or `Type.field`); ValueError says why it names no field."""
    type_name, _, field_name = path.strip().strip("/").replace(".", "/").partition("/")
    if not type_name or not field_name:
        raise ValueError(f"'{path}' is not the type and field the resolver resolves (e.g. Query/users)")
    problem = field_problem(schema, type_name, field_name)
    if problem:
        raise ValueError(f"'{path}': {problem}")
    return type_name, field_name


def field_problem(schema: GraphQLSchema, type_name: str, field_name: str) -> str | None:
    """Why `type_name.field_name` cannot have a resolver in `schema` (None when it can)."""
    named = schema.get_type(type_name)
    if not isinstance(named, GraphQLObjectType):
        objects = sorted(name for name, t in schema.type_map.items()
                         if isinstance(t, GraphQLObjectType) and not name.startswith("__"))
        return f"the schema has no object type '{type_name}' (object types: {', '.join(objects)})"
    if field_name not in named.fields:
        return f"type '{type_name}' has no field '{field_name}' (fields: {', '.join(named.fields)})"
    return None


def rule_path_problem(schema: GraphQLSchema, path: str) -> str | None:
    """Why a validate-graphql-request rule `path` (`/__*`, `/field`, `/Type/field`, `/Query/a/b`) names
    nothing in `schema` (None when it names something)."""
    segments = path.strip().strip("/").split("/")
    if segments[-1].startswith("__"):  # introspection (`/__*`, `/__schema`, `/User/__typename`)
        return None
    roots = [t for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t is not None]
    if len(segments) == 1:
        if any(segments[0] in root.fields for root in roots):
            return None
        return f"no root type has a field '{segments[0]}'"
    if len(segments) == 2:
        return field_problem(schema, segments[0], segments[1])
    if segments[0] not in {root.name for root in roots}:
        return f"a query path starts at a root type ({', '.join(root.name for root in roots)}), not '{segments[0]}'"
    current: GraphQLObjectType | GraphQLInterfaceType = schema.get_type(segments[0])  # type: ignore[assignment]
    for name in segments[1:]:
        if name.startswith("__"):
            return None
        if not isinstance(current, (GraphQLObjectType, GraphQLInterfaceType)) or name not in current.fields:
            return f"type '{current.name}' has no field '{name}'"
        current = get_named_type(current.fields[name].type)
    return None
