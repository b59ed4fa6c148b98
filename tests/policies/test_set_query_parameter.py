from __future__ import annotations

import pytest

from tests.policies.support import build, codes, context, run


class TestSchema:
    def test_value_required_unless_delete(self) -> None:
        assert codes('<set-query-parameter name="a" />') == ["policy-missing-child"]
        assert codes('<set-query-parameter name="a" exists-action="delete" />') == []

    def test_name_required_and_action_checked(self) -> None:
        assert "policy-missing-attribute" in codes("<set-query-parameter><value>1</value></set-query-parameter>")
        assert codes('<set-query-parameter name="a" exists-action="merge"><value>1</value></set-query-parameter>')

    def test_not_in_outbound(self) -> None:
        xml = '<set-query-parameter name="a"><value>1</value></set-query-parameter>'
        assert "policy-not-allowed-in-section" in codes(xml, "outbound")
        assert codes(xml, "backend") == []


class TestRun:
    @pytest.mark.parametrize(
        ("action", "expected"),
        [
            ("override", {"a": ["1", "2"], "b": ["x"]}),
            ("skip", {"a": ["0"], "b": ["x"]}),
            ("append", {"a": ["0", "1", "2"], "b": ["x"]}),
            ("delete", {"b": ["x"]}),
        ],
    )
    async def test_exists_actions(self, action: str, expected: dict[str, list[str]]) -> None:
        steps = build(f'<set-query-parameter name="a" exists-action="{action}"><value>1</value><value>2</value></set-query-parameter>')
        ctx = context(url="http://backend.test/p?a=0&b=x")
        await run(steps, ctx)
        assert ctx.request.url.query == expected

    async def test_new_parameter_with_skip_and_append(self) -> None:
        steps = build('<set-query-parameter name="n" exists-action="skip"><value>v</value></set-query-parameter>'
                      '<set-query-parameter name="m" exists-action="append"><value>w</value></set-query-parameter>')
        ctx = context(url="http://backend.test/p")
        await run(steps, ctx)
        assert ctx.request.url.query == {"n": ["v"], "m": ["w"]}

    async def test_expression_name_and_value(self) -> None:
        steps = build('<set-query-parameter name="@(&quot;k&quot; + &quot;1&quot;)">'
                      '<value>@(context.Request.Headers.GetValueOrDefault("X-Id", "none"))</value></set-query-parameter>')
        ctx = context(headers={"X-Id": "42"})
        await run(steps, ctx)
        assert ctx.request.url.query == {"k1": ["42"]}
        assert str(ctx.request.url).endswith("?k1=42")

    async def test_empty_value_element_sets_empty_string(self) -> None:
        steps = build('<set-query-parameter name="flag"><value /></set-query-parameter>')
        ctx = context()
        await run(steps, ctx)
        assert ctx.request.url.query == {"flag": [""]}


def test_end_to_end(api_gateway, backend) -> None:
    policy = """<policies><inbound><base />
        <set-query-parameter name="api-version" exists-action="override"><value>2024-01-01</value></set-query-parameter>
        <set-query-parameter name="secret" exists-action="delete" />
      </inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"""
    with api_gateway(policy) as gw:
        echoed = gw.request("GET", "/echo/items?secret=s&keep=1&api-version=old").json()
    assert sorted(echoed["query"].split("&")) == ["api-version=2024-01-01", "keep=1"]
