"""`<set-method>`: change the HTTP method of the request (also a child of send-request)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Scope, Section, Str, Text

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 method token


def method_name(value: object, source: str = "set-method") -> str:
    """A validated HTTP method from a literal or an expression result."""
    text = str(value or "").strip()
    if not _TOKEN.match(text):
        raise PolicyRuntimeError(
            f"'{text}' is not a valid HTTP method", source=source, reason="ExpressionValueEvaluationFailure"
        )
    return text


@dataclass(frozen=True)
class SetMethodStep:
    method: Value

    async def __call__(self, ctx: Context) -> Flow | None:
        ctx.request.method = method_name(self.method.get(ctx))
        return None


class SetMethod(Policy):
    """Change the HTTP method of the request sent to the backend (e.g. `POST`).

    The method is used as written (HTTP methods are case-sensitive); it must be a valid token.
    """

    tag = "set-method"
    sections = Section.INBOUND | Section.ON_ERROR
    scopes = Scope.GLOBAL | Scope.WORKSPACE | Scope.PRODUCT | Scope.API | Scope.OPERATION
    reads_body = False
    implemented = True
    text = Text(Str(non_empty=True), required=True, doc="The HTTP method.")

    def build(self, element: PolicyElement, builder: Builder) -> SetMethodStep:
        return SetMethodStep(builder.text_value(element))
