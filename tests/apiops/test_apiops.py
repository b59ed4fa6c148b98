"""read_apiops / load_apiops: the folder -> GatewaySettings mapping, warnings, secrets, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.gateway import apiops
from engine.gateway.apiops import (
    SECRET_PLACEHOLDER,
    is_apiops_folder,
    load_any_settings,
    load_apiops,
    read_apiops,
    secret_variable_names,
)
from tests.apiops.helpers import SAMPLE, SIMPLE_SPEC, api_folder, write_json, write_text

SECRET_ENV = {"POLICYGATE_NV_BACKEND_API_KEY": "s3cret"}


def test_sample_maps_onto_settings() -> None:
    loaded = read_apiops(SAMPLE, SECRET_ENV)
    assert loaded.warnings == ()
    s = loaded.settings
    assert s.file == SAMPLE / "policygate.yaml"
    assert s.policy == SAMPLE / "policy.xml"
    assert s.fragments == {"correlation-id": SAMPLE / "policy fragments" / "correlation-id" / "policy.xml"}
    assert s.named_values == {"tenant": "contoso", "backend-api-key": "s3cret"}
    assert s.secret_names == frozenset({"backend-api-key"})
    assert (s.server.port, s.server.admin_port, s.demo_backend and s.demo_backend.port) == (8080, 9090, 9000)

    petstore = s.apis["petstore"]
    assert (petstore.path, petstore.name, petstore.service_url) == ("petstore", "Pet Store", "http://127.0.0.1:9000")
    assert petstore.products == ("starter",) and petstore.subscription_required is False
    assert petstore.policy == SAMPLE / "apis" / "petstore" / "policy.xml"
    ops = {op.id: op for op in petstore.operations}
    assert [(o.method, o.url_template) for o in ops.values()] == [("GET", "/pets"), ("POST", "/pets"), ("GET", "/pets/{id}")]
    assert ops["getPet"].policy == SAMPLE / "apis" / "petstore" / "operations" / "getPet" / "policy.xml"
    assert ops["addPet"].policy is None

    status = s.apis["store-status"]
    assert (status.path, status.protocols, status.products) == ("status", ("http", "https"), ())
    assert {op.id for op in status.operations} == {"health", "listToys"}

    starter = s.products["starter"]
    assert (starter.name, starter.subscription_required, starter.state, starter.groups) == (
        "Starter", True, "Published", ("developers",))
    assert starter.policy == SAMPLE / "products" / "starter" / "policy.xml"
    (sub,) = s.subscriptions
    assert (sub.id, sub.key, sub.name, sub.product, sub.api, sub.active) == (
        "alice-starter", "starter-key-alice", "Alice on Starter", "starter", None, True)
    assert sub.user is not None and (sub.user.id, sub.user.email, sub.user.groups) == ("alice", "alice@example.com", ("developers",))


def test_is_apiops_folder(tmp_path: Path) -> None:
    assert is_apiops_folder(SAMPLE)
    assert not is_apiops_folder(SAMPLE / "policy.xml")
    assert not is_apiops_folder(tmp_path)
    write_text(tmp_path / "policy fragments" / "f" / "policy.xml", "<fragment />")
    assert is_apiops_folder(tmp_path)


def test_api_information_mapping(tmp_path: Path) -> None:
    api_folder(tmp_path, "orders", "/shop/orders/", spec=SIMPLE_SPEC, displayName="Orders",
               subscriptionRequired=True, apiRevision="3", apiVersion="v2", protocols=["HTTPS"],
               subscriptionKeyParameterNames={"header": "X-Key", "query": "key"})
    api = read_apiops(tmp_path, {}).settings.apis["orders"]
    assert (api.path, api.name, api.revision, api.version, api.protocols) == ("shop/orders", "Orders", "3", "v2", ("https",))
    assert (api.key_header, api.key_query, api.subscription_required) == ("X-Key", "key", True)


def test_defaults_and_catch_all_product_membership(tmp_path: Path) -> None:
    folder = api_folder(tmp_path, "a", "", spec=SIMPLE_SPEC)
    (folder / "apiInformation.json").write_text('{"properties": {"path": ""}}', encoding="utf-8")
    s = read_apiops(tmp_path, {}).settings
    api = s.apis["a"]
    assert (api.name, api.subscription_required, api.key_header, api.revision, api.protocols) == (
        "a", True, "Ocp-Apim-Subscription-Key", "1", ("http", "https"))
    assert s.file == tmp_path and s.policy is None and s.subscriptions == ()
    assert any("without serviceUrl" in w for w in read_apiops(tmp_path, {}).warnings)
    assert api.service_url == "http://localhost"


def test_operation_policies_match_by_id_case_or_slug(tmp_path: Path) -> None:
    folder = api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    write_text(folder / "operations" / "LISTITEMS" / "policy.xml", "<policies />")
    write_text(folder / "operations" / "one-item" / "policy.xml", "<policies />")  # by summary
    write_text(folder / "operations" / "gone" / "policy.xml", "<policies />")
    loaded = read_apiops(tmp_path, {})
    ops = {op.id: op.policy for op in loaded.settings.apis["a"].operations}
    assert ops["listItems"] == folder / "operations" / "LISTITEMS" / "policy.xml"
    assert ops["getItem"] == folder / "operations" / "one-item" / "policy.xml"
    (warning,) = loaded.warnings
    assert warning == f"{tmp_path}: operation policies with no matching operation in the specification; ignored: apis/a/operations/gone"


def test_unsupported_parts_are_reported_once_per_kind(tmp_path: Path) -> None:
    api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    write_json(tmp_path / "apis" / "a" / "tags.json", [{"name": "t"}])
    write_json(tmp_path / "apis" / "a" / "diagnostics" / "applicationinsights" / "diagnosticInformation.json", {})
    api_folder(tmp_path, "a;rev=2", "a", spec=SIMPLE_SPEC)
    api_folder(tmp_path, "old", "old", spec=SIMPLE_SPEC, isCurrent=False)
    api_folder(tmp_path, "gql", "gql", type="graphql")
    api_folder(tmp_path, "ws", "ws", apiType="websocket", serviceUrl="wss://chat.example.com/socket")
    write_text(tmp_path / "apis" / "ws" / "operations" / "onHandshake" / "policy.xml", "<policies />")
    api_folder(tmp_path, "rpc", "rpc", apiType="grpc")
    api_folder(tmp_path, "nospec", "nospec")
    for i in range(12):
        write_json(tmp_path / "loggers" / f"logger{i:02}" / "loggerInformation.json", {})
    write_json(tmp_path / "tags" / "t" / "tagInformation.json", {})
    write_json(tmp_path / "products" / "p" / "productInformation.json", {"properties": {}})
    write_json(tmp_path / "products" / "p" / "tags.json", [])
    write_json(tmp_path / "products" / "p" / "apis.json", [{"name": "a"}, {"name": "gql"}, "old"])
    write_text(tmp_path / "README.md", "hello")
    write_text(tmp_path / ".gitignore", "*.tmp")
    write_json(tmp_path / "subscriptions" / "nokey" / "subscriptionInformation.json", {"properties": {"scope": "/apis"}})
    loaded = read_apiops(tmp_path, {})
    assert set(loaded.settings.apis) == {"a", "nospec", "gql", "ws"}
    assert loaded.settings.apis["a"].products == ("p",)
    assert loaded.settings.apis["nospec"].operations == ()
    assert loaded.settings.subscriptions == ()
    by_problem = {w.split(": ", 2)[1]: w.split(": ", 2)[2] for w in loaded.warnings}
    assert len(by_problem) == len(loaded.warnings)  # one message per kind
    assert by_problem["tags are not supported; ignored"] == "products/p/tags.json, apis/a/tags.json, tags"
    assert by_problem["API diagnostics are not supported; ignored"] == "apis/a/diagnostics"
    assert by_problem["only the current revision of an API is served; ignored"] == "apis/a;rev=2, apis/old"
    gql = loaded.settings.apis["gql"].graphql  # a pass-through GraphQL API (no schema, no resolvers)
    assert gql is not None and gql.schema is None and not gql.synthetic
    ws = loaded.settings.apis["ws"]  # a WebSocket API: one operation, onHandshake, with its policy; ws/wss only
    assert ws.websocket is not None and ws.protocols == ("ws", "wss")
    assert [(op.id, op.method, op.url_template) for op in ws.operations] == [("onHandshake", "GET", "/")]
    assert ws.operations[0].policy == tmp_path / "apis" / "ws" / "operations" / "onHandshake" / "policy.xml"
    assert by_problem["grpc APIs are not supported; not served"] == "apis/rpc"
    assert by_problem["Azure logger resources are ignored; declare loggers in policygate.yaml (loggers:)"] == "loggers"
    assert by_problem["unknown files and folders; ignored"] == "README.md"
    assert "apis/nospec" in by_problem["APIs without specification.yaml/json have no operations (every request gets 404, as in APIM)"]
    assert by_problem["subscriptions without a key cannot be used (give their keys under subscriptions in policygate.yaml); ignored"] == "nokey"


def test_many_items_are_summarised(tmp_path: Path) -> None:
    api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    for i in range(13):
        write_text(tmp_path / "apis" / "a" / "operations" / f"orphan{i:02}" / "policy.xml", "<policies />")
    (warning,) = read_apiops(tmp_path, {}).warnings
    assert warning.endswith("apis/a/operations/orphan09 and 3 more")


def test_load_apiops_logs_each_warning_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    write_json(tmp_path / "gateways" / "g" / "gatewayInformation.json", {})
    apiops._logged.clear()
    with caplog.at_level(logging.WARNING, logger="policygate.apiops"):
        load_apiops(tmp_path, {})
        load_apiops(tmp_path, {})  # a reload
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path}: self-hosted gateway resources are not supported; ignored: gateways"]


def test_secret_named_values_come_from_the_environment(tmp_path: Path) -> None:
    write_json(tmp_path / "namedValues" / "db-pass" / "namedValueInformation.json",
               {"properties": {"displayName": "db.pass", "secret": True}})
    write_json(tmp_path / "namedValues" / "kv" / "namedValueInformation.json",
               {"properties": {"displayName": "kv", "keyVault": {"secretIdentifier": "https://v.vault.azure.net/secrets/kv"}}})
    write_json(tmp_path / "namedValues" / "plain" / "namedValueInformation.json",
               {"properties": {"displayName": "plain", "value": "file value"}})
    assert secret_variable_names("db.pass") == ("POLICYGATE_NV_DB_PASS", "db.pass")
    env = {"POLICYGATE_NV_DB_PASS": "p1", "kv": "from-plain-name", "POLICYGATE_NV_PLAIN": "overridden"}
    loaded = read_apiops(tmp_path, env)
    assert loaded.settings.named_values == {"db.pass": "p1", "kv": "from-plain-name", "plain": "overridden"}
    assert loaded.settings.secret_names == frozenset({"db.pass", "kv"})
    assert loaded.warnings == (f"{tmp_path}: Key Vault references are read from environment variables instead: "
                               "namedValues/kv (POLICYGATE_NV_KV)",)
    with pytest.raises(ConfigError) as caught:
        read_apiops(tmp_path, {"kv": "x"})
    assert str(caught.value) == (f"{tmp_path}/namedValues/db-pass/namedValueInformation.json: secret named value "
                                 "'db.pass' is not set: set environment variable POLICYGATE_NV_DB_PASS (or db.pass)")
    lenient = read_apiops(tmp_path, {}, placeholder_secrets=True).settings.named_values
    assert lenient["db.pass"] == lenient["kv"] == SECRET_PLACEHOLDER


def test_plain_name_does_not_override_a_non_secret(tmp_path: Path) -> None:
    write_json(tmp_path / "namedValues" / "HOME" / "namedValueInformation.json", {"properties": {"value": "v"}})
    assert read_apiops(tmp_path, {"HOME": "/root"}).settings.named_values == {"HOME": "v"}


def test_side_file_overrides_and_subscriptions(tmp_path: Path) -> None:
    api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    write_json(tmp_path / "backends" / "orders" / "backendInformation.json",
               {"properties": {"url": "http://orders.internal", "protocol": "http", "credentials": {"header": {}},
                               "serviceFabricCluster": {}}})
    write_json(tmp_path / "products" / "gold" / "productInformation.json", {"properties": {"state": "notPublished"}})
    write_json(tmp_path / "subscriptions" / "s1" / "subscriptionInformation.json",
               {"properties": {"scope": "/subscriptions/x/resourceGroups/y/providers/Microsoft.ApiManagement/service/z/apis/a",
                               "state": "suspended", "primaryKey": "k1", "ownerId": "/users/bob"}})
    write_text(tmp_path / "policygate.yaml", """
