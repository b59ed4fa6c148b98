"""`policygate lint PATH...`: check policy documents and report every problem found."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.model import SCOPE_NAMES

if TYPE_CHECKING:
    from engine.lint import LintReport

EXIT_CLEAN = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
ENV_PLACEHOLDER = "env-value"  # an unset {env: NAME} named value: the name is known, the value is not


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="policy documents or folders (*.xml, recursive)"
    )
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument(
        "--named-values",
        metavar="FILE",
        help="YAML or JSON mapping of named values; unknown {{name}} references become errors",
    )
    parser.add_argument(
        "--fragments", metavar="DIR", help="folder of <fragment> documents for include-fragment"
    )
    parser.add_argument(
        "--scope", choices=[s for s in SCOPE_NAMES], help="scope the documents are written for"
    )
    parser.add_argument("--max-errors", type=int, metavar="N", help="stop reporting after N errors")


def run(args: argparse.Namespace) -> int:
    from engine.lint import (
        LintUsageError,
        render_report_json,
        render_report_sarif,
        render_report_text,
    )

    try:
        if args.max_errors is not None and args.max_errors < 1:
            raise LintUsageError("--max-errors must be at least 1")
        if args.fragments is not None and not Path(args.fragments).is_dir():
            raise LintUsageError(f"--fragments {args.fragments}: not a folder")
        named_values = load_named_values(args.named_values) if args.named_values else None
        report = lint_targets(args, named_values)
    except LintUsageError as exc:
        print(f"policygate lint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    render = {"text": render_report_text, "json": render_report_json, "sarif": render_report_sarif}[
        args.format
    ]
    sys.stdout.write(render(report))
    return EXIT_ERRORS if report.errors else EXIT_CLEAN


def lint_targets(args: argparse.Namespace, named_values: dict[str, str] | None) -> LintReport:
    """An APIOps folder is checked as `serve` reads it (`policygate check`'s code, secrets may be
    unset); its other `*.xml` files and the other paths are linted with the command-line options."""
    from engine.gateway.apiops import is_apiops_folder, merge_lint_reports
    from engine.gateway.check import check_configuration
    from engine.lint import collect_files, lint_paths

    reports = []
    others: list[str | Path] = []
    for path in args.paths:
        if is_apiops_folder(path):
            served = check_configuration(path, placeholder_secrets=True)
            reports.append(served)
            # documents serve does not read (no apiInformation.json beside them, ...) are linted too
            others += [file for file in collect_files([path]) if str(file) not in served.sources]
        else:
            others.append(path)
    if others:
        reports.append(lint_paths(others, named_values=named_values, fragments_dir=args.fragments, scope=args.scope))
    return merge_lint_reports(reports, args.max_errors)


def load_named_values(path: str) -> dict[str, str]:
    """Read a flat name -> value mapping (or one under a `named-values:` key) from YAML or JSON."""
    from engine.lint import LintUsageError

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LintUsageError(f"--named-values {path}: {exc.strerror or exc}") from None
    try:
        if path.lower().endswith(".json"):
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (ValueError, Exception) as exc:  # yaml.YAMLError and json errors alike
        raise LintUsageError(f"--named-values {path}: not valid YAML/JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("named-values"), dict):
        data = data["named-values"]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LintUsageError(f"--named-values {path}: expected a mapping of name to value")
    values: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, dict):  # gateway.yaml's {env: NAME, default: ...} or {value: ...}
            value = _entry_value(path, str(name), value)
        if isinstance(value, (dict, list)):
            raise LintUsageError(f"--named-values {path}: value of '{name}' must be a string")
        values[str(name)] = "" if value is None else _scalar(value)
    return values


def _entry_value(path: str, name: str, entry: dict[object, object]) -> object:
    """The value of a `{value: ...}` entry; an `{env: NAME}` entry's variable, its default or a placeholder."""
    if "value" in entry:
        return entry["value"]
    variable = entry.get("env")
    if isinstance(variable, str):
        return os.environ.get(variable, entry.get("default", ENV_PLACEHOLDER))
    from engine.lint import LintUsageError

    raise LintUsageError(f"--named-values {path}: '{name}' must be a string, {{env: NAME}} or {{value: ...}}")


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
