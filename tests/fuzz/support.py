"""Shared pieces of the fuzz tests: settings, a hang guard, seed documents/expressions, mutation.

Bounded by default (a few hundred examples per test, derandomized, no example database), so the
directory runs in well under 30 s as part of the normal suite. A longer, random campaign:

    POLICYGATE_FUZZ_SCALE=50 .venv/bin/python -m pytest tests/fuzz -q

multiplies every `max_examples` by 50, draws fresh random inputs each run and keeps failing
examples in `.hypothesis/` (replayed first next time). See docs/robustness.md.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SCALE = float(os.environ.get("POLICYGATE_FUZZ_SCALE", "1") or 1)
CAMPAIGN = SCALE != 1
HANG_SECONDS = 10.0  # one example taking longer than this is a hang (real work takes milliseconds)


def fuzz_settings(examples: int) -> settings:
    """`examples` in the normal suite; scaled, random and remembered in a campaign."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,  # timing asserts are flaky on a busy CI machine: hangs are caught by `no_hang`
        derandomize=not CAMPAIGN,
        database=settings.default.database if CAMPAIGN else None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        print_blob=CAMPAIGN,
    )


class Hang(BaseException):
    """Raised into the test by the alarm; a BaseException so `except Exception` in the code under test cannot swallow it."""


@contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail with `Hang` when the block runs longer than `seconds` (main thread, POSIX; else unguarded)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- mutation ------------------------------------------------------------------------------------
XML_TOKENS = [
    "<", ">", "/>", "</", '"', "'", "=", "&", "&amp;", "&lt;", "&#0;", "&#x1F600;", "&#xD800;", "&bogus;",
    "@(", "@{", "(", ")", "{", "}", "{{", "}}", "{{missing-value}}", "{{backend-url}}", "<![CDATA[", "]]>",
    "<!--", "-->", "<base/>", "<base />", "<choose>", "</choose>", "<when condition=\"@(true)\">", "</when>",
    "<otherwise>", "<set-header name=\"x\" exists-action=\"override\"><value>v</value></set-header>",
    "<inbound>", "</inbound>", "<outbound>", "<on-error>", "<backend>", "<policies>", "</policies>",
    "<fragment>", "<include-fragment fragment-id=\"f\"/>", "xmlns=\"urn:other\"", "xmlns:p=\"urn:p\"", "p:tag",
    "<?xml version=\"1.0\"?>", "<!DOCTYPE policies [<!ENTITY e \"eeeeeeee\">]>", "&e;",
    "<!DOCTYPE x SYSTEM \"file:///etc/passwd\">", "\x00", "\x07", "\ufeff", "\u202e", "\ud7ff", "\r\n", "\t",
    " " * 64, "é", "日本", "context.Request.Headers", ".GetValueOrDefault(\"a\", \"b\")", "\"\"", "\\\"",
    "calls=\"-1\"", "renewal-period=\"999999999999999999999\"", "duration=\"abc\"", "id=\"\"", "@(1/0)",
    "@{ while(true) {} }", "@(new string('x', 100000000))",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str], tokens: list[str]) -> str:
    """A seed with 1-5 random edits: delete, duplicate, insert a token or a char, move, truncate."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 5))):
        if not text:
            text = draw(st.sampled_from(tokens))
            continue
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        operation = draw(st.sampled_from(["delete", "duplicate", "token", "char", "move", "truncate"]))
        if operation == "delete":
            text = text[:i] + text[j:]
        elif operation == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif operation == "token":
            text = text[:i] + draw(st.sampled_from(tokens)) + text[i:]
        elif operation == "char":
            text = text[:i] + draw(st.characters(codec="utf-8")) + text[i + 1:]
        elif operation == "move":  # cut [i:j] and paste it elsewhere
            piece, rest = text[i:j], text[:i] + text[j:]
            k = draw(st.integers(0, len(rest)))
            text = rest[:k] + piece + rest[k:]
        else:
            text = text[:i]
    return text


# -- seed documents (written for these tests) ----------------------------------------------------
SEED_DOCUMENTS = [
    """<policies>
  <inbound>
    <base />
    <check-header name="X-Tenant" failed-check-httpcode="400" failed-check-error-message="tenant missing" ignore-case="true">
      <value>alpha</value>
      <value>beta</value>
    </check-header>
    <set-variable name="tenant" value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Tenant&quot;, &quot;none&quot;))" />
    <rate-limit-by-key calls="20" renewal-period="30" counter-key="@((string)context.Variables[&quot;tenant&quot;])"
                       increment-condition="@(context.Response.StatusCode &lt; 500)" />
    <cache-lookup vary-by-developer="false" vary-by-developer-groups="false" caching-type="prefer-external">
      <vary-by-header>Accept</vary-by-header>
      <vary-by-query-parameter>page</vary-by-query-parameter>
    </cache-lookup>
  </inbound>
  <backend>
    <forward-request timeout="20" />
  </backend>
  <outbound>
    <base />
    <set-header name="X-Tenant-Echo" exists-action="override">
      <value>@(context.Variables.GetValueOrDefault&lt;string&gt;("tenant", "?"))</value>
    </set-header>
    <cache-store duration="120" />
  </outbound>
  <on-error>
    <return-response>
      <set-status code="502" reason="Upstream trouble" />
      <set-body>@{
        var error = context.LastError;
        return new JObject(new JProperty("reason", error.Reason), new JProperty("source", error.Source)).ToString();
      }</set-body>
    </return-response>
  </on-error>
