"""The gateway's settings: typed, validated values of one configuration (see `config` for the reader).

Every class is a frozen dataclass; `GatewaySettings` is the whole file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.apispec import OperationSpec
from engine.apispec.instance import InstanceSchema
from engine.backends import BackendSpec
from engine.certificates import CertificateSettings
from engine.credentials import CredentialSettings
from engine.gateway.clientip import Network
from engine.identity import IdentitySettings
from engine.loggers import LoggerSettings
from engine.openid import DEFAULT_TOKEN_VALIDATION, TokenValidationSettings

DEFAULT_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_KEY_QUERY = "subscription-key"
API_PROTOCOLS = ("http", "https", "ws", "wss")
DEFAULT_PROTOCOLS = ("http", "https")  # APIM's `protocols` values; an API answers only its schemes
WEBSOCKET_PROTOCOLS = ("ws", "wss")  # a WebSocket API's schemes (and only its)
WEBSOCKET_SERVICE_SCHEMES = ("ws", "wss", "http", "https")  # a WebSocket API's service URL (http(s): ws(s))


def unknown_protocols(protocols: tuple[str, ...], kind: str = "http") -> str | None:
    """The message for `protocols` values APIM does not know, or that do not fit the API's kind
    (`websocket`: ws/wss only; `graphql`, a pass-through GraphQL API: any, ws/wss for its subscriptions;
    other APIs: http/https); None when all are fine."""
    unknown = [p for p in protocols if p.lower() not in API_PROTOCOLS]
    if unknown:
        return f"'{unknown[0]}' is not one of: {', '.join(API_PROTOCOLS)}"
    allowed = {"websocket": WEBSOCKET_PROTOCOLS, "graphql": API_PROTOCOLS}.get(kind, DEFAULT_PROTOCOLS)
    wrong = [p for p in protocols if p.lower() not in allowed]
    if wrong:
        what = {"websocket": "WebSocket APIs"}.get(kind, "APIs other than WebSocket and pass-through GraphQL APIs")
        return f"'{wrong[0]}' is not a scheme of {what} (one of: {', '.join(allowed)})"
    return None


@dataclass(frozen=True)
class OperationSettings:
    id: str
    method: str  # upper case, or "*" for any method
    url_template: str  # "/pets/{id}", "/*" for any path
    name: str = ""
    policy: Path | None = None
    examples: dict[int, dict[str, str]] = field(default_factory=dict)  # status -> content type -> body (mock-response)
    spec: OperationSpec | None = field(default=None, compare=False, repr=False)  # from the OpenAPI description
    soap_action: str | None = None  # a SOAP API's operation: reached by this SOAP action ("" = none sent)
    soap_actions_also: tuple[str, ...] = ()  # and by these (another binding's actions for it)


@dataclass(frozen=True)
class ResolverSettings:
    """A synthetic GraphQL API's resolver: the field it resolves and its `<http-data-source>` document."""

    id: str
    type_name: str
    field_name: str
    policy: Path


@dataclass(frozen=True)
class GraphQLSettings:
    """What makes an API a GraphQL API: its schema (SDL, optional for a pass-through API) and its resolvers.

    With resolvers the API is synthetic (the gateway executes requests); without, requests are
    forwarded to the API's service URL unchanged (pass-through).
    """

    schema: Path | None
    resolvers: tuple[ResolverSettings, ...] = ()

    @property
    def synthetic(self) -> bool:
        return bool(self.resolvers)


# A GraphQL API answers at its own path: POST (JSON or application/graphql body) and GET ?query=
GRAPHQL_OPERATIONS = (OperationSettings(id="graphql-post", method="POST", url_template="/", name="GraphQL (POST)"),
                      OperationSettings(id="graphql-get", method="GET", url_template="/", name="GraphQL (GET)"))


