"""`<publish-to-dapr>`: publish a message to a Dapr publish/subscribe topic through the Dapr sidecar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Enum, Int, Scope, Section, Str, Text
from policies._dapr import call_dapr, dapr_url
from policies.set_body import SetBody, SetBodyStep

if TYPE_CHECKING:
    from engine.context import Context
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement

TAG = "publish-to-dapr"


@dataclass(frozen=True)
class PublishToDaprStep:
    pubsub: Value | None
    topic: Value
    content: SetBodyStep
    content_type: Value
    timeout: Value
    ignore_error: Value
    variable: str

    async def __call__(self, ctx: Context) -> Flow | None:
        topic = str(self.topic.get(ctx) or "").strip()
        pubsub = str(self.pubsub.get(ctx) or "").strip() if self.pubsub is not None else ""
        if not pubsub:  # the `pubsub/topic` form
            pubsub, _, topic = topic.partition("/")
        if not pubsub or not topic:
            raise PolicyRuntimeError(f"'{topic}' names no pub/sub component and topic", source=TAG,
                                     reason="ExpressionValueEvaluationFailure")
        body = await self.content.render(ctx, ctx.request)
        await call_dapr(ctx, TAG, dapr_url(ctx, "publish", pubsub, topic), body,
                        str(self.content_type.get(ctx) or "application/json"), float(self.timeout.get(ctx)),
                        bool(self.ignore_error.get(ctx)), self.variable)
        return None


class PublishToDapr(Policy):
    """Publish the element's content (text, an expression, or with `template="liquid"` a Liquid
    template) to the topic `topic` of the Dapr pub/sub component `pubsub-name`, through the Dapr
    sidecar's HTTP API: `POST <dapr>/v1.0/publish/<pubsub-name>/<topic>` with `Content-Type:
    <content-type>` (default `application/json`). Without `pubsub-name`, `topic` is written
    `pubsub/topic`. The sidecar is `dapr.endpoint` of the gateway configuration (default
    `http://localhost:<DAPR_HTTP_PORT or 3500>`, as APIM's self-hosted gateway expects it);
    `DAPR_API_TOKEN` in the environment is sent as `dapr-api-token`.

    The sidecar's answer (an `IResponse`; 204 when published) is stored in
    `response-variable-name`. No sidecar, no answer within `timeout` seconds (default 5) or an
    error status fails the policy (on-error runs; reason `DaprError` for an error status) unless
    `ignore-error` is true, which stores null instead.
    """

    tag = TAG
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("pubsub-name", Str(), doc="The Dapr pub/sub component."),
        Attr("topic", Str(non_empty=True), required=True, doc="The topic (or `pubsub/topic`)."),
        Attr("ignore-error", Bool(), default=False, doc="Carry on when publishing fails."),
        Attr("response-variable-name", Str(), expr=False, doc="Variable that receives the sidecar's answer."),
        Attr("timeout", Int(min=1, max=240), default=5, doc="Seconds to wait for the sidecar."),
        Attr("template", Enum("liquid"), expr=False, doc="'liquid': the content is a Liquid template."),
        Attr("content-type", Str(), doc="Content-Type of the message (default application/json)."),
    )
    text = Text(doc="The message content.")

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        topic = element.get("topic")
        if element.get("pubsub-name") is None and topic is not None and not topic.is_expression \
                and "/" not in topic.text.strip("/"):
            diagnostics.error("policy-missing-attribute",
                              "<publish-to-dapr> needs 'pubsub-name' unless 'topic' is written 'pubsub/topic'", element.span)

    def keeps_unknown_named_values(self, element: PolicyElement) -> bool:
        return SetBody().keeps_unknown_named_values(element)

    def build(self, element: PolicyElement, builder: Builder) -> PublishToDaprStep:
        variable = element.get("response-variable-name")
        return PublishToDaprStep(
            builder.value(element, "pubsub-name") if element.get("pubsub-name") is not None else None,
            builder.value(element, "topic"),
            SetBody().build(element, builder),
            builder.value(element, "content-type"),
            builder.value(element, "timeout"),
            builder.value(element, "ignore-error"),
            variable.text.strip() if variable is not None else "",
        )
