from __future__ import annotations

from engine.context import Api
from tests.policies.support import build, codes, context, run

POLICY = """<emit-metric name="Orders Placed" value="@(2.5)" namespace="shop">
    <dimension name="API ID" />
    <dimension name="Region" value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Region&quot;, &quot;none&quot;))" />
</emit-metric>"""


class TestSchema:
    def test_dimension_required_and_limited(self) -> None:
        assert codes('<emit-metric name="m" />') == ["policy-missing-child"]
        eleven = "".join(f'<dimension name="d{i}" value="v" />' for i in range(11))
        assert codes(f'<emit-metric name="m">{eleven}</emit-metric>') == ["policy-too-many-children"]

    def test_value_only_optional_for_default_dimensions(self) -> None:
        assert codes('<emit-metric name="m"><dimension name="Custom" /></emit-metric>') == ["policy-missing-attribute"]
        assert codes('<emit-metric name="m"><dimension name="Gateway ID" /></emit-metric>') == []

    def test_duplicate_dimension(self) -> None:
        xml = '<emit-metric name="m"><dimension name="a" value="1" /><dimension name="A" value="2" /></emit-metric>'
        assert codes(xml) == ["policy-duplicate-dimension"]


async def test_counts_into_prometheus_series() -> None:
    ctx = context(headers={"X-Region": "eu"})
    ctx.api = Api(id="orders-api")
    steps = build(POLICY)
    await run(steps, ctx)
    await run(steps, ctx)
    text = ctx.services.metrics.render()
    assert "# TYPE policygate_custom_orders_placed_total counter" in text
    assert 'policygate_custom_orders_placed_total{namespace="shop",api_id="orders-api",region="eu"} 5' in text


async def test_default_value_is_one() -> None:
    ctx = context()
    await run(build('<emit-metric name="hits"><dimension name="Location" /></emit-metric>'), ctx)
    assert 'policygate_custom_hits_total{namespace="API Management",location="local"} 1' in ctx.services.metrics.render()


def test_end_to_end(api_gateway, backend) -> None:
    policy = """<policies><inbound><base /><emit-metric name="calls"><dimension name="Method" value="@(context.Request.Method)" /></emit-metric></inbound>
      <backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        gw.request("GET", "/echo/a")
        gw.request("GET", "/echo/b")
        gw.request("DELETE", "/echo/c")
        metrics = gw.metrics()
    assert 'policygate_custom_calls_total{namespace="API Management",method="GET"} 2' in metrics
    assert 'policygate_custom_calls_total{namespace="API Management",method="DELETE"} 1' in metrics