@dataclass(frozen=True)
class WebSocketSettings:
    """What makes an API a WebSocket API (pass-through: frames relayed to `service_url`), and its limits."""

    max_message_size: int = 4 * 1024 * 1024  # bytes; a larger message closes the connection with 1009
    idle_timeout: float = 0.0  # seconds without a message either way before both sides are closed (0: never)
    connect_timeout: float = 30.0  # seconds for the backend's handshake answer (504 after it)


def api_kind(graphql: GraphQLSettings | None, websocket: WebSocketSettings | None) -> str:
    """What `unknown_protocols` checks an API's schemes for: websocket, graphql (pass-through) or http."""
    if websocket is not None:
        return "websocket"
    return "graphql" if graphql is not None and not graphql.synthetic else "http"


WEBSOCKET_OPERATIONS = (OperationSettings(id="onHandshake", method="GET", url_template="/", name="onHandshake"),)


@dataclass(frozen=True)
class WsdlImports:
    """`wsdl-imports:`: whether schemas a WSDL's types import by URL are fetched when the configuration loads."""

    fetch: bool = False
    timeout: float = 10.0  # seconds, for connecting and for each read of one schema


@dataclass(frozen=True)
class ApiSettings:
    id: str
    path: str  # URL suffix without slashes ("" = root)
    service_url: str
    name: str = ""
    products: tuple[str, ...] = ()
    subscription_required: bool = True
    policy: Path | None = None
    operations: tuple[OperationSettings, ...] = ()
    key_header: str = DEFAULT_KEY_HEADER
    key_query: str = DEFAULT_KEY_QUERY
    revision: str = "1"
    is_current: bool = True  # False: reachable only as /<path>;rev=<revision>/...
    version: str = ""
    protocols: tuple[str, ...] = DEFAULT_PROTOCOLS  # lower case; a request over another scheme is not routed here
    graphql: GraphQLSettings | None = None  # a GraphQL API: synthetic (executed by the gateway) or pass-through
    websocket: WebSocketSettings | None = None  # a WebSocket API: its one operation is onHandshake
    description_files: tuple[Path, ...] = ()  # the files its operations were read from (WSDL and its schemas)


@dataclass(frozen=True)
class ProductSettings:
    id: str
    name: str = ""
    policy: Path | None = None
    subscription_required: bool = True
    approval_required: bool = False
    state: str = "Published"
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserSettings:
    id: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    note: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubscriptionSettings:
    id: str
    key: str
    secondary_key: str = ""
    name: str = ""
    product: str | None = None  # scope: a product, an API, or (both None) every API
    api: str | None = None
    user: UserSettings | None = None
    active: bool = True


@dataclass(frozen=True)
class TlsSettings:
    certfile: Path
    keyfile: Path
    client_ca_file: Path | None = None  # client certificates must be issued by these CAs (mutual TLS)
    client_certificate: str = "required"  # with client_ca_file: "required", or "optional" (a caller may send none)
    client_crl_file: Path | None = None  # revocation lists checked for client certificates during the handshake


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    admin_port: int | None = 9090  # None: no admin listener
    workers: int = 1
    access_log: bool = False
    tls: TlsSettings | None = None  # HTTPS (and HTTP/2 by ALPN) on the gateway port
    max_body_size: int = 100 * 1024 * 1024  # bytes a pipeline may buffer from a request body
    admin_host: str = "127.0.0.1"  # the admin listener's address (not `host`: the admin port stays private)
    admin_token: str | None = None  # `Authorization: Bearer <token>` on every admin request but /metrics, /health, /ready
    trusted_proxies: tuple[Network, ...] = ()  # peers whose forwarding header gives context.Request.IpAddress
    client_ip_header: str = "x-forwarded-for"  # or "forwarded" (RFC 7239)
    http_server: str = "auto"  # native, granian, hypercorn, or auto: native without TLS, granian with it (engine/gateway/listeners.py)
    graceful_timeout: float = 25.0  # seconds in-flight requests may finish on SIGTERM before a 503
    request_body_timeout: float = 60.0  # native server: a request body making no progress this long gets 408


