"""The default response a request starts with: a pass-through builds none, every reader still has one.

The gateway makes the context without a response and sets a default before anything can read it,
except for a pipeline whose first step is a forward-request with constant attributes (nothing reads
the response before the backend's answer replaces it: `Pipeline.backend_first`).
"""

from __future__ import annotations

from engine.diagnostics import Diagnostics
from engine.document import load_document
from engine.gateway.builder import PipelineBuilder
from engine.gateway.pipeline import Pipeline
from engine.registry import default_registry
from tests.gateway.conftest import document
from tests.support.gateway import simple_config

SECTIONS = ("inbound", "backend", "outbound", "on-error")


def built(inbound: str = "", backend: str = "<forward-request />") -> Pipeline:
    diagnostics = Diagnostics()
    doc = load_document("doc.xml", text=f"<policies><inbound>{inbound}</inbound><backend>{backend}</backend>"
                        "<outbound /><on-error /></policies>", registry=default_registry(), diagnostics=diagnostics)
    assert doc is not None, [d.format() for d in diagnostics]
    sections = {name: doc.policies(name) for name in SECTIONS}
    for name, elements in sections.items():
        for element in elements:
            element.section = name
    builder = PipelineBuilder(default_registry())
    pipeline = builder.pipeline(sections)
    builder.finish()
    return pipeline


def test_only_a_pipeline_that_starts_with_a_constant_forward_request_is_backend_first() -> None:
    assert built().backend_first
    assert built(backend='<forward-request timeout="20" buffer-request-body="true" />').backend_first
    assert not built(backend='<forward-request timeout="@(context.Response.StatusCode == 200 ? 30 : 1)" />').backend_first
    assert not built(inbound='<set-header name="X" exists-action="override"><value>1</value></set-header>').backend_first
    assert not built(backend='<retry condition="false" count="1" interval="1"><forward-request /></retry>').backend_first
    assert not built(backend="").backend_first


def test_policies_that_read_the_response_before_the_backend_see_the_default(gateway, backend) -> None:
    inbound = ('<set-variable name="before" value="@(context.Response.StatusCode + &quot;/&quot; + '
               'context.Response.Headers.Count)" />')
    forward = '<forward-request timeout="@(context.Response.StatusCode == 200 ? 30 : 1)" />'
    outbound = ('<set-header name="X-Before" exists-action="override">'
                '<value>@((string)context.Variables["before"])</value></set-header>')
    policies = {"api.xml": document(inbound=inbound, backend=forward, outbound=outbound),
                "forward.xml": document(backend=forward)}
    config = simple_config(api_policy="api.xml")
    with gateway(config, policies) as gw:
        answer = gw.get("/echo/x")
        assert answer.status == 200
        assert answer.headers.get("X-Before") == "200/0"  # the default response: 200, no headers
        assert answer.json()["path"] == "/x"
    config["apis"]["echo"]["policy"] = "forward.xml"  # only the forward-request reads it
    with gateway(config, policies) as gw:
        assert gw.get("/echo/y").status == 200


def test_a_pass_through_answers_with_the_backend_response(gateway, backend) -> None:
    with gateway(simple_config()) as gw:
        answer = gw.get("/echo/items/1?a=b")
        assert answer.status == 200
        assert answer.json()["path"] == "/items/1"
        missing = gw.get("/nowhere")  # no operation: a default response made for the global pipeline
        assert missing.status == 404
