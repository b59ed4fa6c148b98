"""Fuzz the gateway configuration: bad YAML, bad values and bad Redis connection strings give a clear error.

Inputs: a realistic gateway.yaml with random edits, configurations generated with random values of
random types at the real keys, and random Redis connection strings. Properties: parsing and
preparing the gateway (services built, documents compiled, nothing started) either works or raises
`ConfigError` / `PolicyLoadError` whose message names the file; the connection-string parser
raises only its own `RedisSettingsError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine.cache.connection import RedisSettings, RedisSettingsError
from engine.errors import ConfigError, PolicyLoadError
from engine.gateway.config import parse_settings
from engine.gateway.runner import GatewayServer
from tests.fuzz.support import fuzz_settings, mutated, no_hang

SEED_CONFIG = """server: { host: 127.0.0.1, port: 8080, admin-port: 9090, workers: 1, access-log: false }
backend: { max-connections: 100, connect-timeout: 5, forwarded-headers: true }
backends: { eu: "https://eu.example.com/api" }
cache:
  external: "redis://127.0.0.1:1/0"
  timeout-ms: 50
  breaker: { failures: 3, reset-seconds: 1.0 }
rate-limits: { failure-mode: open, timeout-ms: 50, standard-headers: true }
named-values:
  backend-url: "http://127.0.0.1:9000"
  secret: { env: POLICYGATE_FUZZ_UNSET, default: "s3cret" }
products:
  starter: { subscription-required: true, groups: [developers] }
subscriptions:
  - { id: sub1, key: "abc123", product: starter, user: { id: alice, email: a@x.io, groups: [developers] } }
apis:
  pets:
    path: pets
    service-url: "{{backend-url}}"
    products: [starter]
    subscription-required: true
    operations:
      get-pet: { method: GET, url-template: "/pets/{id}" }
      search: { method: GET, url-template: "/search?q={term}" }
      files: { method: "*", url-template: "/files/{*rest}" }
"""
YAML_TOKENS = [
    ":", ": ", "-", "- ", "{", "}", "[", "]", ",", "'", '"', "#", "&a", "*a", "!!python/object:os.system", "!!binary",
    "~", "null", "true", "no", "0x10", "1e400", "-1", "99999999999999999999", "\t", "\n  ", "\n", "? ", "|", ">",
    "{{", "}}", "{{backend-url}}", "{{missing}}", "${HOME}", "%", "@(1)", "\x00", "\ufeff", "<<: *a", "---", "...",
]
KEYS = ["server", "backend", "backends", "cache", "rate-limits", "named-values", "products", "subscriptions", "apis",
        "policy", "fragments", "demo-backend", "unknown-key"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["redis://127.0.0.1:1", "host:6380,ssl=True,password=x",
                                                            "{{backend-url}}", "http://x", "/a/{b}", "*", "GET"]))
VALUES = st.recursive(SCALARS, lambda children: st.one_of(st.lists(children, max_size=3),
                                                           st.dictionaries(st.text(max_size=12), children, max_size=3)),
                      max_leaves=10)


def check(directory: Path, text: str) -> None:
    file = directory / "gateway.yaml"
    with no_hang():
        try:
            settings = parse_settings(text, file=file, environ={})
            GatewayServer(settings, admin_port=False).prepare()
        except ConfigError as error:
            assert str(error).strip(), "ConfigError without a message"
            assert "gateway.yaml" in str(error), f"the message does not name the file: {error}"
        except PolicyLoadError as error:
            assert error.diagnostics, "PolicyLoadError without diagnostics"


@fuzz_settings(150)
@given(mutated([SEED_CONFIG], YAML_TOKENS))
def test_mutated_configuration(tmp_path_factory: Any, text: str) -> None:
    check(tmp_path_factory.mktemp("config"), text)


@fuzz_settings(150)
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5))
def test_generated_configuration(tmp_path_factory: Any, data: dict[str, Any]) -> None:
    base = yaml.safe_load(SEED_CONFIG)
    base.update(data)
    check(tmp_path_factory.mktemp("config"), yaml.safe_dump(base, allow_unicode=True))


CONNECTION_PARTS = st.sampled_from([
    "redis://", "rediss://", "unix://", "127.0.0.1", "host", ":6379", ":0", ":99999", ":-1", ":x", "/0", "/99", "/x",
    "@", "user:pass@", ",password=", ",ssl=True", ",ssl=maybe", ",abortConnect=False", ",connectTimeout=",
    ",syncTimeout=-5", ",defaultDatabase=3", ",serviceName=m", ",allowAdmin=true", "?timeout_ms=", "&connect_timeout_ms=",
    "?max_connections=0", "=", ",", " ", "[::1]", "%zz", "\x00", "é",
])


@fuzz_settings(300)
@given(st.one_of(st.text(max_size=60), st.lists(CONNECTION_PARTS, max_size=8).map("".join)))
def test_connection_strings(text: str) -> None:
    with no_hang():
        try:
            RedisSettings.parse(text)
        except RedisSettingsError as error:
            assert str(error).strip()


@pytest.mark.parametrize(("key", "url"), [
    ("service-url", "http://127.0.0.1:127.0.0.1:9000"),   # found by test_mutated_configuration
    ("service-url", "http://[::1:9000"),                  # found by test_mutated_configuration
    ("service-url", "http://h:99999999/"),
    ("backends", "http://[::1"),
])
def test_malformed_urls_are_config_errors(tmp_path: Path, key: str, url: str) -> None:
    base = yaml.safe_load(SEED_CONFIG)
    if key == "backends":
        base["backends"] = {"eu": url}
        where = "backends.eu"
    else:
        base["named-values"]["backend-url"] = url
        where = "apis.pets.service-url"
    with pytest.raises(ConfigError, match=rf"gateway.yaml:\d+:\d+: {re.escape(where)}: .*not a valid URL"):
        parse_settings(yaml.safe_dump(base), file=tmp_path / "gateway.yaml", environ={})
