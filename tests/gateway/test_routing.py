"""Routing: API by path prefix, operation by method + template; 404 end to end."""

from __future__ import annotations

import pytest

from engine.gateway.routing import ROUTE_CACHE_SIZE, Router, TemplateError, compile_template
from tests.support.gateway import simple_config


def router() -> Router[str]:
    r: Router[str] = Router()
    r.add_api("pets", "pets", [
        ("GET", "/pets/{id}", "get-pet"),
        ("GET", "/pets/mine", "my-pets"),
        ("POST", "/pets", "add-pet"),
        ("GET", "/search?q={term}", "search"),
        ("GET", "/files/{*rest}", "files"),
    ])
    r.add_api("pets/v2", "v2", [("*", "/*", "any")])
    r.add_api("", "root", [("GET", "/status", "status")])
    return r


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/pets/pets/7", {}, ("pets", "get-pet", {"id": "7"})),
        ("GET", "/pets/pets/mine", {}, ("pets", "my-pets", {})),  # literal beats parameter
        ("GET", "/pets/pets/a%20b", {}, ("pets", "get-pet", {"id": "a b"})),
        ("POST", "/pets/pets", {}, ("pets", "add-pet", {})),
        ("POST", "/pets/pets/", {}, ("pets", "add-pet", {})),
        ("GET", "/pets/search", {"q": ["cat"]}, ("pets", "search", {"term": "cat"})),
        ("GET", "/pets/files/a/b/c.txt", {}, ("pets", "files", {"rest": "a/b/c.txt"})),
        ("DELETE", "/pets/v2/anything/at/all", {}, ("v2", "any", {})),  # longest API prefix wins
        ("GET", "/status", {}, ("root", "status", {})),
    ],
)
def test_route(method: str, path: str, query: dict[str, list[str]], expected: tuple[str, str, dict[str, str]]) -> None:
    match = router().route("https", method, path, query)
    assert match is not None
    assert (match.api, match.operation, match.params) == expected


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("DELETE", "/pets/pets/1", {}), ("GET", "/pets/search", {}), ("GET", "/petsx/pets/1", {}), ("GET", "/other", {})],
)
def test_no_route(method: str, path: str, query: dict[str, list[str]]) -> None:
    assert router().route("https", method, path, query) is None


def test_a_path_asked_again_gets_the_same_operation_and_its_own_parameters() -> None:
    r: Router[str] = Router()
    r.add_api("pets", "pets", [("GET", "/pets/{id}", "get-pet"), ("GET", "/pets/mine", "my-pets")])
    first = r.route("https", "GET", "/pets/pets/7", {})
    assert first is not None
    first.params["id"] = "changed"  # a caller's change does not leak into the next request's match
    again = r.route("https", "GET", "/pets/pets/7", {})
    assert again is not None and (again.api, again.operation, again.relative_path, again.params) == (
        "pets", "get-pet", "/pets/7", {"id": "7"})
    assert r.route("http", "GET", "/pets/pets/7", {}) is not None and r.route("https", "POST", "/pets/pets/7", {}) is None
    for n in range(3 * ROUTE_CACHE_SIZE):  # many distinct paths: still right, and the memory stays bounded
        match = r.route("https", "GET", f"/pets/pets/{n}", {})
        assert match is not None and match.params == {"id": str(n)}
    assert len(r._found or {}) <= ROUTE_CACHE_SIZE


def test_templates_with_query_parameters_route_by_the_query_every_time() -> None:
    r = router()  # its /search?q={term} makes the query part of every decision
    assert r.route("https", "GET", "/pets/search", {"q": ["cat"]}) is not None
    assert r.route("https", "GET", "/pets/search", {}) is None
    match = r.route("https", "GET", "/pets/search", {"q": ["dog"]})
    assert match is not None and match.params == {"term": "dog"}


def test_an_api_added_later_is_routed_to() -> None:
    r: Router[str] = Router()
    r.add_api("", "root", [("GET", "/*", "any")])
    assert (m := r.route("https", "GET", "/pets/1", {})) is not None and m.api == "root"
    r.add_api("pets", "pets", [("GET", "/*", "pet")])
    assert (m := r.route("https", "GET", "/pets/1", {})) is not None and m.api == "pets"


@pytest.mark.parametrize("template", ["/a/{x", "/a/{x}/{x}", "/a/{*rest}/b", "/a?b=c"])
def test_bad_templates(template: str) -> None:
    with pytest.raises(TemplateError):
        compile_template(template)


def test_unknown_path_is_apim_404(gateway) -> None:
    config = simple_config(operations={"get": {"method": "GET", "url-template": "/items/{id}"}})
    with gateway(config) as gw:
        for method, path in (("GET", "/nowhere"), ("POST", "/echo/items/1"), ("GET", "/echo/other")):
            answer = gw.request(method, path)
            assert answer.status == 404
            assert answer.json() == {"statusCode": 404, "message": "Resource not found"}
        assert gw.get("/echo/items/1").status == 200


def test_revisions_by_rev_marker(gateway) -> None:
    config = {
        "apis": {
            "v1": {"path": "echo", "service-url": "{{backend-url}}/one", "subscription-required": False},
            "v2": {"path": "echo", "revision": "2", "is-current": False, "service-url": "{{backend-url}}/two",
                   "subscription-required": False, "policy": "rev2.xml"},
        }
    }
    rev2 = ('<policies><inbound><base /><set-header name="X-Rev" exists-action="override">'
            '<value>@(context.Api.Revision + "/" + context.Api.IsCurrentRevision)</value></set-header></inbound>'
            '<backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>')
    with gateway(config, {"rev2.xml": rev2}) as gw:
        assert gw.get("/echo/x").json()["path"] == "/one/x"  # the current revision
        echoed = gw.get("/echo;rev=2/x").json()
        assert echoed["path"] == "/two/x"
        assert echoed["headers"]["x-rev"] == "2/False"
        assert gw.get("/echo;rev=1/x").json()["path"] == "/one/x"
        assert gw.get("/echo;rev=9/x").status == 404


def test_revision_configuration_errors(tmp_path) -> None:
    from engine.errors import ConfigError
    from engine.gateway.config import parse_settings

    two_current = "apis: {a: {path: p, service-url: 'http://x'}, b: {path: p, revision: '2', service-url: 'http://x'}}"
    with pytest.raises(ConfigError, match="apis.b.is-current: API 'a' is already the current revision of 'p'"):
        parse_settings(two_current, file="gateway.yaml")
    same = "apis: {a: {path: p, service-url: 'http://x'}, b: {path: p, service-url: 'http://x', is-current: false}}"
    with pytest.raises(ConfigError, match="apis.b.path: 'p' is already used by API 'a'"):
        parse_settings(same, file="gateway.yaml")
    none_current = "apis: {a: {path: p, service-url: 'http://x', is-current: false}}"
    with pytest.raises(ConfigError, match="no API is the current revision of 'p'"):
        parse_settings(none_current, file="gateway.yaml")
