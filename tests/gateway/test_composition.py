"""Scopes composed with <base/> (global > product > API > operation) and fragments, end to end."""

from __future__ import annotations

from tests.gateway.conftest import document


def mark(name: str) -> str:
    return f'<set-header name="X-Order" exists-action="append"><value>{name}</value></set-header>'


CONFIG = """
policy: global.xml
fragments: { tag: fragment.xml }
products: { gold: { policy: product.xml } }
subscriptions: [ { id: s, key: k, product: gold } ]
apis:
  echo:
    path: echo
    service-url: "{{backend-url}}"
    products: [gold]
    policy: api.xml
    operations:
      before: { method: GET, url-template: /before, policy: before.xml }
      alone: { method: GET, url-template: /alone, policy: alone.xml }
      plain: { method: GET, url-template: /plain }
"""
POLICIES = {
    "global.xml": document(inbound=mark("global"), backend="<forward-request />"),
    "product.xml": document(inbound="<base />" + mark("product")),
    "api.xml": document(inbound="<base />" + mark("api") + '<include-fragment fragment-id="tag" />'),
    "before.xml": document(inbound=mark("operation") + "<base />"),
    "alone.xml": document(inbound=mark("operation-only")),
    "fragment.xml": "<fragment>" + mark("fragment") + "</fragment>",
}


def order(gw, path: str) -> str:
    return gw.get(path, headers={"Ocp-Apim-Subscription-Key": "k"}).json()["headers"]["x-order"]


def test_base_splices_parent_scopes_in_place(gateway) -> None:
    with gateway(CONFIG, POLICIES) as gw:
        assert order(gw, "/echo/before") == "operation,global,product,api,fragment"
        assert order(gw, "/echo/plain") == "global,product,api,fragment"  # no operation document
        assert order(gw, "/echo/alone") == "operation-only"  # no <base/>: nothing inherited


def test_named_values_in_documents_including_expressions(gateway, monkeypatch) -> None:
    monkeypatch.setenv("POLICYGATE_TEST_SECRET", "s3cret")
    config = {
        "named-values": {"greeting": "hello", "method": "@(context.Request.Method)",
                         "secret": {"env": "POLICYGATE_TEST_SECRET"}},
        "apis": {"echo": {"path": "echo", "service-url": "{{backend-url}}", "subscription-required": False,
                          "policy": "api.xml"}},
    }
    policy = document(inbound="""<base />
        <set-header name="X-Greeting" exists-action="override"><value>{{greeting}}, world</value></set-header>
        <set-header name="X-Method" exists-action="override"><value>{{method}}</value></set-header>
        <set-header name="X-Secret" exists-action="override"><value>{{secret}}</value></set-header>""")
    with gateway(config, {"api.xml": policy}) as gw:
        headers = gw.request("DELETE", "/echo/x").json()["headers"]
        assert (headers["x-greeting"], headers["x-method"], headers["x-secret"]) == ("hello, world", "DELETE", "s3cret")
