"""`<check-header>`: refuse requests that lack a header or carry a value not on the list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import PolicyRuntimeError
from engine.policy import Builder, Flow, Policy, Value
from engine.schema import Attr, Bool, Child, Int, Scope, Section, Str, Text
from policies._values import text_or_empty

if TYPE_CHECKING:
    from engine.context import Context
    from engine.model import PolicyElement


def header_value_allowed(actual: list[str], allowed: list[str], ignore_case: bool) -> bool:
    """True when a header line (or the comma-joined value) equals one of the allowed values."""
    candidates = [*actual, ",".join(actual)] if len(actual) > 1 else list(actual)
    if ignore_case:
        folded = {value.casefold() for value in allowed}
        return any(candidate.casefold() in folded for candidate in candidates)
    return any(candidate in allowed for candidate in candidates)


@dataclass(frozen=True)
class CheckHeaderStep:
    name: Value
    status: Value
    message: Value
    ignore_case: Value
    values: tuple[Value, ...]

    async def __call__(self, ctx: Context) -> Flow | None:
        name = str(self.name.get(ctx) or "")
        actual = ctx.request.headers.get_list(name)
        if not actual:
            raise self._failure(ctx, "HeaderNotFound")
        if not self.values:
            return None
        allowed = [str(v) for v in (value.get(ctx) for value in self.values) if v is not None]
        if not header_value_allowed(actual, allowed, bool(self.ignore_case.get(ctx))):
            raise self._failure(ctx, "HeaderValueNotAllowed")
        return None

    def _failure(self, ctx: Context, reason: str) -> PolicyRuntimeError:
        status = self.status.get(ctx)
        return PolicyRuntimeError(
            str(self.message.get(ctx) or ""),
            source="check-header",
            reason=reason,
            status=status if isinstance(status, int) else 401,
        )


class CheckHeader(Policy):
    """Require a request header, optionally with one of a list of values.

    A missing header fails with reason `HeaderNotFound`, a value not listed with
    `HeaderValueNotAllowed`; the caller gets `failed-check-httpcode` and
    `failed-check-error-message`. `ignore-case` applies to the value comparison (header names are
    always case-insensitive). Without `<value>` elements only the presence is checked.
    """

    tag = "check-header"
    sections = Section.INBOUND
    scopes = Scope.GLOBAL | Scope.WORKSPACE | Scope.PRODUCT | Scope.API | Scope.OPERATION
    reads_body = False
    implemented = True
    attributes = (
        Attr("name", Str(non_empty=True), required=True, doc="Header to check."),
        Attr("failed-check-httpcode", Int(min=100, max=599), required=True, doc="Status returned on failure."),
        Attr("failed-check-error-message", Str(), required=True, doc="Error message returned on failure."),
        Attr("ignore-case", Bool(), required=True, doc="Compare values case-insensitively."),
    )
    children = (Child("value", text=Text(Str()), doc="An allowed value; any match succeeds."),)

    def build(self, element: PolicyElement, builder: Builder) -> CheckHeaderStep:
        return CheckHeaderStep(
            builder.value(element, "name"),
            builder.value(element, "failed-check-httpcode"),
            builder.value(element, "failed-check-error-message"),
            builder.value(element, "ignore-case"),
            tuple(text_or_empty(builder, child) for child in element.children_named("value")),
        )
