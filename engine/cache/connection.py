"""Redis connection settings: parse a URL or a StackExchange.Redis string, create a bounded client.

Accepted forms (`RedisSettings.parse`):

* URLs: ``redis://[user:password@]host[:port][/db][?options]``, ``rediss://...`` (TLS),
  ``redis+cluster://host:port[,host:port...]`` / ``rediss+cluster://...`` (Redis Cluster).
  Query options: ``cluster=true``, ``ssl_cert_reqs=none|optional|required``, ``ssl_ca_certs=PATH``,
  ``connect_timeout_ms=``, ``timeout_ms=``, ``client_name=``, ``max_connections=``.
* StackExchange.Redis configuration strings, as Azure API Management stores them:
  ``host[:port][,host:port...],password=...,ssl=True,abortConnect=False,defaultDatabase=N,
  connectTimeout=ms,syncTimeout=ms,user=...,name=...,cluster=true``.
  Options we have no use for (``abortConnect``, ``connectRetry``, ``keepAlive``, ...) are accepted
  and ignored; unknown ones are an error so a typo does not pass silently.

Timeouts: 50 ms to connect, and Redis counts as stalled when it sends nothing for 500 ms after a
command (defaults). engine.redis_loop and engine.redis_dispatcher measure both so that a busy
gateway process cannot make a healthy Redis look slow. Explicit `connect_timeout`/`timeout`
arguments to `parse` win over values found in the text.

`create_sync_client(settings)` returns the blocking client of the dispatcher threads (Redis
Cluster; one-off calls); `create_client(settings)` its redis.asyncio twin for tools and tests.
Neither retries on its own (the caller's circuit breaker decides when to try again).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

DEFAULT_PORT = 6379
_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
DEFAULT_CONNECT_TIMEOUT = 0.05  # seconds: a TCP handshake is answered by the server's kernel, not by Redis
DEFAULT_TIMEOUT = 0.5  # seconds Redis may send nothing before it counts as stalled (a busy Redis needs ~250 ms)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

# StackExchange.Redis options that have no effect here but appear in real connection strings.
_IGNORED_STACKEXCHANGE_OPTIONS = {
    "abortconnect", "allowadmin", "asynctimeout", "channelprefix", "checkcertificaterevocation",
    "configchannel", "configcheckseconds", "connectretry", "keepalive", "proxy", "resolvedns",
    "responsetimeout", "servicename", "sslprotocols", "tiebreaker", "version", "writebuffer",
    "setlib", "highprioritysocketthreads", "includedetailinexceptions", "includeperformancecountersinexceptions",
}


class RedisSettingsError(ValueError):
    """The connection text is not a valid Redis URL or StackExchange.Redis string."""


@dataclass(frozen=True)
class RedisSettings:
    """Everything needed to open a Redis (or Redis Cluster) client."""

    nodes: tuple[tuple[str, int], ...] = (("127.0.0.1", DEFAULT_PORT),)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0
    ssl: bool = False
    ssl_cert_reqs: str = "required"
    ssl_ca_certs: str | None = None  # PEM file of the CA that signed the server certificate
    cluster: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    timeout: float = DEFAULT_TIMEOUT
    client_name: str | None = None
    max_connections: int | None = None

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        cluster: bool | None = None,
        connect_timeout: float | None = None,
        timeout: float | None = None,
    ) -> RedisSettings:
        """Parse a Redis URL or a StackExchange.Redis configuration string.

        Args:
            text: the connection text (see the module docstring for the accepted forms).
            cluster: force Redis Cluster on (True) or off (False); None = as the text says.
            connect_timeout, timeout: seconds; override the text and the defaults (50 ms, 500 ms).
        Raises:
            RedisSettingsError: with a message naming the offending part (never the password).
        """
        text = text.strip()
        if not text:
            raise RedisSettingsError("empty Redis connection string")
        settings = _parse_url(text) if "://" in text else _parse_stackexchange(text)
        changes: dict[str, Any] = {}
        if cluster is not None:
            changes["cluster"] = cluster
        if connect_timeout is not None:
            changes["connect_timeout"] = _positive(connect_timeout, "connect timeout")
        if timeout is not None:
            changes["timeout"] = _positive(timeout, "timeout")
        settings = replace(settings, **changes) if changes else settings
        if settings.cluster and settings.db != 0:
            raise RedisSettingsError("Redis Cluster only has database 0")
        return settings

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, *, where: str) -> RedisSettings | None:
        """The `external` Redis of a `cache:` mapping, or None when there is none.

        Reads `external` (URL or StackExchange string; `${NAME}` is replaced by the environment
        variable NAME, so secrets stay out of the file), `cluster` (bool), `connect-timeout-ms` and
        `timeout-ms`. The rate limiter calls this with the same mapping to share the connection.

        Raises:
            ConfigError: naming `where` plus the key, e.g. ``gateway.yaml: cache.external: ...``.
        """
        from engine.errors import ConfigError

        if not config or config.get("external") in (None, ""):
            return None
        text = config["external"]
        if not isinstance(text, str):
            raise ConfigError(f"{where}.external: expected a Redis URL or connection string")
        missing = [name for name in _ENV_VAR.findall(text) if name not in os.environ]
        if missing:
            raise ConfigError(f"{where}.external: environment variable {missing[0]} is not set")
        text = _ENV_VAR.sub(lambda m: os.environ[m.group(1)], text)
        cluster = config.get("cluster")
        if cluster is not None and not isinstance(cluster, bool):
            raise ConfigError(f"{where}.cluster: expected true or false, got {cluster!r}")
        timeouts: dict[str, float | None] = {}
        for key, name in (("connect-timeout-ms", "connect_timeout"), ("timeout-ms", "timeout")):
            value = config.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ConfigError(f"{where}.{key}: expected a positive number of milliseconds, got {value!r}")
            timeouts[name] = value / 1000.0 if value is not None else None
        try:
            return cls.parse(text, cluster=cluster, **timeouts)
        except RedisSettingsError as exc:
            raise ConfigError(f"{where}.external: {exc}") from None

    def with_timeouts(self, *, connect_timeout: float | None = None, timeout: float | None = None) -> RedisSettings:
        """A copy with other timeouts (seconds)."""
        return replace(
            self,
            connect_timeout=self.connect_timeout if connect_timeout is None else connect_timeout,
            timeout=self.timeout if timeout is None else timeout,
        )

    def same_server(self, other: RedisSettings) -> bool:
        """True when both reach the same Redis database as the same user (timeouts may differ)."""
        return (self.nodes, self.username, self.password, self.db, self.ssl, self.ssl_cert_reqs, self.ssl_ca_certs,
                self.cluster) == (other.nodes, other.username, other.password, other.db, other.ssl, other.ssl_cert_reqs,
                                  other.ssl_ca_certs, other.cluster)

    def describe(self) -> str:
        """A loggable description without credentials, e.g. ``rediss://cache.example:6380/0 (cluster)``."""
        scheme = "rediss" if self.ssl else "redis"
        hosts = ",".join(f"{h}:{p}" for h, p in self.nodes)
        suffix = " (cluster)" if self.cluster else ""
        return f"{scheme}://{hosts}/{self.db}{suffix}"


