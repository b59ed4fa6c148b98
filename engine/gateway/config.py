"""The gateway configuration reader: YAML -> the typed, validated settings of `engine.gateway.settings`.

Every problem raises `ConfigError` whose message starts with the file and the key path, e.g.
`gateway.yaml: apis.petstore.operations.get-pet.method: 'FETCH' is not an HTTP method`.
Paths in the file are relative to the file. `{{name}}` in `service-url` is replaced by named values.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import yaml

from engine.apispec.instance import KINDS as SCHEMA_KINDS
from engine.apispec.instance import InstanceSchema, InstanceSchemaError, SchemaSource, compile_schemas
from engine.backends import BackendSpec
from engine.certificates import CertificateSettings
from engine.credentials import GRANTS, ConnectionSettings, CredentialSettings, ProviderSettings
from engine.errors import ConfigError
from engine.gateway.backend_config import read_backends
from engine.gateway.clientip import CLIENT_IP_HEADERS, Network, parse_networks
from engine.gateway.listeners import CHOICES, CLIENT_CERTIFICATE_MODES
from engine.gateway.settings import (
    DEFAULT_KEY_HEADER,
    DEFAULT_KEY_QUERY,
    DEFAULT_PROTOCOLS,
    GRAPHQL_OPERATIONS,
    WEBSOCKET_OPERATIONS,
    WEBSOCKET_PROTOCOLS,
    WEBSOCKET_SERVICE_SCHEMES,
    ApiSettings,
    BackendClientSettings,
    DemoBackendSettings,
    GatewaySettings,
    GraphQLSettings,
    OperationSettings,
    ProductSettings,
    ResolverSettings,
    ServerSettings,
    ServiceBusSettings,
    SubscriptionSettings,
    TlsSettings,
    TracingSettings,
    UserSettings,
    WebSocketSettings,
    WsdlImports,
    api_kind,
    unknown_protocols,
)
from engine.gateway.yaml_positions import Positions, load_with_positions
from engine.identity import IMDS_ENDPOINT, PROVIDERS, IdentitySettings
from engine.loggers import LoggerSettings, parse_loggers
from engine.openid import ENTRA_AUTHORITY, TokenValidationSettings
from engine.source import Span

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "*"})
NAMED_VALUE = re.compile(r"\{\{\s*([A-Za-z0-9._-]+)\s*\}\}")


def load_settings(path: str | Path, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """Read and validate a configuration file (raises ConfigError naming the file and key)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read configuration: {exc.strerror or exc}") from None
    return parse_settings(text, file=file, environ=environ)


