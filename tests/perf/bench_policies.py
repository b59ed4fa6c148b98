"""Per-request cost of the transformation and access-control policies, side by side.

Run:  python -m tests.perf.bench_policies

Each case builds one policy with the gateway's builder and runs its step on fresh contexts built
before the clock starts (best of five runs). The last column is the cost relative to
`set-header` with a constant value, measured in the same run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.apispec.instance import InstanceSchema, SchemaSource, compile_schemas  # noqa: E402
from engine.context import Context, Headers, MessageBody, Operation, Request, Response, Url  # noqa: E402
from engine.diagnostics import Diagnostics  # noqa: E402
from engine.document import load_document  # noqa: E402
from engine.gateway.builder import PipelineBuilder  # noqa: E402
from engine.policy import Step  # noqa: E402
from engine.registry import default_registry  # noqa: E402
from policies.validate_jwt.tokens import b64url_encode, sign_hmac  # noqa: E402

SECRET = b"0123456789abcdef0123456789abcdef"
ORDER = {"order": {"id": 7, "customer": "ann", "items": [{"sku": f"s{i}", "qty": i} for i in range(40)]}}
JSON_BODY = json.dumps(ORDER).encode()
XML_BODY = ("<order><id>7</id>" + "".join(f'<item sku="s{i}"><qty>{i}</qty></item>' for i in range(120)) + "</order>").encode()


def _rsa_case() -> tuple[str, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    n = b64url_encode(numbers.n.to_bytes(256, "big"))
    e = b64url_encode(numbers.e.to_bytes(3, "big"))
    header = b64url_encode(json.dumps({"alg": "RS256", "kid": "k"}).encode())
    payload = b64url_encode(json.dumps({"sub": "u", "exp": int(time.time()) + 3600}).encode())
    signature = key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    policy = f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key id="k" n="{n}" e="{e}" /></issuer-signing-keys></validate-jwt>'
    return policy, f"{header}.{payload}.{b64url_encode(signature)}"


ORDER_API = {
    "openapi": "3.0.3", "info": {"title": "orders", "version": "1"},
    "paths": {"/orders/{id}": {"post": {
        "operationId": "updateOrder",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
            {"name": "page", "in": "query", "schema": {"type": "integer", "maximum": 100}},
            {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string", "pattern": "^[a-z]+$"}},
        ],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
        "responses": {"200": {"description": "ok"}},
    }}},
    "components": {"schemas": {
        "Envelope": {"type": "object", "required": ["order"], "properties": {"order": {"$ref": "#/components/schemas/Order"}}},
        "Order": {"type": "object", "required": ["id", "customer", "items"], "additionalProperties": False, "properties": {
            "id": {"type": "integer", "minimum": 1}, "customer": {"type": "string", "minLength": 1},
            "items": {"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/Item"}}}},
        "Item": {"type": "object", "required": ["sku", "qty"], "properties": {
            "sku": {"type": "string", "pattern": "^s[0-9]+$"}, "qty": {"type": "integer", "minimum": 0},
            "note": {"type": "string", "nullable": True}}},
    }},
}


def _order_operation() -> Operation:
    """The bench operation with its OpenAPI description, read the way the gateway reads it."""
    import tempfile

    from engine.gateway.openapi import operations_from_openapi

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.json"
        path.write_text(json.dumps(ORDER_API))
        settings = operations_from_openapi(path)[0]
    return Operation(id=settings.id, method="POST", url_template=settings.url_template, spec=settings.spec)


ORDER_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="order"><xs:complexType><xs:sequence>
    <xs:element name="id" type="xs:positiveInteger" />
    <xs:element name="item" maxOccurs="500"><xs:complexType>
      <xs:sequence><xs:element name="qty" type="xs:nonNegativeInteger" /></xs:sequence>
      <xs:attribute name="sku" use="required"><xs:simpleType><xs:restriction base="xs:string">
        <xs:pattern value="s[0-9]+" /></xs:restriction></xs:simpleType></xs:attribute>
    </xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


class _InstanceSchemas:
    """The part of the gateway's services validate-content's `schema-id` reads: the compiled schemas."""

    def __init__(self) -> None:
        envelope = {"$defs": ORDER_API["components"]["schemas"], **ORDER_API["components"]["schemas"]["Envelope"]}
        text = json.dumps(envelope).replace("#/components/schemas/", "#/$defs/")
        self.schemas = compile_schemas({"order-xsd": SchemaSource(ORDER_XSD), "order-json": SchemaSource(text)})

    def schema(self, schema_id: str) -> InstanceSchema | None:
        return self.schemas.get(schema_id)


def build(xml: str, section: str) -> Step:
    doc = load_document("bench.xml", text=f"<policies><{section}>{xml}</{section}></policies>", diagnostics=Diagnostics())
    assert doc is not None
    builder = PipelineBuilder(default_registry())
    steps = builder.steps(doc.policies(section))
    builder.finish()
    return steps[0]


def context_factory(headers: list[tuple[str, str]], body: bytes | None = None,
                    response_body: bytes | None = None, content_type: str = "application/json",
                    operation: Operation | None = None, services: Any = None,
                    query: str = "?page=2") -> Callable[[], Context]:
    url = Url.parse(f"http://backend.test/api/orders/7{query}")

    def make() -> Context:
        request = Request("POST", url.copy(), url, Headers(headers), MessageBody(body) if body is not None else None,
                          "10.0.0.7", {"id": "7"})
        response = Response(200, "OK", Headers([("Content-Type", content_type)]),
                            MessageBody(response_body) if response_body is not None else None)
        return Context(request=request, response=response, operation=operation, services=services)

    return make


def cases() -> list[tuple[str, str, str, Callable[[], Context]]]:
    hs_token = sign_hmac({"sub": "u", "exp": int(time.time()) + 3600, "aud": "api"}, SECRET)
    rs_policy, rs_token = _rsa_case()
    key = base64.b64encode(SECRET).decode()
    plain = context_factory([("Accept", "application/json")])
    order = _order_operation()
    schemas = _InstanceSchemas()
    return [
        ("set-header (baseline)", '<set-header name="X-A" exists-action="override"><value>1</value></set-header>', "inbound", plain),
        ("set-query-parameter", '<set-query-parameter name="v" exists-action="append"><value>2</value></set-query-parameter>', "inbound", plain),
        ("check-header", '<check-header name="Accept" failed-check-httpcode="401" failed-check-error-message="no" ignore-case="true"><value>text/xml</value><value>application/json</value></check-header>', "inbound", plain),
        ("ip-filter (4 rules)", '<ip-filter action="allow"><address>1.2.3.4</address><address-range from="10.0.0.0" to="10.0.0.255" /><address>::1</address><address-range from="fd00::" to="fd00::ff" /></ip-filter>', "inbound", plain),
        ("cors (actual request)", '<cors><allowed-origins><origin>https://app.test</origin></allowed-origins><allowed-headers><header>*</header></allowed-headers></cors>', "inbound",
         context_factory([("Origin", "https://app.test")])),
        ("validate-jwt HS256", f'<validate-jwt header-name="Authorization"><issuer-signing-keys><key>{key}</key></issuer-signing-keys><audiences><audience>api</audience></audiences></validate-jwt>', "inbound",
         context_factory([("Authorization", f"Bearer {hs_token}")])),
        ("validate-jwt RS256", rs_policy, "inbound", context_factory([("Authorization", f"Bearer {rs_token}")])),
        ("set-body liquid (2 KB JSON)", '<set-body template="liquid">{"id": {{ body.order.id }}, "skus": [{% for i in body.order.items %}"{{ i.sku | Upcase }}"{% unless forloop.last %},{% endunless %}{% endfor %}]}</set-body>', "inbound",
         context_factory([("Content-Type", "application/json")], JSON_BODY)),
        ("find-and-replace (2 KB)", '<find-and-replace from="sku" to="SKU" />', "inbound", context_factory([], JSON_BODY)),
        ("json-to-xml (2 KB)", '<json-to-xml apply="always" consider-accept-header="false" />', "outbound",
         context_factory([], response_body=JSON_BODY)),
        ("validate-content (1 KB, 40 items)", '<validate-content unspecified-content-type-action="prevent" max-size="102400" '
         'size-exceeded-action="prevent"><content type="application/json" validate-as="json" action="prevent" />'
         '</validate-content>', "inbound",
         context_factory([("Content-Type", "application/json")], JSON_BODY, operation=order)),
        ("validate-parameters (3)", '<validate-parameters specified-parameter-action="prevent" '
         'unspecified-parameter-action="prevent" />', "inbound",
         context_factory([("Content-Type", "application/json"), ("X-Tenant", "ann")], operation=order)),
        ("validate-content XSD (4 KB)", '<validate-content unspecified-content-type-action="prevent" '
         'max-size="102400" size-exceeded-action="prevent"><content type="application/xml" validate-as="xml" '
         'schema-id="order-xsd" action="prevent" /></validate-content>', "inbound",
         context_factory([("Content-Type", "application/xml")], XML_BODY, services=schemas)),
        ("validate-content JSON id (1 KB)", '<validate-content unspecified-content-type-action="prevent" '
         'max-size="102400" size-exceeded-action="prevent"><content type="application/json" validate-as="json" '
         'schema-id="order-json" action="prevent" /></validate-content>', "inbound",
         context_factory([("Content-Type", "application/json")], JSON_BODY, services=schemas)),
        ("validate-odata-request (6 opts)", '<validate-odata-request min-odata-version="4.0" max-odata-version="4.01" />',
         "inbound", context_factory([("OData-Version", "4.0")], query="?$filter=Price%20gt%205%20and%20(Name%20eq%20'x')"
                                    "&$select=Name,Price&$expand=Category($select=Name)&$orderby=Price%20desc"
                                    "&$top=10&$count=true")),
        ("validate-odata-request (unseen)", '<validate-odata-request min-odata-version="4.0" max-odata-version="4.01" />',
         "inbound", _unseen_odata_queries()),
        ("xml-to-json (4 KB)", '<xml-to-json kind="direct" apply="always" consider-accept-header="false" />', "outbound",
         context_factory([], response_body=XML_BODY, content_type="application/xml")),
    ]


def _unseen_odata_queries() -> Callable[[], Context]:
    """Contexts whose $filter, $select, $expand and $orderby values the parser has not seen (no cache hit)."""
    counter = iter(range(10**9))

    def make() -> Context:
        n = next(counter)
        return context_factory([("OData-Version", "4.0")], query=(
            f"?$filter=Price%20gt%20{n}%20and%20(Name%20eq%20'x{n}')&$select=Name,Price{n}"
            f"&$expand=Category($select=Name{n})&$orderby=Price{n}%20desc&$top=10&$count=true"))()

    return make


async def measure(step: Step, make: Callable[[], Context], calls: int, repeats: int = 5) -> float:
    """Seconds per call: the best of `repeats` runs over `calls` fresh contexts built beforehand."""
    best = float("inf")
    for _ in range(repeats):
        contexts = [make() for _ in range(calls)]
        started = time.perf_counter()
        for ctx in contexts:
            await step(ctx)
        best = min(best, (time.perf_counter() - started) / calls)
    return best


async def main() -> None:
    rows = []
    for label, xml, section, make in cases():
        step = build(xml, section)
        await measure(step, make, 20, 1)  # warm up
        heavy = any(word in label for word in ("liquid", "json", "xml", "JSON", "XSD"))
        rows.append((label, await measure(step, make, 200 if heavy else 2000)))
    baseline = rows[0][1]
    print(f"{'policy':32} {'µs/call':>10} {'× set-header':>14}")
    for label, cost in rows:
        print(f"{label:32} {cost * 1e6:10.2f} {cost / baseline:14.1f}")


if __name__ == "__main__":
    asyncio.run(main())
