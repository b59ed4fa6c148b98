"""Configuration loading: typed settings and errors that name the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.gateway.config import load_settings, parse_settings

GOOD = """
named-values:
  backend-url: "http://127.0.0.1:9000"
  secret: { env: MY_SECRET }
products:
  starter: { subscription-required: true }
subscriptions:
  - { id: sub1, key: "abc123", product: starter, user: { id: alice, email: a@x.io, groups: [developers] } }
apis:
  petstore:
    path: pets
    service-url: "{{backend-url}}/v1"
    products: [starter]
    operations:
      get-pet: { method: get, url-template: "/pets/{id}" }
"""


def parse(text: str, env: dict[str, str] | None = None):
    return parse_settings(text, file="gateway.yaml", environ=env or {})


def test_full_configuration_is_typed() -> None:
    settings = parse(GOOD, {"MY_SECRET": "s3cret"})
    api = settings.apis["petstore"]
    assert api.service_url == "http://127.0.0.1:9000/v1"
    assert api.operations[0].method == "GET"
    assert api.subscription_required is True
    assert settings.named_values["secret"] == "s3cret"
    assert "secret" in settings.secret_names
    sub = settings.subscriptions[0]
    assert (sub.product, sub.user.id, sub.user.groups) == ("starter", "alice", ("developers",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("method: get", "method: FETCH"),
         "gateway.yaml:15:26: apis.petstore.operations.get-pet.method: 'FETCH' is not an HTTP method"),
        (GOOD.replace("products: [starter]", "products: [gold]"), "gateway.yaml:13:16: apis.petstore.products[0]: unknown product 'gold'"),
        (GOOD, "gateway.yaml:4:11: named-values.secret: environment variable MY_SECRET is not set"),
        (GOOD.replace("{{backend-url}}/v1", "{{nope}}"), "gateway.yaml:12:18: apis.petstore.service-url: unknown named value '{{nope}}'"),
        (GOOD.replace("path: pets", "path: pets\n    colour: red"), "gateway.yaml:12:5: apis.petstore.colour: unknown key (expected"),
        (GOOD.replace("path: pets", "paht: pets"), "gateway.yaml:11:5: apis.petstore.paht: unknown key; did you mean 'path'?"),
        (GOOD.replace('"/pets/{id}"', '"/pets/{id"'), "gateway.yaml:15:45: apis.petstore.operations.get-pet.url-template: malformed"),
        (GOOD.replace("product: starter,", "product: gold,"), "gateway.yaml:8:41: subscriptions[0].product: unknown product 'gold'"),
        ("apis: [1, 2]", "gateway.yaml:1:7: apis: expected a mapping, got a list"),
        ("apis: {a: {path: x}}", "gateway.yaml:1:11: apis.a.service-url: is required"),
        ("apis: {a: {service-url: 'ftp://x'}}", "gateway.yaml:1:25: apis.a.service-url: 'ftp://x' is not an absolute http(s) URL"),
        ("server: {port: 99999}", "gateway.yaml:1:16: server.port: 99999 is out of range"),
        ("server: {http-server: nginx}", "gateway.yaml:1:23: server.http-server: 'nginx' is not one of: auto, native, granian, hypercorn"),
        ("server: {graceful-timeout: -1}", "gateway.yaml:1:28: server.graceful-timeout: expected a positive number, got -1"),
        ("apis: {a: {service-url: 'http://x', policy: missing.xml}}", "gateway.yaml:1:45: apis.a.policy: file not found: missing.xml"),
    ],
)
def test_errors_name_file_line_column_and_key(text: str, message: str) -> None:
    env = {"MY_SECRET": "x"} if "MY_SECRET is not set" not in message else {}
    with pytest.raises(ConfigError) as info:
        parse(text, env)
    assert str(info.value).startswith(message)


def test_yaml_syntax_error_has_position() -> None:
    with pytest.raises(ConfigError, match=r"^gateway.yaml:\d+:\d+: invalid YAML"):
        parse("apis:\n  a: [unclosed\n")


def test_env_default_and_paths_relative_to_file(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "api.xml").write_text("<policies/>")
    config = tmp_path / "gw.yaml"
    config.write_text(
        "named-values: {token: {env: NOT_SET_ANYWHERE, default: dflt}}\n"
        "apis: {a: {service-url: 'http://x', policy: policies/api.xml}}\n"
    )
    settings = load_settings(config, environ={})
    assert settings.named_values["token"] == "dflt"
    assert settings.apis["a"].policy == tmp_path / "policies" / "api.xml"
    assert settings.apis["a"].operations[0].method == "*"  # no operations: one wildcard operation


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_settings(tmp_path / "absent.yaml")


def test_store_urls_take_named_values_so_a_redis_password_can_come_from_a_secret() -> None:
    text = "named-values: {redis-url: {env: REDIS_URL}}\ncache: {external: '{{redis-url}}'}\nrate-limits: {external: '{{redis-url}}'}\n"
    settings = parse(text, {"REDIS_URL": "redis://:pw@r:6379/0"})
    assert settings.cache == {"external": "redis://:pw@r:6379/0"}
    assert settings.rate_limits == {"external": "redis://:pw@r:6379/0"}
    assert "redis-url" in settings.secret_names


def test_a_folder_holding_gateway_yaml_is_served_as_that_file(tmp_path: Path) -> None:
    from engine.gateway.apiops import load_any_settings

    (tmp_path / "gateway.yaml").write_text("apis: {a: {service-url: 'http://x'}}\n")
    assert load_any_settings(tmp_path).file == tmp_path / "gateway.yaml"


def test_http_server_and_graceful_timeout() -> None:
    default = parse("apis: {}", {}).server
    assert (default.http_server, default.graceful_timeout) == ("auto", 25.0)
    chosen = parse("server: {http-server: hypercorn, graceful-timeout: 2.5}", {}).server
    assert (chosen.http_server, chosen.graceful_timeout) == ("hypercorn", 2.5)
