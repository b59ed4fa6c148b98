"""`<jsonp>`: wrap a JSON response as a JSONP script when the caller names a callback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Scope, Section, Str
from policies._body import is_content_encoded, is_json_type, media_type, read_body, replace_body

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

# A JavaScript identifier path (`cb`, `$.handlers.done`, `jQuery3_1`): nothing else can reach the
# script, so a callback parameter can never inject code into the response.
CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
MAX_CALLBACK = 128
CONTENT_TYPE = "application/javascript; charset=utf-8"


@dataclass(frozen=True)
class JsonpStep:
    parameter: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        values = ctx.request.original_url.query.get(str(self.parameter.get(ctx) or ""))
        if not values:
            return None
        callback = values[0]
        if len(callback) > MAX_CALLBACK or not CALLBACK.match(callback):
            raise PolicyRuntimeError(
                "The callback parameter is not a valid JavaScript function name.", source="jsonp",
                reason="CallbackParameterInvalid", status=400,
            )
        response = ctx.response
        if not is_json_type(media_type(response.headers)) or is_content_encoded(response.headers):
            return None
        body = await read_body(ctx, response)
        if body is None:
            return None
        replace_body(response, f"{callback}(".encode() + body + b");", CONTENT_TYPE)
        return None


class Jsonp(Policy):
    """Wrap the JSON response as a JSONP script for browser clients that cannot make cross-origin
    calls otherwise: when the caller's query string has the parameter named by
    `callback-parameter-name` (say `?cb=handle`), a JSON response (`application/json`, `text/json`,
    `*+json`) becomes `handle(<json>);` with `Content-Type: application/javascript; charset=utf-8`.
    Without the parameter, or for other content types, the response is unchanged.

    The callback must be a JavaScript identifier or dotted path of identifiers (at most 128
    characters), so a caller can never inject script. Any other value fails the policy with reason
    `CallbackParameterInvalid` and status 400 (APIM documents the reason, not the status).
    """

    tag = "jsonp"
    sections = Section.OUTBOUND
    scopes = Scope.ALL
    once_per_section = True
    implemented = True
    attributes = (Attr("callback-parameter-name", Str(non_empty=True), required=True,
                       doc="The query parameter that names the callback function."),)

    def build(self, element: PolicyElement, builder: Builder) -> JsonpStep:
        return JsonpStep(builder.value(element, "callback-parameter-name"))
