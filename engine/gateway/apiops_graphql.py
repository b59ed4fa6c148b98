"""A GraphQL API in an APIOps folder: its schema and resolvers (the extractor's layout).

With resolvers the API is synthetic; without, it is a pass-through API (forwarded to `serviceUrl`).

    apis/<api>/apiInformation.json                       {"properties": {"type": "graphql", "path": ...}}
    apis/<api>/specification.graphql                     the schema (SDL)
    apis/<api>/resolvers/<id>/resolverInformation.json   {"properties": {"path": "Query/users", "displayName": ...}}
    apis/<api>/resolvers/<id>/policy.xml                 the resolver's <http-data-source> document
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ConfigError
from engine.gateway.settings import GraphQLSettings, ResolverSettings
from engine.graphql.schema import load_schema, resolver_field

if TYPE_CHECKING:
    from engine.gateway.apiops_folder import FolderReader

SCHEMA_FILE = "specification.graphql"
RESOLVERS = "resolvers"
INFORMATION = "resolverInformation.json"
PROPERTIES = ("path", "displayName", "description")


def graphql_settings(reader: FolderReader, folder: Path) -> GraphQLSettings:
    """The schema and resolvers of a GraphQL API folder (a pass-through API may have neither)."""
    schema_file = folder / SCHEMA_FILE
    resolver_folders = [f for f in sorted((folder / RESOLVERS).iterdir()) if not f.name.startswith(".")] \
        if (folder / RESOLVERS).is_dir() else []
    if not schema_file.is_file():
        if resolver_folders:
            raise ConfigError(f"{reader.rel(folder)}: resolvers need the API's schema ({SCHEMA_FILE})")
        return GraphQLSettings(None)
    schema = load_schema(schema_file)
    resolvers = []
    taken: dict[tuple[str, str], str] = {}
    for resolver_folder in resolver_folders:
        info, policy = resolver_folder / INFORMATION, resolver_folder / "policy.xml"
        if not resolver_folder.is_dir() or not info.is_file():
            reader.unknown(resolver_folder)
            continue
        reader.report_extra(resolver_folder, {INFORMATION, "policy.xml"})
        props = reader.properties(info)
        for key in props:
            if key not in PROPERTIES:
                reader.fail(info, f"properties.{key}", f"unknown key (expected one of: {', '.join(PROPERTIES)})")
        path = reader.string(props, "path", info) or ""
        try:
            type_name, field_name = resolver_field(schema, path)
        except ValueError as exc:
            reader.fail(info, "properties.path", f"{exc} in {reader.rel(schema_file)}")
        if (type_name, field_name) in taken:
            reader.fail(info, "properties.path", f"'{path}' already has the resolver {taken[type_name, field_name]}")
        if not policy.is_file():
            raise ConfigError(f"{reader.rel(resolver_folder)}: the resolver has no policy.xml (its <http-data-source>)")
        taken[type_name, field_name] = resolver_folder.name
        resolvers.append(ResolverSettings(resolver_folder.name, type_name, field_name, policy))
    return GraphQLSettings(schema_file, tuple(resolvers))
