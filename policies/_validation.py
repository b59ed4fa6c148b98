"""What `validate-content`, `validate-parameters`, `validate-headers` and `validate-status-code` share.

Each finding is an error record with APIM's fields (`Name`, `Type`, `ValidationRule`, `Details`,
`Action`). `ignore` drops it, `detect` appends it to the errors variable (a list of records,
shared by every validation policy naming the same variable) and lets the message through,
`prevent` also appends it and stops: a request in inbound gets 400 with the first error's
public text; a response (outbound, on-error) gets 502 with APIM's internal-error text, which
never shows the client what the backend did wrong. context.LastError gets the details
(reason `Bad request` / `Response not allowed`).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.apispec import OperationSpec
from engine.apispec.schemas import ApiSchemas
from engine.context import Context
from engine.errors import PolicyRuntimeError
from engine.model import PolicyElement
from engine.policy import (
    Builder,
    Constant,
    Flow,
    Value,
    constant_value,
    error_response,
    release_response_stream,
)

ACTIONS = ("ignore", "prevent", "detect")
INTERNAL_ERROR = "The request could not be processed due to an internal error. Contact the API owner."
_EMPTY = OperationSpec(id="", schemas=ApiSchemas({}, "oas30"))


@dataclass(frozen=True)
class Finding:
    """One validation error as APIM records it, plus the text the client sees on `prevent`."""

    name: str
    type: str  # RequestBody, ResponseBody, QueryParameter, PathParameter, RequestHeader, ResponseHeader, StatusCode
    rule: str  # SizeLimit, Unspecified, IncorrectMessage, MissingDefinition
    details: str
    action: str
    public: str = ""  # the client-facing text of a request error (defaults to `details`)

    def record(self) -> dict[str, str]:
        return {"Name": self.name, "Type": self.type, "ValidationRule": self.rule, "Details": self.details,
                "Action": self.action}


def operation_spec(ctx: Context) -> OperationSpec:
    """The matched operation's description; an operation without one describes nothing."""
    operation = ctx.operation
    spec = operation.spec if operation is not None else None
    return spec if spec is not None else _EMPTY


def action_value(builder: Builder, element: PolicyElement, name: str) -> Value | None:
    """An action attribute (None when absent); a constant is checked against the three actions."""
    if element.get(name) is None:
        return None
    value = builder.value(element, name)
    if value.is_constant and constant_value(value) not in ACTIONS:
        return Constant(None)
    return value


def action_of(value: Value | None, ctx: Context, fallback: str = "ignore") -> str:
    """The action a (possibly per-request) value names; an expression must yield one of the three."""
    if value is None:
        return fallback
    action = value.get(ctx)
    if action is None:
        return fallback
    text = str(action).strip().lower()
    if text not in ACTIONS:
        raise PolicyRuntimeError(f"'{action}' is not a validation action (ignore, prevent, detect)",
                                 source="validation", reason="ExpressionValueEvaluationFailure")
    return text


class Outcome:
    """The findings of one policy run; `finish` records them and applies `prevent`."""

    __slots__ = ("findings", "response_side")

    def __init__(self, response_side: bool) -> None:
        self.findings: list[Finding] = []
        self.response_side = response_side

    def add(self, finding: Finding) -> None:
        if finding.action != "ignore":
            self.findings.append(finding)

    def finish(self, ctx: Context, element: PolicyElement, variable: str | None, tag: str) -> Flow | None:
        if not self.findings:
            return None
        if variable:
            errors = ctx.variables.get(variable)
            if not isinstance(errors, list):
                errors = ctx.variables[variable] = []
            errors.extend(finding.record() for finding in self.findings)
        blocking = next((f for f in self.findings if f.action == "prevent"), None)
        if blocking is None:
            return None
        if self.response_side:
            status, reason, public = 502, "Response not allowed", INTERNAL_ERROR
        else:
            status, reason, public = 400, "Bad request", blocking.public or blocking.details
        if element.section == "on-error":  # failing again inside on-error would hide the answer
            release_response_stream(ctx)
            ctx.response = error_response(status, public)
            return Flow.END
        raise PolicyRuntimeError(blocking.details, source=tag, reason=reason, status=status, public_message=public)


def errors_variable(element: PolicyElement, *names: str) -> str | None:
    """The errors variable's name (the first of `names` the element has)."""
    for name in names:
        value = element.get(name)
        if value is not None and value.text.strip():
            return value.text.strip()
    return None
