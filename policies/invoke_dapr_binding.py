"""`<invoke-dapr-binding>`: invoke a Dapr output binding through the Dapr sidecar."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Child, Enum, Int, Scope, Section, Str, Text
from policies._dapr import call_dapr, dapr_url
from policies._values import text_or_empty
from policies.set_body import SetBody, SetBodyStep

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

TAG = "invoke-dapr-binding"


@dataclass(frozen=True)
class InvokeDaprBindingStep:
    name: Value
    operation: Value
    metadata: tuple[tuple[str, Value], ...]
    data: SetBodyStep | None
    content_type: Value
    timeout: Value
    ignore_error: Value
    variable: str

    async def __call__(self, ctx: Context) -> Flow | None:
        payload: dict[str, Any] = {}
        if self.data is not None:
            text = (await self.data.render(ctx, ctx.request)).decode("utf-8", "replace")
            try:
                payload["data"] = json.loads(text)  # JSON content is sent as JSON, anything else as a string
            except ValueError:
                payload["data"] = text
        if self.metadata:
            payload["metadata"] = {key: str(value.get(ctx) or "") for key, value in self.metadata}
        operation = str(self.operation.get(ctx) or "")
        if operation:
            payload["operation"] = operation
        await call_dapr(ctx, TAG, dapr_url(ctx, "bindings", str(self.name.get(ctx) or "")),
                        json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                        str(self.content_type.get(ctx) or "application/json"), float(self.timeout.get(ctx)),
                        bool(self.ignore_error.get(ctx)), self.variable)
        return None


class InvokeDaprBinding(Policy):
    """Invoke the Dapr output binding `name` through the Dapr sidecar's HTTP API:
    `POST <dapr>/v1.0/bindings/<name>` with the JSON body `{"data": ..., "metadata": {...},
    "operation": "..."}`. `data` is the `<data>` child's content (text, an expression, or with
    `template="liquid"` a Liquid template), sent as JSON when it parses as JSON and as a string
    otherwise; `metadata` holds the `<item key="...">` values. The sidecar is `dapr.endpoint` of the
    gateway configuration (as for `publish-to-dapr`).

    The binding's answer (an `IResponse`) is stored in `response-variable-name`. No sidecar, no
    answer within `timeout` seconds (default 5) or an error status fails the policy (on-error runs;
    reason `DaprError` for an error status) unless `ignore-error` is true, which stores null instead.
    """

    tag = TAG
    sections = Section.INBOUND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    reads_body = False
    implemented = True
    attributes = (
        Attr("name", Str(non_empty=True), required=True, doc="The Dapr binding."),
        Attr("operation", Str(), doc="The binding's operation (e.g. `create`)."),
        Attr("ignore-error", Bool(), default=False, doc="Carry on when the call fails."),
        Attr("response-variable-name", Str(), expr=False, doc="Variable that receives the binding's answer."),
        Attr("timeout", Int(min=1, max=240), default=5, doc="Seconds to wait for the sidecar."),
        Attr("template", Enum("liquid"), expr=False, doc="'liquid': `<data>` is a Liquid template."),
        Attr("content-type", Str(), doc="Content-Type of the request to the sidecar (default application/json)."),
    )
    children = (
        Child(
            "metadata",
            children=(Child("item", attributes=(Attr("key", Str(), required=True),), text=Text()),),
            max=1,
            doc="Metadata for the binding.",
        ),
        Child("data", text=Text(), max=1, doc="The binding's data."),
    )

    def keeps_unknown_named_values(self, element: PolicyElement) -> bool:
        template = element.get("template")  # {{ x }} in a Liquid <data> is template output
        return template is not None and template.text.strip().lower() == "liquid"

    def build(self, element: PolicyElement, builder: Builder) -> InvokeDaprBindingStep:
        variable = element.get("response-variable-name")
        metadata = element.child("metadata")
        items = tuple((item.get("key").text, text_or_empty(builder, item))  # type: ignore[union-attr]  # required
                      for item in (metadata.children_named("item") if metadata is not None else []))
        data = element.child("data")
        template = element.get("template")
        if data is not None and template is not None:  # the template attribute applies to <data>
            data = replace(data, attributes={**data.attributes, "template": template})
        return InvokeDaprBindingStep(
            builder.value(element, "name"),
            builder.value(element, "operation"),
            items,
            SetBody().build(data, builder) if data is not None else None,
            builder.value(element, "content-type"),
            builder.value(element, "timeout"),
            builder.value(element, "ignore-error"),
            variable.text.strip() if variable is not None else "",
        )
