"""`policygate check CONFIG|APIOPS-DIR`: everything `serve` checks before it listens, no port bound."""

from __future__ import annotations

import argparse
import sys

from engine.commands.lint import EXIT_CLEAN, EXIT_ERRORS, EXIT_USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="gateway configuration file (YAML) or an APIOps folder")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("--max-errors", type=int, metavar="N", help="stop reporting after N errors")


def run(args: argparse.Namespace) -> int:
    from engine.gateway.check import check_configuration
    from engine.lint import LintUsageError, render_report_json, render_report_sarif, render_report_text

    try:
        if args.max_errors is not None and args.max_errors < 1:
            raise LintUsageError("--max-errors must be at least 1")
        report = check_configuration(args.config, max_errors=args.max_errors)
    except LintUsageError as exc:
        print(f"policygate check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    render = {"text": render_report_text, "json": render_report_json, "sarif": render_report_sarif}[args.format]
    sys.stdout.write(render(report))
    return EXIT_ERRORS if report.errors else EXIT_CLEAN
