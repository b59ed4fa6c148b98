"""Subscription keys: header or query, APIM's 401 bodies, products' scope policies."""

from __future__ import annotations

from tests.gateway.conftest import document

MISSING = ("Access denied due to missing subscription key. "
           "Make sure to include subscription key when making requests to an API.")
INVALID = ("Access denied due to invalid subscription key. "
           "Make sure to provide a valid key for an active subscription.")

CONFIG = """
products:
  starter: { policy: starter.xml }
  gold: {}
  open: { subscription-required: false, policy: open.xml }
subscriptions:
  - { id: sub1, key: "abc123", secondary-key: "def456", product: starter, user: { id: alice, email: a@x.io } }
  - { id: sub2, key: "gold-key", product: gold }
  - { id: sub3, key: "suspended-key", product: starter, state: suspended }
apis:
  pets:
    path: pets
    service-url: "{{backend-url}}"
    products: [starter]
  custom:
    path: custom
    service-url: "{{backend-url}}"
    products: [starter]
    subscription-key-parameter-names: { header: X-Key, query: key }
  public:
    path: public
    service-url: "{{backend-url}}"
    products: [open]
    subscription-required: false
"""
STARTER = document(inbound='<base /><set-header name="X-Product" exists-action="override"><value>starter</value></set-header>')
OPEN = document(inbound='<base /><set-header name="X-Product" exists-action="override"><value>open</value></set-header>')


def test_keys_and_401s(gateway, backend) -> None:
    with gateway(CONFIG, {"starter.xml": STARTER, "open.xml": OPEN}) as gw:
        missing = gw.get("/pets/1")
        assert missing.status == 401
        assert missing.json() == {"statusCode": 401, "message": MISSING}
        assert "AzureApiManagementKey" in missing.headers.get("WWW-Authenticate", "")
        invalid = gw.get("/pets/1", headers={"Ocp-Apim-Subscription-Key": "wrong"})
        assert (invalid.status, invalid.json()["message"]) == (401, INVALID)
        assert gw.get("/pets/1", headers={"Ocp-Apim-Subscription-Key": "gold-key"}).status == 401  # product lacks API
        assert gw.get("/pets/1", headers={"Ocp-Apim-Subscription-Key": "suspended-key"}).status == 401
        assert backend.calls == 0

        ok = gw.get("/pets/1", headers={"Ocp-Apim-Subscription-Key": "abc123"})
        assert ok.status == 200
        assert ok.json()["headers"]["x-product"] == "starter"  # product scope composed via <base/>
        assert gw.get("/pets/1?subscription-key=def456").status == 200  # secondary key, query parameter

        assert gw.get("/custom/1", headers={"Ocp-Apim-Subscription-Key": "abc123"}).status == 401
        assert gw.get("/custom/1", headers={"X-Key": "abc123"}).status == 200
        assert gw.get("/custom/1?key=abc123").status == 200

        public = gw.get("/public/1")
        assert public.status == 200
        assert public.json()["headers"]["x-product"] == "open"  # open product applies without a key
