"""`<validate-status-code>`: check the response status code against the API's OpenAPI description."""

from __future__ import annotations

from engine.context import Context
from engine.model import PolicyElement
from engine.policy import Builder, Flow, Policy, Step, Value, constant_value
from engine.schema import Attr, Child, Enum, Int, Scope, Section, Str
from policies._validation import (
    ACTIONS,
    Finding,
    Outcome,
    action_of,
    action_value,
    errors_variable,
    operation_spec,
)


class ValidateStatusCode(Policy):
    """Check that the response's status code is one the operation's OpenAPI description declares
    (the exact code, its range such as `2XX`, or `default`).

    An undeclared code is handled by `unspecified-status-code-action`, or by the `<status-code
    code action>` naming it (an override for a declared code has no effect, as in APIM). Actions:
    `ignore`, `detect` (record in `errors-variable-name`; `error-variable-name`, the spelling
    APIM's policy toolkit uses, is accepted too), `prevent` (502 with APIM's internal-error text).
    """

    tag = "validate-status-code"
    sections = Section.OUTBOUND | Section.ON_ERROR
    scopes = Scope.ALL
    reads_body = False
    attributes = (
        Attr("unspecified-status-code-action", Enum(*ACTIONS), required=True),
        Attr("errors-variable-name", Str(), expr=False),
        Attr("error-variable-name", Str(), expr=False, doc="the policy toolkit's spelling of errors-variable-name"),
    )
    children = (
        Child(
            "status-code",
            attributes=(
                Attr("code", Int(min=100, max=599), required=True, expr=False),
                Attr("action", Enum(*ACTIONS), required=True),
            ),
        ),
    )
    implemented = True

    def build(self, element: PolicyElement, builder: Builder) -> Step:
        unspecified = action_value(builder, element, "unspecified-status-code-action")
        overrides: dict[int, Value | None] = {
            constant_value(builder.value(child, "code")): action_value(builder, child, "action")
            for child in element.children_named("status-code")
        }
        variable = errors_variable(element, "errors-variable-name", "error-variable-name")

        async def validate_status_code(ctx: Context) -> Flow | None:
            status = ctx.response.status_code
            if operation_spec(ctx).response(status) is not None:
                return None
            outcome = Outcome(response_side=True)
            action = action_of(overrides[status] if status in overrides else unspecified, ctx)
            outcome.add(Finding(str(status), "StatusCode", "Unspecified", f"Response status code {status} is not allowed.",
                                action))
            return outcome.finish(ctx, element, variable, self.tag)

        return validate_status_code
