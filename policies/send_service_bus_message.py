"""`<send-service-bus-message>`: send a message to an Azure Service Bus queue or topic.

The message goes out through Service Bus's REST API (`POST https://<namespace>/<entity>/messages`,
answered 201) with a token for the gateway's identity (`identity:`, audience
`https://servicebus.azure.net`). Broker properties travel as the JSON `BrokerProperties` header,
custom properties as one header each, the payload as the body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from engine.context import Headers, MessageBody, Request, Url
from engine.errors import PolicyRuntimeError
from engine.identity import TokenError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Child, Scope, Section, Str, Text
from policies._rules import require_one_of
from policies._values import text_or_empty
from policies.authentication_managed_identity import FAILURE_REASON as TOKEN_FAILURE
from policies.authentication_managed_identity import identity_token
from policies.send_request import send

if TYPE_CHECKING:
    from engine.context import Context, Response
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "send-service-bus-message"
SERVICE_BUS = "https://servicebus.azure.net"  # the Entra resource (token audience) of Azure Service Bus
SEND_FAILURE = "ServiceBusSendFailure"
PUBLIC_MESSAGE = "Internal server error"
DEFAULT_TIMEOUT = 10.0
METRIC = "policygate_service_bus_messages_total"
METRIC_HELP = "send-service-bus-message sends, by entity kind and result (sent, or the failure reason)."
MAX_ENTITY = 260  # Service Bus's longest queue or topic path
# A queue or topic path: letters, digits, '.', '-', '_', segments separated by single '/'.
ENTITY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]|/(?=[A-Za-z0-9._-]))*")
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
NAMESPACE = re.compile(rf"(?=.{{1,253}}$){LABEL}(?:\.{LABEL})*")  # a host name (FQDN)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP field name (RFC 9110 token)
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in a header value (tab is)
# Broker properties a sender may set (Service Bus REST API, "Message headers and properties"),
# sent in the BrokerProperties header; ContentType becomes the Content-Type header.
BROKER_PROPERTIES = {name.lower(): name for name in (
    "CorrelationId", "ForcePersistence", "Label", "MessageId", "PartitionKey", "ReplyTo", "ReplyToSessionId",
    "ScheduledEnqueueTimeUtc", "SessionId", "TimeToLive", "To", "ViaPartitionKey",
)}
CONTENT_TYPE = "contenttype"
# Headers the request itself needs: not available as custom property names.
RESERVED_HEADERS = frozenset({
    "authorization", "brokerproperties", "connection", "content-length", "content-type", "expect", "host",
    "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "x-ms-retrypolicy",
})


def property_problem(name: str) -> str | None:
    """Why `name` cannot be a message property, or None."""
    if not HEADER_NAME.fullmatch(name):
        return f"message property name '{name}' is not a valid HTTP header name"
    if name.lower() in RESERVED_HEADERS:
        return f"message property name '{name}' is a header of the request itself"
    return None


def entity_problem(name: str) -> str | None:
    if len(name) > MAX_ENTITY or not ENTITY.fullmatch(name):
        return (f"'{name}' is not a Service Bus queue or topic name (letters, digits, '.', '-', '_' and "
                f"'/' between segments, at most {MAX_ENTITY} characters)")
    return None


def namespace_problem(namespace: str) -> str | None:
    if not NAMESPACE.fullmatch(namespace):
        return f"'{namespace}' is not the host name of a Service Bus namespace (e.g. contoso.servicebus.windows.net)"
    return None


def _failure(message: str, reason: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(message, source=TAG, reason=reason, status=500, public_message=PUBLIC_MESSAGE)


def _bad_value(message: str) -> PolicyRuntimeError:
    return PolicyRuntimeError(message, source=TAG, reason="ExpressionValueEvaluationFailure")


def broker_value(name: str, value: str) -> object:
    """The JSON value of broker property `name`: TimeToLive in seconds, ForcePersistence a boolean."""
    if name == "TimeToLive":
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < float("inf"):
            raise _bad_value(f"message property TimeToLive '{value}' is not a positive number of seconds")
        return int(seconds) if seconds.is_integer() else seconds
    if name == "ForcePersistence":
        if value.strip().lower() not in ("true", "false"):
            raise _bad_value(f"message property ForcePersistence '{value}' is not true or false")
        return value.strip().lower() == "true"
    return value


def payload_type(payload: str) -> str:
    """`application/json` for a JSON object or array, else `text/plain; charset=utf-8`."""
    if payload.lstrip()[:1] in ("{", "["):
        try:
            json.loads(payload)
            return "application/json"
        except ValueError:
            pass
    return "text/plain; charset=utf-8"


def error_detail(response: Response) -> str:
    """Service Bus's explanation: the `<Detail>` of its XML error body, else the body's start."""
    text = response.body.content.decode("utf-8", "replace") if response.body is not None else ""
    found = re.search(r"<Detail>(.*?)</Detail>", text, re.DOTALL)
    detail = found.group(1) if found else text
    return " ".join(detail.split())[:300] or response.status_reason


@dataclass(frozen=True)
class SendServiceBusMessageStep:
    kind: str  # "queue" or "topic"
    entity: Value
    namespace: Value
    client_id: Value
    payload: Value
    properties: tuple[tuple[str, Value], ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        try:
            await self.deliver(ctx)
        except PolicyRuntimeError as error:
            self.count(ctx, error.reason or "error")
            raise
        self.count(ctx, "sent")
        return None

    def count(self, ctx: Context, result: str) -> None:
        metrics = getattr(ctx.services, "metrics", None)
        if metrics is not None:
            metrics.counter(METRIC, METRIC_HELP, ("kind", "result")).inc(self.kind, result)

    async def deliver(self, ctx: Context) -> None:
        settings = getattr(getattr(ctx.services, "settings", None), "service_bus", None)
        entity = str(self.entity.get(ctx) or "").strip()
        namespace = str(self.namespace.get(ctx) or "").strip() or getattr(settings, "namespace", "")
        problem = entity_problem(entity) or (namespace_problem(namespace) if namespace else
                                             "no namespace (the namespace attribute or service-bus.namespace)")
        if problem:
            raise _bad_value(f"{problem} ({self.kind}-name, namespace)")
        endpoints: dict[str, str] = getattr(settings, "endpoints", None) or {}
        base = endpoints.get(namespace.lower()) or f"https://{namespace}"
        url = Url.parse(f"{base}/{quote(entity, safe='/')}/messages")
        headers, body = self.message(ctx)
        try:
            token = await identity_token(ctx, SERVICE_BUS, str(self.client_id.get(ctx) or ""))
        except TokenError as exc:
            raise _failure(f"Failed to obtain a managed identity token for Service Bus: {exc}", TOKEN_FAILURE) from None
        headers.set("Authorization", f"Bearer {token}")
        where = f"Service Bus {self.kind} '{entity}' of {namespace}"
        timeout = float(getattr(settings, "timeout", DEFAULT_TIMEOUT))
        try:
            response = await send(ctx, Request("POST", url, url.copy(), headers, MessageBody(body)), timeout, TAG)
        except PolicyRuntimeError as error:
            raise _failure(f"Sending to {where} failed: {error.message}", error.reason) from None
        if not 200 <= response.status_code < 300:
            raise _failure(f"{where} answered {response.status_code}: {error_detail(response)}", SEND_FAILURE)

    def message(self, ctx: Context) -> tuple[Headers, bytes]:
        """The request's headers (content type, broker and custom properties) and body."""
        payload = str(self.payload.get(ctx) or "")
        headers = Headers()
        broker: dict[str, Any] = {}
        content_type = ""
        for name, raw in self.properties:
            got = raw.get(ctx)
            value = "" if got is None else str(got)
            if CONTROL.search(value):
                raise _bad_value(f"message property '{name}' has a line break or control character")
            lower = name.lower()
            if lower == CONTENT_TYPE:
                content_type = value
            elif lower in BROKER_PROPERTIES:
                broker[BROKER_PROPERTIES[lower]] = broker_value(BROKER_PROPERTIES[lower], value)
            else:
                headers.set(name, value)
        headers.set("Content-Type", content_type or payload_type(payload))
        if broker:
            headers.set("BrokerProperties", json.dumps(broker, separators=(",", ":")))
        return headers, payload.encode("utf-8")