def create_client(settings: RedisSettings) -> Redis | RedisCluster:
    """Open a redis.asyncio client (lazily connecting) for `settings`: no retries, bounded timeouts.

    The caller owns the client and must `await client.aclose()`.
    """
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    common = _client_options(settings, Retry(NoBackoff(), 0))
    if settings.cluster:
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in settings.nodes],
            cluster_error_retry_attempts=1,
            max_connections=settings.max_connections or 100,
            **common,
        )
    host, port = settings.nodes[0]
    return Redis(host=host, port=port, db=settings.db, max_connections=settings.max_connections, **common)


def create_sync_client(settings: RedisSettings) -> Any:
    """The blocking (`redis.Redis` / `redis.RedisCluster`) twin of `create_client`, for a thread that
    owns its connections. Its timeouts are socket timeouts, measured by the kernel: a reply that
    arrived in time counts as in time however late the thread gets to run."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    common = _client_options(settings, Retry(NoBackoff(), 0))
    if settings.cluster:
        from redis.cluster import ClusterNode

        return redis.RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in settings.nodes],  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            cluster_error_retry_attempts=1,
            **common,
        )
    host, port = settings.nodes[0]
    return redis.Redis(host=host, port=port, db=settings.db, max_connections=settings.max_connections, **common)


def _client_options(settings: RedisSettings, retry: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "username": settings.username,
        "password": settings.password,
        "socket_timeout": settings.timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "client_name": settings.client_name,
        "lib_name": None,  # no CLIENT SETINFO round trips on every new connection
        "lib_version": None,
        "retry": retry,
    }
    if settings.ssl:
        options["ssl"] = True
        options["ssl_cert_reqs"] = settings.ssl_cert_reqs
        options["ssl_check_hostname"] = settings.ssl_cert_reqs == "required"
        if settings.ssl_ca_certs:
            options["ssl_ca_certs"] = settings.ssl_ca_certs
    return options


def _parse_url(text: str) -> RedisSettings:
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise RedisSettingsError(f"invalid Redis URL: {exc}") from None
    scheme = parts.scheme.lower()
    schemes = {
        "redis": (False, False), "rediss": (True, False),
        "redis+cluster": (False, True), "rediss+cluster": (True, True),
    }
    if scheme not in schemes:
        raise RedisSettingsError(f"unsupported Redis URL scheme '{parts.scheme}' (use redis://, rediss:// or redis+cluster://)")
    ssl, cluster = schemes[scheme]
    netloc = parts.netloc
    userinfo, _, hostlist = netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, sep, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if sep else None
        if not sep:  # redis://secret@host is the common "password only" form
            username, password = None, unquote(user)
    nodes = tuple(_parse_endpoint(item) for item in hostlist.split(",") if item) or (("127.0.0.1", DEFAULT_PORT),)
    db = 0
    path = parts.path.strip("/")
    if path:
        db = _int(path, "database number in the URL path")
    values: dict[str, Any] = {
        "nodes": nodes, "username": username, "password": password, "db": db, "ssl": ssl, "cluster": cluster,
    }
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        name = key.lower().replace("-", "_")
        if name == "cluster":
            values["cluster"] = _bool(value, "cluster")
        elif name == "db":
            values["db"] = _int(value, "db")
        elif name in ("ssl_cert_reqs",):
            if value.lower() not in ("none", "optional", "required"):
                raise RedisSettingsError(f"ssl_cert_reqs must be none, optional or required, not '{value}'")
            values["ssl_cert_reqs"] = value.lower()
        elif name in ("connect_timeout_ms", "timeout_ms"):
            values[name[:-3]] = _ms(value, name)
        elif name == "ssl_ca_certs":
            values["ssl_ca_certs"] = value
        elif name == "client_name":
            values["client_name"] = value
        elif name == "max_connections":
            values["max_connections"] = _int(value, name)
        elif name in ("password", "username"):
            values[name] = value
        else:
            raise RedisSettingsError(f"unknown Redis URL option '{key}'")
    return RedisSettings(**values)


def _parse_stackexchange(text: str) -> RedisSettings:
    nodes: list[tuple[str, int]] = []
    values: dict[str, Any] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        if "=" not in item:
            nodes.append(_parse_endpoint(item))
            continue
        key, _, value = item.partition("=")
        name = key.strip().lower()
        value = value.strip()
        if name == "password":
            values["password"] = value
        elif name == "user":
            values["username"] = value
        elif name == "ssl":
            values["ssl"] = _bool(value, "ssl")
        elif name == "sslhost":
            raise RedisSettingsError("sslHost is not supported: name the host as its certificate does")
        elif name == "defaultdatabase":
            values["db"] = _int(value, "defaultDatabase")
        elif name == "connecttimeout":
            values["connect_timeout"] = _ms(value, "connectTimeout")
        elif name == "synctimeout":
            values["timeout"] = _ms(value, "syncTimeout")
        elif name == "name":
            values["client_name"] = value
        elif name == "cluster":
            values["cluster"] = _bool(value, "cluster")
        elif name in _IGNORED_STACKEXCHANGE_OPTIONS:
            continue
        else:
            raise RedisSettingsError(f"unknown option '{key.strip()}' in Redis connection string")
    if not nodes:
        raise RedisSettingsError("Redis connection string names no host (expected host:port,...)")
    return RedisSettings(nodes=tuple(nodes), **values)


def _parse_endpoint(text: str) -> tuple[str, int]:
    text = text.strip()
    if text.startswith("["):  # [ipv6]:port
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise RedisSettingsError(f"missing host in '{text}'")
    port = _int(port_text, f"port in '{text}'") if port_text else DEFAULT_PORT
    if not 0 < port < 65536:
        raise RedisSettingsError(f"port {port} out of range in '{text}'")
    return host, port


def _int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RedisSettingsError(f"{what} must be an integer, not '{text}'") from None
    if value < 0:
        raise RedisSettingsError(f"{what} must not be negative")
    return value


def _ms(text: str, what: str) -> float:
    return _positive(_int(text, what) / 1000.0, what)


def _positive(value: float, what: str) -> float:
    if value <= 0:
        raise RedisSettingsError(f"{what} must be positive")
    return value


def _bool(text: str, what: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise RedisSettingsError(f"{what} must be true or false, not '{text}'")