def parse_settings(text: str, *, file: str | Path, environ: Mapping[str, str] | None = None,
                   positions: Positions | None = None, named_values: Mapping[str, str] | None = None) -> GatewaySettings:
    """Validate YAML text; relative paths resolve against the directory of `file`.

    `positions` says where the keys are when `text` is not what `file` holds (a part of it).
    `named_values`: values `{{name}}` may also name (an APIOps folder's, for its policygate.yaml).
    """
    file = Path(file)
    try:
        data, found = load_with_positions(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        span = Span.point(str(file), mark.line + 1, mark.column + 1) if mark is not None else None
        raise ConfigError(f"{file}{where}: invalid YAML: {problem}", span=span) from None
    if data is None:
        data = {}
    return _Reader(file, os.environ if environ is None else environ, positions or found, named_values).settings(data)


def substitute_named_values(text: str, values: Mapping[str, str], fail: Callable[[str], NoReturn]) -> str:
    """`text` with each `{{name}}` replaced from `values`; `fail(message)` raises for an unknown name."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            fail(f"unknown named value '{{{{{name}}}}}'")
        return values[name]

    return NAMED_VALUE.sub(replace, text)


def locate_error(exc: ConfigError, file: Path) -> ConfigError:
    """Give an error raised outside the reader (`file: key.path: message`, e.g. by the cache's
    settings) the line and column of that key in the YAML `file`; other errors come back unchanged."""
    prefix = f"{file}: "
    message = str(exc)
    if exc.span is not None or not message.startswith(prefix) or file.suffix.lower() not in (".yaml", ".yml") \
            or not file.is_file():
        return exc
    try:
        _, positions = load_with_positions(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return exc
    where, _, problem = message[len(prefix):].partition(": ")
    line, col = positions.of(where, key=problem.startswith("unknown key"))
    return ConfigError(f"{file}:{line}:{col}: {message[len(prefix):]}", span=Span.point(str(file), line, col))


class _Reader:
    """Walks the YAML tree keeping the key path for messages."""

    def __init__(self, file: Path, environ: Mapping[str, str], positions: Positions | None = None,
                 named_values: Mapping[str, str] | None = None) -> None:
        self.file = file
        self.environ = environ
        self.positions = positions or Positions()
        self.given_values = dict(named_values or {})
        self.named_values: dict[str, str] = {}
        self.wsdl_imports = WsdlImports()

    # -- helpers -------------------------------------------------------------------------------
    def fail(self, where: str, message: str, *, key: bool = False) -> NoReturn:
        """Raise `file:line:col: key.path: message`, at the key's value (or, `key=True`, the key)."""
        line, col = self.positions.of(where, key=key)
        prefix = f"{self.file}:{line}:{col}: {where}: " if where else f"{self.file}:{line}:{col}: "
        raise ConfigError(prefix + message, span=Span.point(str(self.file), line, col))

    def mapping(self, value: object, where: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                self.fail(where, f"keys must be strings, got {key!r}")
            if allowed is not None and key not in allowed:
                self.fail(_join(where, key), f"unknown key{did_you_mean(key, allowed)} (expected one of: {', '.join(allowed)})",
                          key=True)
        return value

    def string(self, value: object, where: str, *, required: bool = True, default: str = "") -> str:
        if value is None:
            if required:
                self.fail(where, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(where, f"expected a string, got {_kind(value)}")
        return str(value)

    def boolean(self, value: object, where: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {value!r}")
        return value

    def integer(self, value: object, where: str, default: int | None, minimum: int = 0, maximum: int = 65535) -> int | None:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"expected an integer, got {value!r}")
        if not minimum <= value <= maximum:
            self.fail(where, f"{value} is out of range {minimum}..{maximum}")
        return value

    def number(self, value: object, where: str, default: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            self.fail(where, f"expected a positive number, got {value!r}")
        return float(value)

    def strings(self, value: object, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list):
            self.fail(where, f"expected a list of strings, got {_kind(value)}")
        return tuple(self.string(item, f"{where}[{i}]") for i, item in enumerate(value))

    def path(self, value: object, where: str) -> Path | None:
        if value is None:
            return None
        text = self.string(value, where)
        path = Path(text)
        if not path.is_absolute():
            path = self.file.parent / path
        if not path.is_file():
            self.fail(where, f"file not found: {text} (looked for {path})")
        return path

    def substitute(self, text: str, where: str) -> str:
        return substitute_named_values(text, self.named_values, lambda problem: self.fail(where, problem))

    # -- sections ------------------------------------------------------------------------------
    def settings(self, data: object) -> GatewaySettings:
        top = self.mapping(data, "", TOP_LEVEL_KEYS)
        own, secrets = self.read_named_values(top.get("named-values"))
        self.named_values = {**self.given_values, **own}
        products = self.read_products(top.get("products"))
        self.wsdl_imports = self.read_wsdl_imports(top.get("wsdl-imports"))
        apis = self.read_apis(top.get("apis"), products)
        subscriptions = self.read_subscriptions(top.get("subscriptions"), products, apis)
        fragments_map = self.mapping(top.get("fragments"), "fragments")
        fragments = {}
        for name, value in fragments_map.items():
            fragments[name] = self.path(value, _join("fragments", name)) or self.fail(_join("fragments", name), "is required")
        stores = {section: self.read_store(top.get(section), section) for section in ("cache", "rate-limits")}
        return GatewaySettings(
            file=self.file,
            named_values=own,
            secret_names=frozenset(secrets),
            policy=self.path(top.get("policy"), "policy"),
            fragments=fragments,
            products=products,
            subscriptions=subscriptions,
            apis=apis,
            cache=stores["cache"],
            rate_limits=stores["rate-limits"],
            server=self.read_server(top.get("server")),
            backend=self.read_backend(top.get("backend")),
            demo_backend=self.read_demo_backend(top.get("demo-backend")),
            backends=self.read_backends(top.get("backends")),
            tracing=self.read_tracing(top.get("tracing")),
            identity=self.read_identity(top.get("identity")),
            loggers=self.read_loggers(top.get("loggers")),
            dapr_endpoint=self.read_dapr(top.get("dapr")),
            service_bus=self.read_service_bus(top.get("service-bus")),
            token_validation=self.read_token_validation(top.get("token-validation")),
            credentials=self.read_credentials(top.get("credentials")),
            certificates=self.read_certificates(top.get("certificates")),
            schemas=self.read_schemas(top.get("schemas")),
            wsdl_imports=self.wsdl_imports,
        )

    def read_wsdl_imports(self, value: object) -> WsdlImports:
        """`wsdl-imports: {fetch: true, timeout: 10}`: fetch the schemas WSDL types import by URL, at load time."""
        spec = self.mapping(value, "wsdl-imports", ("fetch", "timeout"))
        timeout = self.number(spec.get("timeout"), "wsdl-imports.timeout", WsdlImports.timeout)
        if timeout > 60:
            self.fail("wsdl-imports.timeout", f"at most 60 seconds, got {timeout:g}")
        return WsdlImports(self.boolean(spec.get("fetch"), "wsdl-imports.fetch", False), timeout)

    def read_certificates(self, value: object) -> dict[str, CertificateSettings]:
        """`certificates:` - id -> PEM or PKCS#12 file (engine.certificates)."""
        certificates = {}
        for name, entry in self.mapping(value, "certificates").items():
            where = f"certificates.{name}"
            spec = self.mapping(entry, where, ("file", "key-file", "password"))
            certificates[str(name)] = CertificateSettings(
                file=self.path(spec.get("file"), _join(where, "file")) or self.fail(where, "needs file"),
                key_file=self.path(spec.get("key-file"), _join(where, "key-file")),
                password=self.read_secret(spec.get("password"), _join(where, "password")) or "",
            )
        return certificates

    def read_schemas(self, value: object) -> dict[str, InstanceSchema]:
        """`schemas:` - id -> file (a JSON schema or an XML schema) or {file, type}, compiled now."""
        sources = {}
        for name, entry in self.mapping(value, "schemas").items():
            where = _join("schemas", name)
            spec = self.mapping(entry, where, ("file", "type")) if isinstance(entry, dict) else {"file": entry}
            file_where = _join(where, "file") if isinstance(entry, dict) else where
            file = self.path(spec.get("file"), file_where) or self.fail(where, "needs file")
            kind = self.string(spec.get("type"), _join(where, "type"), required=False).lower()
            if kind and kind not in SCHEMA_KINDS:
                self.fail(_join(where, "type"), f"'{kind}' is not one of: {', '.join(SCHEMA_KINDS)}")
            try:
                text = file.read_bytes().decode("utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                self.fail(file_where, f"cannot read {file}: {exc}")
            sources[str(name)] = SchemaSource(text, kind, str(file))
        try:
            return compile_schemas(sources)
        except InstanceSchemaError as exc:
            self.fail(_join("schemas", exc.schema_id), str(exc))

    def read_credentials(self, value: object) -> CredentialSettings | None:
        """`credentials:` - credential manager connections of get-authorization-context (engine.credentials)."""
        if value is None:
            return None
        spec = self.mapping(value, "credentials", ("providers", "timeout", "refresh-ahead"))
        default = CredentialSettings()
        providers = {}
        for name, provider in self.mapping(spec.get("providers"), "credentials.providers").items():
            providers[str(name)] = self.read_credential_provider(provider, f"credentials.providers.{name}")
        return CredentialSettings(
            providers,
            timeout=self.number(spec.get("timeout"), "credentials.timeout", default.timeout),
            refresh_ahead=self.number(spec.get("refresh-ahead"), "credentials.refresh-ahead", default.refresh_ahead),
        )

    def read_credential_provider(self, value: object, where: str) -> ProviderSettings:
        spec = self.mapping(value, where, ("token-endpoint", "client-id", "client-secret", "scopes", "connections"))
        connections = {}
        for name, connection in self.mapping(spec.get("connections"), _join(where, "connections")).items():
            at = f"{where}.connections.{name}"
            item = self.mapping(connection, at, ("grant", "refresh-token", "access-token", "access-policies"))
            grant = self.choice(item.get("grant"), _join(at, "grant"), GRANTS) if "grant" in item \
                else self.fail(at, f"needs grant: one of {', '.join(GRANTS)}")
            needed = {"refresh-token": "refresh-token", "static": "access-token"}.get(grant)
            for key in ("refresh-token", "access-token"):
                if key in item and key != needed:
                    self.fail(_join(at, key), f"is not a setting of grant '{grant}'", key=True)
            secret = self.read_secret(item.get(needed), _join(at, needed)) if needed else None
            if needed and not secret:
                self.fail(at, f"grant '{grant}' needs {needed}")
            connections[str(name)] = ConnectionSettings(grant, refresh_token=secret or "" if grant == "refresh-token" else "",
                                                        access_token=secret or "" if grant == "static" else "",
                                                        access_policies=self.access_policies(item, at))
        oauth = any(c.grant != "static" for c in connections.values())
        return ProviderSettings(
            token_endpoint=self.absolute_url(spec.get("token-endpoint"), _join(where, "token-endpoint"))
            if oauth or "token-endpoint" in spec else "",
            client_id=self.string(spec.get("client-id"), _join(where, "client-id"), required=oauth),
            client_secret=(self.read_secret(spec.get("client-secret"), _join(where, "client-secret")) or "")
            if "client-secret" in spec or not oauth else self.fail(where, "needs client-secret"),
            scopes=self.strings(spec.get("scopes"), _join(where, "scopes")),
            connections=connections,
        )

    def access_policies(self, connection: Mapping[str, Any], where: str) -> frozenset[tuple[str, str]]:
        """`access-policies: [{tenant-id, object-id}]`: the callers get-authorization-context's jwt identity may be."""
        at = _join(where, "access-policies")
        entries = connection.get("access-policies") or []
        if not isinstance(entries, list):
            self.fail(at, "expected a list of {tenant-id, object-id}")
        policies = set()
        for i, entry in enumerate(entries):
            item = self.mapping(entry, f"{at}[{i}]", ("tenant-id", "object-id"))
            policies.add((self.string(item.get("tenant-id"), f"{at}[{i}].tenant-id").strip(),
                          self.string(item.get("object-id"), f"{at}[{i}].object-id").strip()))
        return frozenset(policies)

    def read_token_validation(self, value: object) -> TokenValidationSettings:
        """`token-validation:` - OpenID metadata of validate-jwt and validate-azure-ad-token (engine.openid)."""
        spec = self.mapping(value, "token-validation", ("entra-authority", "metadata-ttl", "key-refresh-interval"))
        default = TokenValidationSettings()
        authority = spec.get("entra-authority")
        return TokenValidationSettings(
            entra_authority=self.absolute_url(authority, "token-validation.entra-authority").rstrip("/")
            if authority is not None else default.entra_authority,
            metadata_ttl=self.number(spec.get("metadata-ttl"), "token-validation.metadata-ttl", default.metadata_ttl),
            key_refresh_interval=self.number(spec.get("key-refresh-interval"), "token-validation.key-refresh-interval",
                                             default.key_refresh_interval),
        )

    def read_loggers(self, value: object) -> dict[str, LoggerSettings]:
        """`loggers:` - the sinks of log-to-eventhub (engine.loggers); `{{named values}}` in `redis`."""
        for logger_id, spec in self.mapping(value, "loggers").items():
            if isinstance(spec, dict) and isinstance(spec.get("redis"), str):
                spec["redis"] = self.substitute(spec["redis"], _join(_join("loggers", logger_id), "redis"))
        try:
            return parse_loggers(value, where="loggers", base_dir=self.file.parent, environ=self.environ)
        except ConfigError as exc:
            where, _, problem = str(exc).partition(": ")
            self.fail(where, problem, key=problem.startswith("unknown key"))

    def read_dapr(self, value: object) -> str:
        """`dapr: {endpoint}` - the Dapr sidecar's HTTP API (default: `DAPR_HTTP_PORT` on localhost, else 3500)."""
        spec = self.mapping(value, "dapr", ("endpoint",))
        if "endpoint" in spec:
            return self.absolute_url(spec["endpoint"], "dapr.endpoint").rstrip("/")
        port = self.environ.get("DAPR_HTTP_PORT", "3500")
        return self.absolute_url(f"http://localhost:{port}", "dapr")

    def read_service_bus(self, value: object) -> ServiceBusSettings:
        """`service-bus: {namespace, endpoints, timeout}` - defaults and namespace -> base URL overrides of
        send-service-bus-message."""
        spec = self.mapping(value, "service-bus", ("namespace", "endpoints", "timeout"))
        endpoints = {}
        for namespace, url in self.mapping(spec.get("endpoints"), "service-bus.endpoints").items():
            endpoints[namespace.strip().lower()] = self.absolute_url(url, f"service-bus.endpoints.{namespace}").rstrip("/")
        namespace = self.substitute(self.string(spec.get("namespace"), "service-bus.namespace", required=False),
                                    "service-bus.namespace").strip()
        return ServiceBusSettings(endpoints, namespace,
                                  self.number(spec.get("timeout"), "service-bus.timeout", ServiceBusSettings.timeout))

    def read_identity(self, value: object) -> IdentitySettings | None:
        """`identity:` - where authentication-managed-identity gets its tokens (engine.identity)."""
        if value is None:
            return None
        spec = self.mapping(value, "identity", IDENTITY_KEYS)
        provider = self.choice(spec.get("provider"), "identity.provider", PROVIDERS) if "provider" in spec \
            else self.fail("identity", f"needs provider: one of {', '.join(PROVIDERS)}")
        wanted = {"imds": ("endpoint",), "static": ("token",), "client-credentials": ("token-endpoint", "client-id", "client-secret"),
                  "workload-identity": ("authority", "tenant-id", "client-id", "token-file", "token-endpoint")}[provider]
        for key in spec:
            if key in IDENTITY_PROVIDER_KEYS and key not in wanted:
                self.fail(_join("identity", key), f"is not a setting of provider '{provider}'", key=True)
        default = IdentitySettings(provider)
        return replace(
            self.identity_provider(provider, spec),
            timeout=self.number(spec.get("timeout"), "identity.timeout", default.timeout),
            refresh_ahead=self.number(spec.get("refresh-ahead"), "identity.refresh-ahead", default.refresh_ahead),
            shared=self.boolean(spec.get("shared"), "identity.shared", default.shared),
        )

    def identity_provider(self, provider: str, spec: dict[str, Any]) -> IdentitySettings:
        if provider == "static":
            return IdentitySettings(provider, token=self.read_secret(spec.get("token"), "identity.token")
                                    or self.fail("identity", "provider 'static' needs token"))
        if provider == "imds":
            endpoint = self.absolute_url(spec["endpoint"], "identity.endpoint") if "endpoint" in spec else IMDS_ENDPOINT
            return IdentitySettings(provider, endpoint=endpoint)
        env = self.environ
        client_id = self.string(spec.get("client-id", env.get("AZURE_CLIENT_ID")), "identity.client-id")
        if provider == "client-credentials":
            return IdentitySettings(
                provider, token_endpoint=self.absolute_url(spec.get("token-endpoint"), "identity.token-endpoint"),
                client_id=client_id,
                client_secret=self.read_secret(spec.get("client-secret"), "identity.client-secret")
                or self.fail("identity", "provider 'client-credentials' needs client-secret"))
        if "token-endpoint" in spec:
            token_endpoint = self.absolute_url(spec["token-endpoint"], "identity.token-endpoint")
        else:
            authority = self.string(spec.get("authority", env.get("AZURE_AUTHORITY_HOST", ENTRA_AUTHORITY)), "identity.authority")
            tenant = self.string(spec.get("tenant-id", env.get("AZURE_TENANT_ID")), "identity.tenant-id")
            token_endpoint = self.absolute_url(f"{authority.rstrip('/')}/{tenant.strip('/')}/oauth2/v2.0/token",
                                               "identity.authority")
        token_file = spec.get("token-file", env.get("AZURE_FEDERATED_TOKEN_FILE"))
        return IdentitySettings(provider, token_endpoint=token_endpoint, client_id=client_id,
                                token_file=self.path(token_file, "identity.token-file")
                                or self.fail("identity", "provider 'workload-identity' needs token-file"))

    def read_tracing(self, value: object) -> TracingSettings | None:
        if value is None or value is False:
            return None
        spec = self.mapping(value, "tracing", ("otlp-endpoint", "service-name", "sample-ratio", "headers", "timeout",
                                               "export-delay-ms"))
        headers = self.mapping(spec.get("headers"), "tracing.headers")
        ratio = spec.get("sample-ratio", 1.0)
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
            self.fail("tracing.sample-ratio", f"expected a number from 0 to 1, got {ratio!r}")
        default = TracingSettings("")
        return TracingSettings(
            endpoint=self.absolute_url(spec.get("otlp-endpoint"), "tracing.otlp-endpoint"),
            service_name=self.string(spec.get("service-name"), "tracing.service-name", required=False,
                                     default=default.service_name),
            sample_ratio=float(ratio),
            headers=tuple((str(name), self.substitute(self.string(v, f"tracing.headers.{name}"), f"tracing.headers.{name}"))
                          for name, v in headers.items()),
            timeout=self.number(spec.get("timeout"), "tracing.timeout", default.timeout),
            export_delay_ms=self.integer(spec.get("export-delay-ms"), "tracing.export-delay-ms", default.export_delay_ms,
                                         minimum=1, maximum=600_000) or default.export_delay_ms,
        )

    def read_store(self, value: object, where: str) -> dict[str, Any] | None:
        """`cache:` / `rate-limits:` as written (their services validate them), with `{{named value}}`
        references in `external` replaced: a Redis URL with a password can come from a secret."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_kind(value)}")
        if isinstance(value.get("external"), str):
            return {**value, "external": self.substitute(value["external"], _join(where, "external"))}
        return value

    def absolute_url(self, value: object, where: str, websocket: bool = False) -> str:
        url = self.substitute(self.string(value, where), where)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
        except ValueError as exc:
            self.fail(where, f"'{url}' is not a valid URL: {exc}")
        if parts.scheme not in (WEBSOCKET_SERVICE_SCHEMES if websocket else ("http", "https")) or not parts.hostname:
            self.fail(where, f"'{url}' is not an absolute {'ws(s)' if websocket else 'http(s)'} URL")
        return url

    def read_backends(self, value: object) -> dict[str, BackendSpec]:
        entries = {bid: (_join("backends", bid), raw) for bid, raw in self.mapping(value, "backends").items()}
        return read_backends(entries, _EntityReader(self))

    def read_named_values(self, value: object) -> tuple[dict[str, str], set[str]]:
        values: dict[str, str] = {}
        secrets: set[str] = set()
        for name, raw in self.mapping(value, "named-values").items():
            where = _join("named-values", name)
            if isinstance(raw, dict):
                spec = self.mapping(raw, where, ("env", "default", "value", "secret"))
                if "env" in spec:
                    env = self.string(spec["env"], _join(where, "env"))
                    if env in self.environ:
                        values[name] = self.environ[env]
                    elif spec.get("default") is not None:
                        values[name] = self.string(spec["default"], _join(where, "default"))
                    else:
                        self.fail(where, f"environment variable {env} is not set")
                    secrets.add(name)
                elif "value" in spec:
                    values[name] = self.string(spec["value"], _join(where, "value"))
                else:
                    self.fail(where, "expected a string, {env: NAME} or {value: ...}")
                if self.boolean(spec.get("secret"), _join(where, "secret"), "env" in spec):
                    secrets.add(name)
                else:
                    secrets.discard(name)
            else:
                values[name] = self.string(raw, where)
        return values, secrets

    def read_products(self, value: object) -> dict[str, ProductSettings]:
        products = {}
        for pid, raw in self.mapping(value, "products").items():
            where = _join("products", pid)
            spec = self.mapping(raw, where, PRODUCT_KEYS)
            products[pid] = ProductSettings(
                id=pid,
                name=self.string(spec.get("name"), _join(where, "name"), required=False, default=pid),
                policy=self.path(spec.get("policy"), _join(where, "policy")),
                subscription_required=self.boolean(spec.get("subscription-required"), _join(where, "subscription-required"), True),
                approval_required=self.boolean(spec.get("approval-required"), _join(where, "approval-required"), False),
                state=self.read_state(spec.get("state"), _join(where, "state")),
                groups=self.strings(spec.get("groups"), _join(where, "groups")),
            )
        return products

    def read_state(self, value: object, where: str) -> str:
        state = self.string(value, where, required=False, default="Published")
        for choice in ("Published", "NotPublished"):
            if state.lower() == choice.lower():
                return choice
        self.fail(where, f"'{state}' is not one of: Published, NotPublished")

    def read_apis(self, value: object, products: dict[str, ProductSettings]) -> dict[str, ApiSettings]:
        apis: dict[str, ApiSettings] = {}
        paths: dict[tuple[str, str], str] = {}  # (path, revision) -> API id
        current: dict[str, str] = {}  # path -> the API id that is its current revision
        for aid, raw in self.mapping(value, "apis").items():
            where = _join("apis", aid)
            spec = self.mapping(raw, where, API_KEYS)
            path = self.string(spec.get("path"), _join(where, "path"), required=False, default="").strip("/")
            revision = self.string(spec.get("revision"), _join(where, "revision"), required=False, default="1")
            if (path, revision) in paths:
                other = paths[(path, revision)]
                self.fail(_join(where, "path"), f"'{path}' is already used by API '{other}' (give each revision its own `revision`)")
            paths[(path, revision)] = aid
            is_current = self.boolean(spec.get("is-current"), _join(where, "is-current"), True)
            if is_current:
                if path in current:
                    self.fail(_join(where, "is-current"), f"API '{current[path]}' is already the current revision of '{path}'")
                current[path] = aid
            graphql = self.read_graphql(spec.get("graphql"), _join(where, "graphql"))
            websocket = self.read_websocket(spec, where)
            if graphql is not None and graphql.synthetic and spec.get("service-url") is None:
                service_url = "http://localhost"  # a synthetic GraphQL API answers from its resolvers
            else:
                service_url = self.absolute_url(spec.get("service-url"), _join(where, "service-url"), websocket is not None)
            api_products = self.strings(spec.get("products"), _join(where, "products"))
            for i, pid in enumerate(api_products):
                if pid not in products:
                    self.fail(f"{where}.products[{i}]", f"unknown product '{pid}'")
            names = self.mapping(spec.get("subscription-key-parameter-names"), _join(where, "subscription-key-parameter-names"), ("header", "query"))
            operations, description_files = (
                (GRAPHQL_OPERATIONS, ()) if graphql is not None else (WEBSOCKET_OPERATIONS, ()) if websocket is not None
                else self.read_api_operations(spec, where, aid))
            apis[aid] = ApiSettings(
                id=aid,
                path=path,
                service_url=service_url,
                name=self.string(spec.get("name"), _join(where, "name"), required=False, default=aid),
                products=api_products,
                subscription_required=self.boolean(spec.get("subscription-required"), _join(where, "subscription-required"), True),
                policy=self.path(spec.get("policy"), _join(where, "policy")),
                operations=operations,
                key_header=self.string(names.get("header"), f"{where}.subscription-key-parameter-names.header", required=False, default=DEFAULT_KEY_HEADER),
                key_query=self.string(names.get("query"), f"{where}.subscription-key-parameter-names.query", required=False, default=DEFAULT_KEY_QUERY),
                revision=revision,
                is_current=is_current,
                version=self.string(spec.get("version"), _join(where, "version"), required=False, default=""),
                protocols=self.read_protocols(spec.get("protocols"), _join(where, "protocols"), api_kind(graphql, websocket)),
                graphql=graphql,
                websocket=websocket,
                description_files=description_files,
            )
        for (path, _), aid in paths.items():
            if path not in current:
                self.fail(_join(_join("apis", aid), "is-current"), f"no API is the current revision of '{path}'")
        return apis

    def read_graphql(self, value: object, where: str) -> GraphQLSettings | None:
        """`graphql: {schema: file.graphql, resolvers: {Type.field: resolver.xml}}`: a GraphQL API, synthetic
        with resolvers, pass-through (forwarded to `service-url`) without."""
        if value is None:
            return None
        from engine.graphql.schema import load_schema, resolver_field

        spec = self.mapping(value, where, ("schema", "resolvers"))
        schema_file = self.path(spec.get("schema"), _join(where, "schema"))
        if schema_file is None:
            if spec.get("resolvers"):
                self.fail(_join(where, "schema"), "is required with resolvers: the schema's SDL file")
            return GraphQLSettings(None)
        schema = load_schema(schema_file)
        resolvers = []
        for path, policy in self.mapping(spec.get("resolvers"), _join(where, "resolvers")).items():
            rwhere = _join(_join(where, "resolvers"), str(path))
            try:
                type_name, field_name = resolver_field(schema, str(path))
            except ValueError as exc:
                self.fail(rwhere, str(exc))
            document = self.path(policy, rwhere)
            if document is None:
                self.fail(rwhere, "expected the path of the resolver's <http-data-source> document")
            resolvers.append(ResolverSettings(str(path), type_name, field_name, document))
        return GraphQLSettings(schema_file, tuple(resolvers))

    def read_websocket(self, api: dict[str, Any], where: str) -> WebSocketSettings | None:
        """`websocket: {}` (or with `max-message-size`, `idle-timeout`, `connect-timeout`): a WebSocket API,
        whose handshakes go through the API's policy and whose frames are relayed to `service-url`."""
        value = api.get("websocket")
        if value is None:
            return None
        where = _join(where, "websocket")
        spec = self.mapping(value, where, ("max-message-size", "idle-timeout", "connect-timeout"))
        for other in ("graphql", "openapi", "operations", "wsdl"):
            if api.get(other) is not None:
                self.fail(where, f"a WebSocket API has one operation (onHandshake): `{other}` does not apply to it")
        default = WebSocketSettings()
        size = self.integer(spec.get("max-message-size"), _join(where, "max-message-size"), default.max_message_size,
                            minimum=1, maximum=256 * 1024 * 1024)
        idle = spec.get("idle-timeout")
        return WebSocketSettings(
            max_message_size=size if size is not None else default.max_message_size,
            idle_timeout=0.0 if idle == 0 else self.number(idle, _join(where, "idle-timeout"), default.idle_timeout),
            connect_timeout=self.number(spec.get("connect-timeout"), _join(where, "connect-timeout"), default.connect_timeout),
        )

    def read_api_operations(self, spec: dict[str, Any], where: str,
                            api_id: str) -> tuple[tuple[OperationSettings, ...], tuple[Path, ...]]:
        """`operations:` as written, or the `openapi:` document's operations, which `operations:` may refine;
        with `wsdl:`, its XML schemas validate XML and SOAP bodies, and without `openapi:` its SOAP operations
        are the API's (refined by `operations:`). Also the description files read (for `--reload`)."""
        if spec.get("wsdl") is None:
            return self.read_openapi_operations(spec, where), ()
        from engine.apispec.instance import InstanceSchemaError
        from engine.gateway import api_xml

        wwhere = _join(where, "wsdl")
        path = self.path(spec["wsdl"], wwhere)
        if path is None:
            self.fail(wwhere, "expected the path of a WSDL document")
        try:
            wsdl = api_xml.read_wsdl(path, self.wsdl_imports)
        except ValueError as exc:
            self.fail(wwhere, f"{path.name}: {exc}")
        if spec.get("openapi") is None:
            operations = self.refine_operations(api_xml.soap_operations(wsdl.operations), spec, where, path)
        else:
            operations = self.read_openapi_operations(spec, where)
        try:
            return api_xml.with_xml_schema(operations, api_id, wsdl.schemas), (path, *wsdl.files)
        except InstanceSchemaError as exc:
            self.fail(wwhere, f"{path.name}: {exc}")

    def read_openapi_operations(self, spec: dict[str, Any], where: str) -> tuple[OperationSettings, ...]:
        if spec.get("openapi") is None:
            return self.read_operations(spec.get("operations"), _join(where, "operations"))
        from engine.gateway.openapi import operations_from_openapi

        swhere = _join(where, "openapi")
        path = self.path(spec["openapi"], swhere)
        if path is None:
            self.fail(swhere, "expected the path of an OpenAPI (or Swagger 2.0) document")
        return self.refine_operations(operations_from_openapi(path, where=f"{self.file}: {swhere}"), spec, where, path)

    def refine_operations(self, operations: tuple[OperationSettings, ...], spec: dict[str, Any], where: str,
                          path: Path) -> tuple[OperationSettings, ...]:
        """The operations of a description (`path`), with the policy, name and examples `operations:` gives them."""
        from engine.gateway.openapi import match_operation

        for oid, raw in self.mapping(spec.get("operations"), _join(where, "operations")).items():
            owhere = _join(_join(where, "operations"), oid)
            extra = self.mapping(raw, owhere, ("policy", "name", "examples"))
            found = match_operation(oid, operations)
            if found is None:
                known = ", ".join(o.id for o in operations)
                self.fail(owhere, f"no operation '{oid}' in {path.name} (known: {known})")
            changed = replace(
                found,
                policy=self.path(extra.get("policy"), _join(owhere, "policy")) or found.policy,
                name=self.string(extra.get("name"), _join(owhere, "name"), required=False, default=found.name),
                examples=self.read_examples(extra.get("examples"), _join(owhere, "examples")) or found.examples,
            )
            operations = tuple(changed if o is found else o for o in operations)
        return operations

    def read_operations(self, value: object, where: str) -> tuple[OperationSettings, ...]:
        if value is None:
            return (OperationSettings(id="all", method="*", url_template="/*", name="all"),)
        operations = []
        for oid, raw in self.mapping(value, where).items():
            owhere = _join(where, oid)
            spec = self.mapping(raw, owhere, OPERATION_KEYS)
            method = self.string(spec.get("method"), _join(owhere, "method")).upper()
            if method not in HTTP_METHODS:
                self.fail(_join(owhere, "method"), f"'{spec.get('method')}' is not an HTTP method (or '*')")
            template = self.string(spec.get("url-template"), _join(owhere, "url-template"))
            if not template.startswith("/"):
                template = "/" + template
            from engine.gateway.routing import TemplateError, compile_template

            try:
                compile_template(template)
            except TemplateError as exc:
                self.fail(_join(owhere, "url-template"), str(exc))
            operations.append(
                OperationSettings(
                    id=oid,
                    method=method,
                    url_template=template,
                    name=self.string(spec.get("name"), _join(owhere, "name"), required=False, default=oid),
                    policy=self.path(spec.get("policy"), _join(owhere, "policy")),
                    examples=self.read_examples(spec.get("examples"), _join(owhere, "examples")),
                )
            )
        return tuple(operations)

    def read_examples(self, value: object, where: str) -> dict[int, dict[str, str]]:
        examples: dict[int, dict[str, str]] = {}
        for status, raw in self.mapping_any(value, where).items():
            swhere = f"{where}.{status}"
            code = self.integer(int(status) if str(status).isdigit() else status, swhere, None, 100, 599)
            bodies: dict[str, str] = {}
            for content_type, body in self.mapping(raw, swhere).items():
                if isinstance(body, str):
                    bodies[content_type] = body
                else:
                    bodies[content_type] = json.dumps(body)
            examples[code or 200] = bodies
        return examples

    def mapping_any(self, value: object, where: str) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_kind(value)}")
        return value

    def read_subscriptions(
        self, value: object, products: dict[str, ProductSettings], apis: dict[str, ApiSettings]
    ) -> tuple[SubscriptionSettings, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail("subscriptions", f"expected a list, got {_kind(value)}")
        subscriptions = []
        keys: dict[str, str] = {}
        for i, raw in enumerate(value):
            where = f"subscriptions[{i}]"
            spec = self.mapping(raw, where, SUBSCRIPTION_KEYS)
            sid = self.string(spec.get("id"), _join(where, "id"))
            key = self.string(spec.get("key"), _join(where, "key"))
            secondary = self.string(spec.get("secondary-key"), _join(where, "secondary-key"), required=False)
            for label, k in (("key", key), ("secondary-key", secondary)):
                if k and k in keys:
                    self.fail(_join(where, label), f"key already used by subscription '{keys[k]}'")
                if k:
                    keys[k] = sid
            product = spec.get("product")
            if product is not None and self.string(product, _join(where, "product")) not in products:
                self.fail(_join(where, "product"), f"unknown product '{product}'")
            api = spec.get("api")
            if api is not None and self.string(api, _join(where, "api")) not in apis:
                self.fail(_join(where, "api"), f"unknown API '{api}'")
            if product is not None and api is not None:
                self.fail(where, "a subscription is scoped to a product or an API, not both")
            subscriptions.append(
                SubscriptionSettings(
                    id=sid,
                    key=key,
                    secondary_key=secondary,
                    name=self.string(spec.get("name"), _join(where, "name"), required=False, default=sid),
                    product=str(product) if product is not None else None,
                    api=str(api) if api is not None else None,
                    user=self.read_user(spec.get("user"), _join(where, "user")),
                    active=self.read_subscription_state(spec.get("state"), _join(where, "state")),
                )
            )
        return tuple(subscriptions)

    def read_subscription_state(self, value: object, where: str) -> bool:
        state = self.string(value, where, required=False, default="active").lower()
        if state not in ("active", "suspended", "cancelled", "expired"):
            self.fail(where, f"'{state}' is not one of: active, suspended, cancelled, expired")
        return state == "active"

    def read_user(self, value: object, where: str) -> UserSettings | None:
        if value is None:
            return None
        spec = self.mapping(value, where, USER_KEYS)
        return UserSettings(
            id=self.string(spec.get("id"), _join(where, "id")),
            email=self.string(spec.get("email"), _join(where, "email"), required=False),
            first_name=self.string(spec.get("first-name"), _join(where, "first-name"), required=False),
            last_name=self.string(spec.get("last-name"), _join(where, "last-name"), required=False),
            note=self.string(spec.get("note"), _join(where, "note"), required=False),
            groups=self.strings(spec.get("groups"), _join(where, "groups")),
        )

    def read_server(self, value: object) -> ServerSettings:
        spec = self.mapping(value, "server", ("host", "port", "admin-port", "admin-host", "admin-token", "workers",
                                               "access-log", "tls", "max-body-size", "trusted-proxies", "client-ip-header",
                                               "http-server", "graceful-timeout", "request-body-timeout"))
        default = ServerSettings()
        admin = spec.get("admin-port", default.admin_port)
        return ServerSettings(
            host=self.string(spec.get("host"), "server.host", required=False, default=default.host),
            port=self.integer(spec.get("port"), "server.port", default.port) or 0,
            admin_port=None if admin is False else self.integer(admin, "server.admin-port", None),
            workers=self.integer(spec.get("workers"), "server.workers", 1, minimum=1, maximum=256) or 1,
            access_log=self.boolean(spec.get("access-log"), "server.access-log", False),
            tls=self.read_tls(spec.get("tls")),
            max_body_size=self.integer(spec.get("max-body-size"), "server.max-body-size", default.max_body_size,
                                       minimum=0, maximum=2**40) or 0,
            admin_host=self.string(spec.get("admin-host"), "server.admin-host", required=False, default=default.admin_host),
            admin_token=self.read_secret(spec.get("admin-token"), "server.admin-token"),
            trusted_proxies=self.read_networks(spec.get("trusted-proxies"), "server.trusted-proxies"),
            client_ip_header=self.choice(spec.get("client-ip-header"), "server.client-ip-header", CLIENT_IP_HEADERS),
            http_server=self.choice(spec.get("http-server"), "server.http-server", CHOICES),
            graceful_timeout=self.number(spec.get("graceful-timeout"), "server.graceful-timeout", default.graceful_timeout),
            request_body_timeout=self.number(spec.get("request-body-timeout"), "server.request-body-timeout",
                                             default.request_body_timeout),
        )

    def read_secret(self, value: object, where: str) -> str | None:
        """A string, or `{env: NAME}` read from the environment (unset: an error); None when absent."""
        if value is None:
            return None
        if isinstance(value, dict):
            env = self.string(self.mapping(value, where, ("env",)).get("env"), _join(where, "env"))
            if env not in self.environ:
                self.fail(where, f"environment variable {env} is not set")
            value = self.environ[env]
        secret = self.string(value, where)
        if not secret:
            self.fail(where, "must not be empty")
        return secret

    def read_networks(self, value: object, where: str) -> tuple[Network, ...]:
        try:
            return parse_networks(self.strings(value, where))
        except ValueError as exc:
            self.fail(where, str(exc))

    def read_protocols(self, value: object, where: str, kind: str = "http") -> tuple[str, ...]:
        protocols = self.strings(value, where) or (WEBSOCKET_PROTOCOLS if kind == "websocket" else DEFAULT_PROTOCOLS)
        problem = unknown_protocols(protocols, kind)
        if problem:
            self.fail(where, problem)
        return tuple(p.lower() for p in protocols)

    def choice(self, value: object, where: str, choices: tuple[str, ...]) -> str:
        text = self.string(value, where, required=False, default=choices[0]).lower()
        if text not in choices:
            self.fail(where, f"'{value}' is not one of: {', '.join(choices)}")
        return text

    def read_tls(self, value: object) -> TlsSettings | None:
        if value is None:
            return None
        spec = self.mapping(value, "server.tls", ("certfile", "keyfile", "client-ca-file", "client-certificate",
                                                  "client-crl-file"))
        certfile = self.path(spec.get("certfile"), "server.tls.certfile")
        keyfile = self.path(spec.get("keyfile"), "server.tls.keyfile")
        if certfile is None or keyfile is None:
            self.fail("server.tls", "needs both certfile and keyfile")
        client_ca = self.path(spec.get("client-ca-file"), "server.tls.client-ca-file")
        mode = self.choice(spec.get("client-certificate"), "server.tls.client-certificate", CLIENT_CERTIFICATE_MODES)
        crl = self.path(spec.get("client-crl-file"), "server.tls.client-crl-file")
        if client_ca is None and ("client-certificate" in spec or crl is not None):
            self.fail("server.tls", "client-certificate and client-crl-file need client-ca-file")
        return TlsSettings(certfile, keyfile, client_ca, mode, crl)

    def read_backend(self, value: object) -> BackendClientSettings:
        spec = self.mapping(value, "backend", ("max-connections", "connect-timeout", "forwarded-headers"))
        return BackendClientSettings(
            max_connections=self.integer(spec.get("max-connections"), "backend.max-connections", 1000, 1, 100000) or 1000,
            connect_timeout=self.number(spec.get("connect-timeout"), "backend.connect-timeout", 10.0),
            forwarded_headers=self.boolean(spec.get("forwarded-headers"), "backend.forwarded-headers", True),
        )

    def read_demo_backend(self, value: object) -> DemoBackendSettings | None:
        if value is None or value is False:
            return None
        spec = {} if value is True else self.mapping(value, "demo-backend", ("host", "port"))
        return DemoBackendSettings(
            host=self.string(spec.get("host"), "demo-backend.host", required=False, default="127.0.0.1"),
            port=self.integer(spec.get("port"), "demo-backend.port", 9000) or 0,
        )


TOP_LEVEL_KEYS = (
    "server", "backend", "backends", "demo-backend", "cache", "rate-limits", "named-values", "policy", "fragments",
    "products", "subscriptions", "apis", "tracing", "identity", "token-validation", "loggers", "dapr",
    "credentials", "certificates", "service-bus", "schemas", "wsdl-imports",
)
IDENTITY_PROVIDER_KEYS = ("endpoint", "token", "token-endpoint", "client-id", "client-secret", "authority", "tenant-id",
                          "token-file")
IDENTITY_KEYS = ("provider", *IDENTITY_PROVIDER_KEYS, "timeout", "refresh-ahead", "shared")
PRODUCT_KEYS = ("name", "policy", "subscription-required", "approval-required", "state", "groups")
API_KEYS = (
    "name", "path", "service-url", "products", "subscription-required", "policy", "operations",
    "subscription-key-parameter-names", "revision", "is-current", "version", "protocols", "openapi", "graphql",
    "wsdl", "websocket",
)
OPERATION_KEYS = ("name", "method", "url-template", "policy", "examples")
SUBSCRIPTION_KEYS = ("id", "key", "secondary-key", "name", "product", "api", "user", "state")
USER_KEYS = ("id", "email", "first-name", "last-name", "note", "groups")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the closest of `choices`, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


class _EntityReader:
    """`engine.gateway.backend_config.EntityReader` for gateway.yaml: every problem is an error at its key."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def fail(self, where: str, message: str) -> NoReturn:
        self.reader.fail(where, message, key=message.startswith("unknown key"))

    def url(self, value: object, where: str) -> str:
        return self.reader.absolute_url(value, where)

    def substitute(self, text: str, where: str) -> str:
        return self.reader.substitute(text, where)

    def unsupported(self, where: str, message: str) -> None:
        self.reader.fail(where, f"not supported: {message}", key=True)
