"""`policygate check`: everything `serve` verifies before it listens, reported like lint.

The configuration (a gateway.yaml or an APIOps folder) is read as `serve` reads it, every document
it names is linted at its own scope with the configured named values and fragments, and then the
gateway is built exactly as `serve` builds it (services, cache and rate-limit settings, Redis
connection strings, TLS files, compiled documents and expressions) without binding a port or
connecting to anything. Findings come back as a `LintReport`, so text, JSON and SARIF output and
the exit codes are lint's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from engine.diagnostics import Diagnostic, Severity
from engine.errors import ConfigError, PolicyLoadError
from engine.gateway.apiops import (
    ApiopsLintInputs,
    configuration_file,
    documents_by_scope,
    is_apiops_folder,
    lint_by_scope,
    merge_lint_reports,
    read_apiops,
    settings_file,
)
from engine.gateway.apiops_folder import FRAGMENTS_FOLDER
from engine.gateway.config import load_settings
from engine.gateway.settings import GatewaySettings
from engine.lint import LintReport, LintUsageError
from engine.registry import PolicyRegistry
from engine.source import SourceFile, Span

CONFIG_INVALID = "config-invalid"
CONFIG_YAML = "config-yaml"
CONFIG_IGNORED = "config-ignored"


def check_configuration(
    path: str | Path, *, environ: Mapping[str, str] | None = None, registry: PolicyRegistry | None = None,
    max_errors: int | None = None, placeholder_secrets: bool = False,
) -> LintReport:
    """Check a configuration file or APIOps folder; raises LintUsageError when `path` does not exist.

    `placeholder_secrets` (lint): an APIOps secret named value whose variable is not set is checked
    with a placeholder instead of being an error.
    """
    path = Path(path)
    if not path.exists():
        raise LintUsageError(f"{path}: no such file or folder")
    found: list[Diagnostic] = []
    try:
        settings, warnings = _read(path, environ, placeholder_secrets)
    except ConfigError as exc:
        found.append(_config_error(exc, path))
        return _report([], found, path, max_errors)
    found += [Diagnostic(CONFIG_IGNORED, Severity.WARNING, message.removeprefix(f"{path}: "), Span.point(str(path), 1, 1))
              for message in warnings]
    fragments_dir = path / FRAGMENTS_FOLDER if path.is_dir() else None
    lint = lint_by_scope(ApiopsLintInputs(
        documents=documents_by_scope(settings), named_values=dict(settings.named_values),
        fragment_ids={str(p): name for name, p in settings.fragments.items()},
        fragments_dir=fragments_dir if fragments_dir is not None and fragments_dir.is_dir() else None,
        warnings=(),
    ), registry=registry)
    if not lint.errors:  # the documents are sound: build the gateway as serve would
        found += _build(settings, path, registry)
    return _report([lint], found, path, max_errors)


def _read(path: Path, environ: Mapping[str, str] | None, placeholder_secrets: bool) -> tuple[GatewaySettings, tuple[str, ...]]:
    if is_apiops_folder(path):
        loaded = read_apiops(path, environ, placeholder_secrets=placeholder_secrets)
        return loaded.settings, loaded.warnings
    return load_settings(settings_file(path), environ), ()


def _build(settings: GatewaySettings, path: Path, registry: PolicyRegistry | None) -> list[Diagnostic]:
    from engine.gateway.runner import GatewayServer

    try:
        GatewayServer(settings, admin_port=False, registry=registry).prepare()
    except ConfigError as exc:
        return [_config_error(exc, path)]
    except PolicyLoadError as exc:
        return list(exc.diagnostics)
    return []


def _config_error(exc: ConfigError, path: Path) -> Diagnostic:
    """A ConfigError as a diagnostic at its own location (or the top of the file it names)."""
    message = str(exc)
    span = exc.span
    file = str(path)
    if span is None:
        file = message.split(": ", 1)[0] if Path(message.split(": ", 1)[0]).exists() else file
        span = Span.point(file, 1, 1)
    prefix = f"{span.file}:{span.line}:{span.col}: " if exc.span is not None else f"{span.file}: "
    if message.startswith(prefix):
        message = message[len(prefix):]
    code = CONFIG_YAML if message.startswith("invalid YAML") else CONFIG_INVALID
    return Diagnostic(code, Severity.ERROR, message, span)


def _report(reports: list[LintReport], found: list[Diagnostic], path: Path, max_errors: int | None) -> LintReport:
    extra = LintReport(diagnostics=found, files=1 if configuration_file(path).is_file() else 0)
    for diagnostic in found:
        file = diagnostic.span.file
        if file not in extra.sources and Path(file).is_file():
            try:
                extra.sources[file] = SourceFile(file, Path(file).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                pass
    return merge_lint_reports([*reports, extra], max_errors)