@dataclass(frozen=True)
class BackendClientSettings:
    max_connections: int = 1000
    connect_timeout: float = 10.0
    forwarded_headers: bool = True  # add X-Forwarded-For/-Host/-Proto


@dataclass(frozen=True)
class DemoBackendSettings:
    host: str = "127.0.0.1"
    port: int = 9000


@dataclass(frozen=True)
class TracingSettings:
    """`tracing:` - OpenTelemetry spans sent to an OTLP/HTTP collector."""

    endpoint: str  # e.g. http://otel-collector:4318/v1/traces
    service_name: str = "policygate"
    sample_ratio: float = 1.0  # of traces started here; a caller's sampled flag is followed
    headers: tuple[tuple[str, str], ...] = ()  # sent with every export (e.g. an API key)
    timeout: float = 10.0  # seconds per export
    export_delay_ms: int = 1000  # spans are batched at most this long


@dataclass(frozen=True)
class ServiceBusSettings:
    """`service-bus:`: where send-service-bus-message sends its messages."""

    endpoints: dict[str, str] = field(default_factory=dict)  # namespace FQDN (lower case) -> base URL of its REST API
    namespace: str = ""  # the namespace of policies without a namespace attribute
    timeout: float = 10.0  # seconds per send


@dataclass(frozen=True)
class GatewaySettings:
    """The whole configuration file, validated; `file` is used in every later message."""

    file: Path
    named_values: dict[str, str] = field(default_factory=dict)
    secret_names: frozenset[str] = frozenset()
    policy: Path | None = None
    fragments: dict[str, Path] = field(default_factory=dict)
    products: dict[str, ProductSettings] = field(default_factory=dict)
    subscriptions: tuple[SubscriptionSettings, ...] = ()
    apis: dict[str, ApiSettings] = field(default_factory=dict)
    cache: Mapping[str, Any] | None = None
    rate_limits: Mapping[str, Any] | None = None
    server: ServerSettings = field(default_factory=ServerSettings)
    backend: BackendClientSettings = field(default_factory=BackendClientSettings)
    demo_backend: DemoBackendSettings | None = None
    backends: dict[str, BackendSpec] = field(default_factory=dict)  # backend entities (set-backend-service backend-id)
    tracing: TracingSettings | None = None  # OpenTelemetry export; None = off
    identity: IdentitySettings | None = None  # token provider of authentication-managed-identity; None = none
    loggers: dict[str, LoggerSettings] = field(default_factory=dict)  # log-to-eventhub sinks by logger id
    dapr_endpoint: str = "http://localhost:3500"  # the Dapr sidecar's HTTP API (publish-to-dapr, invoke-dapr-binding)
    service_bus: ServiceBusSettings = field(default_factory=ServiceBusSettings)  # send-service-bus-message
    token_validation: TokenValidationSettings = DEFAULT_TOKEN_VALIDATION  # validate-jwt/-azure-ad-token metadata
    credentials: CredentialSettings | None = None  # connections of get-authorization-context; None = none
    certificates: dict[str, CertificateSettings] = field(default_factory=dict)  # certificate-id -> file
    schemas: dict[str, InstanceSchema] = field(default_factory=dict)  # the instance's schemas (schema-id), compiled
    wsdl_imports: WsdlImports = field(default_factory=lambda: WsdlImports())  # schemas WSDLs import by URL

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    def policy_files(self) -> list[Path]:
        """Every document the configuration names (for `--reload` watching)."""
        files = [self.policy] if self.policy else []
        files += list(self.fragments.values())
        files += [p.policy for p in self.products.values() if p.policy]
        files += [Path(s.origin.source) for s in self.schemas.values() if s.origin.source]
        for api in self.apis.values():
            files += [api.policy] if api.policy else []
            files += [op.policy for op in api.operations if op.policy]
            files += list(api.description_files)
            if api.graphql is not None:
                files += [api.graphql.schema] if api.graphql.schema else []
                files += [resolver.policy for resolver in api.graphql.resolvers]
        return files
