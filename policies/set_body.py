"""`<set-body>`: replace the request or response body with text, an expression's result or a Liquid template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import PolicyLoadError, PolicyRuntimeError
from engine.liquid import (
    CaseInsensitiveDict,
    LiquidRenderError,
    LiquidSyntaxError,
    Template,
    parse,
)
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, AttrType, Enum, Scope, Section, Text
from policies._body import (
    decode_text,
    is_content_encoded,
    is_json_type,
    is_xml_type,
    media_type,
    message_for,
    read_body,
    replace_body,
)

if TYPE_CHECKING:
    from engine.context import Context, Headers, Request, Response, Url
    from engine.diagnostics import Diagnostics
    from engine.model import PolicyElement


class BodyValue(AttrType):
    """Body text: a literal string, or whatever the expression returns (string, bytes, JSON token...)."""

    label = "string"

    def coerce(self, value: object) -> object:
        return value


def body_bytes(value: object) -> bytes:
    """An expression result as body bytes: strings UTF-8, JObject/JToken via ToString(), null empty."""
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    from engine.dotnet.conversions import to_string

    return to_string(value).encode("utf-8")


# -- Liquid bindings ---------------------------------------------------------------------------

def _headers(headers: Headers) -> CaseInsensitiveDict:
    return CaseInsensitiveDict((name, ",".join(values)) for name, values in headers.items())


def _url(url: Url) -> dict[str, Any]:
    text = str(url)
    return {
        "Scheme": url.scheme, "Host": url.host, "Port": url.port, "Path": url.path,
        "Query": CaseInsensitiveDict((k, ",".join(v)) for k, v in url.query.items()),
        "QueryString": url.query_string, "ToUri": text, "ToString": text,
    }


def liquid_bindings(ctx: Context, message: Request | Response, body: Any) -> dict[str, Any]:
    request = ctx.request
    response = ctx.response
    return {
        "context": {
            "Request": {
                "Url": _url(request.url),
                "OriginalUrl": _url(request.original_url),
                "Method": request.method,
                "OriginalMethod": ctx.exchange.original_method or request.method,
                "IpAddress": request.ip_address,
                "MatchedParameters": CaseInsensitiveDict(request.matched_parameters),
                "HasBody": request.body is not None and len(request.body) > 0,
                "ClientCertificates": [],
                "Headers": _headers(request.headers),
            },
            "Response": {
                "StatusCode": response.status_code,
                "StatusReason": response.status_reason,
                "Method": request.method,
                "Headers": _headers(response.headers),
            },
            "Variables": CaseInsensitiveDict(
                (k, v) for k, v in ctx.variables.items() if isinstance(v, str | int | float | bool | list | dict)
            ),
        },
        "body": body,
    }


def parse_liquid_body(content: bytes | None, headers: Headers, xsi_nil: str) -> Any:
    """The `body` binding: JSON for JSON content types, XML converted to objects, else None."""
    if not content or is_content_encoded(headers):
        return None
    media = media_type(headers)
    text = decode_text(content, headers)
    if is_json_type(media):
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return None
    if is_xml_type(media):
        from policies._json_xml import XmlConversionError, xml_to_object

        try:
            return xml_to_object(content, nil_as_null=xsi_nil == "null", make_dict=CaseInsensitiveDict)
        except XmlConversionError:
            return None
    return None


# -- the step ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SetBodyStep:
    value: Value | None  # literal text or expression (no template)
    template: Template | None
    xsi_nil: str
    section: str

    async def render(self, ctx: Context, message: Request | Response) -> bytes:
        """The new body for `message` (send-request and return-response use this directly)."""
        if self.template is None:
            return body_bytes(self.value.get(ctx) if self.value is not None else None)
        content = await read_body(ctx, message)
        bindings = liquid_bindings(ctx, message, parse_liquid_body(content, message.headers, self.xsi_nil))
        try:
            return self.template.render(bindings).encode("utf-8")
        except LiquidRenderError as exc:
            raise PolicyRuntimeError(
                f"Liquid template failed: {exc}", source="set-body", reason="LiquidTemplateFailure"
            ) from None

    async def __call__(self, ctx: Context) -> Flow | None:
        message = message_for(ctx, self.section)
        replace_body(message, await self.render(ctx, message))
        return None


def _is_liquid(element: PolicyElement) -> bool:
    template = element.get("template")
    return template is not None and template.text.strip().lower() == "liquid"


class SetBody(Policy):
    """Replace the body: in inbound/backend the request's, in outbound/on-error the response's.

    The content is literal text, or an expression returning a string, a byte array or a JSON
    token/object (serialized like Newtonsoft's `ToString()`); an expression returning null gives an
    empty body. With `template="liquid"` the text is a Liquid template (see docs/policies.md for
    the supported subset) bound to `context.Request`/`context.Response` and to `body` (the
    message's JSON body, or its XML body converted to objects); `xsi-nil` says whether
    `xsi:nil="true"` XML elements bind as blank strings or null. Content-Length follows the body.
    """

    tag = "set-body"
    sections = Section.INBOUND | Section.BACKEND | Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    implemented = True
    reads_body = False  # plain bodies replace the message's body; Liquid asks for buffering in build()
    raw_content = True  # markup inside <set-body> is the body (e.g. an XML Liquid template)
    attributes = (
        Attr("template", Enum("liquid", "none"), expr=False, doc="'liquid' renders the text as a Liquid template."),
        Attr("xsi-nil", Enum("blank", "null"), default="blank", expr=False,
             doc="How xsi:nil='true' XML elements bind in Liquid."),
    )
    text = Text(BodyValue(), doc="The body: text, an expression, or a Liquid template.")

    def keeps_unknown_named_values(self, element: PolicyElement) -> bool:
        return _is_liquid(element)  # {{ x }} in a Liquid template is template output

    def check(self, element: PolicyElement, diagnostics: Diagnostics) -> None:
        if not _is_liquid(element) or element.text is None or element.text.is_expression:
            return
        try:
            parse(element.text.text)
        except LiquidSyntaxError as exc:
            diagnostics.error(
                "liquid-syntax", f"Liquid template: {exc}", element.text.span_of(exc.offset, exc.offset + 2)
            )

    def build(self, element: PolicyElement, builder: Builder) -> SetBodyStep:
        xsi_nil = element.get("xsi-nil")
        nil_mode = xsi_nil.text.strip().lower() if xsi_nil is not None else "blank"
        if _is_liquid(element) and element.text is not None and not element.text.is_expression:
            try:
                template = parse(element.text.text)
            except LiquidSyntaxError as exc:
                from engine.diagnostics import Diagnostics

                diagnostics = Diagnostics()
                diagnostics.error(
                    "liquid-syntax", f"Liquid template: {exc}", element.text.span_of(exc.offset, exc.offset + 2)
                )
                raise PolicyLoadError(diagnostics.sorted()) from None
            builder.require_body()  # `body` binds the message's own body
            return SetBodyStep(None, template, nil_mode, element.section)
        value = builder.text_value(element) if element.text is not None else None
        return SetBodyStep(value, None, nil_mode, element.section)
