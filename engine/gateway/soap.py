"""A SOAP API's operations, told apart by the request's SOAP action as APIM's pass-through SOAP APIs do.

APIM imports each WSDL operation as `POST /?soapAction=<action>`; the action comes from the
`SOAPAction` header (SOAP 1.1) or the `action` parameter of the `application/soap+xml` Content-Type
(SOAP 1.2). Routing matches the API's one SOAP endpoint (`POST /`); `SoapActions`, the pipeline of
that endpoint, runs the pipeline of the operation the action names. A request whose action names no
operation gets APIM's answer to a request matching no operation: 404 "Resource not found".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.context import Context, Headers, Operation
from engine.errors import PolicyRuntimeError
from engine.gateway.pipeline import Pipeline

SOAP12 = "application/soap+xml"
_PARAMETER = re.compile(r';\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')  # RFC 9110 §5.6.6 token or quoted string
_ESCAPE = re.compile(r"\\(.)")


def soap_action(headers: Headers) -> str:
    """The SOAP action a request names: the `action` parameter of a SOAP 1.2 Content-Type, else the
    `SOAPAction` header without its quotes; "" when it names none."""
    content_type = headers.get("content-type") or ""
    media_type, _, parameters = content_type.partition(";")
    if media_type.strip().lower() == SOAP12 and parameters:
        for found in _PARAMETER.finditer(";" + parameters):
            if found.group(1).lower() == "action":
                quoted = found.group(2)
                return _ESCAPE.sub(r"\1", quoted) if quoted is not None else found.group(3).strip()
    return (headers.get("soapaction") or "").strip().strip('"').strip()


def operation_not_found() -> PolicyRuntimeError:
    return PolicyRuntimeError("Unable to match incoming request to an operation.", source="configuration",
                              reason="OperationNotFound", status=404, public_message="Resource not found")


@dataclass
class SoapActions(Pipeline):
    """The pipeline of a SOAP API's endpoint: its own sections are the API's (global, product and API
    documents: they answer subscription failures and preflights); `run` hands the request to the
    pipeline of the operation its SOAP action names, with `context.Operation` that operation."""

    actions: Mapping[str, tuple[Operation, Pipeline]] = field(default_factory=dict)
    not_found: Pipeline | None = None  # fails requests naming no operation (the global document's on-error)

    async def run(self, ctx: Context) -> None:
        target = self.actions.get(soap_action(ctx.request.headers))
        if target is None:
            await (self.not_found or self).fail(ctx, operation_not_found())
            return
        ctx.operation, pipeline = target
        await pipeline.run(ctx)


def soap_actions(api: Pipeline, actions: Mapping[str, tuple[Operation, Pipeline]], not_found: Pipeline) -> SoapActions:
    """The endpoint pipeline of a SOAP API whose API-level pipeline is `api`."""
    pipelines = [pipeline for _, pipeline in actions.values()]
    return SoapActions(api.inbound, api.backend, api.outbound, api.on_error,
                       needs_request_body=any(p.needs_request_body for p in pipelines),
                       needs_response_body=any(p.needs_response_body for p in pipelines),
                       actions=actions, not_found=not_found)
