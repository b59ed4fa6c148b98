"""Serve or lint an APIOps folder (the layout the Azure APIOps extractor writes) as it is.

`read_apiops(folder)` maps the folder onto the same `GatewaySettings` a `gateway.yaml` gives
(docs/apiops.md has the table; `apiops_folder.py` does the reading) and returns the warnings about
everything it could not use; `load_apiops(folder)` logs those warnings (each one once per process)
and returns the settings. Secret named values come from environment variables
(`POLICYGATE_NV_<NAME>`, then the name itself); what APIOps does not export (subscription keys,
listener and cache settings, per-environment service URLs) comes from an optional
`policygate.yaml` inside the folder. Bad input raises `ConfigError` naming the file and the key,
e.g. `apis/petstore/apiInformation.json: properties.path: is required`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ConfigError
from engine.gateway.apiops_folder import (
    FRAGMENTS_FOLDER,
    SECRET_PLACEHOLDER,
    SIDE_FILE,
    FolderReader,
    only_policy_tests,
    secret_variable_names,
)
from engine.gateway.config import load_settings
from engine.gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from engine.lint import LintReport
    from engine.registry import PolicyRegistry

__all__ = [
    "SECRET_PLACEHOLDER", "SIDE_FILE", "ApiopsLintInputs", "ApiopsLoad", "apiops_lint_inputs", "configuration_file", "documents_by_scope",
    "is_apiops_folder", "lint_apiops", "lint_by_scope", "load_any_settings", "load_apiops", "merge_lint_reports", "read_apiops",
    "secret_variable_names", "watched_files",
]

log = logging.getLogger("policygate.apiops")
UNSCOPED = ("fragment", "resolver")  # documents linted without scope rules (a resolver's is one data-source policy)
CONFIGURATION_FILE = "gateway.yaml"  # what `serve FOLDER` reads when FOLDER is not an APIOps folder
_logged: set[str] = set()


@dataclass(frozen=True)
class ApiopsLoad:
    """The settings an APIOps folder maps to, and what it could not use (one line per kind)."""

    settings: GatewaySettings
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ApiopsLintInputs:
    """What `policygate lint FOLDER` checks: documents by scope, named values, fragment ids."""

    documents: dict[str, tuple[Path, ...]]  # "global" | "product" | "api" | "operation" | "fragment" | "resolver"
    named_values: dict[str, str]
    fragment_ids: dict[str, str]  # str(path) -> fragment id
    fragments_dir: Path | None
    warnings: tuple[str, ...]


def is_apiops_folder(path: str | Path) -> bool:
    """True for a folder holding APIOps artifacts (an API, product, named value or fragment)."""
    folder = Path(path)
    if not folder.is_dir():
        return False
    markers = ("apis/*/apiInformation.json", "products/*/productInformation.json",
               "namedValues/*/namedValueInformation.json", f"{FRAGMENTS_FOLDER}/*/policy.xml")
    return any(next(folder.glob(pattern), None) is not None for pattern in markers)


def read_apiops(folder: str | Path, environ: Mapping[str, str] | None = None, *,
                placeholder_secrets: bool = False) -> ApiopsLoad:
    """Map the folder onto GatewaySettings; raises ConfigError naming the file and key.

    `placeholder_secrets` (for lint) gives secret named values without a variable the value
    `SECRET_PLACEHOLDER` instead of failing.
    """
    reader = FolderReader(Path(folder), os.environ if environ is None else environ, placeholder_secrets)
    settings = reader.settings()
    return ApiopsLoad(settings, tuple(reader.warnings.messages()))


def load_apiops(folder: str | Path, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """`read_apiops`, logging each warning once per process (a reload does not repeat them)."""
    loaded = read_apiops(folder, environ)
    for message in loaded.warnings:
        if message not in _logged:
            _logged.add(message)
            log.warning("%s", message)
    return loaded.settings


def load_any_settings(path: str | Path, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """A gateway.yaml (or a folder holding one), an APIOps folder, or the policygate.yaml inside one."""
    path = Path(path)
    if is_apiops_folder(path):
        return load_apiops(path, environ)
    if path.name == SIDE_FILE and is_apiops_folder(path.parent):
        return load_apiops(path.parent, environ)
    return load_settings(settings_file(path), environ)


def configuration_file(path: Path) -> Path:
    """`path` itself, or the gateway.yaml in it when `path` is a folder (`policygate serve /config`)."""
    if path.is_dir() and (path / CONFIGURATION_FILE).is_file():
        return path / CONFIGURATION_FILE
    return path


def settings_file(path: Path) -> Path:
    """`configuration_file(path)`; ConfigError for a folder that holds neither a gateway.yaml nor APIOps artifacts."""
    file = configuration_file(path)
    if file.is_dir():
        raise ConfigError(f"{path}: no {CONFIGURATION_FILE} here, and not an APIOps folder (no apis/*/apiInformation.json, "
                          "products/*/productInformation.json, namedValues/*/namedValueInformation.json or fragments)")
    return file


# ------------------------------------------------------------------------------------------------
# lint
# ------------------------------------------------------------------------------------------------
def apiops_lint_inputs(folder: str | Path, environ: Mapping[str, str] | None = None) -> ApiopsLintInputs:
    """The documents of the folder by scope, with named values (secrets may be placeholders)."""
    loaded = read_apiops(folder, environ, placeholder_secrets=True)
    settings = loaded.settings
    fragments_dir = Path(folder) / FRAGMENTS_FOLDER
    return ApiopsLintInputs(
        documents=documents_by_scope(settings),
        named_values=dict(settings.named_values),
        fragment_ids={str(path): name for name, path in settings.fragments.items()},
        fragments_dir=fragments_dir if fragments_dir.is_dir() else None,
        warnings=loaded.warnings,
    )


def lint_apiops(folder: str | Path, *, environ: Mapping[str, str] | None = None,
                registry: PolicyRegistry | None = None, max_errors: int | None = None) -> tuple[LintReport, tuple[str, ...]]:
    """Lint every document of the folder at its own scope; returns the report and the warnings."""
    inputs = apiops_lint_inputs(folder, environ)
    return lint_by_scope(inputs, registry=registry, max_errors=max_errors), inputs.warnings


def documents_by_scope(settings: GatewaySettings) -> dict[str, tuple[Path, ...]]:
    """Every document the settings name, grouped by the scope it is written for."""
    return {
        "global": (settings.policy,) if settings.policy else (),
        "product": tuple(p.policy for p in settings.products.values() if p.policy),
        "api": tuple(a.policy for a in settings.apis.values() if a.policy),
        "operation": tuple(op.policy for api in settings.apis.values() for op in api.operations if op.policy),
        "fragment": tuple(settings.fragments.values()),
        "resolver": tuple(r.policy for a in settings.apis.values() if a.graphql for r in a.graphql.resolvers),
    }


def lint_by_scope(inputs: ApiopsLintInputs, *, registry: PolicyRegistry | None = None,
                  max_errors: int | None = None) -> LintReport:
    """Lint each scope's documents at that scope, with the named values and fragments given."""
    from engine.lint import lint_paths

    reports = [
        lint_paths(
            files, named_values=inputs.named_values, fragments_dir=inputs.fragments_dir,
            fragment_ids=inputs.fragment_ids, scope=None if scope in UNSCOPED else scope, registry=registry,
        )
        for scope, files in inputs.documents.items()
        if files
    ]
    return merge_lint_reports(reports, max_errors)


def merge_lint_reports(reports: Iterable[LintReport], max_errors: int | None = None) -> LintReport:
    """One report from several `lint_paths` runs (sorted and bounded like one run)."""
    from engine.diagnostics import Diagnostic
    from engine.lint import LintReport, keep_bounded

    merged = LintReport()
    found: list[Diagnostic] = []
    for report in reports:
        found += report.diagnostics
        merged.sources.update(report.sources)
        merged.files += report.files
        merged.truncated = merged.truncated or report.truncated
        merged.omitted_errors += report.omitted_errors
        merged.omitted_warnings += report.omitted_warnings
    keep_bounded(merged, found, max_errors)
    return merged


def watched_files(folder: str | Path) -> list[Path]:
    """Every file of the folder (for `--reload`: a new API or a changed specification counts too),
    except policy test files."""
    root = Path(folder)
    return sorted(p for p in root.rglob("*") if p.is_file() and not only_policy_tests(p) and not any(
        part.startswith(".") for part in p.relative_to(root).parts))
