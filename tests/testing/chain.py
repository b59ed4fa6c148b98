"""A small document chain used by the runner's tests (written into a temporary folder)."""

from __future__ import annotations

from pathlib import Path

GLOBAL = """<policies>
    <inbound>
        <set-header name="X-Tenant" exists-action="override"><value>{{tenant}}</value></set-header>
    </inbound>
    <backend><forward-request timeout="5" /></backend>
    <outbound />
    <on-error>
        <set-body>@(context.LastError.Reason)</set-body>
    </on-error>
</policies>
"""

API = """<policies>
    <inbound>
        <base />
        <cache-lookup-value key="@("greeting-" + (string)context.Variables["who"])" variable-name="greeting" />
        <choose>
            <when condition="@(context.Variables.ContainsKey("greeting"))">
                <return-response>
                    <set-status code="200" />
                    <set-body>@((string)context.Variables["greeting"])</set-body>
                </return-response>
            </when>
        </choose>
        <send-request mode="new" response-variable-name="profile" timeout="2" ignore-error="true">
            <set-url>https://profiles.test/users/alice</set-url>
        </send-request>
        <set-variable name="day" value="@(DateTime.UtcNow.ToString("yyyy-MM-dd"))" />
        <trace source="chain" severity="information"><message>@("day " + (string)context.Variables["day"])</message></trace>
        <emit-metric name="Greetings" namespace="tests" value="1">
            <dimension name="who" value="@((string)context.Variables["who"])" />
        </emit-metric>
    </inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <cache-store-value key="@("greeting-" + (string)context.Variables["who"])" value="@(context.Response.Body.As<string>(preserveContent: true))" duration="60" />
        <include-fragment fragment-id="stamp" />
    </outbound>
    <on-error><base /></on-error>
</policies>
"""

OPERATION = """<policies>
    <inbound>
        <base />
        <set-header name="X-Profile-Status" exists-action="override">
            <value>@(context.Variables.GetValueOrDefault<IResponse>("profile") == null ? "none" : ((IResponse)context.Variables["profile"]).StatusCode.ToString())</value>
        </set-header>
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"""

FRAGMENT = """<fragment>
    <set-header name="X-Day" exists-action="override"><value>@((string)context.Variables["day"])</value></set-header>
</fragment>
"""


def write_chain(folder: Path) -> Path:
    """Write the documents; returns the folder."""
    for name, text in {"global.xml": GLOBAL, "api.xml": API, "operation.xml": OPERATION, "stamp.xml": FRAGMENT}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