class SendServiceBusMessage(Policy):
    """Send `<payload>` as a message to the Service Bus queue `queue-name` or topic `topic-name` of
    the namespace `namespace` (its host name, e.g. `contoso.servicebus.windows.net`; without the
    attribute, `service-bus.namespace` of the gateway configuration), then carry on with the
    request. It is Service Bus's REST API: `POST https://<namespace>/<queue or topic>/messages`
    with `Authorization: Bearer <token>`, the token coming from the gateway's identity
    (`identity:`; audience `https://servicebus.azure.net`, as `client-id` when given, else the
    default identity; cached and refreshed like `authentication-managed-identity`'s).
    `service-bus.endpoints` maps a namespace to another base URL (a local or test server).

    Each `<message-property name="...">value</message-property>` is a broker property when its name
    is one Service Bus defines (`CorrelationId`, `ForcePersistence`, `Label`, `MessageId`,
    `PartitionKey`, `ReplyTo`, `ReplyToSessionId`, `ScheduledEnqueueTimeUtc`, `SessionId`,
    `TimeToLive` in seconds, `To`, `ViaPartitionKey`; any letter case), sent in the JSON
    `BrokerProperties` header; `ContentType` sets the message's content type; any other name is a
    custom (application) property, sent as a header of that name with the value as written. Without
    `ContentType` the message is `application/json` when the payload is a JSON object or array,
    else `text/plain; charset=utf-8`.

    The policy waits for Service Bus to accept the message (APIM's documentation does not say what
    happens on failure; a message silently lost is worse than a failed request). When no token is
    obtained (reason `ManagedIdentityTokenFailure`), Service Bus answers anything but 2xx (reason
    `ServiceBusSendFailure`, with Service Bus's status and explanation in
    `context.LastError.Message`), cannot be reached (`BackendConnectionFailure`) or does not answer
    within `service-bus.timeout` seconds (default 10; `Timeout`), the policy fails: on-error runs,
    and without it the caller gets 500 `Internal server error`. A queue, topic or namespace
    expression giving an invalid name fails with `ExpressionValueEvaluationFailure`.
    `policygate_service_bus_messages_total` on `/metrics` counts sends by `kind` (queue, topic)
    and `result` (`sent`, or the failure reason).
    """

    tag = TAG
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    needs_settings = ("identity",)
    attributes = (
        Attr("queue-name", Str(non_empty=True), doc="The queue to send to (or topic-name)."),
        Attr("topic-name", Str(non_empty=True), doc="The topic to send to (or queue-name)."),
        Attr("namespace", Str(), doc="Host name of the Service Bus namespace (default `service-bus.namespace`)."),
        Attr("client-id", Str(), doc="Client id of a user-assigned identity (default: the provider's identity)."),
    )
    children = (
        Child(
            "message-properties",
            children=(
                Child("message-property", attributes=(Attr("name", Str(non_empty=True), required=True, expr=False),),
                      text=Text(), doc="A broker or custom property of the message."),
            ),
            max=1,
            doc="Properties of the message.",
        ),
        Child("payload", text=Text(), min=1, max=1, doc="The message body."),
    )

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        require_one_of(element, ("queue-name", "topic-name"), diagnostics)
        if element.get("queue-name") is not None and element.get("topic-name") is not None:
            diagnostics.error("policy-bad-value", f"<{TAG}> takes either 'queue-name' or 'topic-name', not both",
                              element.span)
        for attribute, problem_of in (("queue-name", entity_problem), ("topic-name", entity_problem),
                                      ("namespace", namespace_problem)):
            value = element.get(attribute)
            if value is not None and not value.is_expression and value.text.strip():
                problem = problem_of(value.text.strip())
                if problem:
                    diagnostics.error("policy-bad-value", f"{attribute}: {problem}", value.span)
        seen: set[str] = set()
        for prop in _properties(element):
            name = prop.get("name")
            if name is None:
                continue  # the schema reports the missing attribute
            text = name.text.strip()
            problem = property_problem(text) or (f"message property '{text}' is set twice"
                                                 if text.lower() in seen else None)
            seen.add(text.lower())
            if problem:
                diagnostics.error("policy-bad-value", problem, name.span)

    def build(self, element: PolicyElement, builder: Builder) -> SendServiceBusMessageStep:
        kind = "queue" if element.get("queue-name") is not None else "topic"
        payload = element.child("payload")
        assert payload is not None  # required by the schema
        return SendServiceBusMessageStep(
            kind,
            builder.value(element, f"{kind}-name"),
            builder.value(element, "namespace"),
            builder.value(element, "client-id"),
            text_or_empty(builder, payload),
            tuple((prop.get("name").text.strip(), text_or_empty(builder, prop))  # type: ignore[union-attr]  # required
                  for prop in _properties(element)),
        )


def _properties(element: PolicyElement) -> list[PolicyElement]:
    holder = element.child("message-properties")
    return list(holder.children_named("message-property")) if holder is not None else []