server: {port: 8181, admin-port: false}
cache: {}
backends: {extra: "http://extra.internal"}
identity: {provider: static, token: local-dev}
service-urls: {a: "https://a.example.com/base", ghost: "http://x"}
subscriptions:
  - {id: s1, secondary-key: k2}
  - {id: new, key: k3, product: gold, user: {id: carol, groups: dev}}
""")
    loaded = read_apiops(tmp_path, {})
    s = loaded.settings
    assert s.file == tmp_path / "policygate.yaml"
    assert (s.server.port, s.server.admin_port, s.cache) == (8181, None, {})
    assert s.identity is not None and (s.identity.provider, s.identity.token) == ("static", "local-dev")
    assert {bid: b.url for bid, b in s.backends.items()} == {"orders": "http://orders.internal", "extra": "http://extra.internal"}
    assert s.apis["a"].service_url == "https://a.example.com/base"
    assert s.products["gold"].state == "NotPublished"
    s1, new = s.subscriptions
    assert (s1.api, s1.product, s1.key, s1.secondary_key, s1.active, s1.user and s1.user.id) == ("a", None, "k1", "k2", False, "bob")
    assert (new.product, new.key, new.active, new.user and new.user.groups) == ("gold", "k3", True, ("dev",))
    problems = " | ".join(loaded.warnings)
    assert "backends/orders: properties.serviceFabricCluster" in problems and "ghost" in problems


def test_segment_version_sets_extend_the_path(tmp_path: Path) -> None:
    write_json(tmp_path / "version sets" / "vs" / "apiVersionSetInformation.json", {"properties": {"versioningScheme": "Segment"}})
    write_json(tmp_path / "version sets" / "hdr" / "apiVersionSetInformation.json", {"properties": {"versioningScheme": "Header"}})
    api_folder(tmp_path, "v1", "orders", spec=SIMPLE_SPEC, apiVersion="v1", apiVersionSetId="/apiVersionSets/vs")
    api_folder(tmp_path, "v2", "orders", spec=SIMPLE_SPEC, apiVersion="v2", apiVersionSetId="/apiVersionSets/vs")
    api_folder(tmp_path, "h", "other", spec=SIMPLE_SPEC, apiVersion="2024", apiVersionSetId="hdr")
    loaded = read_apiops(tmp_path, {})
    assert {a.id: a.path for a in loaded.settings.apis.values()} == {"v1": "orders/v1", "v2": "orders/v2", "h": "other"}
    assert any("header or query" in w and w.endswith("apis/h") for w in loaded.warnings)


def test_load_any_settings(tmp_path: Path) -> None:
    assert load_any_settings(SAMPLE, SECRET_ENV).apis.keys() == {"petstore", "store-status"}
    assert load_any_settings(SAMPLE / "policygate.yaml", SECRET_ENV).file == SAMPLE / "policygate.yaml"
    write_text(tmp_path / "gateway.yaml", "apis: {x: {path: x, service-url: 'http://h'}}\n")
    assert list(load_any_settings(tmp_path / "gateway.yaml", {}).apis) == ["x"]


def _error(tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        read_apiops(tmp_path, {})
    return str(caught.value)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"displayName": "x"}, "apiInformation.json: properties.path: is required"),
        ({"path": "a", "serviceUrl": "ftp://h"}, "apiInformation.json: properties.serviceUrl: 'ftp://h' is not an absolute http(s) URL"),
        ({"path": "a", "subscriptionRequired": "yes"}, "properties.subscriptionRequired: expected true or false, got 'yes'"),
        ({"path": ["a"]}, "properties.path: expected a string, got a list"),
        ({"path": "a", "protocols": "https"}, "properties.protocols: expected a list of strings"),
        ({"path": "a", "protocols": ["https", "ftp"]}, "properties.protocols: 'ftp' is not one of: http, https, ws, wss"),
        ({"path": "a", "subscriptionKeyParameterNames": "k"}, "properties.subscriptionKeyParameterNames: expected an object, got str 'k'"),
        ({"path": "a", "protocols": ["https", "wss"]}, "properties.protocols: 'wss' is not a scheme of APIs other than WebSocket and pass-through GraphQL APIs (one of: http, https)"),
        ({"path": "a", "type": "websocket", "serviceUrl": "wss://h", "protocols": ["https"]},
         "properties.protocols: 'https' is not a scheme of WebSocket APIs (one of: ws, wss)"),
        ({"path": "a", "type": "websocket", "serviceUrl": "ftp://h"}, "properties.serviceUrl: 'ftp://h' is not an absolute ws(s) URL"),
    ],
)
def test_bad_api_information(tmp_path: Path, props: dict[str, object], expected: str) -> None:
    write_json(tmp_path / "apis" / "a" / "apiInformation.json", {"properties": props})
    message = _error(tmp_path)
    assert message.startswith(f"{tmp_path}/apis/a/") and message.endswith(expected)


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    write_text(tmp_path / "apis" / "a" / "apiInformation.json", '{\n  "properties": {,}\n}')
    assert _error(tmp_path).startswith(f"{tmp_path}/apis/a/apiInformation.json:2:18: invalid JSON")


def test_duplicate_paths_and_named_values(tmp_path: Path) -> None:
    api_folder(tmp_path, "a", "same", spec=SIMPLE_SPEC)
    api_folder(tmp_path, "b", "/same/", spec=SIMPLE_SPEC)
    assert _error(tmp_path) == f"{tmp_path}/apis/b/apiInformation.json: properties.path: 'same' is already the path of {tmp_path}/apis/a/apiInformation.json"


def test_duplicate_named_value_names(tmp_path: Path) -> None:
    write_json(tmp_path / "namedValues" / "a" / "namedValueInformation.json", {"properties": {"displayName": "Key", "value": "1"}})
    write_json(tmp_path / "namedValues" / "b" / "namedValueInformation.json", {"properties": {"displayName": "key", "value": "2"}})
    assert "named value 'key' is also defined in namedValues/a/namedValueInformation.json" in _error(tmp_path)


def test_spec_errors_name_the_specification(tmp_path: Path) -> None:
    api_folder(tmp_path, "a", "a", spec="openapi: 3.0.0\npaths: {/x: {get: {operationId: [1]}}}\n")
    assert _error(tmp_path).startswith(f"{tmp_path}/apis/a/specification.yaml: paths./x.get.operationId:")


def test_backends_folder_reads_pools_breakers_and_credentials(tmp_path: Path) -> None:
    write_json(tmp_path / "namedValues" / "east-key" / "namedValueInformation.json", {"properties": {"value": "k-east"}})
    rule = {"name": "r", "failureCondition": {"count": 1, "interval": "PT1M", "statusCodeRanges": [{"min": 429, "max": 429}]},
            "tripDuration": "PT1M", "acceptRetryAfter": True}
    write_json(tmp_path / "backends" / "east" / "backendInformation.json",
               {"properties": {"url": "https://east.example.com/openai", "protocol": "http", "circuitBreaker": {"rules": [rule]},
                               "credentials": {"header": {"api-key": ["{{east-key}}"]}},
                               "tls": {"validateCertificateChain": True}, "proxy": {"url": "http://proxy:3128"}}})
    write_json(tmp_path / "backends" / "west" / "backendInformation.json", {"properties": {"url": "https://west.example.com"}})
    write_json(tmp_path / "backends" / "pool" / "backendInformation.json", {"properties": {"type": "Pool", "pool": {"services": [
        {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/x/backends/east", "priority": 1},
        {"id": "/backends/west", "priority": 2, "weight": 5}]}}})
    loaded = read_apiops(tmp_path, {})
    east, pool = loaded.settings.backends["east"], loaded.settings.backends["pool"]
    assert east.breaker is not None and (east.breaker.count, east.breaker.interval, east.breaker.accept_retry_after) == (1, 60, True)
    assert east.credentials is not None and east.credentials.headers == (("api-key", ("k-east",)),)
    assert [(m.backend, m.priority, m.weight) for m in pool.members] == [("east", 1, 1), ("west", 2, 5)]
    assert east.proxy is not None and (east.proxy.url, east.proxy.username) == ("http://proxy:3128", "")
    assert not loaded.warnings
    assert east.tls is None  # validateCertificateChain true is the default
    write_json(tmp_path / "backends" / "pool" / "backendInformation.json",
               {"properties": {"type": "Pool", "pool": {"services": [{"id": "/backends/gone"}]}}})
    assert _error(tmp_path).endswith("backends/pool/backendInformation.json: properties.pool.services[0].id: no backend 'gone' is defined")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"products/p/productInformation.json": {}, "products/p/apis.json": [{"name": "ghost"}]},
         "products/p/apis.json: [0]: unknown API 'ghost' (known: none)"),
        ({"products/p/productInformation.json": {}, "products/p/apis.json": {"name": "a"}},
         "products/p/apis.json: expected a JSON list, got a mapping"),
        ({"products/p/productInformation.json": {"properties": {"state": "live"}}},
         "products/p/productInformation.json: properties.state: 'live' is not one of: published, notPublished"),
        ({"subscriptions/s/subscriptionInformation.json": {"properties": {"scope": "/users/x", "primaryKey": "k"}}},
         "subscriptions/s/subscriptionInformation.json: properties.scope: '/users/x' is not /apis, /apis/<api> or /products/<product>"),
        ({"subscriptions/s/subscriptionInformation.json": {"properties": {"scope": "/products/none", "primaryKey": "k"}}},
         "subscriptions/s/subscriptionInformation.json: unknown product 'none'"),
        ({"subscriptions/s/subscriptionInformation.json": {"properties": {"primaryKey": "k"}},
          "subscriptions/t/subscriptionInformation.json": {"properties": {"primaryKey": "k"}}},
         "subscriptions/t/subscriptionInformation.json: key already used by subscription 's'"),
        ({"namedValues/n/namedValueInformation.json": {"properties": {"displayName": "n"}}},
         "namedValues/n/namedValueInformation.json: properties.value: named value 'n' has no value"),
        ({"backends/b/backendInformation.json": {"properties": {"protocol": "http"}}},
         "backends/b/backendInformation.json: properties.url: is required"),
        ({"namedValues/n/namedValueInformation.json": [1]},
         "namedValues/n/namedValueInformation.json: expected a JSON object, got a list"),
    ],
)
def test_bad_folder_content(tmp_path: Path, files: dict[str, object], expected: str) -> None:
    for name, data in files.items():
        write_json(tmp_path / name, data)
    message = _error(tmp_path)
    assert message.endswith(expected) and message.startswith(str(tmp_path))


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        ("apis: {}\n", "policygate.yaml:1:1: apis: unknown key (expected one of: server, backend"),
        ("server: {port: -1}\n", "policygate.yaml:1:16: server.port: -1 is out of range 0..65535"),
        ("service-urls: {a: 'nope'}\n", "policygate.yaml:1:19: service-urls.a: 'nope' is not an absolute http(s) URL"),
        ("subscriptions: [{key: k}]\n", "policygate.yaml:1:17: subscriptions[0].id: is required (the subscription's name)"),
        ("subscriptions: [{id: s, colour: red}]\n", "policygate.yaml:1:25: subscriptions[0].colour: unknown key"),
        ("subscriptions: [{id: s, key: k, user: {name: x}}]\n", "policygate.yaml:1:40: subscriptions[0].user.name: unknown key"),
        ("subscriptions: [{id: s, key: k, api: nope}]\n", "policygate.yaml: subscriptions[0]: unknown API 'nope'"),
        ("server: [\n", "policygate.yaml:2:1: invalid YAML"),
        ("identity: {provider: imds, token: t}\n", "policygate.yaml:1:28: identity.token: is not a setting of provider 'imds'"),
    ],
)
def test_bad_side_file(tmp_path: Path, side: str, expected: str) -> None:
    api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC)
    write_text(tmp_path / "policygate.yaml", side)
    assert expected in _error(tmp_path)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        read_apiops(tmp_path / "missing", {})


def test_policygate_yaml_names_the_folders_named_values_so_a_redis_password_stays_secret(
        tmp_path: Path, redis_url: str) -> None:
    import redis

    from tests.apiops.helpers import serve_settings

    api = api_folder(tmp_path, "a", "a", spec=SIMPLE_SPEC, subscriptionRequired=False)
    write_text(api / "policy.xml", "<policies><inbound><cache-store-value key=\"apis2-named-value-check\" value=\"v\" "
                                   "duration=\"60\" caching-type=\"external\" /><return-response><set-status code=\"204\" />"
                                   "</return-response></inbound><backend /><outbound /><on-error /></policies>")
    write_json(tmp_path / "namedValues" / "redis" / "namedValueInformation.json",
               {"properties": {"displayName": "redis-url", "secret": True}})
    write_text(tmp_path / "policygate.yaml", "cache: {external: '{{redis-url}}'}\n")
    loaded = read_apiops(tmp_path, {"POLICYGATE_NV_REDIS_URL": redis_url})
    assert loaded.settings.cache == {"external": redis_url} and "redis-url" in loaded.settings.secret_names
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys("*apis2-named-value-check*") or ["none"])
    with serve_settings(loaded.settings, tmp_path) as gw:
        assert gw.request("GET", "/a/items").status == 204
    assert client.keys("*apis2-named-value-check*")  # stored in the Redis the secret named value names
    write_text(tmp_path / "policygate.yaml", "cache: {external: '{{redis}}'}\n")
    with pytest.raises(ConfigError, match=r"policygate.yaml:1:19: cache.external: unknown named value '\{\{redis\}\}'"):
        read_apiops(tmp_path, {"POLICYGATE_NV_REDIS_URL": redis_url})
