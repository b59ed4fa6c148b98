"""on-error and context.LastError, expressions at run time, and documents the gateway refuses."""

from __future__ import annotations

import json

import pytest

from engine.errors import PolicyLoadError
from tests.gateway.conftest import document
from tests.support.gateway import Backend, simple_config

pytestmark = pytest.mark.every_server  # TLS, HTTP/2, reload, admin, errors, streaming: on every server

# on-error reports context.LastError in response headers, so tests can read every field.
REPORT = "".join(
    f'<set-header name="X-Last-{field}" exists-action="override"><value>@(context.LastError.{field})</value></set-header>'
    for field in ("Source", "Reason", "Message", "Scope", "Section", "Path", "PolicyId")
) + '<set-header name="X-Status" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>'


LAST_ERROR_FIELDS = ("Source", "Reason", "Message", "Scope", "Section", "Path", "PolicyId")


def last_error(answer) -> dict[str, str]:
    """The X-Last-* headers by field (header names are case-insensitive; Granian sends them lower-case)."""
    found = {field: answer.headers.get(f"X-Last-{field}") for field in LAST_ERROR_FIELDS}
    return {field: value for field, value in found.items() if value is not None}


def test_expression_failure_fills_last_error(gateway) -> None:
    policy = document(
        inbound="""<base />
            <choose>
              <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;X-Boom&quot;, &quot;&quot;) == &quot;yes&quot;)">
                <set-variable id="boom" name="n" value="@(int.Parse(&quot;not a number&quot;))" />
              </when>
            </choose>""",
        on_error=REPORT,
    )
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": policy}) as gw:
        assert gw.get("/echo/x").status == 200
        answer = gw.get("/echo/x", headers={"X-Boom": "yes"})
        assert answer.status == 500
        error = last_error(answer)
        assert error["Source"] == "set-variable"
        assert error["Reason"] == "ExpressionValueEvaluationFailure"
        assert (error["Scope"], error["Section"], error["PolicyId"]) == ("api", "inbound", "boom")
        assert error["Path"] == "choose[1]/when[1]/set-variable[1]"
        assert "api.xml:" in error["Message"]  # the message locates the expression
        assert answer.headers.get("X-Status") == "500"
        assert answer.json() == {"statusCode": 500, "message": "Internal server error"}  # no internals leak


def test_backend_failure_last_error(gateway) -> None:
    config = simple_config(api_policy="api.xml")
    config["apis"]["echo"]["service-url"] = Backend.unused_url()
    with gateway(config, {"api.xml": document(on_error=REPORT)}) as gw:
        answer = gw.get("/echo/x")
        error = last_error(answer)
        assert answer.status == 502
        assert (error["Source"], error["Reason"], error["Section"], error["Scope"]) == (
            "forward-request", "BackendConnectionFailure", "backend", "global")


def test_subscription_and_not_found_errors_reach_on_error(gateway) -> None:
    config = simple_config(api_policy="api.xml", global_policy="global.xml", subscription_required=True)
    global_policy = document(backend="<forward-request />", on_error=REPORT)
    with gateway(config, {"api.xml": document(), "global.xml": global_policy}) as gw:
        denied = gw.get("/echo/x")
        assert denied.status == 401
        assert last_error(denied)["Reason"] == "SubscriptionKeyNotFound"
        assert last_error(denied)["Source"] == "authorization"
        missing = gw.get("/nowhere")
        assert missing.status == 404
        assert last_error(missing)["Reason"] == "OperationNotFound"
        assert missing.json()["message"] == "Resource not found"


def test_on_error_can_answer_with_its_own_response(gateway) -> None:
    on_error = """<return-response>
          <set-status code="503" reason="Unavailable" />
          <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
          <set-body>@(new JObject(new JProperty("reason", context.LastError.Reason)).ToString())</set-body>
        </return-response>"""
    config = simple_config(api_policy="api.xml")
    config["apis"]["echo"]["service-url"] = Backend.unused_url()
    with gateway(config, {"api.xml": document(on_error=on_error)}) as gw:
        answer = gw.get("/echo/x")
        assert answer.status == 503
        assert json.loads(answer.body) == {"reason": "BackendConnectionFailure"}


def test_error_inside_on_error_is_a_plain_500(gateway) -> None:
    on_error = '<set-variable name="x" value="@(int.Parse(&quot;nope&quot;))" />'
    policy = document(inbound='<base /><set-variable name="y" value="@(int.Parse(&quot;bad&quot;))" />', on_error=on_error)
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": policy}) as gw:
        answer = gw.get("/echo/x")
        assert answer.status == 500
        assert answer.json() == {"statusCode": 500, "message": "Internal server error"}


def test_expressions_see_the_request(gateway) -> None:
    config = simple_config(api_policy="api.xml", operations={"get": {"method": "GET", "url-template": "/items/{id}"}})
    policy = document(inbound="""<base />
        <set-variable name="id" value="@(context.Request.MatchedParameters[&quot;id&quot;])" />
        <set-variable name="twice" value="@(int.Parse((string)context.Variables[&quot;id&quot;]) * 2)" />
        <set-header name="X-Twice" exists-action="override"><value>@(((int)context.Variables["twice"]).ToString())</value></set-header>
        <set-header name="X-Op" exists-action="override"><value>@(context.Operation.Id + "/" + context.Api.Id)</value></set-header>
        <rewrite-uri template="@(&quot;/v2/items/&quot; + context.Variables[&quot;id&quot;])" />""")
    with gateway(config, {"api.xml": policy}) as gw:
        echoed = gw.get("/echo/items/21").json()
        assert echoed["headers"]["x-twice"] == "42"
        assert echoed["headers"]["x-op"] == "get/echo"
        assert echoed["path"] == "/v2/items/21"


def test_retry_condition_reads_the_response(gateway, backend) -> None:
    backend.respond(status=503, body="busy")
    policy = document(backend="""<retry condition="@(context.Response.StatusCode == 503)" count="3" interval="0">
            <forward-request />
        </retry>""")
    with gateway(simple_config(api_policy="api.xml"), {"api.xml": policy}) as gw:
        answer = gw.get("/echo/x")
        assert (answer.status, answer.text) == (503, "busy")
        assert backend.calls == 4


@pytest.mark.parametrize(
    ("inbound", "code"),
    [
        ('<base /><set-header name="X" exists-action="override"><value>@(context.Nope)</value></set-header>', "expr-"),
        ('<base /><sql-data-source />', "policy-not-implemented"),
        ('<base /><set-status code="many" />', "policy-"),
    ],
)
def test_invalid_documents_stop_startup(gateway, inbound: str, code: str) -> None:
    with pytest.raises(PolicyLoadError) as info:
        with gateway(simple_config(api_policy="api.xml"), {"api.xml": document(inbound=inbound)}):
            pass
    assert any(d.code.startswith(code) for d in info.value.diagnostics), [d.format() for d in info.value.diagnostics]
    assert all(d.span.file.endswith("api.xml") for d in info.value.diagnostics)
