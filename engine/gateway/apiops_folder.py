"""Reading an APIOps folder into GatewaySettings (the mapping docs/apiops.md describes).

`FolderReader(folder, environ, placeholder_secrets).settings()` walks the folder, builds the same
settings dataclasses `gateway.yaml` gives, and collects in `.warnings` everything it did not use.
`engine/gateway/apiops.py` holds the entry points (`read_apiops`, `load_apiops`, lint).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import yaml

from engine.apispec.instance import InstanceSchemaError
from engine.apispec.wsdl import Wsdl
from engine.backends import BackendSpec
from engine.errors import ConfigError
from engine.gateway import api_xml
from engine.gateway import apiops_certificates as certificates_folder
from engine.gateway import apiops_graphql as graphql_folder
from engine.gateway import apiops_schemas as schemas_folder
from engine.gateway.backend_config import read_backends
from engine.gateway.config import (
    SUBSCRIPTION_KEYS,
    USER_KEYS,
    locate_error,
    parse_settings,
    substitute_named_values,
)
from engine.gateway.openapi import match_operation, operations_from_openapi
from engine.gateway.settings import (
    DEFAULT_KEY_HEADER,
    DEFAULT_KEY_QUERY,
    DEFAULT_PROTOCOLS,
    GRAPHQL_OPERATIONS,
    WEBSOCKET_OPERATIONS,
    WEBSOCKET_PROTOCOLS,
    WEBSOCKET_SERVICE_SCHEMES,
    ApiSettings,
    GatewaySettings,
    OperationSettings,
    ProductSettings,
    SubscriptionSettings,
    UserSettings,
    WebSocketSettings,
    WsdlImports,
    api_kind,
    unknown_protocols,
)
from engine.gateway.yaml_positions import load_with_positions
from engine.source import Span

SIDE_FILE = "policygate.yaml"
SECRET_PLACEHOLDER = "secret"  # lint only: the value of a secret whose variable is not set
SPECIFICATIONS = ("specification.yaml", "specification.yml", "specification.json")
ODATA_METADATA = "specification.xml"  # an OData API's $metadata (EDMX): the gateway routes without it
WSDL = "specification.wsdl"  # a SOAP API's WSDL: its operations, and its types validate XML and SOAP bodies
# APIM names a SOAP API's operations with generated ids that its WSDL does not carry: the folder names the WSDL operation
SOAP_OPERATION_HINT = "in specification.wsdl (name the folder after the WSDL operation)"
# An OData API answers every method on every path under it (entity sets, keys, $metadata, $batch), as in APIM
ODATA_OPERATIONS = (OperationSettings(id="odata", method="*", url_template="/*", name="OData"),)
FRAGMENTS_FOLDER = "policy fragments"
VERSION_SETS_FOLDER = "version sets"
SIDE_GATEWAY_KEYS = ("server", "backend", "backends", "demo-backend", "cache", "rate-limits", "identity",
                     "loggers", "dapr", "token-validation", "credentials",
                     "certificates", "service-bus", "wsdl-imports")
SIDE_KEYS = (*SIDE_GATEWAY_KEYS, "service-urls", "subscriptions")
UNSUPPORTED_FOLDERS = {
    "loggers": "Azure logger resources are ignored; declare loggers in policygate.yaml (loggers:)",
    "diagnostics": "diagnostics are not supported; ignored",
    "gateways": "self-hosted gateway resources are not supported; ignored",
    "tags": "tags are not supported; ignored",
    "workspaces": "workspaces are not supported; ignored",
    "authorization servers": "authorization servers are not supported; ignored",
    "identity providers": "identity providers are not supported; ignored",
    "openid connect providers": "OpenID Connect providers are not supported; ignored",
}
KNOWN_TOP = {"apis", "products", "namedValues", FRAGMENTS_FOLDER, "subscriptions", "groups", "backends",
             certificates_folder.FOLDER, schemas_folder.FOLDER, VERSION_SETS_FOLDER, "policy.xml", SIDE_FILE}
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def secret_variable_names(name: str) -> tuple[str, str]:
    """The environment variables a named value is read from: `POLICYGATE_NV_<NAME>`, then `name`."""
    return f"POLICYGATE_NV_{_NOT_ALNUM.sub('_', name).upper()}", name


class Warnings:
    """Problems grouped by kind; each kind becomes one message listing its items."""

    LIMIT = 10

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.groups: dict[str, list[str]] = {}

    def add(self, problem: str, item: str) -> None:
        items = self.groups.setdefault(problem, [])
        if item not in items:
            items.append(item)

    def messages(self) -> list[str]:
        lines = []
        for problem, items in self.groups.items():
            shown = ", ".join(items[: self.LIMIT])
            more = f" and {len(items) - self.LIMIT} more" if len(items) > self.LIMIT else ""
            lines.append(f"{self.folder}: {problem}: {shown}{more}")
        return lines


@dataclass
class _Side:
    """What policygate.yaml adds."""

    file: Path | None
    base: GatewaySettings | None = None
    service_urls: dict[str, str] | None = None
    subscriptions: list[tuple[str, dict[str, Any]]] | None = None  # (key path, entry)


@dataclass(frozen=True)
class FileEntity:
    """An entity folder (`certificates/<id>/`, `schemas/<id>/`): its information file and its own file."""

    id: str
    folder: Path
    info: Path  # may not exist: then `properties` is empty
    file: Path | None
    properties: dict[str, Any]


class FolderReader:
    def __init__(self, folder: Path, environ: Mapping[str, str], placeholder_secrets: bool) -> None:
        if not folder.is_dir():
            raise ConfigError(f"{folder}: not a folder")
        self.folder = folder
        self.environ = environ
        self.placeholder_secrets = placeholder_secrets
        self.warnings = Warnings(folder)
        self.skipped_apis: set[str] = set()
        self.wsdl_imports = WsdlImports()  # policygate.yaml's `wsdl-imports:` (read before the APIs)

    # -- helpers -------------------------------------------------------------------------------
    def fail(self, file: Path, key: str, message: str) -> NoReturn:
        """Raise `file:line:col: key: message` (the key's place in the YAML or JSON file when found)."""
        raise locate_error(ConfigError(f"{file}: {key}: {message}" if key else f"{file}: {message}"), file)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    def unknown(self, path: Path) -> None:
        if only_policy_tests(path):  # `policygate test` files may live beside the documents they test
            return
        self.warnings.add("unknown files and folders; ignored", self.rel(path))

    def children(self, name: str) -> list[Path]:
        """Sub-folders of `name` (sorted); stray files there are reported as unknown."""
        parent = self.folder / name
        if not parent.is_dir():
            return []
        found = []
        for entry in sorted(parent.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                found.append(entry)
            else:
                self.unknown(entry)
        return found

    def file_entities(self, name: str, information: str, files: tuple[str, ...], properties: tuple[str, ...],
                      what: str) -> list[FileEntity]:
        """The `<name>/<id>/` folders holding an `information` JSON file and/or one of `files` (the
        entity's own file, e.g. a certificate): their properties checked against `properties`."""
        found = []
        for folder in self.children(name):
            info = folder / information
            present = [folder / file for file in files if (folder / file).is_file()]
            if not info.is_file() and not present:
                self.unknown(folder)
                continue
            self.report_extra(folder, {information, *files})
            if len(present) > 1:
                self.fail(present[1], "", f"{folder.name} has more than one {what} file ({', '.join(f.name for f in present)})")
            props = self.properties(info) if info.is_file() else {}
            for key in props:
                if key not in properties:
                    self.fail(info, f"properties.{key}", f"unknown key (expected one of: {', '.join(properties)})")
            found.append(FileEntity(folder.name, folder, info, present[0] if present else None, props))
        return found

    def report_extra(self, folder: Path, used: Iterable[str], problems: Mapping[str, str] | None = None) -> None:
        """Report every entry of `folder` that is neither used nor hidden."""
        used = set(used)
        for entry in sorted(folder.iterdir()):
            if entry.name in used or entry.name.startswith("."):
                continue
            problem = (problems or {}).get(entry.name)
            if problem:
                self.warnings.add(problem, self.rel(entry))
            else:
                self.unknown(entry)

    def properties(self, file: Path) -> dict[str, Any]:
        """The `properties` object of an APIOps information file (or the whole object)."""
        data = self.json(file)
        if not isinstance(data, dict):
            self.fail(file, "", f"expected a JSON object, got {_kind(data)}")
        props = data.get("properties", data)
        if not isinstance(props, dict):
            self.fail(file, "properties", f"expected an object, got {_kind(props)}")
        return props

    def json(self, file: Path) -> Any:
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            self.fail(file, "", f"cannot read: {exc.strerror or exc}")
        except UnicodeDecodeError:
            self.fail(file, "", "not UTF-8 text")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
                              span=Span.point(str(file), exc.lineno, exc.colno)) from None

    def string(self, props: Mapping[str, Any], key: str, file: Path, default: str | None = None) -> str | None:
        value = props.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(file, f"properties.{key}", f"expected a string, got {_kind(value)}")
        return str(value)

    def boolean(self, props: Mapping[str, Any], key: str, file: Path, default: bool) -> bool:
        value = props.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(file, f"properties.{key}", f"expected true or false, got {value!r}")
        return value

    def names_list(self, file: Path) -> list[tuple[int, str]]:
        """`apis.json` / `groups.json`: `[{"name": "x"}, ...]` (plain strings accepted too)."""
        data = self.json(file)
        if not isinstance(data, list):
            self.fail(file, "", f"expected a JSON list, got {_kind(data)}")
        names = []
        for i, item in enumerate(data):
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name.strip():
                self.fail(file, f"[{i}]", "expected a name (a string or {\"name\": ...})")
            names.append((i, name.rstrip("/").rsplit("/", 1)[-1]))  # an ARM id names its last segment
        return names

    def absolute_url(self, url: str, file: Path, key: str, websocket: bool = False) -> str:
        parts = urlsplit(url)
        if parts.scheme not in (WEBSOCKET_SERVICE_SCHEMES if websocket else ("http", "https")) or not parts.hostname:
            self.fail(file, key, f"'{url}' is not an absolute {'ws(s)' if websocket else 'http(s)'} URL")
        return url

    # -- the whole folder ----------------------------------------------------------------------
    def settings(self) -> GatewaySettings:
        named_values, secrets = self.named_values()
        side = self.side_file(named_values)
        if side.base is not None:
            self.wsdl_imports = side.base.wsdl_imports
        fragments = self.fragments()
        backends = self.backends(named_values)
        certificates = certificates_folder.folder_certificates(self)
        schemas = schemas_folder.folder_schemas(self)
        products, product_apis = self.products()
        apis = self.apis(self.version_sets(), side.service_urls or {})
        apis = self.link_products(products, product_apis, apis)
        subscriptions = self.subscriptions(side, products, apis)
        self.report_extra(self.folder, KNOWN_TOP, UNSUPPORTED_FOLDERS)
        self.children("groups")  # names only: products refer to them through groups.json
        policy = self.folder / "policy.xml"
        base = side.base or GatewaySettings(file=self.folder)
        return replace(
            base,
            file=side.file or self.folder,
            named_values=named_values,
            secret_names=frozenset(secrets),
            policy=policy if policy.is_file() else None,
            fragments=fragments,
            products=products,
            subscriptions=subscriptions,
            apis=apis,
            backends={**backends, **base.backends},
            certificates={**certificates, **base.certificates},
            schemas=schemas,
        )

    def side_file(self, named_values: Mapping[str, str]) -> _Side:
        """policygate.yaml: its gateway keys may name the folder's named values (`cache.external: "{{redis}}"`)."""
        file = self.folder / SIDE_FILE
        if not file.is_file():
            return _Side(None)
        try:
            text = file.read_text(encoding="utf-8")
            data, positions = load_with_positions(text)
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
            raise ConfigError(f"{file}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
        data = data if data is not None else {}
        if not isinstance(data, dict):
            self.fail(file, "", f"expected a mapping, got {_kind(data)}")
        for key in data:
            if key not in SIDE_KEYS:
                self.fail(file, str(key), f"unknown key (expected one of: {', '.join(SIDE_KEYS)})")
        common = {key: data[key] for key in SIDE_GATEWAY_KEYS if key in data}
        base = parse_settings(yaml.safe_dump(common), file=file, environ=self.environ, positions=positions,
                              named_values=named_values)
        urls = data.get("service-urls") or {}
        if not isinstance(urls, dict):
            self.fail(file, "service-urls", f"expected a mapping of API name to URL, got {_kind(urls)}")
        service_urls = {}
        for api, url in urls.items():
            if not isinstance(url, str):
                self.fail(file, f"service-urls.{api}", f"expected a URL, got {_kind(url)}")
            service_urls[str(api)] = self.absolute_url(url, file, f"service-urls.{api}")
        subs = data.get("subscriptions") or []
        if not isinstance(subs, list):
            self.fail(file, "subscriptions", f"expected a list, got {_kind(subs)}")
        entries = []
        for i, entry in enumerate(subs):
            where = f"subscriptions[{i}]"
            if not isinstance(entry, dict):
                self.fail(file, where, f"expected a mapping, got {_kind(entry)}")
            for key in entry:
                if key not in SUBSCRIPTION_KEYS:
                    self.fail(file, f"{where}.{key}", f"unknown key (expected one of: {', '.join(SUBSCRIPTION_KEYS)})")
            if not isinstance(entry.get("id"), str):
                self.fail(file, f"{where}.id", "is required (the subscription's name)")
            entries.append((where, entry))
        return _Side(file, base, service_urls, entries)

    # -- named values, fragments, backends -----------------------------------------------------
    def named_values(self) -> tuple[dict[str, str], set[str]]:
        values: dict[str, str] = {}
        secrets: set[str] = set()
        folded: dict[str, str] = {}
        for folder in self.children("namedValues"):
            file = folder / "namedValueInformation.json"
            if not file.is_file():
                self.unknown(folder)
                continue
            self.report_extra(folder, {file.name})
            props = self.properties(file)
            name = self.string(props, "displayName", file) or folder.name
            if name.lower() in folded:
                self.fail(file, "properties.displayName", f"named value '{name}' is also defined in {folded[name.lower()]}")
            folded[name.lower()] = self.rel(file)
            secret = self.boolean(props, "secret", file, False) or bool(props.get("keyVault"))
            variable, plain = secret_variable_names(name)
            value = self.string(props, "value", file)
            if variable in self.environ:
                value = self.environ[variable]
            elif secret and plain in self.environ:
                value = self.environ[plain]
            elif value is None or (secret and props.get("keyVault")):
                if not secret:
                    self.fail(file, "properties.value", f"named value '{name}' has no value")
                if not self.placeholder_secrets:
                    self.fail(file, "", f"secret named value '{name}' is not set: "
                                        f"set environment variable {variable} (or {plain})")
                value = SECRET_PLACEHOLDER
            values[name] = value
            if secret:
                secrets.add(name)
            if props.get("keyVault"):
                self.warnings.add("Key Vault references are read from environment variables instead",
                                  f"{self.rel(folder)} ({variable})")
        return values, secrets

    def fragments(self) -> dict[str, Path]:
        fragments = {}
        for folder in self.children(FRAGMENTS_FOLDER):
            policy = folder / "policy.xml"
            if not policy.is_file():
                self.unknown(folder)
                continue
            self.report_extra(folder, {"policy.xml", "policyFragmentInformation.json"})
            fragments[folder.name] = policy
        return fragments

    def backends(self, named_values: Mapping[str, str]) -> dict[str, BackendSpec]:
        entries: dict[str, tuple[str, object]] = {}
        files: dict[str, Path] = {}
        for folder in self.children("backends"):
            file = folder / "backendInformation.json"
            if not file.is_file():
                self.unknown(folder)
                continue
            self.report_extra(folder, {file.name})
            where = f"backend{len(files)}"  # mapped back to the file by _FolderEntities
            entries[folder.name] = (where, self.properties(file))
            files[where] = file
        return read_backends(entries, _FolderEntities(self, files, named_values))

    # -- products ------------------------------------------------------------------------------
    def products(self) -> tuple[dict[str, ProductSettings], dict[str, tuple[Path, list[tuple[int, str]]]]]:
        products: dict[str, ProductSettings] = {}
        links: dict[str, tuple[Path, list[tuple[int, str]]]] = {}
        for folder in self.children("products"):
            file = folder / "productInformation.json"
            if not file.is_file():
                self.unknown(folder)
                continue
            self.report_extra(folder, {file.name, "policy.xml", "apis.json", "groups.json"},
                              {"tags.json": "tags are not supported; ignored"})
            props = self.properties(file)
            state = (self.string(props, "state", file) or "published").lower()
            if state not in ("published", "notpublished"):
                self.fail(file, "properties.state", f"'{props['state']}' is not one of: published, notPublished")
            groups = folder / "groups.json"
            apis = folder / "apis.json"
            policy = folder / "policy.xml"
            pid = folder.name
            products[pid] = ProductSettings(
                id=pid,
                name=self.string(props, "displayName", file) or pid,
                policy=policy if policy.is_file() else None,
                subscription_required=self.boolean(props, "subscriptionRequired", file, True),
                approval_required=self.boolean(props, "approvalRequired", file, False),
                state="Published" if state == "published" else "NotPublished",
                groups=tuple(name for _, name in self.names_list(groups)) if groups.is_file() else (),
            )
            if apis.is_file():
                links[pid] = (apis, self.names_list(apis))
        return products, links

    def link_products(
        self, products: dict[str, ProductSettings], links: dict[str, tuple[Path, list[tuple[int, str]]]],
        apis: dict[str, ApiSettings],
    ) -> dict[str, ApiSettings]:
        members: dict[str, list[str]] = {aid: [] for aid in apis}
        for pid, (file, names) in links.items():
            for index, name in names:
                if name in apis:
                    members[name].append(pid)
                elif name not in self.skipped_apis:  # a skipped API was reported already
                    self.fail(file, f"[{index}]", f"unknown API '{name}' (known: {', '.join(sorted(apis)) or 'none'})")
        return {aid: replace(api, products=tuple(members[aid])) for aid, api in apis.items()}

    # -- APIs ----------------------------------------------------------------------------------
    def version_sets(self) -> dict[str, str]:
        schemes = {}
        for folder in self.children(VERSION_SETS_FOLDER):
            file = folder / "apiVersionSetInformation.json"
            if file.is_file():
                self.report_extra(folder, {file.name})
                schemes[folder.name] = (self.string(self.properties(file), "versioningScheme", file) or "").lower()
            else:
                self.unknown(folder)
        return schemes

    def apis(self, version_sets: dict[str, str], service_urls: dict[str, str]) -> dict[str, ApiSettings]:
        apis: dict[str, ApiSettings] = {}
        paths: dict[str, Path] = {}
        for folder in self.children("apis"):
            file = folder / "apiInformation.json"
            if not file.is_file():
                self.unknown(folder)
                continue
            api = self.api(folder, file, version_sets, service_urls)
            if api is None:
                self.skipped_apis.add(folder.name.split(";rev=")[0])
                continue
            if api.path in paths:
                self.fail(file, "properties.path", f"'{api.path}' is already the path of {paths[api.path]}")
            paths[api.path] = file
            apis[api.id] = api
        self.skipped_apis -= set(apis)  # the current revision of an API is served
        for aid in service_urls:
            if aid not in apis:
                self.warnings.add("service-urls in policygate.yaml for APIs that do not exist; ignored", aid)
        return apis

    def api(self, folder: Path, file: Path, version_sets: dict[str, str], service_urls: dict[str, str]) -> ApiSettings | None:
        props = self.properties(file)
        rel = self.rel(folder)
        if ";rev=" in folder.name or props.get("isCurrent") is False:
            self.warnings.add("only the current revision of an API is served; ignored", rel)
            return None
        kind = (self.string(props, "type", file) or self.string(props, "apiType", file) or "http").lower()
        if kind not in ("http", "odata", "graphql", "soap", "websocket"):  # OData and SOAP APIs: HTTP APIs with one operation
            self.warnings.add(f"{kind} APIs are not supported; not served", rel)
            return None
        graphql = graphql_folder.graphql_settings(self, folder) if kind == "graphql" else None
        websocket = WebSocketSettings() if kind == "websocket" else None
        path = self.string(props, "path", file)
        if path is None:
            self.fail(file, "properties.path", "is required")
        path = path.strip("/")
        version = self.string(props, "apiVersion", file, "") or ""
        version_set = (self.string(props, "apiVersionSetId", file) or "").rstrip("/").rsplit("/", 1)[-1]
        if version_set:
            if version_sets.get(version_set) == "segment" and version:
                path = f"{path}/{version}".strip("/")
            else:
                self.warnings.add("API versions selected by header or query are not supported; "
                                  "served at the API path without version selection", rel)
        service_url = service_urls.get(folder.name) or self.string(props, "serviceUrl", file)
        if service_url:
            where = "service-urls" if folder.name in service_urls else "properties.serviceUrl"
            self.absolute_url(service_url, file, where, websocket is not None)
        else:
            if graphql is None or not graphql.synthetic:  # a synthetic GraphQL API answers from its resolvers
                self.warnings.add("APIs without serviceUrl forward to http://localhost unless a policy sets the "
                                  "backend (set service-urls in policygate.yaml)", rel)
            service_url = "http://localhost"
        auth = props.get("authenticationSettings")
        if isinstance(auth, dict) and any(auth.get(k) for k in ("oAuth2", "openid", "oAuth2AuthenticationSettings", "openidAuthenticationSettings")):
            self.warnings.add("API authenticationSettings (developer portal only) are ignored", rel)
        names = props.get("subscriptionKeyParameterNames") or {}
        if not isinstance(names, dict):
            self.fail(file, "properties.subscriptionKeyParameterNames", f"expected an object, got {_kind(names)}")
        protocols = props.get("protocols") or list(WEBSOCKET_PROTOCOLS if websocket else DEFAULT_PROTOCOLS)
        if not isinstance(protocols, list) or not all(isinstance(p, str) for p in protocols):
            self.fail(file, "properties.protocols", "expected a list of strings")
        problem = unknown_protocols(tuple(protocols), api_kind(graphql, websocket))
        if problem:
            self.fail(file, "properties.protocols", problem)
        operations: tuple[OperationSettings, ...]
        wsdl = self.wsdl(folder)
        if kind == "odata":
            operations = ODATA_OPERATIONS
        elif kind == "soap":
            operations = api_xml.soap_operations(wsdl.operations if wsdl is not None else None)
            if len(operations) == 1 and operations[0].soap_action is None and (folder / "operations").is_dir():
                self.warnings.add("operation policies of SOAP APIs whose WSDL names no SOAP operations are not "
                                  "supported (the API is one operation); ignored", self.rel(folder / "operations"))
            elif operations[0].soap_action is not None:
                operations = self.operation_policies(folder, operations, SOAP_OPERATION_HINT)
        elif websocket is not None:
            operations = self.operation_policies(folder, WEBSOCKET_OPERATIONS, "(a WebSocket API has one, onHandshake)")
        else:
            operations = GRAPHQL_OPERATIONS if graphql is not None else self.operations(folder)
        operations = self.xml_schemas(folder, operations, wsdl)
        policy = folder / "policy.xml"
        graphql_files = (graphql_folder.SCHEMA_FILE, graphql_folder.RESOLVERS) if graphql is not None else ()
        self.report_extra(folder, {file.name, "policy.xml", "operations", *SPECIFICATIONS, ODATA_METADATA, WSDL,
                                   schemas_folder.FOLDER, *graphql_files},
                          {"diagnostics": "API diagnostics are not supported; ignored",
                           "tags.json": "tags are not supported; ignored",
                           "releases": "API releases are not supported; ignored"})
        return ApiSettings(
            id=folder.name,
            path=path,
            service_url=service_url,
            name=self.string(props, "displayName", file) or folder.name,
            subscription_required=self.boolean(props, "subscriptionRequired", file, True),
            policy=policy if policy.is_file() else None,
            operations=operations,
            key_header=str(names.get("header") or DEFAULT_KEY_HEADER),
            key_query=str(names.get("query") or DEFAULT_KEY_QUERY),
            revision=self.string(props, "apiRevision", file, "1") or "1",
            version=version,
            protocols=tuple(p.lower() for p in protocols),
            graphql=graphql,
            websocket=websocket,
        )

    def wsdl(self, folder: Path) -> Wsdl | None:
        """The API's `specification.wsdl` (with the schema files it imports), None without one."""
        file = folder / WSDL
        if not file.is_file():
            return None
        try:
            return api_xml.read_wsdl(file, self.wsdl_imports)
        except ValueError as exc:
            self.fail(file, "", str(exc))

    def xml_schemas(self, folder: Path, operations: tuple[OperationSettings, ...],
                    wsdl: Wsdl | None) -> tuple[OperationSettings, ...]:
        """`operations` with the API's XML schemas: its WSDL's types and its `schemas/` (XML schemas)."""
        texts = (wsdl.schemas if wsdl is not None else []) + schemas_folder.api_xml_schemas(self, folder)
        try:
            return api_xml.with_xml_schema(operations, folder.name, texts)
        except InstanceSchemaError as exc:
            self.fail(folder / WSDL if wsdl is not None else folder / schemas_folder.FOLDER, "",
                      f"the API's XML schemas: {exc}")

    def operations(self, folder: Path) -> tuple[OperationSettings, ...]:
        spec = next((folder / name for name in SPECIFICATIONS if (folder / name).is_file()), None)
        if spec is None:
            self.warnings.add("APIs without specification.yaml/json have no operations (every request gets 404, "
                              "as in APIM)", self.rel(folder))
            operations: tuple[OperationSettings, ...] = ()
        else:
            operations = operations_from_openapi(spec, where=self.rel(spec))
        return self.operation_policies(folder, operations, "in the specification")

    def operation_policies(self, folder: Path, operations: tuple[OperationSettings, ...],
                           where: str) -> tuple[OperationSettings, ...]:
        """`operations` with the documents of `operations/<operation>/policy.xml` (`where`: where the operations
        were looked for, for the warning about a folder matching none)."""
        policies = folder / "operations"
        if not policies.is_dir():
            return operations
        attached: dict[str, str] = {}
        for op_folder in sorted(policies.iterdir()):
            if op_folder.name.startswith("."):
                continue
            policy = op_folder / "policy.xml"
            if not op_folder.is_dir() or not policy.is_file():
                self.unknown(op_folder)
                continue
            self.report_extra(op_folder, {"policy.xml"})
            match = match_operation(op_folder.name, operations)
            if match is None:
                self.warnings.add(f"operation policies with no matching operation {where}; ignored",
                                  self.rel(op_folder))
            elif match.id in attached:
                self.warnings.add("operation policies matching an operation that already has one; ignored",
                                  f"{self.rel(op_folder)} (operation '{match.id}' uses {attached[match.id]})")
            else:
                attached[match.id] = self.rel(policy)
                operations = tuple(replace(op, policy=policy) if op is match else op for op in operations)
        return operations

    # -- subscriptions -------------------------------------------------------------------------
    def subscriptions(
        self, side: _Side, products: dict[str, ProductSettings], apis: dict[str, ApiSettings]
    ) -> tuple[SubscriptionSettings, ...]:
        found: dict[str, dict[str, Any]] = {}  # id -> fields, from the folder then policygate.yaml
        origin: dict[str, str] = {}
        for folder in self.children("subscriptions"):
            file = folder / "subscriptionInformation.json"
            if not file.is_file():
                self.unknown(folder)
                continue
            self.report_extra(folder, {file.name})
            props = self.properties(file)
            scope = self.string(props, "scope", file) or "/apis"
            product, api = _scope(scope)
            if product is None and api is None and not scope.rstrip("/").endswith("apis"):
                self.fail(file, "properties.scope", f"'{scope}' is not /apis, /apis/<api> or /products/<product>")
            owner = (self.string(props, "ownerId", file) or "").rstrip("/").rsplit("/", 1)[-1]
            found[folder.name] = {
                "name": self.string(props, "displayName", file) or folder.name,
                "product": product, "api": api,
                "key": self.string(props, "primaryKey", file), "secondary-key": self.string(props, "secondaryKey", file),
                "state": (self.string(props, "state", file) or "active").lower(),
                "user": UserSettings(id=owner) if owner else None,
            }
            origin[folder.name] = str(file)
        for where, entry in side.subscriptions or []:
            assert side.file is not None
            sid = entry["id"]
            fields = found.setdefault(sid, {"name": sid, "product": None, "api": None, "state": "active", "user": None})
            origin.setdefault(sid, f"{side.file}: {where}")
            if "product" in entry or "api" in entry:
                fields["product"], fields["api"] = entry.get("product"), entry.get("api")
            for key in ("key", "secondary-key", "name", "state"):
                if entry.get(key) is not None:
                    fields[key] = str(entry[key]) if key != "state" else str(entry[key]).lower()
            if entry.get("user") is not None:
                fields["user"] = self.user(entry["user"], side.file, f"{where}.user")
        return self.build_subscriptions(found, origin, products, apis)

    def build_subscriptions(
        self, found: dict[str, dict[str, Any]], origin: dict[str, str],
        products: dict[str, ProductSettings], apis: dict[str, ApiSettings],
    ) -> tuple[SubscriptionSettings, ...]:
        subscriptions = []
        keys: dict[str, str] = {}
        for sid, fields in found.items():
            where = origin[sid]
            if not fields.get("key"):
                self.warnings.add("subscriptions without a key cannot be used (give their keys under subscriptions "
                                  f"in {SIDE_FILE}); ignored", sid)
                continue
            product, api = fields.get("product"), fields.get("api")
            if product is not None and product not in products:
                raise ConfigError(f"{where}: unknown product '{product}'")
            if api is not None and api not in apis:
                if api in self.skipped_apis:
                    continue
                raise ConfigError(f"{where}: unknown API '{api}'")
            if product is not None and api is not None:
                raise ConfigError(f"{where}: a subscription is scoped to a product or an API, not both")
            if fields["state"] not in ("active", "suspended", "submitted", "rejected", "cancelled", "expired"):
                raise ConfigError(f"{where}: state '{fields['state']}' is not a subscription state")
            for key in (fields["key"], fields.get("secondary-key")):
                if key and key in keys:
                    raise ConfigError(f"{where}: key already used by subscription '{keys[key]}'")
                if key:
                    keys[key] = sid
            subscriptions.append(SubscriptionSettings(
                id=sid, key=fields["key"], secondary_key=fields.get("secondary-key") or "", name=fields["name"],
                product=product, api=api, user=fields.get("user"), active=fields["state"] == "active",
            ))
        return tuple(subscriptions)

    def user(self, value: object, file: Path, where: str) -> UserSettings:
        if not isinstance(value, dict):
            self.fail(file, where, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in USER_KEYS:
                self.fail(file, f"{where}.{key}", f"unknown key (expected one of: {', '.join(USER_KEYS)})")
        if not isinstance(value.get("id"), str):
            self.fail(file, f"{where}.id", "is required")
        groups = value.get("groups") or []
        if isinstance(groups, str):
            groups = [groups]
        return UserSettings(
            id=value["id"], email=str(value.get("email") or ""), first_name=str(value.get("first-name") or ""),
            last_name=str(value.get("last-name") or ""), note=str(value.get("note") or ""),
            groups=tuple(str(g) for g in groups),
        )


def _scope(scope: str) -> tuple[str | None, str | None]:
    """(product, api) of a subscription scope: `/products/p`, `/apis/a` (ARM ids too), `/apis`."""
    parts = [p for p in scope.split("/") if p]
    if len(parts) >= 2 and parts[-2] == "products":
        return parts[-1], None
    if len(parts) >= 2 and parts[-2] == "apis":
        return None, parts[-1]
    return None, None


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def only_policy_tests(path: Path) -> bool:
    """A `*.policytest.yaml` file, or a folder holding nothing else."""
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")]
        return bool(files) and all(only_policy_tests(p) for p in files)
    return path.name.endswith((".policytest.yaml", ".policytest.yml"))


class _FolderEntities:
    """`engine.gateway.backend_config.EntityReader` for `backends/<id>/backendInformation.json`:
    errors name the file and the property; what policygate cannot honour is a warning."""

    def __init__(self, folder: FolderReader, files: dict[str, Path], named_values: Mapping[str, str]) -> None:
        self.folder, self.files, self.named_values = folder, files, named_values

    def _split(self, where: str) -> tuple[Path, str]:
        backend, _, key = where.partition(".")
        return self.files[backend], f"properties.{key}" if key else "properties"

    def fail(self, where: str, message: str) -> NoReturn:
        file, key = self._split(where)
        self.folder.fail(file, key, message)

    def url(self, value: object, where: str) -> str:
        file, key = self._split(where)
        if not isinstance(value, str):
            self.folder.fail(file, key, f"expected a URL, got {_kind(value)}")
        return self.folder.absolute_url(self.substitute(value, where), file, key)

    def substitute(self, text: str, where: str) -> str:
        return substitute_named_values(text, self.named_values, lambda problem: self.fail(where, problem))

    def unsupported(self, where: str, message: str) -> None:
        file, key = self._split(where)
        self.folder.warnings.add(f"{message}; ignored", f"{self.folder.rel(file.parent)}: {key}")
