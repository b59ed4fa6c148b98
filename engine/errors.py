"""Exception tree shared by the loader, the expression language and the runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.diagnostics import Diagnostic
    from engine.source import Span


class PolicyError(Exception):
    """Base class of every error policygate raises on purpose."""


class PolicyLoadError(PolicyError):
    """A document or configuration could not be loaded; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0].format() if diagnostics else "unknown error"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(first + more)


class ConfigError(PolicyError):
    """The gateway configuration is invalid: the message names the file and the key.

    `span`, when known, is where in the file the problem is (`policygate check` reports it).
    """

    def __init__(self, message: str, *, span: Span | None = None) -> None:
        super().__init__(message)
        self.span = span


class PolicyRuntimeError(PolicyError):
    """A policy failed while handling a request; becomes context.LastError and runs on-error.

    `source` is the policy tag or built-in step name, `reason` APIM's machine-friendly code,
    `status` the HTTP status a caller gets when no on-error section handles it, `public_message`
    the caller-facing text when it differs from `message`, `keep_response` keeps the response
    already in context (e.g. the backend's error answer) instead of the default error body.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        reason: str = "",
        status: int = 500,
        span: Span | None = None,
        headers: dict[str, str] | None = None,
        public_message: str | None = None,
        keep_response: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.reason = reason
        self.status = status
        self.span = span
        self.headers = headers or {}
        self.public_message = public_message
        self.keep_response = keep_response
        self.policy_id: str = ""
        self.section: str = ""
        self.scope: str = ""
        self.path: str = ""


class ExpressionError(PolicyRuntimeError):
    """A policy expression failed at run time (APIM reason ExpressionValueEvaluationFailure)."""

    def __init__(self, message: str, span: Span | None = None, *, code: str = "expr-runtime") -> None:
        where = f"{span}: " if span is not None else ""
        super().__init__(
            f"{where}{message}",
            source="expression",
            reason="ExpressionValueEvaluationFailure",
            status=500,
            span=span,
        )
        self.code = code
        self.detail = message


class SecurityError(ExpressionError):
    """An expression tried to reach something outside the allow-listed C# surface, or a limit."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message, span, code="expr-security")