</policies>""",
    """<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Method == &quot;DELETE&quot; &amp;&amp; !context.User.Groups.Any(g =&gt; g.Name == &quot;admins&quot;))">
        <return-response>
          <set-status code="403" reason="Forbidden" />
        </return-response>
      </when>
      <when condition="@(context.Request.Url.Query.ContainsKey(&quot;legacy&quot;))">
        <set-backend-service base-url="http://legacy.internal/api" />
        <rewrite-uri template="/v1/{id}" copy-unmatched-params="false" />
      </when>
      <otherwise>
        <set-query-parameter name="api-version" exists-action="skip">
          <value>2024-01-01</value>
        </set-query-parameter>
      </otherwise>
    </choose>
    <base />
  </inbound>
  <backend><base /></backend>
  <outbound>
    <base />
    <set-body>@{
      var body = context.Response.Body.As&lt;JObject&gt;(preserveContent: true);
      body["servedBy"] = "policygate";
      return body.ToString();
    }</set-body>
  </outbound>
  <on-error><base /></on-error>
</policies>""",
    """<fragment>
  <set-header name="X-Correlation-Id" exists-action="skip">
    <value>@(context.RequestId.ToString())</value>
  </set-header>
  <quota-by-key calls="10000" bandwidth="40000" renewal-period="3600" counter-key="@(context.Subscription?.Id ?? &quot;anonymous&quot;)" />
  <ip-filter action="allow">
    <address-range from="10.0.0.0" to="10.255.255.255" />
    <address>127.0.0.1</address>
  </ip-filter>
</fragment>""",
    """<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" failed-validation-httpcode="401" require-scheme="Bearer">
      <issuer-signing-keys><key>{{jwt-signing-key}}</key></issuer-signing-keys>
      <audiences><audience>api://orders</audience></audiences>
      <required-claims><claim name="roles" match="any"><value>reader</value></claim></required-claims>
    </validate-jwt>
    <cors allow-credentials="false">
      <allowed-origins><origin>https://app.example.com</origin></allowed-origins>
      <allowed-methods><method>GET</method><method>POST</method></allowed-methods>
    </cors>
    <mock-response status-code="200" content-type="application/json" />
    <wait for="all"><send-request mode="new" response-variable-name="lookup" timeout="5">
      <set-url>@($"https://lookup.internal/users/{context.User.Id}")</set-url>
      <set-method>GET</set-method>
    </send-request></wait>
  </inbound>
  <backend><retry condition="@(context.Response.StatusCode &gt;= 500)" count="3" interval="1"><forward-request /></retry></backend>
  <outbound><base /><json-to-xml apply="content-type-json" consider-accept-header="true" /></outbound>
  <on-error><base /><trace source="fuzz" severity="error"><message>@(context.LastError.Message)</message></trace></on-error>
