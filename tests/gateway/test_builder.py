"""The Builder: typed constants, compiled expressions coerced per request, refusals with locations."""

from __future__ import annotations

import pytest

from engine.context import Context
from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.errors import ExpressionError, PolicyLoadError
from engine.gateway.builder import PipelineBuilder
from engine.policy import Flow, Policy
from engine.registry import PolicyRegistry, default_registry
from engine.schema import Attr, Int, Section


def elements(xml: str, registry: PolicyRegistry | None = None):
    diagnostics = Diagnostics()
    doc = load_document("doc.xml", text=f"<policies><inbound>{xml}</inbound></policies>",
                        registry=registry or default_registry(), diagnostics=diagnostics)
    assert doc is not None, [d.format() for d in diagnostics]
    for element in doc.policies("inbound"):
        element.section = "inbound"
    return doc.policies("inbound")


def test_constants_are_parsed_once_and_defaults_apply() -> None:
    builder = PipelineBuilder(default_registry())
    (retry,) = elements('<retry condition="true" count="3" interval="2"><forward-request /></retry>')
    count = builder.value(retry, "count")
    assert count.is_constant and count.get(Context()) == 3
    assert builder.value(retry, "condition").get(Context()) is True
    assert builder.value(retry, "first-fast-retry").get(Context()) is False  # the schema default


def test_expression_is_coerced_and_failures_carry_the_span() -> None:
    registry = default_registry()
    builder = PipelineBuilder(registry)
    (status,) = elements('<set-status code="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;c&quot;, &quot;204&quot;))" />')
    code = builder.value(status, "code")
    assert not code.is_constant
    assert code.get(Context()) == 204  # the string result becomes the attribute's integer
    ctx = Context(variables={"c": "not a number"})
    with pytest.raises(ExpressionError) as info:
        code.get(ctx)
    assert info.value.span is not None and info.value.span.file == "doc.xml" and info.value.span.line == 1


def test_steps_refuse_unimplemented_policies_with_location() -> None:
    class Declared(Policy):
        tag = "declared-only"
        sections = Section.ALL
        attributes = (Attr("n", Int()),)

    registry = PolicyRegistry([*default_registry().all(), Declared()])
    builder = PipelineBuilder(registry)
    builder.steps(elements('<set-variable name="a" value="1" />\n<declared-only n="1" />', registry))
    with pytest.raises(PolicyLoadError) as info:
        builder.finish()
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "gateway-not-implemented"
    assert "<declared-only>" in diagnostic.message
    assert (diagnostic.span.file, diagnostic.span.line) == ("doc.xml", 2)


async def test_built_steps_run_and_body_needs_are_tracked() -> None:
    builder = PipelineBuilder(default_registry())
    steps = builder.steps(elements('<set-variable name="a" value="@(40 + 2)" /><return-response />'))
    builder.finish()
    assert not builder.needs_request_body and not builder.needs_response_body  # both stream-safe
    ctx = Context()
    assert await steps[0](ctx) is None and ctx.variables["a"] == 42
    assert await steps[1](ctx) is Flow.END and ctx.response.status_code == 200

    reading = PipelineBuilder(default_registry())
    reading.steps(elements('<set-variable name="b" value="@(context.Request.Body.As&lt;string&gt;())" />'))
    assert reading.needs_request_body and reading.needs_response_body