</policies>""",
    """<set-header name="X-Single" exists-action="append"><value>@{ var n = 0; foreach (var h in context.Request.Headers) { n += h.Value.Length; } return n.ToString(); }</value></set-header>""",
]

# -- seed expressions (written for these tests) --------------------------------------------------
SEED_EXPRESSIONS = [
    '@(context.Request.Headers.GetValueOrDefault("Authorization", "").Split(\' \').Last())',
    "@(context.Request.Url.Query.GetValueOrDefault(\"page\", \"1\"))",
    "@(int.Parse(context.Request.MatchedParameters[\"id\"]) * 2)",
    "@(context.Variables.ContainsKey(\"s\") ? (string)context.Variables[\"s\"] : \"none\")",
    "@(context.User?.Email ?? \"anonymous@example.com\")",
    "@(DateTime.UtcNow.AddMinutes(5).ToString(\"o\"))",
    "@(context.Request.Body.As<JObject>(preserveContent: true)[\"name\"].ToString())",
    "@(string.Format(\"{0}-{1}\", context.Api.Name, context.Operation.Name).ToLower())",
    "@(Convert.ToBase64String(Encoding.UTF8.GetBytes(context.Subscription.Key)))",
    "@(context.Request.IpAddress.StartsWith(\"10.\") || context.Request.IpAddress == \"127.0.0.1\")",
    "@(Regex.IsMatch(context.Request.Url.Path, \"^/orders/[0-9]+$\"))",
    "@(new JObject(new JProperty(\"id\", context.RequestId), new JProperty(\"at\", context.Timestamp)).ToString())",
    "@(context.Request.Headers.Where(h => h.Key.StartsWith(\"X-\")).Select(h => h.Key).Count())",
    "@{ var total = 0; for (int i = 0; i < 50; i++) { total += i % 7; } return total; }",
    "@{ string[] parts = context.Request.Url.Path.Split('/'); return parts.Length > 2 ? parts[2] : string.Empty; }",
    "@{ var jwt = context.Request.Headers.GetValueOrDefault(\"Authorization\", \"\").AsJwt(); return jwt?.Subject; }",
    "@((context.Response.StatusCode / 100) == 2 && context.Elapsed.TotalMilliseconds < 250.5)",
    "@(Math.Max(1, Math.Min(100, context.Variables.GetValueOrDefault<int>(\"n\", 10))))",
    "@($\"{context.Deployment.Region}:{context.Request.Method}:{context.Request.Url.Port}\")",
    "@(Guid.NewGuid().ToString(\"N\").Substring(0, 8).PadLeft(12, '0'))",
    "@(context.Request.Headers.GetValueOrDefault(\"Accept\", \"*/*\").Contains(\"json\") ? \"json\" : \"xml\")",
    "@(TimeSpan.FromSeconds(90).TotalMinutes.ToString(\"F1\"))",
    "@{ var o = JObject.Parse(\"{\\\"a\\\": [1, 2, 3]}\"); return ((JArray)o[\"a\"]).Sum(t => (int)t); }",
]

EXPR_TOKENS = [
    "(", ")", "[", "]", "{", "}", ".", ",", ";", "?", "?.", "??", ":", "=>", "==", "!=", "<", ">", "<=", ">=", "&&",
    "||", "!", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<<", ">>", "++", "--", "=", "+=", "\"", "'", "@", "$\"",
    "\\", "new ", "var ", "return ", "null", "true", "false", "0", "-1", "2147483648", "9223372036854775808",
    "1e308", "1.5e-400", "0x7FFFFFFF", "'\\u0000'", "\"\\u0041\"", "context", "context.Variables", "context.Request",
    ".ToString()", ".Length", "(string)", "(int)", "(object)", "typeof(string)", "default(int)", "int.MaxValue",
    "for(;;){}", "while(true){}", "throw new Exception()", "x => x", "System.IO.File", "GetType()", "__class__",
    "__import__('os')", "exec", "eval", "lambda", "\u00e9", "\u0000", "\n", "@(", "@{",
]
